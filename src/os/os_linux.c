/* os_linux.c - Linux's parts of the OS seam beside the routes: interface
 * flags, getrandom(2), and a timerfd on CLOCK_BOOTTIME for the loop. */
#include "os/os.h"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

/* The interface's flags into *flags; -1 when they cannot be read. */
static int interface_flags(const char *name, short *flags)
{
	struct ifreq request;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int status;

	if (fd < 0)
		return -1;
	memset(&request, 0, sizeof(request));
	snprintf(request.ifr_name, sizeof(request.ifr_name), "%s", name);
	status = ioctl(fd, SIOCGIFFLAGS, &request);
	close(fd);
	*flags = request.ifr_flags;
	return status;
}

bool os_interface_running(const char *name)
{
	short flags;

	if (interface_flags(name, &flags) < 0)
		return true; /* when unsure, try */
	return (flags & IFF_UP) && (flags & IFF_RUNNING);
}

bool os_interface_point_to_point(const char *name)
{
	short flags;

	return interface_flags(name, &flags) == 0 && (flags & IFF_POINTOPOINT);
}

int os_random(void *buffer, size_t size)
{
	unsigned char *bytes = buffer;
	size_t done = 0;

	while (done < size) {
		ssize_t n = getrandom(bytes + done, size - done, 0);
		if (n < 0 && errno != EINTR)
			return -1;
		if (n > 0)
			done += (size_t)n;
	}
	return 0;
}

int os_wake_timer_open(void)
{
	return timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK | TFD_CLOEXEC);
}

int os_wake_timer_set(int fd, int64_t at_ms)
{
	struct itimerspec value;

	memset(&value, 0, sizeof(value));
	if (at_ms != INT64_MAX) {
		value.it_value.tv_sec = (time_t)(at_ms / 1000);
		value.it_value.tv_nsec = (long)(at_ms % 1000) * 1000000;
	}
	return timerfd_settime(fd, TFD_TIMER_ABSTIME, &value, NULL);
}

void os_wake_timer_clear(int fd)
{
	uint64_t expirations;

	if (read(fd, &expirations, sizeof(expirations)) < 0) {
		/* EAGAIN: already taken; the timers decide what is due */
	}
}
