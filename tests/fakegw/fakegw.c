/* fakegw.c - a scriptable fake NAT-PMP and PCP gateway that plays the router
 * in tests: options and control commands script it, a log records each event.
 *
 * One UDP socket answers both protocols, dispatching on the first byte as
 * miniupnpd does: 0 is NAT-PMP (RFC 6886), anything else PCP (RFC 6887,
 * fakegw_pcp.c). --bind takes IPv4 or IPv6 (with a %scope); on IPv6 PCP
 * opens firewall pinholes instead of translating. The control socket
 * (--ctl) shares the bind's family and address. PCP personalities, each an
 * option --NAME and a control command NAME (see --help):
 *   speaks both|nat-pmp|pcp    which protocols it answers (pcp-only on|off
 *                              and --pcp-only are aliases for pcp)
 *   pcp-version N              a server of that PCP version only
 *   pcp-silent on|off          PCP dropped, NAT-PMP answered
 *   pcp-result CODE            every valid MAP answered with CODE
 *   pcp-junk N                 N responses to ignore before each real one
 *   pcp-min-lifetime N, pcp-error-lifetime N, max-filters N,
 *   allow-third-party on|off   the PCP server's policy
 *   pcp-renew-result CODE      renewals refused, new mappings granted
 * and NAT-PMP's field personalities: natpmp-silent (NAT-PMP dropped, PCP
 * answered) and natpmp-junk-reply (NAT-PMP answered in neither protocol).
 * announce and announce-pcp go to 224.0.0.1:5350, or from an IPv6 bind to
 * [ff02::1]:5350 on the bind's interface, unless --announce-to says. */
#include "fakegw.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* room to see that a datagram is longer than PCP allows */
#define RECEIVE_MAX 2048

struct gateway gw;

static volatile sig_atomic_t stop;

int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void log_event(const char *format, ...)
{
	int64_t t = now_ms() - gw.start_ms;
	va_list ap;

	fprintf(gw.log, "%lld.%03lld ", (long long)(t / 1000),
		(long long)(t % 1000));
	va_start(ap, format);
	vfprintf(gw.log, format, ap);
	va_end(ap);
	fputc('\n', gw.log);
	fflush(gw.log);
}

uint64_t rng_next(void)
{
	/* splitmix64: small, and good enough for junk and port numbers */
	uint64_t z = (gw.rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

unsigned rng_below(unsigned n)
{
	return (unsigned)(rng_next() % n);
}

/* one clock for NAT-PMP and PCP, as miniupnpd keeps them */
uint32_t sssoe(void)
{
	return (uint32_t)((now_ms() - gw.epoch_base_ms) / 1000);
}

static const char *op_name(uint8_t op)
{
	static char text[16];

	switch (op) {
	case 0: return "address";
	case 1: return "map-udp";
	case 2: return "map-tcp";
	}
	snprintf(text, sizeof(text), "%u", (unsigned)op);
	return text;
}

static uint8_t natpmp_protocol(uint8_t op)
{
	return op == 1 ? PROTOCOL_UDP : PROTOCOL_TCP;
}

/* --- the client's acceptance rule, to keep junk from passing --- */

static bool client_would_accept(const uint8_t *d, size_t length,
				const uint8_t *request)
{
	uint8_t op = request[1];
	size_t full = op == 0 ? 12 : 16;
	uint16_t internal = op == 0 ? 0 : get16(request + 4);

	/* a well-formed PCP response ends a NAT-PMP request too */
	if (length >= 24 && length <= 1100 && length % 4 == 0 && d[0] == 2 &&
	    (d[1] & 128))
		return true;
	if (length < 4 || d[0] != 0 || d[1] != (uint8_t)(op | 128))
		return false;
	if (length == full)
		return op == 0 || get16(d + 8) == internal;
	if (get16(d + 2) == 0)
		return false;
	if (length == 8)
		return true;
	return op != 0 && length == 12 && get16(d + 4) == internal;
}

/* --- NAT-PMP mappings --- */

static uint16_t delete_natpmp(const uint8_t client[16], uint8_t protocol,
			      uint16_t internal, struct mapping *m)
{
	if (internal == 0) {
		unsigned count = mappings_delete_all(client, protocol, NULL);
		log_event("deleted-all proto=%s client=%s count=%u",
			  protocol_name(protocol), address_text(client), count);
		return 0;
	}
	if (m)
		mapping_delete(m);
	return 0;
}

/* A VPN gateway's random port is one per internal port: the port the
 * other protocol of the same internal port holds, when this one is free
 * there too. */
static uint16_t paired_random_port(const uint8_t client[16], uint8_t protocol,
				   uint16_t internal)
{
	uint8_t other = protocol == PROTOCOL_UDP ? PROTOCOL_TCP : PROTOCOL_UDP;
	const struct mapping *pair = mapping_find(client, other, internal);

	if (pair && !port_taken(protocol, pair->external))
		return pair->external;
	return random_free_port(protocol);
}

/* Applies a map request; returns the result code. */
static uint16_t apply_map(const uint8_t client[16], uint8_t op,
			  uint16_t internal, uint16_t suggested,
			  uint32_t lifetime, uint16_t *external,
			  uint32_t *granted)
{
	uint8_t protocol = natpmp_protocol(op);
	struct mapping *m = mapping_find(client, protocol, internal);

	*external = 0;
	*granted = 0;
	if (lifetime == 0)
		return delete_natpmp(client, protocol, internal, m);
	*granted = lifetime;
	if (gw.max_lifetime && *granted > gw.max_lifetime)
		*granted = gw.max_lifetime;
	if (!m) {
		/* chosen first: a new entry counts as expired until made */
		uint16_t port =
			gw.grant_port ? (uint16_t)gw.grant_port
			: gw.random_port
				? paired_random_port(client, protocol, internal)
			: suggested == 0 || port_taken(protocol, suggested)
				? random_free_port(protocol)
				: suggested;
		m = mapping_new(client, protocol, internal, MADE_BY_NATPMP);
		if (!m)
			return 4;
		m->external = port;
	}
	m->expires_ms = now_ms() + (int64_t)*granted * 1000;
	if (gw.grant_lifetime >= 0)
		*granted = (uint32_t)gw.grant_lifetime;
	*external = m->external;
	return 0;
}

/* --- sending --- */

void send_now(const union endpoint *to, const uint8_t *data, size_t length)
{
	if (gw.fd >= 0)
		sendto(gw.fd, data, length, 0, &to->any, endpoint_length(to));
}

static void queue_datagram(const union endpoint *to, const uint8_t *data,
			   size_t length, int64_t due_ms)
{
	size_t i;

	for (i = 0; i < MAX_PENDING && gw.pending[i].used; i++)
		;
	if (i == MAX_PENDING || length > sizeof(gw.pending[i].data))
		return;
	gw.pending[i].used = true;
	gw.pending[i].due_ms = due_ms;
	gw.pending[i].to = *to;
	memcpy(gw.pending[i].data, data, length);
	gw.pending[i].length = length;
}

/* A reply: now, or after --delay. */
void send_reply(const union endpoint *to, const uint8_t *data, size_t length)
{
	if (gw.delay_ms)
		queue_datagram(to, data, length, now_ms() + gw.delay_ms);
	else
		send_now(to, data, length);
}

static size_t make_garbage(const uint8_t *reply, size_t reply_length,
			   uint8_t *junk)
{
	size_t length = reply_length, i;

	memcpy(junk, reply, reply_length);
	switch (rng_below(7)) {
	case 0: /* random bytes */
		length = rng_below(65);
		for (i = 0; i < length; i++)
			junk[i] = (uint8_t)rng_next();
		break;
	case 1: junk[0] = (uint8_t[]){ 1, 2, 255 }[rng_below(3)]; break;
	case 2: junk[1] &= 0x7f; break;
	case 3: junk[1] = (uint8_t)(128 + (junk[1] - 127) % 3); break;
	case 4: length = 1 + rng_below((unsigned)reply_length - 1); break;
	case 5:
		length = reply_length + 1 + rng_below(8);
		for (i = reply_length; i < length; i++)
			junk[i] = (uint8_t)rng_next();
		break;
	default:
		if (reply_length == 16)
			put16(junk + 8, (uint16_t)(get16(junk + 8) + 1 +
						   rng_below(1000)));
		else
			junk[0] = 2;
		break;
	}
	return length;
}

static void send_junk(const union endpoint *to, const uint8_t *request,
		      const uint8_t *reply, size_t reply_length)
{
	uint8_t junk[80];
	unsigned n;

	for (n = 0; n < gw.garbage; n++) {
		size_t length;
		do
			length = make_garbage(reply, reply_length, junk);
		while (client_would_accept(junk, length, request));
		send_now(to, junk, length);
	}
	if (gw.garbage)
		log_event("garbage n=%u", gw.garbage);
}

/* the next address up: another host on the gateway's network */
static void next_address(union endpoint *e)
{
	if (e->any.sa_family == AF_INET6)
		e->v6.sin6_addr.s6_addr[15]++;
	else
		e->v4.sin_addr.s_addr = htonl(ntohl(e->v4.sin_addr.s_addr) + 1);
}

static void send_foreign(const union endpoint *to, const uint8_t *request)
{
	uint8_t fake[16] = { 0, (uint8_t)(request[1] | 128), 0, 0 };
	size_t length = request[1] == 0 ? 12 : 16;
	unsigned n;

	put32(fake + 4, sssoe());
	if (request[1] == 0) {
		put32(fake + 8, 0x06060606);
	} else {
		put16(fake + 8, get16(request + 4));
		put16(fake + 10, 1);
		put32(fake + 12, 1);
	}
	for (n = 0; n < gw.foreign; n++) {
		union endpoint from = gw.bind;
		int fd = socket(from.any.sa_family, SOCK_DGRAM, 0);
		if (n % 2 == 0)
			endpoint_set_port(&from,
					  0); /* same address, another port */
		else
			next_address(&from);
		if (fd >= 0 && bind(fd, &from.any, endpoint_length(&from)) == 0)
			sendto(fd, fake, length, 0, &to->any,
			       endpoint_length(to));
		else
			log_event("foreign-skipped from=%s",
				  endpoint_text(&from));
		if (fd >= 0)
			close(fd);
	}
	if (gw.foreign)
		log_event("foreign n=%u", gw.foreign);
}

static uint16_t forced_result(uint8_t op)
{
	int forced = op == 0 ? gw.address_result : gw.map_result;

	return (uint16_t)(forced >= 0	   ? forced
			  : gw.result >= 0 ? gw.result
					   : 0);
}

static void log_answer(const union endpoint *to, uint8_t op,
		       const uint8_t *reply, size_t length)
{
	if (op == 0)
		log_event(
			"reply to=%s op=address result=%u epoch=%lu address=%s%s",
			endpoint_text(to), (unsigned)get16(reply + 2),
			(unsigned long)sssoe(), ipv4_text(get32(reply + 8)),
			length == 8 ? " form=short" : "");
	else
		log_event(
			"reply to=%s op=%s result=%u epoch=%lu internal=%u external=%u lifetime=%lu%s",
			endpoint_text(to), op_name(op),
			(unsigned)get16(reply + 2), (unsigned long)sssoe(),
			(unsigned)get16(reply + 8), (unsigned)get16(reply + 10),
			(unsigned long)get32(reply + 12),
			length == 8 ? " form=short" : "");
}

/* Builds and sends (or queues) the reply to a well-formed request. */
static void answer(const union endpoint *from, const uint8_t *request)
{
	uint8_t op = request[1], reply[16] = { 0, (uint8_t)(op | 128) };
	uint16_t result = forced_result(op);
	size_t length = op == 0 ? 12 : 16;
	uint16_t external = 0;
	uint32_t granted = 0;

	put32(reply + 4, sssoe());
	if (op == 0) {
		/* result 3 means no external address: report 0.0.0.0 */
		put32(reply + 8, result == 3 ? 0 : gw.external);
	} else {
		uint8_t client[16];
		endpoint_address(from, client);
		put16(reply + 8, get16(request + 4));
		/* some gateways refuse to choose the port themselves */
		if (result == 0 && gw.port_zero_result > 0 &&
		    get16(request + 6) == 0 && get32(request + 8) != 0)
			result = (uint16_t)gw.port_zero_result;
		if (result == 0)
			result = apply_map(client, op, get16(request + 4),
					   get16(request + 6),
					   get32(request + 8), &external,
					   &granted);
		put16(reply + 10, external);
		put32(reply + 12, granted);
	}
	put16(reply + 2, result);
	if (result != 0 && op != 0 && gw.errors_copy_lifetime)
		put32(reply + 12, get32(request + 8));
	if (result != 0 && gw.short_errors)
		length = 8;
	log_answer(from, op, reply, length);
	send_foreign(from, request);
	if (gw.delay_ms) {
		queue_datagram(from, reply, length, now_ms() + gw.delay_ms);
		return;
	}
	send_junk(from, request, reply, length);
	send_now(from, reply, length);
}

/* --- receiving --- */

void close_gateway(void)
{
	if (gw.fd >= 0)
		close(gw.fd);
	gw.fd = -1;
	log_event("closed");
}

/* Before the last answer of --close-after: connect the socket to the
 * control socket, so the kernel already refuses (ICMP) a client's next
 * request instead of queueing it on a socket about to close. sendto()
 * still reaches the client. */
static void seal_gateway(void)
{
	union endpoint ctl;
	socklen_t length = sizeof(ctl);

	if (getsockname(gw.ctl_fd, &ctl.any, &length) < 0 ||
	    connect(gw.fd, &ctl.any, length) < 0)
		log_event("seal-error error=%s", strerror(errno));
}

/* --close-after: true when the answer about to go is the last one; the
 * caller closes the socket after it. */
bool answer_is_last(void)
{
	if (gw.close_after <= 0 || ++gw.answered < gw.close_after)
		return false;
	seal_gateway();
	return true;
}

/* silent and drop N hold for both protocols */
bool dropped_by_silence(const union endpoint *from)
{
	if (!gw.silent && gw.drop <= 0)
		return false;
	log_event("drop from=%s reason=%s", endpoint_text(from),
		  gw.silent ? "silent" : "drop");
	if (!gw.silent)
		gw.drop--;
	return true;
}

/* What a NAT-PMP-only gateway says to any other version (RFC 6886
 * section 3.5, with the errata's opcode 128). */
void natpmp_unsupported_version(const union endpoint *to)
{
	uint8_t reply[8] = { 0, 128, 0, 1 };

	put32(reply + 4, sssoe());
	send_now(to, reply, sizeof(reply));
	log_event("reply to=%s op=address result=1 form=short",
		  endpoint_text(to));
}

static void log_natpmp_request(const uint8_t *d, size_t length,
			       const union endpoint *from)
{
	uint8_t op = length >= 2 ? d[1] : 0;
	char detail[96] = "";
	bool bad_length = (op == 0 && length != 2) ||
			  ((op == 1 || op == 2) && length != 12);

	if (length >= 2 && !bad_length && (op == 1 || op == 2))
		snprintf(detail, sizeof(detail),
			 " internal=%u suggested=%u lifetime=%lu",
			 (unsigned)get16(d + 4), (unsigned)get16(d + 6),
			 (unsigned long)get32(d + 8));
	log_event("recv from=%s len=%zu op=%s%s%s", endpoint_text(from), length,
		  op_name(op), detail,
		  length < 2 || (bad_length && op < 3) ? " bad=length" : "");
}

/* an opcode NAT-PMP does not know: the request back, result 5 */
static void answer_unknown_opcode(const uint8_t *d, size_t length,
				  const union endpoint *from)
{
	uint8_t echo[DATAGRAM_MAX];
	size_t n = length < 4 ? 4 : length;

	memset(echo, 0, sizeof(echo));
	memcpy(echo, d, length);
	echo[1] = (uint8_t)(d[1] | 128);
	put16(echo + 2, 5);
	send_now(from, echo, n);
	log_event("reply to=%s op=%u result=5 form=echo", endpoint_text(from),
		  (unsigned)d[1]);
}

/* natpmp-junk-reply: what libpcp's test server sends a version-0
 * datagram, neither NAT-PMP nor PCP */
static void answer_junk(const union endpoint *from)
{
	uint8_t junk[12] = { 0, 0x80 };

	if (gw.natpmp_junk_reply == 12)
		junk[0] = 2, junk[1] = 0x81;
	send_reply(from, junk, (size_t)gw.natpmp_junk_reply);
	log_event("reply to=%s junk len=%ld", endpoint_text(from),
		  gw.natpmp_junk_reply);
}

static void handle_natpmp(const uint8_t *d, size_t length,
			  const union endpoint *from)
{
	uint8_t op = length >= 2 ? d[1] : 0;
	bool bad_length = (op == 0 && length != 2) ||
			  ((op == 1 || op == 2) && length != 12);

	log_natpmp_request(d, length, from);
	if (length < 2 || dropped_by_silence(from))
		return;
	if (gw.natpmp_silent) {
		log_event("drop from=%s reason=natpmp-silent",
			  endpoint_text(from));
		return;
	}
	if (gw.natpmp_junk_reply) {
		answer_junk(from);
		return;
	}
	if (gw.speaks == SPEAKS_PCP) {
		pcp_unsupported_version(from, d, length);
		return;
	}
	if (gw.ignore_port && length == 12 && (op == 1 || op == 2) &&
	    get16(d + 4) == gw.ignore_port) {
		log_event("drop from=%s reason=ignore-port",
			  endpoint_text(from));
		return;
	}
	if (op >= 128)
		return;
	if (op > 2) {
		answer_unknown_opcode(d, length, from);
		return;
	}
	if (bad_length)
		return;
	if (answer_is_last()) {
		answer(from, d);
		close_gateway();
		return;
	}
	answer(from, d);
}

/* The first byte decides, as in miniupnpd: NAT-PMP's version 0, or PCP. */
static void handle_request(const uint8_t *d, size_t length,
			   const union endpoint *from)
{
	if (length >= 1 && d[0] != 0)
		pcp_receive(d, length, from);
	else
		handle_natpmp(d, length < DATAGRAM_MAX ? length : DATAGRAM_MAX,
			      from);
}

static void read_requests(void)
{
	uint8_t d[RECEIVE_MAX];
	union endpoint from;
	socklen_t from_length = sizeof(from);
	ssize_t n;

	while (gw.fd >= 0 &&
	       (n = recvfrom(gw.fd, d, sizeof(d), MSG_DONTWAIT | MSG_TRUNC,
			     &from.any, &from_length)) >= 0) {
		handle_request(d, (size_t)n < sizeof(d) ? (size_t)n : sizeof(d),
			       &from);
		from_length = sizeof(from);
	}
}

/* --- control --- */

static int open_gateway(void)
{
	int one = 1;

	gw.fd = socket(gw.bind.any.sa_family, SOCK_DGRAM, 0);
	if (gw.fd < 0)
		return -1;
	setsockopt(gw.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (gw.bind.any.sa_family == AF_INET6)
		setsockopt(gw.fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(gw.fd, &gw.bind.any, endpoint_length(&gw.bind)) < 0)
		return -1;
	return 0;
}

static void queue_announcements(int count, bool pcp)
{
	gw.announce_pcp = pcp;
	gw.announce_left = count;
	gw.announce_next_ms = now_ms();
	gw.announce_gap_ms = 250;
}

/* Multicast leaves by the bind's interface, looped back, one hop. */
static void prepare_multicast(void)
{
	unsigned char loop = 1, ttl = 1;
	unsigned loop6 = 1;
	int hops = 1;
	unsigned interface = gw.announce_to.any.sa_family == AF_INET6 &&
					     gw.announce_to.v6.sin6_scope_id
				     ? gw.announce_to.v6.sin6_scope_id
				     : endpoint_interface(&gw.bind);

	if (gw.bind.any.sa_family == AF_INET6) {
		setsockopt(gw.fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &interface,
			   sizeof(interface));
		setsockopt(gw.fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &loop6,
			   sizeof(loop6));
		setsockopt(gw.fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops,
			   sizeof(hops));
		return;
	}
	setsockopt(gw.fd, IPPROTO_IP, IP_MULTICAST_IF, &gw.bind.v4.sin_addr,
		   sizeof(gw.bind.v4.sin_addr));
	setsockopt(gw.fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof(loop));
	setsockopt(gw.fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl));
}

static void send_due_announcement(void)
{
	uint8_t a[24] = { 0, 128, 0, 0 };
	size_t length = 12;

	if (gw.announce_pcp) {
		/* version 2, R + ANNOUNCE, result 0, lifetime 0, epoch: after
		 * a restart it starts from 0 again (section 14.1) */
		memset(a, 0, sizeof(a));
		a[0] = 2;
		a[1] = 128;
		put32(a + 8, gw.announce_lie ? gw.lie_epoch : sssoe());
		length = 24;
	} else {
		put32(a + 4, gw.announce_lie ? gw.lie_epoch : sssoe());
		put32(a + 8, gw.announce_lie ? gw.lie_external : gw.external);
	}
	if (gw.fd >= 0) {
		prepare_multicast();
		if (sendto(gw.fd, a, length, 0, &gw.announce_to.any,
			   endpoint_length(&gw.announce_to)) < 0)
			log_event("announce-failed error=%s", strerror(errno));
	}
	log_event("announce to=%s format=%s epoch=%lu address=%s%s",
		  endpoint_text(&gw.announce_to),
		  gw.announce_pcp ? "pcp" : "nat-pmp",
		  (unsigned long)(gw.announce_lie ? gw.lie_epoch : sssoe()),
		  ipv4_text(gw.announce_lie ? gw.lie_external : gw.external),
		  gw.announce_lie ? " lie" : "");
	gw.announce_lie = false;
	gw.announce_left--;
	gw.announce_next_ms += gw.announce_gap_ms;
	gw.announce_gap_ms *= 2;
}

bool parse_number(const char *text, long min, long max, long *value)
{
	char *end;

	errno = 0;
	*value = strtol(text, &end, 10);
	return errno == 0 && end != text && *end == '\0' && *value >= min &&
	       *value <= max;
}

bool parse_on_off(const char *text, bool *value)
{
	if (strcmp(text, "on") == 0)
		*value = true;
	else if (strcmp(text, "off") == 0)
		*value = false;
	else
		return false;
	return true;
}

/* Control commands that set a number; returns NULL or why not. */
static const char *control_number(const char *word, const char *arg)
{
	long n = 0;

	if (!arg || !parse_number(arg, 0, 65535, &n))
		return "needs N";
	if (strcmp(word, "max-lifetime") == 0)
		gw.max_lifetime = (unsigned)n;
	else if (strcmp(word, "grant-port") == 0)
		gw.grant_port = (unsigned)n;
	else if (strcmp(word, "garbage") == 0)
		gw.garbage = (unsigned)n;
	else if (strcmp(word, "foreign") == 0)
		gw.foreign = (unsigned)n;
	else if (strcmp(word, "delay") == 0)
		gw.delay_ms = (unsigned)n;
	else
		gw.drop = n;
	return NULL;
}

static bool is_number_command(const char *word)
{
	static const char *const words[] = { "max-lifetime", "grant-port",
					     "delay",	     "garbage",
					     "foreign",	     "drop" };
	size_t i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcmp(word, words[i]) == 0)
			return true;
	return false;
}

/* mappings [nat-pmp|pcp]: how many live, each in the log */
static const char *control_mappings(const char *arg, char *reply, size_t size)
{
	int made_by = -1;

	if (arg && strcmp(arg, "nat-pmp") == 0)
		made_by = MADE_BY_NATPMP;
	else if (arg && strcmp(arg, "pcp") == 0)
		made_by = MADE_BY_PCP;
	else if (arg)
		return "mappings [nat-pmp|pcp]";
	snprintf(reply, size, "ok %u", mappings_list(true, made_by));
	return NULL;
}

/* The commands about the gateway's state rather than its settings. */
static const char *control_state(const char *word, const char *arg,
				 bool *handled)
{
	long n = 0;

	*handled = true;
	if (strcmp(word, "restart") == 0) {
		memset(gw.mappings, 0, sizeof(gw.mappings));
		gw.epoch_base_ms = now_ms();
	} else if (strcmp(word, "forget") == 0) {
		/* lose the mappings but not the epoch, as a gateway that
		 * reassigns ports on renewal appears to a client */
		memset(gw.mappings, 0, sizeof(gw.mappings));
	} else if (strcmp(word, "epoch") == 0) {
		if (!arg || !parse_number(arg, 0, 100000000, &n))
			return "epoch needs N";
		gw.epoch_base_ms = now_ms() - n * 1000;
	} else if (strcmp(word, "announce") == 0 ||
		   strcmp(word, "announce-pcp") == 0) {
		if (arg && !parse_number(arg, 1, 10, &n))
			return "announce [COUNT]";
		queue_announcements(arg ? (int)n : 1, word[8] == '-');
	} else if (strcmp(word, "lie-epoch") == 0) {
		/* one PCP ANNOUNCE with this epoch; the gateway goes on */
		if (!arg || !parse_number(arg, 0, 100000000, &n))
			return "lie-epoch N";
		queue_announcements(1, true);
		gw.announce_lie = true;
		gw.lie_epoch = (uint32_t)n;
		gw.lie_external = gw.external;
	} else if (strcmp(word, "lie-address") == 0) {
		/* one NAT-PMP announcement of this address, at the real epoch;
		 * the gateway's address stays */
		struct in_addr parsed;
		if (!arg || inet_pton(AF_INET, arg, &parsed) != 1)
			return "lie-address ADDRESS";
		queue_announcements(1, false);
		gw.announce_lie = true;
		gw.lie_epoch = sssoe();
		gw.lie_external = ntohl(parsed.s_addr);
	} else if (strcmp(word, "close") == 0) {
		close_gateway();
	} else if (strcmp(word, "reopen") == 0) {
		if (gw.fd < 0 && open_gateway() < 0)
			return "cannot bind again";
		log_event("reopened");
	} else if (strcmp(word, "quit") == 0) {
		stop = 1;
	} else {
		*handled = false;
	}
	return NULL;
}

/* natpmp-junk-reply's lengths: off, or one of libpcp's two answers */
static bool parse_junk_length(const char *text)
{
	long n;

	if (!parse_number(text, 0, 12, &n) || (n != 0 && n != 2 && n != 12))
		return false;
	gw.natpmp_junk_reply = n;
	return true;
}

/* NAT-PMP's settings; *handled false if word is none of them. */
static const char *control_natpmp(const char *word, const char *arg,
				  bool *handled)
{
	struct in_addr a;
	long n = 0;

	*handled = true;
	if (strcmp(word, "silent") == 0) {
		if (!arg || !parse_on_off(arg, &gw.silent))
			return "silent on|off";
	} else if (strcmp(word, "random-port") == 0) {
		if (!arg || !parse_on_off(arg, &gw.random_port))
			return "random-port on|off";
	} else if (strcmp(word, "natpmp-silent") == 0) {
		if (!arg || !parse_on_off(arg, &gw.natpmp_silent))
			return "natpmp-silent on|off";
	} else if (strcmp(word, "natpmp-junk-reply") == 0) {
		if (!arg || !parse_junk_length(arg))
			return "natpmp-junk-reply 0|2|12";
	} else if (strcmp(word, "result") == 0 ||
		   strcmp(word, "address-result") == 0 ||
		   strcmp(word, "map-result") == 0) {
		if (!arg || !parse_number(arg, -1, 65535, &n))
			return "needs CODE";
		*(word[0] == 'r'   ? &gw.result
		  : word[0] == 'a' ? &gw.address_result
				   : &gw.map_result) = (int)n;
	} else if (strcmp(word, "external") == 0) {
		if (!arg || inet_pton(AF_INET, arg, &a) != 1)
			return "external needs ADDR";
		gw.external = ntohl(a.s_addr);
	} else if (is_number_command(word)) {
		return control_number(word, arg);
	} else if (strcmp(word, "ignore-port") == 0) {
		if (!arg || !parse_number(arg, 0, 65535, &n))
			return "ignore-port PORT";
		gw.ignore_port = (unsigned)n;
	} else {
		*handled = false;
	}
	return NULL;
}

/* Applies one control command; returns NULL or why it failed. */
static const char *control(char *command, char *reply, size_t size)
{
	char *word = strtok(command, " \t\r\n"), *arg = strtok(NULL, " \t\r\n");
	const char *why;
	bool handled;

	snprintf(reply, size, "ok");
	if (!word)
		return "empty command";
	if (strcmp(word, "mappings") == 0)
		return control_mappings(arg, reply, size);
	why = control_state(word, arg, &handled);
	if (!handled)
		why = control_natpmp(word, arg, &handled);
	if (!handled)
		why = pcp_control(word, arg, &handled);
	return handled ? why : "unknown command";
}

static void read_control(void)
{
	char command[256], copy[256], reply[64];
	union endpoint from;
	socklen_t from_length = sizeof(from);
	const char *why;
	ssize_t n;

	n = recvfrom(gw.ctl_fd, command, sizeof(command) - 1, MSG_DONTWAIT,
		     &from.any, &from_length);
	if (n < 0)
		return;
	command[n] = '\0';
	command[strcspn(command, "\r\n")] = '\0';
	memcpy(copy, command, sizeof(copy));
	why = control(copy, reply, sizeof(reply));
	if (why)
		snprintf(reply, sizeof(reply), "error: %s", why);
	log_event("ctl %s", command);
	sendto(gw.ctl_fd, reply, strlen(reply), 0, &from.any, from_length);
}

/* --- the loop --- */

static void send_due(void)
{
	int64_t now = now_ms();
	size_t i;

	for (i = 0; i < MAX_PENDING; i++) {
		struct pending *p = &gw.pending[i];
		if (!p->used || p->due_ms > now)
			continue;
		send_now(&p->to, p->data, p->length);
		p->used = false;
	}
	while (gw.announce_left > 0 && gw.announce_next_ms <= now)
		send_due_announcement();
}

static int next_wait_ms(void)
{
	int64_t next = INT64_MAX, now = now_ms();
	size_t i;

	for (i = 0; i < MAX_PENDING; i++)
		if (gw.pending[i].used && gw.pending[i].due_ms < next)
			next = gw.pending[i].due_ms;
	if (gw.announce_left > 0 && gw.announce_next_ms < next)
		next = gw.announce_next_ms;
	if (next == INT64_MAX)
		return -1;
	return next <= now ? 0 : (int)(next - now);
}

static void on_stop(int number)
{
	(void)number;
	stop = 1;
}

static void serve(void)
{
	struct sigaction action;

	memset(&action, 0, sizeof(action));
	action.sa_handler = on_stop;
	sigaction(SIGTERM, &action, NULL);
	sigaction(SIGINT, &action, NULL);
	while (!stop) {
		struct pollfd fds[2] = {
			{ .fd = gw.fd, .events = POLLIN },
			{ .fd = gw.ctl_fd, .events = POLLIN },
		};
		if (poll(fds, 2, next_wait_ms()) < 0 && errno != EINTR)
			break;
		if (fds[0].revents)
			read_requests();
		if (fds[1].revents)
			read_control();
		send_due();
	}
}

/* --- the command line --- */

static int usage(const char *why, const char *value)
{
	fprintf(stderr, "fakegw: %s%s%s\n", why, value ? ": " : "",
		value ? value : "");
	return 64;
}

static int run_ctl(const char *port_text, int argc, char **argv)
{
	char command[256] = "", reply[256];
	union endpoint to = gw.bind;
	struct timeval patience = { .tv_sec = 3 };
	long port;
	int fd, i;
	ssize_t n;

	if (!parse_number(port_text, 1, 65535, &port))
		return usage("bad control port", port_text);
	for (i = 0; i < argc; i++) {
		if (i)
			strncat(command, " ",
				sizeof(command) - strlen(command) - 1);
		strncat(command, argv[i],
			sizeof(command) - strlen(command) - 1);
	}
	endpoint_set_port(&to, (uint16_t)port);
	fd = socket(to.any.sa_family, SOCK_DGRAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof(patience));
	if (connect(fd, &to.any, endpoint_length(&to)) < 0 ||
	    send(fd, command, strlen(command), 0) < 0)
		return 1;
	n = recv(fd, reply, sizeof(reply) - 1, 0);
	if (n < 0) {
		fprintf(stderr, "fakegw: no answer to '%s'\n", command);
		return 1;
	}
	reply[n] = '\0';
	printf("%s\n", reply);
	return strcmp(reply, "ok") == 0 || strncmp(reply, "ok ", 3) == 0 ? 0
									 : 1;
}

static int write_ready(const char *path)
{
	union endpoint a, c;
	socklen_t la = sizeof(a), lc = sizeof(c);
	char tmp[4096];
	FILE *f;

	getsockname(gw.fd, &a.any, &la);
	getsockname(gw.ctl_fd, &c.any, &lc);
	endpoint_set_port(&gw.bind, endpoint_port(&a));
	log_event("start seed=%llu port=%u ctl=%u", (unsigned long long)gw.rng,
		  (unsigned)endpoint_port(&a), (unsigned)endpoint_port(&c));
	if (!path)
		return 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -1;
	fprintf(f, "%u %u\n", (unsigned)endpoint_port(&a),
		(unsigned)endpoint_port(&c));
	if (fclose(f) != 0)
		return -1;
	return rename(tmp, path);
}

static const char *ready_path, *log_path;

static void print_help(void)
{
	printf("usage: fakegw [--bind ADDR] [--port N] [--ready-file F] [--log F]\n"
	       "  [--external ADDR] [--epoch N] [--seed N] [--drop N] [--silent]\n"
	       "  [--result C] [--address-result C] [--map-result C] [--short-errors]\n"
	       "  [--errors-copy-lifetime]\n"
	       "  [--grant-port N] [--grant-lifetime N] [--random-port] [--max-lifetime N]\n"
	       "  [--delay MS] [--garbage N] [--foreign N] [--close-after N]\n"
	       "  [--natpmp-silent] [--natpmp-junk-reply 0|2|12]\n"
	       "  [--announce-to ADDR:PORT|[ADDR]:PORT] [--speaks both|nat-pmp|pcp]\n"
	       "  [--pcp-only] [--pcp-version N] [--pcp-silent] [--pcp-result C]\n"
	       "  [--pcp-junk N] [--pcp-min-lifetime N] [--pcp-error-lifetime N]\n"
	       "  [--max-filters N] [--allow-third-party]\n"
	       "--bind: IPv4 or IPv6 (fe80::1%%veth0); the control socket uses it too\n"
	       "control: restart forget epoch N silent on|off random-port on|off\n"
	       "  result|address-result|map-result CODE external ADDR max-lifetime N\n"
	       "  grant-port N delay MS garbage N foreign N drop N announce [N]\n"
	       "  announce-pcp [N] lie-epoch N lie-address ADDR ignore-port PORT close\n"
	       "  reopen\n"
	       "  natpmp-silent on|off (NAT-PMP dropped, PCP answered)\n"
	       "  natpmp-junk-reply 0|2|12 (NAT-PMP answered with libpcp's junk:\n"
	       "  2 bytes 00 80, or 12 bytes starting 02 81; 0: off)\n"
	       "  mappings [nat-pmp|pcp] quit, and the PCP commands below\n"
	       "%s"
	       "fakegw [--bind ADDR] --ctl PORT COMMAND...\n",
	       pcp_help);
}

/* Options without a value; false if o is not one. */
static bool parse_flag(const char *o)
{
	if (strcmp(o, "--silent") == 0)
		gw.silent = true;
	else if (strcmp(o, "--errors-copy-lifetime") == 0)
		gw.errors_copy_lifetime = true;
	else if (strcmp(o, "--short-errors") == 0)
		gw.short_errors = true;
	else if (strcmp(o, "--random-port") == 0)
		gw.random_port = true;
	else if (strcmp(o, "--natpmp-silent") == 0)
		gw.natpmp_silent = true;
	else
		return pcp_flag(o);
	return true;
}

static int *result_slot(const char *o)
{
	if (strcmp(o, "--result") == 0)
		return &gw.result;
	if (strcmp(o, "--address-result") == 0)
		return &gw.address_result;
	if (strcmp(o, "--map-result") == 0)
		return &gw.map_result;
	return NULL;
}

static unsigned *count_slot(const char *o)
{
	if (strcmp(o, "--delay") == 0)
		return &gw.delay_ms;
	if (strcmp(o, "--garbage") == 0)
		return &gw.garbage;
	if (strcmp(o, "--foreign") == 0)
		return &gw.foreign;
	if (strcmp(o, "--max-lifetime") == 0)
		return &gw.max_lifetime;
	return NULL;
}

/* Options that take a number into a slot; -1 if o is none of them. */
static int parse_slot_option(const char *o, const char *v)
{
	int *result = result_slot(o);
	unsigned *count = count_slot(o);
	long n;

	if (!result && !count)
		return -1;
	if (!parse_number(v, 0, result ? 65535 : 0x7fffffff, &n))
		return usage("bad number", v);
	if (result)
		*result = (int)n;
	else
		*count = (unsigned)n;
	return 0;
}

/* Options about the gateway's addresses; -1 if o is none of them. */
static int parse_address_option(const char *o, const char *v)
{
	struct in_addr a;
	long n;

	if (strcmp(o, "--bind") == 0) {
		if (!parse_address(v, &gw.bind))
			return usage("bad --bind", v);
	} else if (strcmp(o, "--port") == 0) {
		if (!parse_number(v, 0, 65535, &n))
			return usage("bad --port", v);
		endpoint_set_port(&gw.bind, (uint16_t)n);
	} else if (strcmp(o, "--external") == 0) {
		if (inet_pton(AF_INET, v, &a) != 1)
			return usage("bad --external", v);
		gw.external = ntohl(a.s_addr);
	} else if (strcmp(o, "--announce-to") == 0) {
		if (!parse_endpoint(v, &gw.announce_to))
			return usage("bad --announce-to", v);
		gw.announce_to_given = true;
	} else {
		return -1;
	}
	return 0;
}

/* Options with a value; returns 0, or an exit status for a bad one. */
static int parse_option(const char *o, const char *v)
{
	int status = parse_slot_option(o, v);
	long n;

	if (status < 0)
		status = parse_address_option(o, v);
	if (status < 0)
		status = pcp_option(o, v);
	if (status >= 0)
		return status;
	if (strcmp(o, "--ready-file") == 0) {
		ready_path = v;
	} else if (strcmp(o, "--log") == 0) {
		log_path = v;
	} else if (strcmp(o, "--epoch") == 0) {
		if (!parse_number(v, 0, 100000000, &n))
			return usage("bad --epoch", v);
		gw.epoch_base_ms = now_ms() - n * 1000;
	} else if (strcmp(o, "--seed") == 0) {
		gw.rng = strtoull(v, NULL, 10);
	} else if (strcmp(o, "--drop") == 0) {
		if (!parse_number(v, 0, 1000000, &gw.drop))
			return usage("bad --drop", v);
	} else if (strcmp(o, "--close-after") == 0) {
		if (!parse_number(v, 0, 1000000, &gw.close_after))
			return usage("bad --close-after", v);
	} else if (strcmp(o, "--grant-port") == 0) {
		if (!parse_number(v, 1, 65535, &n))
			return usage("bad --grant-port", v);
		gw.grant_port = (unsigned)n;
	} else if (strcmp(o, "--natpmp-junk-reply") == 0) {
		if (!parse_junk_length(v))
			return usage("bad --natpmp-junk-reply", v);
	} else if (strcmp(o, "--grant-lifetime") == 0) {
		if (!parse_number(v, 0, 0x7fffffff, &gw.grant_lifetime))
			return usage("bad --grant-lifetime", v);
	} else {
		return usage("unknown option", o);
	}
	return 0;
}

static void set_defaults(void)
{
	memset(&gw, 0, sizeof(gw));
	gw.start_ms = gw.epoch_base_ms = now_ms();
	gw.bind.v4.sin_family = AF_INET;
	gw.bind.v4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	gw.external = 0x2c010203;		  /* 44.1.2.3 */
	gw.epoch_base_ms -= INT64_C(1000) * 1000; /* SSSoE 1000 */
	gw.result = gw.address_result = gw.map_result = -1;
	gw.grant_lifetime = -1;
	gw.rng = (uint64_t)time(NULL) ^ (uint64_t)getpid() << 32;
	gw.log = stderr;
	gw.fd = gw.ctl_fd = -1;
	pcp_defaults();
}

/* RFC 6886 section 3.2.1 and RFC 6887 section 14.1: all hosts, on the
 * bind's own link for IPv6. */
static void default_announce_target(void)
{
	if (gw.announce_to_given)
		return;
	if (gw.bind.any.sa_family == AF_INET6) {
		parse_endpoint("[ff02::1]:5350", &gw.announce_to);
		gw.announce_to.v6.sin6_scope_id = endpoint_interface(&gw.bind);
	} else {
		parse_endpoint("224.0.0.1:5350", &gw.announce_to);
	}
}

static int open_sockets(void)
{
	union endpoint ctl = gw.bind;

	endpoint_set_port(&ctl, 0);
	gw.ctl_fd = socket(ctl.any.sa_family, SOCK_DGRAM, 0);
	if (open_gateway() < 0 || gw.ctl_fd < 0 ||
	    bind(gw.ctl_fd, &ctl.any, endpoint_length(&ctl)) < 0) {
		fprintf(stderr, "fakegw: cannot bind: %s\n", strerror(errno));
		return 71;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int i, status;

	set_defaults();
	for (i = 1; i < argc; i++) {
		const char *o = argv[i];

		if (strcmp(o, "-h") == 0 || strcmp(o, "--help") == 0) {
			print_help();
			return 0;
		}
		if (parse_flag(o))
			continue;
		if (i + 1 >= argc)
			return usage("option needs a value", o);
		if (strcmp(o, "--ctl") == 0)
			return run_ctl(argv[i + 1], argc - i - 2, argv + i + 2);
		status = parse_option(o, argv[++i]);
		if (status)
			return status;
	}
	default_announce_target();
	if (log_path && !(gw.log = fopen(log_path, "a")))
		return usage("cannot open --log", log_path);
	status = open_sockets();
	if (status)
		return status;
	if (write_ready(ready_path) < 0) {
		fprintf(stderr, "fakegw: cannot write %s\n", ready_path);
		return 71;
	}
	serve();
	return 0;
}
