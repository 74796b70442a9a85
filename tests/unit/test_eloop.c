/* test_eloop.c - the event loop: timers fire in time order, may stop or
 * re-arm one another, descriptors and signals wake it, it runs until a
 * condition holds or a deadline passes, and its single timer lives on
 * CLOCK_BOOTTIME with absolute deadlines, so time spent suspended counts. */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "core/clock.h"
#include "engine/eloop.h"

struct probe {
	struct eloop *loop;
	int fired;
	int order;
	struct eloop_timer *victim; /* stopped when this one fires */
	int64_t fired_ms;
};

static int sequence;

static void fire(void *context)
{
	struct probe *p = context;

	p->fired++;
	p->order = ++sequence;
	p->fired_ms = clock_now_ms();
	if (p->victim)
		eloop_timer_stop(p->loop, p->victim);
}

static void test_timers(void)
{
	struct eloop *loop = eloop_new();
	struct eloop_timer early, late, stopped;
	struct probe a = { .loop = loop }, b = { .loop = loop },
		     c = { .loop = loop };
	int64_t start;

	CHECK(loop != NULL);
	if (!loop)
		return;
	eloop_timer_init(&early, fire, &a);
	eloop_timer_init(&late, fire, &b);
	eloop_timer_init(&stopped, fire, &c);
	start = clock_now_ms();
	eloop_timer_at(loop, &late, start + 60);
	eloop_timer_at(loop, &early, start + 20);
	eloop_timer_at(loop, &stopped, start + 40);
	a.victim = &stopped; /* the early one cancels the middle one */
	CHECK_EQ(eloop_next_timer_ms(loop), start + 20);
	while (!b.fired)
		CHECK_EQ(eloop_turn(loop), 0);
	CHECK_EQ(a.fired, 1);
	CHECK_EQ(c.fired, 0);
	CHECK(a.order < b.order);
	CHECK(a.fired_ms >= start + 20);
	CHECK(b.fired_ms >= start + 60 && b.fired_ms < start + 60 + 50);
	CHECK_EQ(eloop_next_timer_ms(loop), INT64_MAX);
	/* re-arming moves a timer rather than adding a second one */
	eloop_timer_at(loop, &early, start + 1000);
	eloop_timer_at(loop, &early, clock_now_ms());
	CHECK_EQ(eloop_turn(loop), 0);
	CHECK_EQ(a.fired, 2);
	CHECK_EQ(eloop_next_timer_ms(loop), INT64_MAX);
	eloop_free(loop);
}

struct reader {
	int calls;
	short revents;
};

static void on_ready(void *context, int fd, short revents)
{
	struct reader *r = context;
	char byte;

	r->calls++;
	r->revents = revents;
	if (read(fd, &byte, 1) < 0) {
		/* nothing to read after a hang-up */
	}
}

static void test_descriptors(void)
{
	struct eloop *loop = eloop_new();
	struct reader r = { 0 };
	int fds[2];

	CHECK(loop != NULL);
	if (!loop)
		return;
	CHECK_EQ(pipe(fds), 0);
	CHECK_EQ(eloop_watch(loop, fds[0], POLLIN, on_ready, &r), 0);
	CHECK_EQ(write(fds[1], "x", 1), 1);
	CHECK_EQ(eloop_turn(loop), 0);
	CHECK_EQ(r.calls, 1);
	CHECK(r.revents & POLLIN);
	/* a hang-up is reported even when only POLLIN was asked for */
	close(fds[1]);
	CHECK_EQ(eloop_turn(loop), 0);
	CHECK_EQ(r.calls, 2);
	CHECK(r.revents & POLLHUP);
	eloop_unwatch(loop, fds[0]);
	/* unwatched, it wakes nothing: the turn sleeps until the timer */
	{
		struct probe p = { .loop = loop };
		struct eloop_timer soon;
		eloop_timer_init(&soon, fire, &p);
		eloop_timer_at(loop, &soon, clock_now_ms() + 20);
		CHECK_EQ(eloop_turn(loop), 0);
		CHECK_EQ(r.calls, 2);
	}
	close(fds[0]);
	eloop_free(loop);
}

/* The one timerfd among this process's descriptors, -1 if none. */
static int timer_fd(void)
{
	DIR *fds = opendir("/proc/self/fd");
	struct dirent *e;
	int found = -1;

	while (fds && (e = readdir(fds))) {
		char path[300], target[64];
		ssize_t n;
		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (strcmp(target, "anon_inode:[timerfd]") == 0)
			found = atoi(e->d_name);
	}
	if (fds)
		closedir(fds);
	return found;
}

/* The kernel shows a timerfd's clock and flags in /proc/self/fdinfo. */
static void test_boottime(void)
{
#ifdef __linux__
	struct eloop *loop = eloop_new();
	struct eloop_timer t;
	struct probe p = { .loop = loop };
	char path[64], line[128];
	bool boottime = false, absolute = false;
	FILE *f;

	CHECK(loop != NULL);
	if (!loop)
		return;
	eloop_timer_init(&t, fire, &p);
	eloop_timer_at(loop, &t, clock_now_ms() + 5);
	CHECK_EQ(eloop_turn(loop), 0); /* arms the timerfd, then fires */
	eloop_timer_at(loop, &t, clock_now_ms() + 3600 * 1000);
	/* one turn with a ready pipe arms the timerfd for the hour */
	{
		struct reader r = { 0 };
		int fds[2];
		CHECK_EQ(pipe(fds), 0);
		CHECK_EQ(write(fds[1], "x", 1), 1);
		eloop_watch(loop, fds[0], POLLIN, on_ready, &r);
		CHECK_EQ(eloop_turn(loop), 0);
		eloop_unwatch(loop, fds[0]);
		close(fds[0]);
		close(fds[1]);
	}
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", timer_fd());
	f = fopen(path, "r");
	CHECK(f != NULL);
	while (f && fgets(line, sizeof(line), f)) {
		unsigned value;
		if (sscanf(line, "clockid: %u", &value) == 1)
			boottime = value == 7; /* CLOCK_BOOTTIME */
		if (sscanf(line, "settime flags: %o", &value) == 1)
			absolute = value & 1; /* TFD_TIMER_ABSTIME */
	}
	if (f)
		fclose(f);
	CHECK(boottime);
	CHECK(absolute);
	eloop_free(loop);
#endif
}

struct counter {
	int calls;
	int order;
};

static void count(void *context)
{
	struct counter *c = context;

	c->calls++;
	c->order = ++sequence;
}

/* Signals come to their callbacks from the loop, once however often they
 * came before the turn, in the order they were registered. */
static void test_signals(void)
{
	struct eloop *loop = eloop_new();
	struct counter usr1 = { 0 }, usr2 = { 0 };

	CHECK(loop != NULL);
	if (!loop)
		return;
	CHECK_EQ(eloop_signal(loop, SIGUSR2, count, &usr2), 0);
	CHECK_EQ(eloop_signal(loop, SIGUSR1, count, &usr1), 0);
	kill(getpid(), SIGUSR1);
	kill(getpid(), SIGUSR1);
	kill(getpid(), SIGUSR2);
	CHECK_EQ(usr1.calls, 0); /* not inside the handler */
	CHECK_EQ(eloop_turn(loop), 0);
	CHECK_EQ(usr1.calls, 1);
	CHECK_EQ(usr2.calls, 1);
	CHECK(usr2.order < usr1.order);
	eloop_free(loop);
}

static bool reached(void *context)
{
	const struct counter *c = context;

	return c->calls >= 3;
}

/* The loop turns until the condition holds, or until its deadline. */
static void test_run_until(void)
{
	struct eloop *loop = eloop_new();
	struct counter c = { 0 };
	struct eloop_timer t1, t2, t3;
	int64_t start = clock_now_ms();

	CHECK(loop != NULL);
	if (!loop)
		return;
	eloop_timer_init(&t1, count, &c);
	eloop_timer_init(&t2, count, &c);
	eloop_timer_init(&t3, count, &c);
	eloop_timer_at(loop, &t1, start + 10);
	eloop_timer_at(loop, &t2, start + 20);
	eloop_timer_at(loop, &t3, start + 30);
	CHECK_EQ(eloop_run_until(loop, reached, &c, CLOCK_NEVER), 0);
	CHECK_EQ(c.calls, 3);
	/* nothing left to make it hold: the deadline ends it, on time */
	c.calls = 0;
	start = clock_now_ms();
	CHECK_EQ(eloop_run_until(loop, reached, &c, start + 50), 1);
	CHECK(clock_now_ms() - start >= 50);
	CHECK_EQ(c.calls, 0);
	/* and its timer is gone with it */
	CHECK_EQ(eloop_next_timer_ms(loop), INT64_MAX);
	eloop_free(loop);
}

int main(void)
{
	test_timers();
	test_descriptors();
	test_boottime();
	test_signals();
	test_run_until();
	return check_report("test_eloop");
}
