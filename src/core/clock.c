/* clock.c - boot-time milliseconds, and the time spent suspended. */
#include "core/clock.h"

#include <time.h>

#ifdef CLOCK_BOOTTIME
#define CLOCK_DEADLINES CLOCK_BOOTTIME
#else
#define CLOCK_DEADLINES CLOCK_MONOTONIC
#endif

static int64_t read_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t clock_now_ms(void)
{
	return read_ms(CLOCK_DEADLINES);
}

int64_t clock_asleep_ms(void)
{
	return read_ms(CLOCK_DEADLINES) - read_ms(CLOCK_MONOTONIC);
}
