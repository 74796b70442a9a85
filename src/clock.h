/* clock.h - the one clock natpmp times things with: CLOCK_MONOTONIC, so
 * retries and renewals are immune to wall-clock steps. */
#ifndef NATPMP_CLOCK_H
#define NATPMP_CLOCK_H

#include <stdint.h>

/* Milliseconds on CLOCK_MONOTONIC. */
int64_t clock_now_ms(void);

#endif
