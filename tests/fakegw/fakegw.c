/* fakegw.c - a scriptable fake NAT-PMP gateway that plays the router in
 * tests: options and control commands script it, a log records each event. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_MAPPINGS 4096
#define MAX_PENDING 256
#define DATAGRAM_MAX 1100

struct mapping {
	bool used;
	uint32_t client;
	uint8_t opcode;
	uint16_t internal;
	uint16_t external;
	int64_t expires_ms;
};

/* a reply, or an announcement, waiting for its time */
struct pending {
	bool used;
	int64_t due_ms;
	struct sockaddr_in to;
	uint8_t data[24];
	size_t length;
	bool announcement;
};

static struct {
	struct sockaddr_in bind;
	int fd, ctl_fd;
	FILE *log;
	uint32_t external;
	int64_t epoch_base_ms; /* monotonic time at which SSSoE was 0 */
	uint64_t rng;
	long drop, answered, close_after;
	bool silent, short_errors, random_port, pcp_only;
	unsigned ignore_port; /* map requests for this internal port: dropped */
	int result, address_result, map_result; /* -1: none */
	unsigned grant_port, max_lifetime, delay_ms, garbage, foreign;
	long grant_lifetime; /* -1: none */
	struct sockaddr_in announce_to;
	struct mapping mappings[MAX_MAPPINGS];
	struct pending pending[MAX_PENDING];
	int announce_left;
	bool announce_pcp; /* announce in PCP format (RFC 6887 section 14.1) */
	int64_t announce_next_ms, announce_gap_ms;
	int64_t start_ms;
} gw;

static volatile sig_atomic_t stop;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void logf_(const char *format, ...)
	__attribute__((format(printf, 1, 2)));

static void logf_(const char *format, ...)
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

static uint64_t rng_next(void)
{
	/* splitmix64: small, and good enough for junk and port numbers */
	uint64_t z = (gw.rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned rng_below(unsigned n)
{
	return (unsigned)(rng_next() % n);
}

static uint32_t sssoe(void)
{
	return (uint32_t)((now_ms() - gw.epoch_base_ms) / 1000);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static const char *address_text(uint32_t host_order)
{
	static char text[4][INET_ADDRSTRLEN];
	static int slot;
	struct in_addr a = { .s_addr = htonl(host_order) };

	slot = (slot + 1) % 4;
	inet_ntop(AF_INET, &a, text[slot], sizeof(text[slot]));
	return text[slot];
}

static const char *peer_text(const struct sockaddr_in *peer)
{
	static char text[2][32];
	static int slot;

	slot = (slot + 1) % 2;
	snprintf(text[slot], sizeof(text[slot]), "%s:%u",
		 address_text(ntohl(peer->sin_addr.s_addr)),
		 (unsigned)ntohs(peer->sin_port));
	return text[slot];
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

/* --- mappings --- */

static struct mapping *find_mapping(uint32_t client, uint8_t op,
				    uint16_t internal)
{
	int64_t now = now_ms();
	size_t i;

	for (i = 0; i < MAX_MAPPINGS; i++) {
		struct mapping *m = &gw.mappings[i];
		if (m->used && m->expires_ms <= now)
			m->used = false;
		if (m->used && m->client == client && m->opcode == op &&
		    m->internal == internal)
			return m;
	}
	return NULL;
}

static bool port_taken(uint8_t op, uint16_t port)
{
	int64_t now = now_ms();
	size_t i;

	for (i = 0; i < MAX_MAPPINGS; i++)
		if (gw.mappings[i].used && gw.mappings[i].opcode == op &&
		    gw.mappings[i].external == port &&
		    gw.mappings[i].expires_ms > now)
			return true;
	return false;
}

static uint16_t random_free_port(uint8_t op)
{
	uint16_t port;

	do
		port = (uint16_t)(1024 + rng_below(65536 - 1024));
	while (port_taken(op, port));
	return port;
}

static unsigned live_mappings(bool log_them)
{
	int64_t now = now_ms();
	unsigned count = 0;
	size_t i;

	for (i = 0; i < MAX_MAPPINGS; i++) {
		struct mapping *m = &gw.mappings[i];
		if (!m->used || m->expires_ms <= now)
			continue;
		count++;
		if (log_them)
			logf_("mapping proto=%s client=%s internal=%u external=%u expires_in=%lld",
			      m->opcode == 1 ? "udp" : "tcp",
			      address_text(m->client), (unsigned)m->internal,
			      (unsigned)m->external,
			      (long long)((m->expires_ms - now) / 1000));
	}
	return count;
}

/* Applies a map request; returns the result code. */
static uint16_t apply_map(uint32_t client, uint8_t op, uint16_t internal,
			  uint16_t suggested, uint32_t lifetime,
			  uint16_t *external, uint32_t *granted)
{
	struct mapping *m = find_mapping(client, op, internal);
	size_t i;

	*external = 0;
	*granted = 0;
	if (lifetime == 0 && internal == 0) {
		unsigned count = 0;
		for (i = 0; i < MAX_MAPPINGS; i++)
			if (gw.mappings[i].used &&
			    gw.mappings[i].client == client &&
			    gw.mappings[i].opcode == op) {
				gw.mappings[i].used = false;
				count++;
			}
		logf_("deleted-all proto=%s client=%s count=%u",
		      op == 1 ? "udp" : "tcp", address_text(client), count);
		return 0;
	}
	if (lifetime == 0) {
		if (m) {
			m->used = false;
			logf_("deleted proto=%s client=%s internal=%u",
			      op == 1 ? "udp" : "tcp", address_text(client),
			      (unsigned)internal);
		}
		return 0;
	}
	*granted = lifetime;
	if (gw.max_lifetime && *granted > gw.max_lifetime)
		*granted = gw.max_lifetime;
	if (!m) {
		for (i = 0; i < MAX_MAPPINGS && gw.mappings[i].used; i++)
			;
		if (i == MAX_MAPPINGS)
			return 4;
		m = &gw.mappings[i];
		m->used = true;
		m->client = client;
		m->opcode = op;
		m->internal = internal;
		if (gw.grant_port)
			m->external = (uint16_t)gw.grant_port;
		else if (gw.random_port || suggested == 0 ||
			 port_taken(op, suggested))
			m->external = random_free_port(op);
		else
			m->external = suggested;
	}
	m->expires_ms = now_ms() + (int64_t)*granted * 1000;
	if (gw.grant_lifetime >= 0)
		*granted = (uint32_t)gw.grant_lifetime;
	*external = m->external;
	return 0;
}

/* --- sending --- */

static void queue_datagram(const struct sockaddr_in *to, const uint8_t *data,
			   size_t length, int64_t due_ms, bool announcement)
{
	size_t i;

	for (i = 0; i < MAX_PENDING && gw.pending[i].used; i++)
		;
	if (i == MAX_PENDING)
		return;
	gw.pending[i].used = true;
	gw.pending[i].due_ms = due_ms;
	gw.pending[i].to = *to;
	memcpy(gw.pending[i].data, data, length);
	gw.pending[i].length = length;
	gw.pending[i].announcement = announcement;
}

static void send_junk(const struct sockaddr_in *to, const uint8_t *request,
		      const uint8_t *reply, size_t reply_length)
{
	uint8_t junk[80];
	unsigned n;

	for (n = 0; n < gw.garbage; n++) {
		size_t length;
		do {
			length = reply_length;
			memcpy(junk, reply, reply_length);
			switch (rng_below(7)) {
			case 0: /* random bytes */
				length = rng_below(65);
				for (size_t i = 0; i < length; i++)
					junk[i] = (uint8_t)rng_next();
				break;
			case 1:
				junk[0] =
					(uint8_t[]){ 1, 2, 255 }[rng_below(3)];
				break;
			case 2: junk[1] &= 0x7f; break;
			case 3:
				junk[1] = (uint8_t)(128 + (junk[1] - 127) % 3);
				break;
			case 4:
				length = 1 +
					 rng_below((unsigned)reply_length - 1);
				break;
			case 5:
				length = reply_length + 1 + rng_below(8);
				for (size_t i = reply_length; i < length; i++)
					junk[i] = (uint8_t)rng_next();
				break;
			default:
				if (reply_length == 16)
					put16(junk + 8,
					      (uint16_t)(get16(junk + 8) + 1 +
							 rng_below(1000)));
				else
					junk[0] = 2;
				break;
			}
		} while (client_would_accept(junk, length, request));
		sendto(gw.fd, junk, length, 0, (const struct sockaddr *)to,
		       sizeof(*to));
	}
	if (gw.garbage)
		logf_("garbage n=%u", gw.garbage);
}

static void send_foreign(const struct sockaddr_in *to, const uint8_t *request)
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
		struct sockaddr_in from = gw.bind;
		int fd = socket(AF_INET, SOCK_DGRAM, 0);
		if (n % 2 == 0)
			from.sin_port = 0; /* same address, another port */
		else
			from.sin_addr.s_addr =
				htonl(ntohl(gw.bind.sin_addr.s_addr) + 1);
		if (fd >= 0 &&
		    bind(fd, (struct sockaddr *)&from, sizeof(from)) == 0)
			sendto(fd, fake, length, 0, (const struct sockaddr *)to,
			       sizeof(*to));
		else
			logf_("foreign-skipped from=%s", peer_text(&from));
		if (fd >= 0)
			close(fd);
	}
	if (gw.foreign)
		logf_("foreign n=%u", gw.foreign);
}

/* Builds and sends (or queues) the reply to a well-formed request. */
static void answer(const struct sockaddr_in *from, const uint8_t *request)
{
	uint8_t op = request[1], reply[16] = { 0, (uint8_t)(op | 128) };
	int forced = op == 0 ? gw.address_result : gw.map_result;
	uint16_t result = (uint16_t)(forced >= 0      ? forced
				     : gw.result >= 0 ? gw.result
						      : 0);
	size_t length = op == 0 ? 12 : 16;
	uint16_t external = 0;
	uint32_t granted = 0;

	put32(reply + 4, sssoe());
	if (op == 0) {
		/* result 3 means no external address: report 0.0.0.0 */
		put32(reply + 8, result == 3 ? 0 : gw.external);
	} else {
		put16(reply + 8, get16(request + 4));
		if (result == 0)
			result = apply_map(
				ntohl(from->sin_addr.s_addr), op,
				get16(request + 4), get16(request + 6),
				get32(request + 8), &external, &granted);
		put16(reply + 10, external);
		put32(reply + 12, granted);
	}
	put16(reply + 2, result);
	if (result != 0 && gw.short_errors)
		length = 8;
	if (op == 0)
		logf_("reply to=%s op=address result=%u epoch=%lu address=%s%s",
		      peer_text(from), (unsigned)result, (unsigned long)sssoe(),
		      address_text(get32(reply + 8)),
		      length == 8 ? " form=short" : "");
	else
		logf_("reply to=%s op=%s result=%u epoch=%lu internal=%u external=%u lifetime=%lu%s",
		      peer_text(from), op_name(op), (unsigned)result,
		      (unsigned long)sssoe(), (unsigned)get16(request + 4),
		      (unsigned)external, (unsigned long)granted,
		      length == 8 ? " form=short" : "");
	send_foreign(from, request);
	if (gw.delay_ms) {
		queue_datagram(from, reply, length, now_ms() + gw.delay_ms,
			       false);
		return;
	}
	send_junk(from, request, reply, length);
	sendto(gw.fd, reply, length, 0, (const struct sockaddr *)from,
	       sizeof(*from));
}

/* --- receiving --- */

static void close_gateway(void)
{
	if (gw.fd >= 0)
		close(gw.fd);
	gw.fd = -1;
	logf_("closed");
}

/* Before the last answer of --close-after: connect the socket to the
 * control socket, so the kernel already refuses (ICMP) a client's next
 * request instead of queueing it on a socket about to close. sendto()
 * still reaches the client. */
static void seal_gateway(void)
{
	struct sockaddr_in ctl;
	socklen_t length = sizeof(ctl);

	if (getsockname(gw.ctl_fd, (struct sockaddr *)&ctl, &length) < 0 ||
	    connect(gw.fd, (struct sockaddr *)&ctl, sizeof(ctl)) < 0)
		logf_("seal-error error=%s", strerror(errno));
}

/* A PCP-only server (RFC 6887 section 9): whatever the version asked, a
 * 24-byte PCP response with UNSUPP_VERSION. */
static void answer_unsupp_version(const struct sockaddr_in *from,
				  const uint8_t *d, size_t length)
{
	uint8_t reply[24] = { 2, 0, 0, 1 };

	reply[1] = (uint8_t)(128 | (length >= 2 ? d[1] & 0x7f : 0));
	put32(reply + 8, sssoe());
	sendto(gw.fd, reply, sizeof(reply), 0, (const struct sockaddr *)from,
	       sizeof(*from));
	logf_("reply to=%s format=pcp result=1", peer_text(from));
}

static void handle_request(const uint8_t *d, size_t length,
			   const struct sockaddr_in *from)
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
	logf_("recv from=%s len=%zu op=%s%s%s%s", peer_text(from), length,
	      op_name(op), detail,
	      length >= 1 && d[0] != 0 ? " bad=version" : "",
	      length < 2 || (d[0] == 0 && bad_length && op < 3) ? " bad=length"
								: "");
	if (length < 2)
		return;
	if (gw.silent || gw.drop > 0) {
		logf_("drop from=%s reason=%s", peer_text(from),
		      gw.silent ? "silent" : "drop");
		if (!gw.silent)
			gw.drop--;
		return;
	}
	if (gw.pcp_only) {
		answer_unsupp_version(from, d, length);
		return;
	}
	if (gw.ignore_port && length == 12 && (op == 1 || op == 2) &&
	    get16(d + 4) == gw.ignore_port) {
		logf_("drop from=%s reason=ignore-port", peer_text(from));
		return;
	}
	if (d[0] != 0) {
		uint8_t reply[8] = { 0, 128, 0, 1 };
		put32(reply + 4, sssoe());
		sendto(gw.fd, reply, 8, 0, (const struct sockaddr *)from,
		       sizeof(*from));
		logf_("reply to=%s op=address result=1 form=short",
		      peer_text(from));
		return;
	}
	if (op >= 128)
		return;
	if (op > 2) {
		uint8_t echo[DATAGRAM_MAX];
		size_t n = length < 4 ? 4 : length;
		memset(echo, 0, sizeof(echo));
		memcpy(echo, d, length);
		echo[1] = (uint8_t)(op | 128);
		put16(echo + 2, 5);
		sendto(gw.fd, echo, n, 0, (const struct sockaddr *)from,
		       sizeof(*from));
		logf_("reply to=%s op=%u result=5 form=echo", peer_text(from),
		      (unsigned)op);
		return;
	}
	if (bad_length)
		return;
	if (gw.close_after > 0 && ++gw.answered >= gw.close_after) {
		seal_gateway();
		answer(from, d);
		close_gateway();
		return;
	}
	answer(from, d);
}

static void read_requests(void)
{
	uint8_t d[DATAGRAM_MAX];
	struct sockaddr_in from;
	socklen_t from_length = sizeof(from);
	ssize_t n;

	while (gw.fd >= 0 &&
	       (n = recvfrom(gw.fd, d, sizeof(d), MSG_DONTWAIT | MSG_TRUNC,
			     (struct sockaddr *)&from, &from_length)) >= 0) {
		handle_request(d, (size_t)n < sizeof(d) ? (size_t)n : sizeof(d),
			       &from);
		from_length = sizeof(from);
	}
}

/* --- control --- */

static int open_gateway(void)
{
	int one = 1;

	gw.fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (gw.fd < 0)
		return -1;
	setsockopt(gw.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(gw.fd, (struct sockaddr *)&gw.bind, sizeof(gw.bind)) < 0)
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

static void send_due_announcement(void)
{
	uint8_t a[24] = { 0, 128, 0, 0 };
	size_t length = 12;
	unsigned char loop = 1, ttl = 1;
	struct in_addr interface = gw.bind.sin_addr;

	if (gw.announce_pcp) {
		/* version 2, R + ANNOUNCE, result 0, lifetime 0, epoch */
		memset(a, 0, sizeof(a));
		a[0] = 2;
		a[1] = 128;
		put32(a + 8, sssoe());
		length = 24;
	} else {
		put32(a + 4, sssoe());
		put32(a + 8, gw.external);
	}
	if (gw.fd >= 0) {
		setsockopt(gw.fd, IPPROTO_IP, IP_MULTICAST_IF, &interface,
			   sizeof(interface));
		setsockopt(gw.fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop,
			   sizeof(loop));
		setsockopt(gw.fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl,
			   sizeof(ttl));
		if (sendto(gw.fd, a, length, 0,
			   (struct sockaddr *)&gw.announce_to,
			   sizeof(gw.announce_to)) < 0)
			logf_("announce-failed error=%s", strerror(errno));
	}
	logf_("announce to=%s format=%s epoch=%lu address=%s",
	      peer_text(&gw.announce_to), gw.announce_pcp ? "pcp" : "nat-pmp",
	      (unsigned long)sssoe(), address_text(gw.external));
	gw.announce_left--;
	gw.announce_next_ms += gw.announce_gap_ms;
	gw.announce_gap_ms *= 2;
}

static bool parse_number(const char *text, long min, long max, long *value)
{
	char *end;

	errno = 0;
	*value = strtol(text, &end, 10);
	return errno == 0 && end != text && *end == '\0' && *value >= min &&
	       *value <= max;
}

static bool parse_on_off(const char *text, bool *value)
{
	if (strcmp(text, "on") == 0)
		*value = true;
	else if (strcmp(text, "off") == 0)
		*value = false;
	else
		return false;
	return true;
}

/* Applies one control command; returns NULL or why it failed. */
static const char *control(char *command, char *reply, size_t size)
{
	char *word = strtok(command, " \t\r\n"), *arg = strtok(NULL, " \t\r\n");
	struct in_addr a;
	long n = 0;

	snprintf(reply, size, "ok");
	if (!word)
		return "empty command";
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
	} else if (strcmp(word, "silent") == 0) {
		if (!arg || !parse_on_off(arg, &gw.silent))
			return "silent on|off";
	} else if (strcmp(word, "random-port") == 0) {
		if (!arg || !parse_on_off(arg, &gw.random_port))
			return "random-port on|off";
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
	} else if (strcmp(word, "max-lifetime") == 0 ||
		   strcmp(word, "grant-port") == 0 ||
		   strcmp(word, "delay") == 0 || strcmp(word, "garbage") == 0 ||
		   strcmp(word, "foreign") == 0 || strcmp(word, "drop") == 0) {
		if (!arg || !parse_number(arg, 0, 65535, &n))
			return "needs N";
		if (word[0] == 'm')
			gw.max_lifetime = (unsigned)n;
		else if (word[0] == 'g' && word[1] == 'r' && word[2] == 'a' &&
			 word[3] == 'n')
			gw.grant_port = (unsigned)n;
		else if (word[0] == 'g')
			gw.garbage = (unsigned)n;
		else if (word[0] == 'f')
			gw.foreign = (unsigned)n;
		else if (word[0] == 'd' && word[1] == 'e')
			gw.delay_ms = (unsigned)n;
		else
			gw.drop = n;
	} else if (strcmp(word, "announce") == 0 ||
		   strcmp(word, "announce-pcp") == 0) {
		if (arg && !parse_number(arg, 1, 10, &n))
			return "announce [COUNT]";
		queue_announcements(arg ? (int)n : 1, word[8] == '-');
	} else if (strcmp(word, "pcp-only") == 0) {
		if (!arg || !parse_on_off(arg, &gw.pcp_only))
			return "pcp-only on|off";
	} else if (strcmp(word, "ignore-port") == 0) {
		if (!arg || !parse_number(arg, 0, 65535, &n))
			return "ignore-port PORT";
		gw.ignore_port = (unsigned)n;
	} else if (strcmp(word, "close") == 0) {
		close_gateway();
	} else if (strcmp(word, "reopen") == 0) {
		if (gw.fd < 0 && open_gateway() < 0)
			return "cannot bind again";
		logf_("reopened");
	} else if (strcmp(word, "mappings") == 0) {
		snprintf(reply, size, "ok %u", live_mappings(true));
	} else if (strcmp(word, "quit") == 0) {
		stop = 1;
	} else {
		return "unknown command";
	}
	return NULL;
}

static void read_control(void)
{
	char command[256], copy[256], reply[64];
	struct sockaddr_in from;
	socklen_t from_length = sizeof(from);
	const char *why;
	ssize_t n;

	n = recvfrom(gw.ctl_fd, command, sizeof(command) - 1, MSG_DONTWAIT,
		     (struct sockaddr *)&from, &from_length);
	if (n < 0)
		return;
	command[n] = '\0';
	command[strcspn(command, "\r\n")] = '\0';
	memcpy(copy, command, sizeof(copy));
	why = control(copy, reply, sizeof(reply));
	if (why)
		snprintf(reply, sizeof(reply), "error: %s", why);
	logf_("ctl %s", command);
	sendto(gw.ctl_fd, reply, strlen(reply), 0, (struct sockaddr *)&from,
	       from_length);
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
		if (gw.fd >= 0)
			sendto(gw.fd, p->data, p->length, 0,
			       (struct sockaddr *)&p->to, sizeof(p->to));
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
	struct sockaddr_in to = gw.bind;
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
	to.sin_port = htons((uint16_t)port);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof(patience));
	if (connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0 ||
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
	struct sockaddr_in a, c;
	socklen_t la = sizeof(a), lc = sizeof(c);
	char tmp[4096];
	FILE *f;

	getsockname(gw.fd, (struct sockaddr *)&a, &la);
	getsockname(gw.ctl_fd, (struct sockaddr *)&c, &lc);
	gw.bind.sin_port = a.sin_port;
	logf_("start seed=%llu port=%u ctl=%u", (unsigned long long)gw.rng,
	      (unsigned)ntohs(a.sin_port), (unsigned)ntohs(c.sin_port));
	if (!path)
		return 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -1;
	fprintf(f, "%u %u\n", (unsigned)ntohs(a.sin_port),
		(unsigned)ntohs(c.sin_port));
	if (fclose(f) != 0)
		return -1;
	return rename(tmp, path);
}

static bool parse_address_port(const char *text, struct sockaddr_in *out)
{
	char host[INET_ADDRSTRLEN];
	const char *colon = strchr(text, ':');
	long port;

	if (!colon || (size_t)(colon - text) >= sizeof(host) ||
	    !parse_number(colon + 1, 1, 65535, &port))
		return false;
	memcpy(host, text, (size_t)(colon - text));
	host[colon - text] = '\0';
	out->sin_family = AF_INET;
	out->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &out->sin_addr) == 1;
}

static const char *ready_path, *log_path;

static void print_help(void)
{
	printf("usage: fakegw [--bind ADDR] [--port N] [--ready-file F] [--log F]\n"
	       "  [--external ADDR] [--epoch N] [--seed N] [--drop N] [--silent]\n"
	       "  [--result C] [--address-result C] [--map-result C] [--short-errors]\n"
	       "  [--grant-port N] [--grant-lifetime N] [--random-port] [--max-lifetime N]\n"
	       "  [--delay MS] [--garbage N] [--foreign N] [--close-after N]\n"
	       "  [--announce-to ADDR:PORT] [--pcp-only]\n"
	       "control: restart forget epoch N silent on|off random-port on|off\n"
	       "  result|address-result|map-result CODE external ADDR max-lifetime N\n"
	       "  grant-port N delay MS garbage N foreign N drop N announce [N]\n"
	       "  announce-pcp [N] pcp-only on|off ignore-port PORT close reopen\n"
	       "  mappings quit\n"
	       "fakegw [--bind ADDR] --ctl PORT COMMAND...\n");
}

/* Options without a value; false if o is not one. */
static bool parse_flag(const char *o)
{
	if (strcmp(o, "--silent") == 0)
		gw.silent = true;
	else if (strcmp(o, "--short-errors") == 0)
		gw.short_errors = true;
	else if (strcmp(o, "--random-port") == 0)
		gw.random_port = true;
	else if (strcmp(o, "--pcp-only") == 0)
		gw.pcp_only = true;
	else
		return false;
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

/* Options with a value; returns 0, or an exit status for a bad one. */
static int parse_option(const char *o, const char *v)
{
	struct in_addr a;
	int *result = result_slot(o);
	unsigned *count = count_slot(o);
	long n;

	if (result || count) {
		if (!parse_number(v, 0, result ? 65535 : 0x7fffffff, &n))
			return usage("bad number", v);
		if (result)
			*result = (int)n;
		else
			*count = (unsigned)n;
	} else if (strcmp(o, "--bind") == 0) {
		if (inet_pton(AF_INET, v, &gw.bind.sin_addr) != 1)
			return usage("bad --bind", v);
	} else if (strcmp(o, "--port") == 0) {
		if (!parse_number(v, 0, 65535, &n))
			return usage("bad --port", v);
		gw.bind.sin_port = htons((uint16_t)n);
	} else if (strcmp(o, "--ready-file") == 0) {
		ready_path = v;
	} else if (strcmp(o, "--log") == 0) {
		log_path = v;
	} else if (strcmp(o, "--external") == 0) {
		if (inet_pton(AF_INET, v, &a) != 1)
			return usage("bad --external", v);
		gw.external = ntohl(a.s_addr);
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
	} else if (strcmp(o, "--grant-lifetime") == 0) {
		if (!parse_number(v, 0, 0x7fffffff, &gw.grant_lifetime))
			return usage("bad --grant-lifetime", v);
	} else if (strcmp(o, "--announce-to") == 0) {
		if (!parse_address_port(v, &gw.announce_to))
			return usage("bad --announce-to", v);
	} else {
		return usage("unknown option", o);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in ctl;
	int i, status;

	memset(&gw, 0, sizeof(gw));
	gw.start_ms = gw.epoch_base_ms = now_ms();
	gw.bind.sin_family = AF_INET;
	gw.bind.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	gw.external = 0x2c010203;		  /* 44.1.2.3 */
	gw.epoch_base_ms -= INT64_C(1000) * 1000; /* SSSoE 1000 */
	gw.result = gw.address_result = gw.map_result = -1;
	gw.grant_lifetime = -1;
	gw.rng = (uint64_t)time(NULL) ^ (uint64_t)getpid() << 32;
	gw.log = stderr;
	gw.fd = gw.ctl_fd = -1;
	parse_address_port("224.0.0.1:5350", &gw.announce_to);

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
	if (log_path && !(gw.log = fopen(log_path, "a")))
		return usage("cannot open --log", log_path);
	ctl = gw.bind;
	ctl.sin_port = 0;
	gw.ctl_fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (open_gateway() < 0 || gw.ctl_fd < 0 ||
	    bind(gw.ctl_fd, (struct sockaddr *)&ctl, sizeof(ctl)) < 0) {
		fprintf(stderr, "fakegw: cannot bind: %s\n", strerror(errno));
		return 71;
	}
	if (write_ready(ready_path) < 0) {
		fprintf(stderr, "fakegw: cannot write %s\n", ready_path);
		return 71;
	}
	serve();
	return 0;
}
