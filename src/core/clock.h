/* clock.h - the one clock natpmp times things with: CLOCK_BOOTTIME, which
 * is monotonic like CLOCK_MONOTONIC but keeps counting while the system is
 * suspended, so a deadline that passed during sleep is due on resume. */
#ifndef NATPMP_CLOCK_H
#define NATPMP_CLOCK_H

#include <stdint.h>

/* a time that never comes: no deadline, no timer */
#define CLOCK_NEVER INT64_MAX

/* Milliseconds on CLOCK_BOOTTIME (CLOCK_MONOTONIC where it is missing). */
int64_t clock_now_ms(void);

/* Milliseconds the system has spent suspended since it booted: the growth
 * of CLOCK_BOOTTIME over CLOCK_MONOTONIC. Compared between two readings,
 * it tells how long the machine slept in between. */
int64_t clock_asleep_ms(void);

#endif
