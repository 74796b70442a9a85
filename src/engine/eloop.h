/* eloop.h - the one event loop: every descriptor natpmp waits on, every
 * timer and every signal it acts on; nothing blocks anywhere else. Timers
 * are absolute times on clock_now_ms() (CLOCK_BOOTTIME), kept by one wake
 * timer of the OS seam, so the loop sleeps in the kernel until the
 * earliest of them and wakes at once after a suspend that outlived it.
 * The loop's insides are its own; callers watch, arm, register signals
 * and run it until what they wait for holds. */
#ifndef NATPMP_ELOOP_H
#define NATPMP_ELOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/clock.h"

struct eloop;

typedef void (*eloop_ready_fn)(void *context, int fd, short revents);
typedef void (*eloop_fire_fn)(void *context);
typedef bool (*eloop_done_fn)(void *context);

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

/* Returns a new loop, or NULL with errno. */
struct eloop *eloop_new(void);
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

/* From now on, signal number makes the loop call fire at its next turn
 * (never inside the handler); several arrivals before then are one call.
 * Calls come in the order the signals were registered; a signal may be
 * registered more than once, and each registration hears it. One loop at a
 * time holds the signals. Returns 0, or -1 with errno. */
int eloop_signal(struct eloop *loop, int number, eloop_fire_fn fire,
		 void *context);

/* fire runs on every wake-up before anything is dispatched (to notice
 * that the system was suspended, say); before runs before every sleep (to
 * watch for what callbacks queued). */
void eloop_on_wake(struct eloop *loop, eloop_fire_fn fire, void *context);
void eloop_before_sleep(struct eloop *loop, eloop_fire_fn before,
			void *context);

/* Sleeps until a timer is due, a descriptor is ready or a signal came,
 * then runs the due timers, the ready descriptors' and the signals'
 * callbacks. Returns 0, or -1 with errno on a system error (not EINTR). */
int eloop_turn(struct eloop *loop);

/* Turns the loop until done(context) holds, asked before every turn, or
 * until deadline_ms (on clock_now_ms()) passes. Returns 0 when done held,
 * 1 when the deadline came first, -1 with errno when the loop cannot wait
 * any more. */
int eloop_run_until(struct eloop *loop, eloop_done_fn done, void *context,
		    int64_t deadline_ms);

#endif
