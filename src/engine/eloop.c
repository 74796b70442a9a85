/* eloop.c - poll(2) over the watched descriptors and one timerfd on
 * CLOCK_BOOTTIME armed for the earliest timer. An idle loop makes no
 * system call until something happens. */
#include "engine/eloop.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"

#ifdef __linux__
#include <sys/timerfd.h>
#include <time.h>
#endif

/* timers fired in one turn; any more wait for the next (immediate) turn */
#define DUE_MAX 32

int eloop_init(struct eloop *loop)
{
	memset(loop, 0, sizeof(*loop));
	loop->armed_for_ms = INT64_MAX;
	loop->timer_fd = -1;
#if defined(__linux__) && defined(CLOCK_BOOTTIME)
	loop->timer_fd =
		timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	if (loop->timer_fd < 0)
		return -1;
#endif
	return 0;
}

void eloop_free(struct eloop *loop)
{
	if (loop->timer_fd >= 0)
		close(loop->timer_fd);
	loop->timer_fd = -1;
	loop->timers = NULL;
	loop->watch_count = 0;
}

static struct eloop_watch *find_watch(struct eloop *loop, int fd)
{
	size_t i;

	for (i = 0; i < loop->watch_count; i++)
		if (loop->watches[i].fd == fd)
			return &loop->watches[i];
	return NULL;
}

int eloop_watch(struct eloop *loop, int fd, short events, eloop_ready_fn ready,
		void *context)
{
	struct eloop_watch *w = find_watch(loop, fd);

	if (!w) {
		if (loop->watch_count == ELOOP_WATCH_MAX) {
			errno = EMFILE;
			return -1;
		}
		w = &loop->watches[loop->watch_count++];
	}
	w->fd = fd;
	w->events = events;
	w->ready = ready;
	w->context = context;
	return 0;
}

void eloop_unwatch(struct eloop *loop, int fd)
{
	struct eloop_watch *w = find_watch(loop, fd);

	if (!w)
		return;
	*w = loop->watches[--loop->watch_count];
}

void eloop_timer_init(struct eloop_timer *timer, eloop_fire_fn fire,
		      void *context)
{
	memset(timer, 0, sizeof(*timer));
	timer->fire = fire;
	timer->context = context;
}

static void unlink_timer(struct eloop *loop, struct eloop_timer *timer)
{
	struct eloop_timer **p;

	for (p = &loop->timers; *p; p = &(*p)->next)
		if (*p == timer) {
			*p = timer->next;
			break;
		}
	timer->next = NULL;
}

void eloop_timer_at(struct eloop *loop, struct eloop_timer *timer,
		    int64_t at_ms)
{
	if (!timer->armed) {
		timer->next = loop->timers;
		loop->timers = timer;
		timer->armed = true;
	}
	timer->at_ms = at_ms;
	timer->generation++;
}

void eloop_timer_stop(struct eloop *loop, struct eloop_timer *timer)
{
	if (timer->armed)
		unlink_timer(loop, timer);
	timer->armed = false;
	timer->generation++;
}

int64_t eloop_next_timer_ms(const struct eloop *loop)
{
	const struct eloop_timer *t;
	int64_t next = INT64_MAX;

	for (t = loop->timers; t; t = t->next)
		if (t->at_ms < next)
			next = t->at_ms;
	return next;
}

/* Sets the timerfd to next unless it already is. Returns the poll timeout:
 * -1 (the timerfd wakes us), or milliseconds where there is no timerfd. */
static int arm(struct eloop *loop, int64_t next, int64_t now)
{
#ifdef __linux__
	if (loop->timer_fd >= 0) {
		struct itimerspec value;
		if (next == loop->armed_for_ms)
			return -1;
		memset(&value, 0, sizeof(value));
		if (next != INT64_MAX) {
			value.it_value.tv_sec = (time_t)(next / 1000);
			value.it_value.tv_nsec = (long)(next % 1000) * 1000000;
		}
		if (timerfd_settime(loop->timer_fd, TFD_TIMER_ABSTIME, &value,
				    NULL) == 0) {
			loop->armed_for_ms = next;
			return -1;
		}
	}
#endif
	if (next == INT64_MAX)
		return -1;
	return next - now > INT_MAX ? INT_MAX : (int)(next - now);
}

static void run_due_timers(struct eloop *loop)
{
	struct {
		struct eloop_timer *timer;
		unsigned generation;
	} due[DUE_MAX];
	int64_t now = clock_now_ms();
	struct eloop_timer *t;
	size_t i, n = 0;

	for (t = loop->timers; t && n < DUE_MAX; t = t->next)
		if (t->at_ms <= now) {
			due[n].timer = t;
			due[n++].generation = t->generation;
		}
	/* a callback may stop or re-arm any timer, its own included */
	for (i = 0; i < n; i++) {
		t = due[i].timer;
		if (!t->armed || t->generation != due[i].generation)
			continue;
		eloop_timer_stop(loop, t);
		t->fire(t->context);
	}
}

static void dispatch(struct eloop *loop, const struct pollfd *fds, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct eloop_watch *w;
		if (!fds[i].revents || fds[i].fd == loop->timer_fd)
			continue;
		/* a callback may have unwatched a later descriptor */
		w = find_watch(loop, fds[i].fd);
		if (!w)
			continue;
		if (fds[i].revents & POLLNVAL) {
			eloop_unwatch(loop, fds[i].fd); /* closed under us */
			continue;
		}
		w->ready(w->context, fds[i].fd, fds[i].revents);
	}
}

int eloop_turn(struct eloop *loop)
{
	struct pollfd fds[ELOOP_WATCH_MAX + 1];
	int64_t now, next;
	size_t i, n = 0;
	int timeout;

	if (loop->before_poll)
		loop->before_poll(loop->before_poll_context);
	now = clock_now_ms();
	next = eloop_next_timer_ms(loop);
	timeout = next <= now ? 0 : arm(loop, next, now);
	for (i = 0; i < loop->watch_count; i++) {
		fds[n].fd = loop->watches[i].fd;
		fds[n].events = loop->watches[i].events;
		fds[n++].revents = 0;
	}
	if (loop->timer_fd >= 0) {
		fds[n].fd = loop->timer_fd;
		fds[n].events = POLLIN;
		fds[n++].revents = 0;
	}
	if (poll(fds, n, timeout) < 0)
		return errno == EINTR ? 0 : -1;
	if (loop->on_wake)
		loop->on_wake(loop->wake_context);
	if (loop->timer_fd >= 0 && fds[n - 1].revents) {
		uint64_t expirations;
		if (read(loop->timer_fd, &expirations, sizeof(expirations)) <
		    0) {
			/* EAGAIN: already consumed; the timers decide */
		}
		loop->armed_for_ms = INT64_MAX; /* it fired: set it anew */
	}
	dispatch(loop, fds, loop->timer_fd >= 0 ? n - 1 : n);
	run_due_timers(loop);
	return 0;
}
