/* os_random.c - random numbers for timing decisions, from the kernel's
 * source on every system (os_random), so that no two hosts share them. */
#include "os/os.h"

#include <unistd.h>

#include "core/clock.h"

uint32_t os_random_number(void)
{
	uint32_t number;

	if (os_random(&number, sizeof(number)) == 0)
		return number;
	/* no kernel source at all: still differ from host to host and run
	 * to run, which is what the RFCs' random factors are for */
	number = (uint32_t)clock_now_ms() * 2654435761u;
	return number ^ (uint32_t)getpid() * 40503u;
}
