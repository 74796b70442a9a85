/* os_linux.c - Linux's parts of the OS seam beside the routes: interface
 * flags, getrandom(2), a timerfd on CLOCK_BOOTTIME for the loop, and the
 * announcement listener's socket options and arrival interface. */
#include "os/os.h"

#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
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

int os_listener_options(int fd, int family)
{
	int one = 1, zero = 0;

	if (family == AF_INET6)
		return setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one,
				  sizeof(one));
	/* Linux delivers every group any socket of the host joined to a
	 * socket bound to the port, unless told not to */
	if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_ALL, &zero, sizeof(zero)) <
	    0)
		return -1;
	return setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
}

/* The arrival interface from the control messages, 0 if none says. */
static unsigned arrival_interface(struct msghdr *message)
{
	struct cmsghdr *c;

	for (c = CMSG_FIRSTHDR(message); c; c = CMSG_NXTHDR(message, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo info;
			memcpy(&info, CMSG_DATA(c), sizeof(info));
			return (unsigned)info.ipi_ifindex;
		}
		if (c->cmsg_level == IPPROTO_IPV6 &&
		    c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo info;
			memcpy(&info, CMSG_DATA(c), sizeof(info));
			return info.ipi6_ifindex;
		}
	}
	return 0;
}

ssize_t os_receive(int fd, void *buffer, size_t size, struct ip_endpoint *from,
		   unsigned *interface)
{
	struct sockaddr_storage source;
	union {
		struct cmsghdr align;
		char bytes[CMSG_SPACE(sizeof(struct in6_pktinfo)) +
			   CMSG_SPACE(sizeof(struct in_pktinfo))];
	} control;
	struct iovec part = { .iov_base = buffer, .iov_len = size };
	struct msghdr message = { .msg_name = &source,
				  .msg_namelen = sizeof(source),
				  .msg_iov = &part,
				  .msg_iovlen = 1,
				  .msg_control = control.bytes,
				  .msg_controllen = sizeof(control.bytes) };
	ssize_t n = recvmsg(fd, &message, MSG_DONTWAIT | MSG_TRUNC);

	*interface = 0;
	memset(from, 0, sizeof(*from));
	if (n < 0)
		return -1;
	if (ip_endpoint_from_sockaddr((struct sockaddr *)&source,
				      message.msg_namelen, from) < 0)
		from->address.family = AF_UNSPEC;
	*interface = arrival_interface(&message);
	return n;
}
