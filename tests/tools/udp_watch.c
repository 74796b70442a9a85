/* udp_watch.c - the soak's witness: prints every IPv4 UDP datagram to or
 * from ports 5350 and 5351 that crosses an interface of the network
 * namespace it runs in, with the wall-clock time, the interface and the
 * NAT-PMP or PCP fields decoded, one line each, so that what a client could
 * know is read off the wire rather than from the client itself.
 *
 * usage: udp_watch (as root, in the namespace; lines on stdout)
 * line:  SECONDS.MICROS in|out IFACE SRC SPORT DST DPORT LEN WORDS...
 * words: natpmp-req op=N | natpmp op=N result=N epoch=N [addr=A]
 *        [proto=tcp|udp int=N ext=N life=N] | pcp-req op=N |
 *        pcp op=announce|map result=N life=N epoch=N
 *        [proto=tcp|udp int=N ext=N addr=A] | other */
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static unsigned get16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static unsigned long get32(const uint8_t *p)
{
	return (unsigned long)get16(p) << 16 | get16(p + 2);
}

static const char *proto_name(unsigned proto)
{
	return proto == 6 ? "tcp" : proto == 17 ? "udp" : "other";
}

static void ipv4_text(const uint8_t *p, char *text, size_t size)
{
	snprintf(text, size, "%u.%u.%u.%u", p[0], p[1], p[2], p[3]);
}

/* NAT-PMP (RFC 6886): requests and responses of version 0 */
static void print_natpmp(const uint8_t *d, size_t n)
{
	if (n < 2 || d[1] < 128) {
		printf(" natpmp-req op=%u", n >= 2 ? (unsigned)d[1] : 0U);
		return;
	}
	if (n < 8) {
		printf(" natpmp op=%u short", d[1]);
		return;
	}
	printf(" natpmp op=%u result=%u epoch=%lu", d[1], get16(d + 2),
	       get32(d + 4));
	if (d[1] == 128 && n >= 12) {
		char addr[16];
		ipv4_text(d + 8, addr, sizeof(addr));
		printf(" addr=%s", addr);
	} else if ((d[1] == 129 || d[1] == 130) && n >= 16) {
		printf(" proto=%s int=%u ext=%u life=%lu",
		       d[1] == 129 ? "udp" : "tcp", get16(d + 8), get16(d + 10),
		       get32(d + 12));
	}
}

/* PCP (RFC 6887): the common header and MAP's fields, IPv4 only */
static void print_pcp(const uint8_t *d, size_t n)
{
	unsigned op = d[1] & 0x7f;

	if (!(d[1] & 0x80)) {
		printf(" pcp-req op=%u", op);
		return;
	}
	if (n < 24) {
		printf(" pcp op=%u short", op);
		return;
	}
	printf(" pcp op=%s result=%u life=%lu epoch=%lu",
	       op == 0	 ? "announce"
	       : op == 1 ? "map"
			 : "other",
	       d[3], get32(d + 4), get32(d + 8));
	if (op == 1 && n >= 60) {
		char addr[16];
		/* an IPv4-mapped IPv6 address: the last four bytes */
		ipv4_text(d + 56, addr, sizeof(addr));
		printf(" proto=%s int=%u ext=%u addr=%s", proto_name(d[36]),
		       get16(d + 40), get16(d + 42), addr);
	}
}

static void print_datagram(const uint8_t *ip, size_t n,
			   const struct sockaddr_ll *from,
			   const struct timespec *when)
{
	char src[16], dst[16], name[IF_NAMESIZE] = "?";
	size_t header = (size_t)(ip[0] & 0x0f) * 4;
	unsigned sport, dport;
	const uint8_t *udp = ip + header;

	if (n < header + 8 || ip[9] != 17)
		return;
	sport = get16(udp);
	dport = get16(udp + 2);
	if (sport != 5350 && sport != 5351 && dport != 5350 && dport != 5351)
		return;
	if_indextoname((unsigned)from->sll_ifindex, name);
	ipv4_text(ip + 12, src, sizeof(src));
	ipv4_text(ip + 16, dst, sizeof(dst));
	printf("%lld.%06ld %s %s %s %u %s %u %zu", (long long)when->tv_sec,
	       when->tv_nsec / 1000,
	       from->sll_pkttype == PACKET_OUTGOING ? "out" : "in", name, src,
	       sport, dst, dport, n - header - 8);
	n -= header + 8;
	udp += 8;
	if (n >= 1 && udp[0] == 0)
		print_natpmp(udp, n);
	else if (n >= 2 && udp[0] == 2)
		print_pcp(udp, n);
	else
		printf(" other");
	printf("\n");
	fflush(stdout);
}

/* The kernel's time of the datagram (SO_TIMESTAMPNS): when it crossed the
 * interface, before any program could act on it, however late this one
 * runs; the wall clock now if the kernel gave none. */
static void datagram_time(struct msghdr *message, struct timespec *when)
{
	struct cmsghdr *c;

	for (c = CMSG_FIRSTHDR(message); c; c = CMSG_NXTHDR(message, c)) {
		if (c->cmsg_level == SOL_SOCKET &&
		    c->cmsg_type == SCM_TIMESTAMPNS &&
		    c->cmsg_len >= CMSG_LEN(sizeof(*when))) {
			memcpy(when, CMSG_DATA(c), sizeof(*when));
			return;
		}
	}
	clock_gettime(CLOCK_REALTIME, when);
}

int main(void)
{
	uint8_t packet[2048];
	union {
		char buffer[CMSG_SPACE(sizeof(struct timespec))];
		struct cmsghdr align;
	} control;
	int fd = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP)), on = 1;

	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on)) < 0) {
		perror("udp_watch: socket");
		return 71;
	}
	for (;;) {
		struct sockaddr_ll from;
		struct iovec data = { packet, sizeof(packet) };
		struct msghdr message = { .msg_name = &from,
					  .msg_namelen = sizeof(from),
					  .msg_iov = &data,
					  .msg_iovlen = 1,
					  .msg_control = control.buffer,
					  .msg_controllen =
						  sizeof(control.buffer) };
		struct timespec when;
		ssize_t n = recvmsg(fd, &message, 0);

		if (n < 0) {
			perror("udp_watch: recvmsg");
			return 71;
		}
		datagram_time(&message, &when);
		if (n >= 20 && (packet[0] >> 4) == 4)
			print_datagram(packet, (size_t)n, &from, &when);
	}
}
