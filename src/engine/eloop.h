/* eloop.h - the one event loop: every descriptor natpmp waits on and every
 * timer, nothing blocking anywhere else. Timers are absolute times on
 * clock_now_ms() (CLOCK_BOOTTIME), kept by one timerfd, so the loop sleeps
 * in the kernel until the earliest of them and wakes at once after a
 * suspend that outlived it. */
#ifndef NATPMP_ELOOP_H
#define NATPMP_ELOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ELOOP_WATCH_MAX 16

typedef void (*eloop_ready_fn)(void *context, int fd, short revents);
typedef void (*eloop_fire_fn)(void *context);

/* A timer belongs to its owner (a field of its struct), which arms and
 * stops it; the loop only links it while armed. */
struct eloop_timer {
	eloop_fire_fn fire;
	void *context;
	bool armed;
	int64_t at_ms;
	unsigned generation; /* bumped on every arm and stop */
	struct eloop_timer *next;
};

struct eloop_watch {
	int fd;
	short events;
	eloop_ready_fn ready;
	void *context;
};

struct eloop {
	int timer_fd;	      /* -1 where there is no timerfd */
	int64_t armed_for_ms; /* what timer_fd is set to; INT64_MAX: nothing */
	struct eloop_timer *timers;
	struct eloop_watch watches[ELOOP_WATCH_MAX];
	size_t watch_count;
	/* called on every wake-up before anything is dispatched, e.g. to
	 * notice that the system was suspended */
	eloop_fire_fn on_wake;
	void *wake_context;
	/* called before every sleep, e.g. to watch for what callbacks
	 * queued */
	eloop_fire_fn before_poll;
	void *before_poll_context;
};

/* Returns 0, or -1 with errno set. */
int eloop_init(struct eloop *loop);
void eloop_free(struct eloop *loop);

/* Calls ready when fd has any of events (POLLIN...), or an error or hang-up
 * (always reported). One watch per descriptor; watching it again replaces
 * the watch. Returns 0, or -1 when the table is full. */
int eloop_watch(struct eloop *loop, int fd, short events, eloop_ready_fn ready,
		void *context);
void eloop_unwatch(struct eloop *loop, int fd);

void eloop_timer_init(struct eloop_timer *timer, eloop_fire_fn fire,
		      void *context);
/* Arms (or re-arms) timer to fire at at_ms on clock_now_ms(). */
void eloop_timer_at(struct eloop *loop, struct eloop_timer *timer,
		    int64_t at_ms);
void eloop_timer_stop(struct eloop *loop, struct eloop_timer *timer);
/* The earliest armed timer's time, or INT64_MAX. */
int64_t eloop_next_timer_ms(const struct eloop *loop);

/* Sleeps until a timer is due or a descriptor is ready, then runs the due
 * timers and the ready descriptors' callbacks. Returns 0, or -1 with errno
 * on a system error (not EINTR). */
int eloop_turn(struct eloop *loop);

#endif
