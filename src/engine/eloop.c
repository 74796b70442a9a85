/* eloop.c - poll(2) over the watched descriptors, the OS seam's wake timer
 * armed for the earliest timer, and a self-pipe for signals: their
 * handlers only note the signal and write one byte. An idle loop makes no
 * system call until something happens. */
#include "engine/eloop.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "os/os.h"

#define WATCH_MAX 16
#define SIGNAL_MAX 8	  /* registrations per loop */
#define SIGNAL_NUMBERS 65 /* signal numbers the handler keeps apart */
/* timers fired in one turn; any more wait for the next (immediate) turn */
#define DUE_MAX 32

struct watch {
	int fd;
	short events;
	eloop_ready_fn ready;
	void *context;
};

struct signal_callback {
	int number;
	eloop_fire_fn fire;
	void *context;
};

struct eloop {
	int timer_fd;	      /* -1 where the OS has no wake timer */
	int64_t armed_for_ms; /* what timer_fd is set to; INT64_MAX: nothing */
	struct eloop_timer *timers;
	struct watch watches[WATCH_MAX];
	size_t watch_count;
	int signal_pipe[2]; /* -1 until a signal is registered */
	struct signal_callback signals[SIGNAL_MAX];
	size_t signal_count;
	eloop_fire_fn on_wake;
	void *wake_context;
	eloop_fire_fn before_sleep;
	void *sleep_context;
};

/* What the handler may touch: flags, and the pipe of the loop that holds
 * the signals. */
static volatile sig_atomic_t caught[SIGNAL_NUMBERS];
static volatile sig_atomic_t signal_write_fd = -1;

struct eloop *eloop_new(void)
{
	struct eloop *loop = calloc(1, sizeof(*loop));

	if (!loop)
		return NULL;
	loop->armed_for_ms = INT64_MAX;
	loop->signal_pipe[0] = loop->signal_pipe[1] = -1;
	loop->timer_fd = os_wake_timer_open();
	if (loop->timer_fd < 0 && errno != ENOSYS) {
		int saved = errno;
		free(loop);
		errno = saved;
		return NULL;
	}
	return loop;
}

void eloop_free(struct eloop *loop)
{
	if (!loop)
		return;
	if (loop->signal_pipe[1] >= 0 &&
	    signal_write_fd == loop->signal_pipe[1])
		signal_write_fd = -1; /* handlers stay, and note only */
	if (loop->signal_pipe[0] >= 0) {
		close(loop->signal_pipe[0]);
		close(loop->signal_pipe[1]);
	}
	if (loop->timer_fd >= 0)
		close(loop->timer_fd);
	free(loop);
}

static struct watch *find_watch(struct eloop *loop, int fd)
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
	struct watch *w = find_watch(loop, fd);

	if (!w) {
		if (loop->watch_count == WATCH_MAX) {
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
	struct watch *w = find_watch(loop, fd);

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

/* --- signals --- */

static void on_signal(int number)
{
	int saved = errno;
	int fd = signal_write_fd;
	char byte = 0;

	if (number > 0 && number < SIGNAL_NUMBERS)
		caught[number] = 1;
	if (fd >= 0 && write(fd, &byte, 1) < 0) {
		/* the pipe is full: the loop will wake for earlier bytes */
	}
	errno = saved;
}

static int set_flags(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return -1;
	return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* The signals come in: note which, and call back in the order they were
 * registered. */
static void on_signal_pipe(void *context, int fd, short revents)
{
	struct eloop *loop = context;
	char drain[64];
	size_t i;

	bool came[SIGNAL_MAX];

	(void)revents;
	while (read(fd, drain, sizeof(drain)) > 0)
		;
	/* every registration of a signal hears it, so what came is taken
	 * first, then told */
	for (i = 0; i < loop->signal_count; i++)
		came[i] = caught[loop->signals[i].number];
	for (i = 0; i < loop->signal_count; i++)
		caught[loop->signals[i].number] = 0;
	for (i = 0; i < loop->signal_count; i++)
		if (came[i])
			loop->signals[i].fire(loop->signals[i].context);
}

static int open_signal_pipe(struct eloop *loop)
{
	if (loop->signal_pipe[0] >= 0)
		return 0;
	if (pipe(loop->signal_pipe) < 0)
		return -1;
	if (set_flags(loop->signal_pipe[0]) < 0 ||
	    set_flags(loop->signal_pipe[1]) < 0 ||
	    eloop_watch(loop, loop->signal_pipe[0], POLLIN, on_signal_pipe,
			loop) < 0) {
		int saved = errno;
		close(loop->signal_pipe[0]);
		close(loop->signal_pipe[1]);
		loop->signal_pipe[0] = loop->signal_pipe[1] = -1;
		errno = saved;
		return -1;
	}
	signal_write_fd = loop->signal_pipe[1];
	return 0;
}

int eloop_signal(struct eloop *loop, int number, eloop_fire_fn fire,
		 void *context)
{
	struct sigaction action;
	size_t i;

	if (number <= 0 || number >= SIGNAL_NUMBERS ||
	    loop->signal_count == SIGNAL_MAX) {
		errno = EINVAL;
		return -1;
	}
	if (open_signal_pipe(loop) < 0)
		return -1;
	loop->signals[loop->signal_count++] =
		(struct signal_callback){ number, fire, context };
	memset(&action, 0, sizeof(action));
	action.sa_handler = on_signal;
	/* the loop's signals wait while one handler runs */
	sigemptyset(&action.sa_mask);
	for (i = 0; i < loop->signal_count; i++)
		sigaddset(&action.sa_mask, loop->signals[i].number);
	/* interrupted writes and reads go on; poll() still wakes up */
	action.sa_flags = SA_RESTART;
	caught[number] = 0;
	return sigaction(number, &action, NULL);
}

void eloop_on_wake(struct eloop *loop, eloop_fire_fn fire, void *context)
{
	loop->on_wake = fire;
	loop->wake_context = context;
}

void eloop_before_sleep(struct eloop *loop, eloop_fire_fn before, void *context)
{
	loop->before_sleep = before;
	loop->sleep_context = context;
}

/* --- turning --- */

/* Sets the wake timer to next unless it already is. Returns the poll
 * timeout: -1 (the wake timer wakes us), or milliseconds where there is
 * none. */
static int arm(struct eloop *loop, int64_t next, int64_t now)
{
	if (loop->timer_fd >= 0) {
		if (next == loop->armed_for_ms)
			return -1;
		if (os_wake_timer_set(loop->timer_fd, next) == 0) {
			loop->armed_for_ms = next;
			return -1;
		}
	}
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
		struct watch *w;
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
	struct pollfd fds[WATCH_MAX + 1];
	int64_t now, next;
	size_t i, n = 0;
	int timeout;

	if (loop->before_sleep)
		loop->before_sleep(loop->sleep_context);
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
		os_wake_timer_clear(loop->timer_fd);
		loop->armed_for_ms = INT64_MAX; /* it fired: set it anew */
	}
	dispatch(loop, fds, loop->timer_fd >= 0 ? n - 1 : n);
	run_due_timers(loop);
	return 0;
}

static void on_deadline(void *context)
{
	bool *passed = context;

	*passed = true;
}

int eloop_run_until(struct eloop *loop, eloop_done_fn done, void *context,
		    int64_t deadline_ms)
{
	struct eloop_timer deadline;
	bool passed = false;
	int status = 0;

	eloop_timer_init(&deadline, on_deadline, &passed);
	if (deadline_ms != CLOCK_NEVER)
		eloop_timer_at(loop, &deadline, deadline_ms);
	while (!done(context)) {
		if (passed) {
			status = 1;
			break;
		}
		if (eloop_turn(loop) < 0) {
			status = -1;
			break;
		}
	}
	eloop_timer_stop(loop, &deadline);
	return status;
}
