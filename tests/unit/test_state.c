/* test_state.c - the state directory module: where the directory is, the
 * file format (round trip, every malformed line refused with its number,
 * stale entries dropped), changes and lookups, and the file itself:
 * created safely, merged under the lock, refused when not trustworthy. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "state/state.h"
#include "state_equal.h"

#define NOW INT64_C(1767225600) /* 2026-01-01 */
#define DAY (24 * 60 * 60)
#define HEADER "natpmp-state 1\n"
#define WAIT_LIMIT_MS 20000

#define CHECK_STR_EQ(actual, expected)                                         \
	do {                                                                   \
		const char *check_s = (actual);                                \
		const char *check_x = (expected);                              \
		check_count++;                                                 \
		if (!check_s || strcmp(check_s, check_x) != 0) {               \
			check_failures++;                                      \
			fprintf(stderr, "%s:%d: got '%s', expected '%s'\n",    \
				__FILE__, __LINE__,                            \
				check_s ? check_s : "(null)", check_x);        \
		}                                                              \
	} while (0)

static char temporary_root[] = "/tmp/test_state.XXXXXX";

/* --- building entries --- */

static struct ip_address address(const char *text)
{
	struct ip_address a;

	if (ip_address_parse(text, &a) < 0) {
		fprintf(stderr, "test_state: bad test address %s\n", text);
		exit(2);
	}
	return a;
}

static struct ip_endpoint endpoint(const char *text, uint16_t port)
{
	struct ip_endpoint e;

	memset(&e, 0, sizeof(e));
	e.address = address(text);
	e.port = port;
	return e;
}

static struct state_change gateway_change(const char *gateway,
					  enum protocol_id protocol,
					  int64_t seen)
{
	struct state_change c;

	memset(&c, 0, sizeof(c));
	c.kind = STATE_REMEMBER_GATEWAY;
	c.gateway.gateway = endpoint(gateway, 5351);
	c.gateway.protocol = protocol;
	c.gateway.seen = seen;
	return c;
}

static struct state_change mapping_change(enum state_change_kind kind,
					  const char *gateway,
					  unsigned transport,
					  const char *internal, uint16_t port,
					  uint8_t nonce_seed, int64_t expires)
{
	struct state_change c;
	size_t i;

	memset(&c, 0, sizeof(c));
	c.kind = kind;
	c.mapping.gateway = endpoint(gateway, 5351);
	c.mapping.transport = transport;
	c.mapping.internal_address = address(internal);
	c.mapping.internal_port = port;
	c.mapping.has_nonce = true;
	for (i = 0; i < NONCE_SIZE; i++)
		c.mapping.nonce[i] = (uint8_t)(nonce_seed + i);
	c.mapping.expires = expires;
	return c;
}

static struct state_change remember(const char *internal, uint16_t port,
				    uint8_t nonce_seed)
{
	return mapping_change(STATE_REMEMBER_MAPPING, "192.0.2.1",
			      TRANSPORT_TCP, internal, port, nonce_seed,
			      NOW + 7200);
}

static struct state_change forget(const char *internal, uint16_t port)
{
	return mapping_change(STATE_FORGET_MAPPING, "192.0.2.1", TRANSPORT_TCP,
			      internal, port, 0, 0);
}

static const struct state_mapping *find(const struct state *s,
					const char *internal, uint16_t port)
{
	struct ip_endpoint gateway = endpoint("192.0.2.1", 5351);
	struct ip_address a = address(internal);

	return state_find_mapping(s, &gateway, TRANSPORT_TCP, &a, port);
}

/* --- the directory --- */

static void check_directory(const char *natpmp_state_dir,
			    const char *state_directory_list,
			    const char *xdg_state_home, const char *home,
			    const char *expected)
{
	char *got = state_directory(natpmp_state_dir, state_directory_list,
				    xdg_state_home, home);

	if (expected)
		CHECK_STR_EQ(got, expected);
	else
		CHECK(got == NULL);
	free(got);
}

static void test_directory_rules(void)
{
	/* each variable in turn, in order of precedence */
	check_directory("/srv/natpmp", "/var/lib/natpmp", "/x", "/home/u",
			"/srv/natpmp");
	check_directory(NULL, "/var/lib/natpmp", "/x", "/home/u",
			"/var/lib/natpmp");
	check_directory(NULL, NULL, "/home/u/.state", "/home/u",
			"/home/u/.state/natpmp");
	check_directory(NULL, NULL, NULL, "/home/u",
			"/home/u/.local/state/natpmp");
	check_directory(NULL, NULL, NULL, NULL, NULL);
	/* empty values count as unset */
	check_directory("", "", "", "/home/u", "/home/u/.local/state/natpmp");
	check_directory("", "", "", "", NULL);
	/* relative paths are skipped */
	check_directory("natpmp", "/var/lib/natpmp", NULL, NULL,
			"/var/lib/natpmp");
	check_directory(NULL, "lib/natpmp", "/x", NULL, "/x/natpmp");
	check_directory(NULL, NULL, ".state", "/home/u",
			"/home/u/.local/state/natpmp");
	check_directory(NULL, NULL, NULL, "home/u", NULL);
	check_directory("./s", "s", "~/s", "~", NULL);
	/* systemd's list: the first entry only */
	check_directory(NULL, "/var/lib/a:/var/lib/b", NULL, NULL,
			"/var/lib/a");
	check_directory(NULL, ":/var/lib/b", "/x", NULL, "/x/natpmp");
	check_directory(NULL, "a:/var/lib/b", NULL, "/h",
			"/h/.local/state/natpmp");
	/* trailing slashes go, the root stays */
	check_directory("/srv/natpmp//", NULL, NULL, NULL, "/srv/natpmp");
	check_directory("/", NULL, NULL, NULL, "/");
	check_directory(NULL, "/var/lib/a/:/b", NULL, NULL, "/var/lib/a");
	check_directory(NULL, NULL, "/x/", NULL, "/x/natpmp");
	check_directory(NULL, NULL, NULL, "/", "/.local/state/natpmp");
}

/* --- the format --- */

static int parse(const char *text, struct state *s, char *error, size_t size)
{
	return state_parse(text, strlen(text), NOW, s, error, size);
}

static void test_round_trip(void)
{
	struct state_change changes[] = {
		gateway_change("192.168.1.1", PROTOCOL_NATPMP, NOW - 600),
		gateway_change("2001:db8::1", PROTOCOL_PCP, NOW),
		gateway_change("fe80::1%lo", PROTOCOL_PCP, NOW),
		mapping_change(STATE_REMEMBER_MAPPING, "192.168.1.1",
			       TRANSPORT_TCP, "192.168.1.20", 8080, 0xf6,
			       NOW + 7200),
		mapping_change(STATE_REMEMBER_MAPPING, "2001:db8::1",
			       TRANSPORT_UDP, "2001:db8::20", 65535, 0x00,
			       NOW + 1),
		/* an interface index no interface has: written as a number */
		mapping_change(STATE_REMEMBER_MAPPING, "fe80::1%424242",
			       TRANSPORT_UDP, "fe80::20%424242", 1, 0x10,
			       INT64_MAX),
	};
	const char *expected =
		HEADER "gateway 192.168.1.1 5351 nat-pmp 1767225000\n"
		       "gateway 2001:db8::1 5351 pcp 1767225600\n"
		       "gateway fe80::1%lo 5351 pcp 1767225600\n"
		       "mapping 192.168.1.1 5351 tcp 192.168.1.20 8080 "
		       "f6f7f8f9fafbfcfdfeff0001 1767232800\n"
		       "mapping 2001:db8::1 5351 udp 2001:db8::20 65535 "
		       "000102030405060708090a0b 1767225601\n"
		       "mapping fe80::1%424242 5351 udp fe80::20%424242 1 "
		       "101112131415161718191a1b 9223372036854775807\n";
	struct state built = { 0 }, parsed;
	char error[256] = "";
	char *text, *again;

	CHECK_EQ(state_apply(&built, changes,
			     sizeof(changes) / sizeof(changes[0])),
		 0);
	text = state_format(&built);
	CHECK_STR_EQ(text, expected);
	CHECK_EQ(parse(text, &parsed, error, sizeof(error)), 0);
	CHECK_STR_EQ(error, "");
	CHECK(states_equal(&built, &parsed));
	again = state_format(&parsed);
	CHECK_STR_EQ(again, text);
	free(text);
	free(again);
	state_free(&parsed);
	/* the empty state is the header alone */
	text = state_format(&(struct state){ 0 });
	CHECK_STR_EQ(text, HEADER);
	CHECK_EQ(parse(text, &parsed, error, sizeof(error)), 0);
	CHECK_EQ(parsed.gateway_count + parsed.mapping_count, 0);
	free(text);
	state_free(&built);
}

/* A mapping made over NAT-PMP has no nonce: "-" in its place, read back
 * as none; a file written before those were kept (nonces only) reads the
 * same as ever. */
static void test_round_trip_without_nonce(void)
{
	struct state_change changes[] = {
		remember("10.0.0.2", 8080, 0x30),
		remember("10.0.0.2", 8081, 0),
	};
	const char *expected = HEADER
		"mapping 192.0.2.1 5351 tcp 10.0.0.2 8080 "
		"303132333435363738393a3b 1767232800\n"
		"mapping 192.0.2.1 5351 tcp 10.0.0.2 8081 - 1767232800\n";
	const char *old = HEADER "mapping 192.0.2.1 5351 udp 10.0.0.2 53 "
				 "0123456789abcdef01234567 1767232800\n";
	struct state built = { 0 }, parsed;
	char error[256] = "";
	char *text;

	changes[1].mapping.has_nonce = false; /* its seeded bytes are dropped */
	CHECK_EQ(state_apply(&built, changes, 2), 0);
	CHECK(!built.mappings[1].has_nonce);
	CHECK_EQ(built.mappings[1].nonce[1], 0);
	text = state_format(&built);
	CHECK_STR_EQ(text, expected);
	CHECK_EQ(parse(text, &parsed, error, sizeof(error)), 0);
	CHECK_STR_EQ(error, "");
	CHECK(states_equal(&built, &parsed));
	CHECK(parsed.mappings[0].has_nonce);
	CHECK(!parsed.mappings[1].has_nonce);
	free(text);
	state_free(&parsed);
	state_free(&built);
	CHECK_EQ(parse(old, &parsed, error, sizeof(error)), 0);
	CHECK_EQ(parsed.mapping_count, 1);
	CHECK(parsed.mappings[0].has_nonce);
	CHECK_EQ(parsed.mappings[0].nonce[0], 0x01);
	CHECK_EQ(parsed.mappings[0].nonce[11], 0x67);
	state_free(&parsed);
}

static void check_refused(const char *text, size_t length, const char *expected)
{
	struct state s;
	char error[256] = "";

	CHECK_EQ(state_parse(text, length, NOW, &s, error, sizeof(error)), -1);
	CHECK_STR_EQ(error, expected);
	CHECK(s.gateways == NULL && s.gateway_count == 0);
	CHECK(s.mappings == NULL && s.mapping_count == 0);
}

#define REFUSED(text, expected) check_refused(text, strlen(text), expected)
#define GATEWAY "gateway 192.0.2.1 5351 pcp 1767225600\n"
#define NONCE "0123456789abcdef01234567"
#define MAPPING(fields) "mapping 192.0.2.1 5351 " fields "\n"

static void test_malformed_header(void)
{
	REFUSED("", "line 1: empty file (no 'natpmp-state 1')");
	REFUSED("natpmp-state 2\n",
		"line 1: format version 2 is not supported");
	REFUSED("natpmp-state 01\n",
		"line 1: not a natpmp state file (no 'natpmp-state 1')");
	REFUSED("natpmp-state 1 \n",
		"line 1: not a natpmp state file (no 'natpmp-state 1')");
	REFUSED("# natpmp-state 1\n",
		"line 1: not a natpmp state file (no 'natpmp-state 1')");
	REFUSED(GATEWAY,
		"line 1: not a natpmp state file (no 'natpmp-state 1')");
	REFUSED("natpmp-state 1",
		"line 1: no newline at the end (file cut short?)");
}

static void test_malformed_lines(void)
{
	REFUSED(HEADER GATEWAY "frobnicate 1 2\n",
		"line 3: unknown keyword 'frobnicate'");
	REFUSED(HEADER "Gateway 192.0.2.1 5351 pcp 1767225600\n",
		"line 2: unknown keyword 'Gateway'");
	REFUSED(HEADER "\x1b[2J 1\n", "line 2: unknown keyword '\\x1b[2J'");
	REFUSED(HEADER "gateway 192.0.2.1 5351 pcp\n",
		"line 2: missing fields: a gateway line has 5");
	REFUSED(HEADER "gateway 192.0.2.1 5351 pcp 1767225600 x\n",
		"line 2: extra field 'x'");
	REFUSED(HEADER MAPPING("tcp 10.0.0.2 8080 " NONCE),
		"line 2: missing fields: a mapping line has 8");
	REFUSED(HEADER MAPPING("tcp 10.0.0.2 8080 " NONCE " 1767232800 9"),
		"line 2: extra field '9'");
	REFUSED(HEADER GATEWAY "\n" GATEWAY, "line 3: blank line");
	REFUSED(HEADER "gateway  192.0.2.1 5351 pcp 1767225600\n",
		"line 2: empty field (two spaces, or one at either end)");
	REFUSED(HEADER "gateway 192.0.2.1 5351 pcp 1767225600 \n",
		"line 2: empty field (two spaces, or one at either end)");
	REFUSED(HEADER " gateway 192.0.2.1 5351 pcp 1767225600\n",
		"line 2: empty field (two spaces, or one at either end)");
	REFUSED(HEADER GATEWAY
		"gateway 192.0.2.2 5351 pcp 1\n"
		"gateway 192.0.2.3 5351 pcp 1\ngateway 192.0.2.4",
		"line 5: no newline at the end (file cut short?)");
}

static void test_malformed_fields(void)
{
	REFUSED(HEADER "gateway 192.0.2.1 65536 pcp 1767225600\n",
		"line 2: bad gateway port '65536' (1-65535)");
	REFUSED(HEADER "gateway 192.0.2.1 0 pcp 1767225600\n",
		"line 2: bad gateway port '0' (1-65535)");
	REFUSED(HEADER "gateway 192.0.2.1 05351 pcp 1767225600\n",
		"line 2: bad gateway port '05351' (1-65535)");
	REFUSED(HEADER MAPPING("tcp 10.0.0.2 99999 " NONCE " 1767232800"),
		"line 2: bad internal port '99999' (1-65535)");
	REFUSED(HEADER MAPPING("tcp 10.0.0.2 +80 " NONCE " 1767232800"),
		"line 2: bad internal port '+80' (1-65535)");
	REFUSED(HEADER GATEWAY MAPPING("tcp 10.0.0.2 8080 zz 1767232800"),
		"line 3: bad nonce 'zz' (24 hex digits, or -)");
	REFUSED(HEADER MAPPING("tcp 10.0.0.2 8080 0123456789ABCDEF01234567 "
			       "1767232800"),
		"line 2: bad nonce '0123456789ABCDEF01234567' (24 hex digits, or -)");
	REFUSED(HEADER MAPPING("tcp 10.0.0.2 8080 0123456789abcdef0123456 "
			       "1767232800"),
		"line 2: bad nonce '0123456789abcdef0123456' (24 hex digits, or -)");
	REFUSED(HEADER MAPPING("tcp 10.0.0.2 8080 -- 1767232800"),
		"line 2: bad nonce '--' (24 hex digits, or -)");
	REFUSED(HEADER MAPPING("tcp 10.0.0.2 8080 - "),
		"line 2: empty field (two spaces, or one at either end)");
	REFUSED(HEADER MAPPING("tcp 10.0.0.2 8080 0123456789abcdef012345678 "
			       "1767232800"),
		"line 2: bad nonce '0123456789abcdef012345678' (24 hex "
		"digits, or -)");
	REFUSED(HEADER "gateway 300.1.1.1 5351 pcp 1767225600\n",
		"line 2: bad gateway address '300.1.1.1'");
	REFUSED(HEADER "gateway [2001:db8::1] 5351 pcp 1767225600\n",
		"line 2: bad gateway address '[2001:db8::1]'");
	REFUSED(HEADER MAPPING("tcp 2001:db8::2%lo 8080 " NONCE " 1767232800"),
		"line 2: bad internal address '2001:db8::2%lo'");
	REFUSED(HEADER MAPPING("tcp fe80::2% 8080 " NONCE " 1767232800"),
		"line 2: bad internal address 'fe80::2%'");
	REFUSED(HEADER MAPPING("tcp fe80::2%0 8080 " NONCE " 1767232800"),
		"line 2: bad internal address 'fe80::2%0'");
	REFUSED(HEADER "gateway 192.0.2.1 5351 pcp 17672256OO\n",
		"line 2: bad time '17672256OO'");
	REFUSED(HEADER "gateway 192.0.2.1 5351 pcp -1\n",
		"line 2: bad time '-1'");
	REFUSED(HEADER "gateway 192.0.2.1 5351 pcp 9223372036854775808\n",
		"line 2: bad time '9223372036854775808'");
	REFUSED(HEADER "gateway 192.0.2.1 5351 pcp 1767225600\r\n",
		"line 2: bad time '1767225600\\x0d'");
	REFUSED(HEADER MAPPING("tcp 10.0.0.2 8080 " NONCE " 1.5"),
		"line 2: bad time '1.5'");
	REFUSED(HEADER "gateway 192.0.2.1 5351 upnp 1767225600\n",
		"line 2: bad gateway protocol 'upnp' (nat-pmp or pcp)");
	REFUSED(HEADER MAPPING("TCP 10.0.0.2 8080 " NONCE " 1767232800"),
		"line 2: bad protocol 'TCP' (tcp or udp)");
	REFUSED(HEADER MAPPING("sctp 10.0.0.2 8080 " NONCE " 1767232800"),
		"line 2: bad protocol 'sctp' (tcp or udp)");
	/* long junk is quoted, but cut */
	REFUSED(HEADER "gateway 192.0.2.1 5351 pcp "
		       "1111111111222222222233333333334444444444\n",
		"line 2: bad time '11111111112222222222333333333344...'");
}

static void test_length_and_nul(void)
{
	char text[512];
	const char with_nul[] = HEADER "gateway 192.0.2.1\0 5351 pcp 1\n";

	/* 255 bytes pass the length check (and fail on content) */
	snprintf(text, sizeof(text), HEADER "%0255d\n", 0);
	REFUSED(text,
		"line 2: unknown keyword '00000000000000000000000000000000...'");
	snprintf(text, sizeof(text), HEADER "%0256d\n", 0);
	REFUSED(text, "line 2: longer than 255 bytes");
	snprintf(text, sizeof(text), HEADER GATEWAY "%0300d", 0);
	REFUSED(text, "line 3: longer than 255 bytes");
	check_refused(with_nul, sizeof(with_nul) - 1, "line 2: NUL byte");
	check_refused("natpmp-state 1\0\n", 16, "line 1: NUL byte");
}

static void test_duplicates(void)
{
	REFUSED(HEADER GATEWAY "gateway 192.0.2.1 5351 nat-pmp 1767225000\n",
		"line 3: gateway 192.0.2.1 port 5351 given twice");
	REFUSED(HEADER MAPPING("tcp 10.0.0.2 8080 " NONCE " 1767232800")
			GATEWAY MAPPING("tcp 10.0.0.2 8080 "
					"ffffffffffffffffffffffff 1767239999"),
		"line 4: mapping 192.0.2.1 5351 tcp 10.0.0.2 8080 given twice");
	/* a repeat is corrupt even when one of the two has expired */
	REFUSED(HEADER MAPPING("udp 10.0.0.2 8080 " NONCE " 1")
			MAPPING("udp 10.0.0.2 8080 " NONCE " 1767232800"),
		"line 3: mapping 192.0.2.1 5351 udp 10.0.0.2 8080 given twice");
	/* a link's scope is part of the address */
	{
		struct state s;
		char error[256];

		CHECK_EQ(
			parse(HEADER
			      "gateway fe80::1%lo 5351 pcp 1767225600\n"
			      "gateway fe80::1%424242 5351 pcp 1767225600\n"
			      "gateway fe80::1 5351 pcp 1767225600\n"
			      "gateway 192.0.2.1 5352 pcp 1767225600\n" GATEWAY
				      MAPPING("tcp 10.0.0.2 8080 " NONCE
					      " 1767232800")
					      MAPPING("udp 10.0.0.2 8080 " NONCE
						      " 1767232800"),
			      &s, error, sizeof(error)),
			0);
		CHECK_EQ(s.gateway_count, 5);
		CHECK_EQ(s.mapping_count, 2);
		state_free(&s);
	}
}

/* More than STATE_ENTRIES_MAX lines of one kind, the last one numbered. */
static void check_too_many(bool gateways)
{
	size_t size = 128 * (STATE_ENTRIES_MAX + 2), used = 0;
	char *text = malloc(size);
	char expected[64], error[256];
	struct state s;
	unsigned i;

	used += (size_t)snprintf(text, size, HEADER);
	for (i = 1; i <= STATE_ENTRIES_MAX + 1; i++)
		used += (size_t)snprintf(
			text + used, size - used,
			gateways ? "gateway 10.%u.%u.1 5351 pcp 1767225600\n"
				 : "mapping 192.0.2.1 5351 udp 10.0.%u.%u 9 "
				   "0123456789abcdef01234567 1767232800\n",
			i / 256, i % 256);
	snprintf(expected, sizeof(expected), "line %d: more than %d %s entries",
		 STATE_ENTRIES_MAX + 2, STATE_ENTRIES_MAX,
		 gateways ? "gateway" : "mapping");
	REFUSED(text, expected);
	/* without the last line, it is fine */
	text[strrchr(text, '\n') - text] = '\0';
	text[strrchr(text, '\n') - text + 1] = '\0';
	CHECK_EQ(parse(text, &s, error, sizeof(error)), 0);
	CHECK_EQ(gateways ? s.gateway_count : s.mapping_count,
		 STATE_ENTRIES_MAX);
	state_free(&s);
	free(text);
}

static void test_limits(void)
{
	check_too_many(true);
	check_too_many(false);
}

static void test_stale_entries_dropped(void)
{
	struct state s;
	char error[256] = "";
	struct ip_endpoint g;

	CHECK_EQ(parse(HEADER
		       "gateway 192.0.2.1 5351 pcp 1764633599\n" /* 30 d 1 s */
		       "gateway 192.0.2.2 5351 pcp 1764633600\n" /* 30 days */
		       "gateway 192.0.2.3 5351 pcp 1767225600\n" /* now */
		       "gateway 192.0.2.4 5351 pcp 1999999999\n" /* future */
		       "gateway 192.0.2.5 5351 pcp 0\n" MAPPING(
			       "tcp 10.0.0.2 1 " NONCE " 1767225599") /* past */
		       MAPPING("tcp 10.0.0.2 2 " NONCE " 1767225600") /* now */
		       MAPPING("tcp 10.0.0.2 3 " NONCE " 1767225601"),
		       &s, error, sizeof(error)),
		 0);
	CHECK_STR_EQ(error, "");
	CHECK_EQ(s.gateway_count, 3);
	g = endpoint("192.0.2.1", 5351);
	CHECK_EQ(state_gateway_protocol(&s, &g), PROTOCOL_NONE);
	g = endpoint("192.0.2.2", 5351);
	CHECK_EQ(state_gateway_protocol(&s, &g), PROTOCOL_PCP);
	g = endpoint("192.0.2.4", 5351);
	CHECK_EQ(state_gateway_protocol(&s, &g), PROTOCOL_PCP);
	CHECK_EQ(s.mapping_count, 1);
	CHECK_EQ(s.mappings[0].internal_port, 3);
	state_free(&s);
}

/* An unplugged adapter makes its link-local entries stale, not the file
 * corrupt. */
static void test_gone_interface(void)
{
	struct state s;
	char error[256] = "";

	CHECK_EQ(
		parse(HEADER
		      "gateway fe80::1%natpmp-gone0 5351 pcp 1767225600\n"
		      "mapping fe80::1%natpmp-gone0 5351 tcp fe80::2%natpmp-"
		      "gone0 8080 " NONCE " 1767232800\n"
		      "mapping 192.0.2.1 5351 tcp fe80::2%natpmp-gone0 8080 " NONCE
		      " 1767232800\n" GATEWAY MAPPING("tcp 10.0.0.2 8080 " NONCE
						      " 1767232800"),
		      &s, error, sizeof(error)),
		0);
	CHECK_EQ(s.gateway_count, 1);
	CHECK_EQ(s.mapping_count, 1);
	CHECK(find(&s, "10.0.0.2", 8080) != NULL);
	state_free(&s);
	/* but a scope outside link-local IPv6 stays an error */
	REFUSED(HEADER "gateway 2001:db8::1%natpmp-gone0 5351 pcp 1\n",
		"line 2: bad gateway address '2001:db8::1%natpmp-gone0'");
	REFUSED(HEADER "gateway 169.254.0.1%natpmp-gone0 5351 pcp 1\n",
		"line 2: bad gateway address '169.254.0.1%natpmp-gone0'");
	REFUSED(HEADER "gateway fe80::1%a/b 5351 pcp 1\n",
		"line 2: bad gateway address 'fe80::1%a/b'");
}

/* --- changes and lookups --- */

static void test_apply_gateways(void)
{
	struct state s = { 0 };
	struct state_change c[] = {
		gateway_change("192.0.2.1", PROTOCOL_NATPMP, NOW - 10),
		gateway_change("192.0.2.1", PROTOCOL_PCP, NOW),
		gateway_change("2001:db8::1", PROTOCOL_NATPMP, NOW),
	};
	struct ip_endpoint e = endpoint("192.0.2.1", 5351);

	CHECK_EQ(state_apply(&s, c, 3), 0);
	CHECK_EQ(s.gateway_count, 2); /* replaced by address and port */
	CHECK_EQ(state_gateway_protocol(&s, &e), PROTOCOL_PCP);
	CHECK_EQ(s.gateways[0].seen, NOW);
	e.port = 5350;
	CHECK_EQ(state_gateway_protocol(&s, &e), PROTOCOL_NONE);
	c[0].gateway.gateway.port = 5350;
	CHECK_EQ(state_apply(&s, c, 1), 0);
	CHECK_EQ(s.gateway_count, 3);
	CHECK_EQ(state_gateway_protocol(&s, &e), PROTOCOL_NATPMP);
	e = endpoint("2001:db8::1", 5351);
	CHECK_EQ(state_gateway_protocol(&s, &e), PROTOCOL_NATPMP);
	state_free(&s);
}

static void test_apply_mappings(void)
{
	struct state s = { 0 };
	struct state_change c[] = {
		remember("10.0.0.2", 8080, 1),
		remember("10.0.0.2", 8081, 2),
		remember("10.0.0.3", 8080, 3),
		remember("10.0.0.2", 8080, 4), /* replaces the first */
		mapping_change(STATE_REMEMBER_MAPPING, "192.0.2.1",
			       TRANSPORT_UDP, "10.0.0.2", 8080, 5, NOW + 60),
	};
	struct state_change f[] = { forget("10.0.0.2", 8081),
				    forget("10.0.0.9", 1) };

	CHECK_EQ(state_apply(&s, c, 5), 0);
	CHECK_EQ(s.mapping_count, 4);
	CHECK(find(&s, "10.0.0.2", 8080) == &s.mappings[0]);
	CHECK_EQ(s.mappings[0].nonce[0], 4);
	CHECK(find(&s, "10.0.0.2", 8081) != NULL);
	CHECK(find(&s, "10.0.0.9", 8080) == NULL);
	CHECK_EQ(s.mappings[3].transport, TRANSPORT_UDP);
	/* forgetting keeps the order of the rest; an absent key is fine */
	CHECK_EQ(state_apply(&s, f, 2), 0);
	CHECK_EQ(s.mapping_count, 3);
	CHECK(find(&s, "10.0.0.2", 8081) == NULL);
	CHECK_EQ(s.mappings[0].internal_port, 8080);
	CHECK_EQ(s.mappings[1].internal_address.bytes[3], 3);
	CHECK_EQ(s.mappings[2].transport, TRANSPORT_UDP);
	CHECK_EQ(state_apply(&s, NULL, 0), 0);
	CHECK_EQ(s.mapping_count, 3);
	state_free(&s);
}

/* Forgetting internal port 0 forgets every mapping of that gateway,
 * transport and internal address, as NAT-PMP deletes them all. */
static void test_apply_forget_every_port(void)
{
	struct state s = { 0 };
	struct state_change c[] = {
		remember("10.0.0.2", 8080, 1),
		remember("10.0.0.3", 8080, 2),
		remember("10.0.0.2", 8081, 3),
		mapping_change(STATE_REMEMBER_MAPPING, "192.0.2.1",
			       TRANSPORT_UDP, "10.0.0.2", 8080, 4, NOW + 60),
		mapping_change(STATE_REMEMBER_MAPPING, "192.0.2.9",
			       TRANSPORT_TCP, "10.0.0.2", 8080, 5, NOW + 60),
	};
	struct state_change all = forget("10.0.0.2", 0);

	CHECK_EQ(state_apply(&s, c, 5), 0);
	CHECK_EQ(state_apply(&s, &all, 1), 0);
	CHECK_EQ(s.mapping_count, 3);
	CHECK(find(&s, "10.0.0.2", 8080) == NULL);
	CHECK(find(&s, "10.0.0.2", 8081) == NULL);
	CHECK(find(&s, "10.0.0.3", 8080) != NULL);
	CHECK_EQ(s.mappings[1].transport, TRANSPORT_UDP);
	CHECK_EQ(s.mappings[2].gateway.address.bytes[3], 9);
	/* remembering port 0 is still refused */
	all.kind = STATE_REMEMBER_MAPPING;
	all.mapping.expires = NOW + 60;
	CHECK_EQ(state_apply(&s, &all, 1), -1);
	state_free(&s);
}

static void test_apply_lookup_by_scope(void)
{
	struct state s = { 0 };
	struct state_change c =
		mapping_change(STATE_REMEMBER_MAPPING, "fe80::1%1",
			       TRANSPORT_TCP, "fe80::2%1", 80, 0, NOW + 60);
	struct ip_endpoint g = endpoint("fe80::1%1", 5351);
	struct ip_address a = address("fe80::2%1");

	CHECK_EQ(state_apply(&s, &c, 1), 0);
	CHECK(state_find_mapping(&s, &g, TRANSPORT_TCP, &a, 80) != NULL);
	CHECK(state_find_mapping(&s, &g, TRANSPORT_UDP, &a, 80) == NULL);
	CHECK(state_find_mapping(&s, &g, TRANSPORT_TCP, &a, 81) == NULL);
	a.scope = 2;
	CHECK(state_find_mapping(&s, &g, TRANSPORT_TCP, &a, 80) == NULL);
	a.scope = 1;
	g.address.scope = 2;
	CHECK(state_find_mapping(&s, &g, TRANSPORT_TCP, &a, 80) == NULL);
	g.address.scope = 1;
	g.port = 5350;
	CHECK(state_find_mapping(&s, &g, TRANSPORT_TCP, &a, 80) == NULL);
	state_free(&s);
}

/* Invalid changes, and batches holding one, change nothing. */
static void test_apply_refuses_invalid(void)
{
	struct state s = { 0 };
	struct state_change good = remember("10.0.0.2", 80, 1);
	struct state_change bad[7];
	size_t i;

	for (i = 0; i < 7; i++)
		bad[i] = remember("10.0.0.3", 80, 2);
	bad[0].mapping.transport = TRANSPORT_BOTH;
	bad[1].mapping.internal_port = 0;
	bad[2].mapping.gateway.port = 0;
	memset(&bad[3].mapping.internal_address, 0, sizeof(struct ip_address));
	bad[4].mapping.expires = -1;
	bad[5] = gateway_change("192.0.2.1", PROTOCOL_NONE, NOW);
	bad[6] = gateway_change("192.0.2.1", PROTOCOL_PCP, -5);
	CHECK_EQ(state_apply(&s, &good, 1), 0);
	for (i = 0; i < 7; i++) {
		struct state_change batch[2] = { remember("10.0.0.4", 80, 3),
						 bad[i] };
		CHECK_EQ(state_apply(&s, batch, 2), -1);
		CHECK_EQ(s.mapping_count, 1);
		CHECK_EQ(s.gateway_count, 0);
	}
	good = remember("10.0.0.5", 80, 1);
	good.kind = (enum state_change_kind)42;
	CHECK_EQ(state_apply(&s, &good, 1), -1);
	CHECK_EQ(s.mapping_count, 1);
	state_free(&s);
}

/* Stray bytes beyond an address and scopes outside link-local IPv6 are
 * not stored, so that what is written reads back the same. */
static void test_apply_normalises(void)
{
	struct state s = { 0 }, parsed;
	struct state_change c = remember("10.0.0.2", 80, 1);
	char error[256];
	char *text;

	c.mapping.internal_address.bytes[9] = 7;
	c.mapping.internal_address.scope = 3;
	c.mapping.gateway = endpoint("2001:db8::1", 5351);
	c.mapping.gateway.address.scope = 4;
	CHECK_EQ(state_apply(&s, &c, 1), 0);
	CHECK_EQ(s.mappings[0].internal_address.bytes[9], 0);
	CHECK_EQ(s.mappings[0].internal_address.scope, 0);
	CHECK_EQ(s.mappings[0].gateway.address.scope, 0);
	text = state_format(&s);
	CHECK_EQ(parse(text, &parsed, error, sizeof(error)), 0);
	CHECK(states_equal(&s, &parsed));
	free(text);
	state_free(&parsed);
	state_free(&s);
}

static void test_apply_limit(void)
{
	struct state s = { 0 };
	struct state_change *c = calloc(STATE_ENTRIES_MAX + 1, sizeof(*c));
	struct state_change extra;
	size_t i;

	for (i = 0; i < STATE_ENTRIES_MAX + 1; i++)
		c[i] = remember("10.0.0.2", (uint16_t)(i + 1), 0);
	CHECK_EQ(state_apply(&s, c, STATE_ENTRIES_MAX + 1), -1);
	CHECK_EQ(s.mapping_count, 0);
	CHECK_EQ(state_apply(&s, c, STATE_ENTRIES_MAX), 0);
	CHECK_EQ(s.mapping_count, STATE_ENTRIES_MAX);
	CHECK_EQ(state_apply(&s, &c[STATE_ENTRIES_MAX], 1), -1);
	CHECK_EQ(s.mapping_count, STATE_ENTRIES_MAX);
	/* at the limit, replacing and forgetting still work */
	extra = remember("10.0.0.2", 1, 9);
	CHECK_EQ(state_apply(&s, &extra, 1), 0);
	CHECK_EQ(s.mappings[0].nonce[0], 9);
	extra = forget("10.0.0.2", 2);
	CHECK_EQ(state_apply(&s, &extra, 1), 0);
	CHECK_EQ(state_apply(&s, &c[STATE_ENTRIES_MAX], 1), 0);
	CHECK_EQ(s.mapping_count, STATE_ENTRIES_MAX);
	free(c);
	state_free(&s);
}

/* --- the file --- */

/* Captures what the code under test says on stderr. */
static FILE *captured;
static int saved_stderr = -1;

static void capture_begin(void)
{
	fflush(stderr);
	captured = tmpfile();
	saved_stderr = dup(STDERR_FILENO);
	dup2(fileno(captured), STDERR_FILENO);
}

static const char *capture_end(void)
{
	static char text[4096];
	size_t length;

	fflush(stderr);
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	rewind(captured);
	length = fread(text, 1, sizeof(text) - 1, captured);
	text[length] = '\0';
	fclose(captured);
	return text;
}

/* Paths live until the end of the tests. */
static char *paths[256];
static size_t path_count;

static char *path_in(const char *directory, const char *name)
{
	size_t size = strlen(directory) + strlen(name) + 2;
	char *path = malloc(size);

	if (!path || path_count == sizeof(paths) / sizeof(paths[0])) {
		fprintf(stderr, "test_state: too many paths\n");
		exit(2);
	}
	snprintf(path, size, "%s/%s", directory, name);
	paths[path_count++] = path;
	return path;
}

static char *make_test_directory(const char *name)
{
	char *path = path_in(temporary_root, name);

	if (mkdir(path, 0700) < 0) {
		perror(path);
		exit(2);
	}
	return path;
}

static void write_file(const char *path, const char *text, size_t length,
		       mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	if (fd < 0 || write(fd, text, length) != (ssize_t)length ||
	    fchmod(fd, mode) < 0 || close(fd) < 0) {
		perror(path);
		exit(2);
	}
}

static const char *read_file(const char *path)
{
	static char text[8192];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t length = fd < 0 ? -1 : read(fd, text, sizeof(text) - 1);

	if (fd >= 0)
		close(fd);
	text[length > 0 ? length : 0] = '\0';
	return text;
}

/* Names in directory other than the state file and its lock file. */
static int stray_files(const char *directory)
{
	DIR *dir = opendir(directory);
	struct dirent *entry;
	int count = 0;

	if (!dir)
		return -1;
	while ((entry = readdir(dir)))
		if (strcmp(entry->d_name, ".") && strcmp(entry->d_name, "..") &&
		    strcmp(entry->d_name, STATE_FILE_NAME) &&
		    strcmp(entry->d_name, STATE_LOCK_FILE_NAME))
			count++;
	closedir(dir);
	return count;
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 ? st.st_mode & 07777 : (mode_t)-1;
}

static void test_load_missing(void)
{
	char *dir = make_test_directory("missing");
	struct state s;

	capture_begin();
	CHECK_EQ(state_load(path_in(dir, "not/there"), NOW, &s), 0);
	CHECK_EQ(s.gateway_count + s.mapping_count, 0);
	CHECK_EQ(state_load(dir, NOW, &s), 0);
	CHECK_EQ(s.gateway_count + s.mapping_count, 0);
	CHECK_STR_EQ(capture_end(), "");
	/* a load writes nothing, not even the lock file */
	CHECK_EQ(access(path_in(dir, STATE_LOCK_FILE_NAME), F_OK), -1);
	CHECK_EQ(access(path_in(dir, "not"), F_OK), -1);
}

static void test_commit_then_load(void)
{
	char *base = make_test_directory("created");
	char *dir = path_in(base, "a/b/natpmp");
	struct state_change c[] = {
		gateway_change("192.0.2.1", PROTOCOL_PCP, NOW),
		remember("10.0.0.2", 8080, 7),
	};
	struct state s;
	struct stat st;

	capture_begin();
	CHECK_EQ(state_commit(dir, NOW, c, 2), 0);
	CHECK_STR_EQ(capture_end(), "");
	capture_begin();
	CHECK_EQ(state_commit("", NOW, c, 2), -1);
	CHECK_STR_CONTAINS(capture_end(), "cannot be created");
	/* the missing parents were made too, all 0700 */
	CHECK_EQ(mode_of(path_in(base, "a")), 0700);
	CHECK_EQ(mode_of(path_in(base, "a/b")), 0700);
	CHECK_EQ(mode_of(dir), 0700);
	CHECK_EQ(mode_of(path_in(dir, STATE_FILE_NAME)), 0600);
	CHECK_EQ(stat(path_in(dir, STATE_FILE_NAME), &st), 0);
	CHECK_EQ(st.st_uid, geteuid());
	CHECK_EQ(stray_files(dir), 0);
	CHECK_STR_EQ(read_file(path_in(dir, STATE_FILE_NAME)),
		     HEADER GATEWAY "mapping 192.0.2.1 5351 tcp 10.0.0.2 8080 "
				    "0708090a0b0c0d0e0f101112 1767232800\n");
	capture_begin();
	CHECK_EQ(state_load(dir, NOW, &s), 0);
	CHECK_STR_EQ(capture_end(), "");
	CHECK_EQ(s.gateway_count, 1);
	CHECK_EQ(s.mapping_count, 1);
	CHECK(find(&s, "10.0.0.2", 8080) != NULL);
	state_free(&s);
}

/* Each commit merges with what earlier ones wrote; expired entries go. */
static void test_commits_merge(void)
{
	char *dir = make_test_directory("merge");
	struct state_change first[] = { remember("10.0.0.2", 1, 1),
					remember("10.0.0.2", 2, 2) };
	struct state_change second[] = {
		gateway_change("192.0.2.1", PROTOCOL_NATPMP, NOW),
		forget("10.0.0.2", 1),
		mapping_change(STATE_REMEMBER_MAPPING, "192.0.2.1",
			       TRANSPORT_UDP, "10.0.0.2", 3, 3, NOW + 100),
	};
	struct state_change third = remember("10.0.0.2", 2, 9);
	struct state s;

	CHECK_EQ(state_commit(dir, NOW, first, 2), 0);
	CHECK_EQ(state_commit(dir, NOW, second, 3), 0);
	CHECK_EQ(state_commit(dir, NOW + 100, &third, 1), 0);
	CHECK_EQ(state_load(dir, NOW, &s), 0);
	CHECK_EQ(s.gateway_count, 1);
	CHECK_EQ(s.mapping_count, 1); /* 1 forgotten, 3 expired */
	CHECK(find(&s, "10.0.0.2", 2) != NULL);
	CHECK_EQ(find(&s, "10.0.0.2", 2)->nonce[0], 9);
	state_free(&s);
	CHECK_EQ(stray_files(dir), 0);
}

/* Whether /proc/locks shows pid waiting for a flock. */
static bool waits_for_flock(pid_t pid)
{
	char line[256], needle[32];
	FILE *locks = fopen("/proc/locks", "r");
	bool found = false;

	if (!locks)
		return false;
	snprintf(needle, sizeof(needle), " %ld ", (long)pid);
	while (!found && fgets(line, sizeof(line), locks))
		found = strstr(line, "-> FLOCK") && strstr(line, needle);
	fclose(locks);
	return found;
}

static bool wait_until_waiting_for_flock(pid_t pid)
{
	struct timespec pause = { 0, 1000000 };
	int waited;

	for (waited = 0; waited < WAIT_LIMIT_MS; waited++) {
		if (waits_for_flock(pid))
			return true;
		nanosleep(&pause, NULL);
	}
	return false;
}

/* What another natpmp would write while holding the lock. */
static void write_state_as_another_writer(const char *dir, const char *text)
{
	char *temporary = path_in(dir, "other-writer");

	write_file(temporary, text, strlen(text), 0600);
	if (rename(temporary, path_in(dir, STATE_FILE_NAME)) < 0) {
		perror(temporary);
		exit(2);
	}
}

/* A commit waits for the lock, then reads what the holder wrote: without
 * the lock it would neither wait nor keep the holder's mapping. */
static void test_commit_waits_for_lock(void)
{
	char *dir = make_test_directory("locked");
	struct state_change gateway =
		gateway_change("192.0.2.1", PROTOCOL_PCP, NOW);
	struct state_change mine = remember("10.0.0.2", 1111, 1);
	struct state s;
	int lock_fd, status = -1;
	pid_t child;

	if (access("/proc/locks", R_OK) < 0) {
		printf("test_state: no /proc/locks, lock test skipped\n");
		return;
	}
	CHECK_EQ(state_commit(dir, NOW, &gateway, 1), 0);
	lock_fd = open(path_in(dir, STATE_LOCK_FILE_NAME), O_RDWR | O_CLOEXEC);
	CHECK(lock_fd >= 0);
	CHECK_EQ(flock(lock_fd, LOCK_EX), 0);
	fflush(NULL);
	child = fork();
	if (child == 0) {
		close(lock_fd); /* else the child holds the lock too */
		_exit(state_commit(dir, NOW, &mine, 1) == 0 ? 0 : 1);
	}
	CHECK(wait_until_waiting_for_flock(child));
	write_state_as_another_writer(
		dir, HEADER GATEWAY MAPPING("tcp 10.0.0.2 2222 " NONCE
					    " 1767232800"));
	CHECK_EQ(waitpid(child, &status, WNOHANG), 0);
	close(lock_fd);
	CHECK_EQ(waitpid(child, &status, 0), child);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK_EQ(state_load(dir, NOW, &s), 0);
	CHECK_EQ(s.gateway_count, 1);
	CHECK(find(&s, "10.0.0.2", 1111) != NULL);
	CHECK(find(&s, "10.0.0.2", 2222) != NULL);
	state_free(&s);
}

#define CONCURRENT_COMMITS 200

static void commit_many(const char *dir, int start_fd, uint16_t first_port)
{
	char go;
	int i, failures = 0;

	/* both writers start together */
	if (read(start_fd, &go, 1) < 0)
		_exit(2);
	for (i = 0; i < CONCURRENT_COMMITS; i++) {
		struct state_change c =
			remember("10.0.0.2", (uint16_t)(first_port + i), 0);
		failures += state_commit(dir, NOW, &c, 1) < 0;
	}
	_exit(failures ? 1 : 0);
}

/* Two writers, each committing its own mappings one at a time: every one
 * of them is in the file at the end. */
static void test_concurrent_commits(void)
{
	char *dir = make_test_directory("concurrent");
	uint16_t first_ports[2] = { 10000, 20000 };
	int start[2], status, i, j, present = 0;
	pid_t children[2];
	struct state s;

	CHECK_EQ(pipe(start), 0);
	fflush(NULL);
	for (i = 0; i < 2; i++) {
		children[i] = fork();
		if (children[i] == 0) {
			close(start[1]);
			commit_many(dir, start[0], first_ports[i]);
		}
	}
	close(start[0]);
	close(start[1]);
	for (i = 0; i < 2; i++) {
		CHECK_EQ(waitpid(children[i], &status, 0), children[i]);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	CHECK_EQ(state_load(dir, NOW, &s), 0);
	CHECK_EQ(s.mapping_count, 2 * CONCURRENT_COMMITS);
	for (i = 0; i < 2; i++)
		for (j = 0; j < CONCURRENT_COMMITS; j++)
			present += find(&s, "10.0.0.2",
					(uint16_t)(first_ports[i] + j)) != NULL;
	CHECK_EQ(present, 2 * CONCURRENT_COMMITS);
	CHECK_EQ(stray_files(dir), 0);
	state_free(&s);
}

static void test_corrupt_file_replaced(void)
{
	char *dir = make_test_directory("corrupt");
	const char *corrupt = HEADER GATEWAY MAPPING("tcp 10.0.0.2 8080 zz "
						     "1767232800");
	struct state_change c = remember("10.0.0.2", 9090, 1);
	char expected[1024];
	struct state s;

	write_file(path_in(dir, STATE_FILE_NAME), corrupt, strlen(corrupt),
		   0600);
	snprintf(expected, sizeof(expected),
		 "natpmp: warning: state file %s/state line 3: bad nonce 'zz' "
		 "(24 hex digits, or -): starting afresh\n",
		 dir);
	capture_begin();
	CHECK_EQ(state_load(dir, NOW, &s), 0);
	CHECK_STR_EQ(capture_end(), expected);
	CHECK_EQ(s.gateway_count + s.mapping_count, 0);
	capture_begin();
	CHECK_EQ(state_commit(dir, NOW, &c, 1), 0);
	CHECK_STR_EQ(capture_end(), expected);
	capture_begin();
	CHECK_EQ(state_load(dir, NOW, &s), 0);
	CHECK_STR_EQ(capture_end(), "");
	CHECK_EQ(s.gateway_count, 0);
	CHECK_EQ(s.mapping_count, 1);
	CHECK(find(&s, "10.0.0.2", 9090) != NULL);
	state_free(&s);
}

/* Readable by others, the nonces are out: ignored, then replaced 0600. */
static void test_open_file_mode_refused(void)
{
	char *dir = make_test_directory("mode");
	char *path = path_in(dir, STATE_FILE_NAME);
	const char *text = HEADER GATEWAY;
	struct state_change c = remember("10.0.0.2", 80, 1);
	char expected[1024];
	struct state s;

	write_file(path, text, strlen(text), 0644);
	snprintf(expected, sizeof(expected),
		 "natpmp: warning: state file %s has mode 0644, not 0600: "
		 "starting afresh\n",
		 path);
	capture_begin();
	CHECK_EQ(state_load(dir, NOW, &s), 0);
	CHECK_STR_EQ(capture_end(), expected);
	CHECK_EQ(s.gateway_count, 0);
	capture_begin();
	CHECK_EQ(state_commit(dir, NOW, &c, 1), 0);
	CHECK_STR_EQ(capture_end(), expected);
	CHECK_EQ(mode_of(path), 0600);
	CHECK_EQ(state_load(dir, NOW, &s), 0);
	CHECK_EQ(s.gateway_count, 0);
	CHECK_EQ(s.mapping_count, 1);
	state_free(&s);
}

static void test_symbolic_link_file_refused(void)
{
	char *dir = make_test_directory("symlink-file");
	char *target = path_in(dir, "elsewhere");
	char *path = path_in(dir, STATE_FILE_NAME);
	const char *text = HEADER GATEWAY;
	struct state_change c = remember("10.0.0.2", 80, 1);
	char expected[1024];
	struct state s;
	struct stat st;

	write_file(target, text, strlen(text), 0600);
	CHECK_EQ(symlink(target, path), 0);
	snprintf(expected, sizeof(expected),
		 "natpmp: warning: state file %s is a symbolic link: ignoring "
		 "it\n",
		 path);
	capture_begin();
	CHECK_EQ(state_load(dir, NOW, &s), 0);
	CHECK_STR_EQ(capture_end(), expected);
	CHECK_EQ(s.gateway_count, 0);
	snprintf(expected, sizeof(expected),
		 "natpmp: warning: state file %s is a symbolic link: state not "
		 "saved\n",
		 path);
	capture_begin();
	CHECK_EQ(state_commit(dir, NOW, &c, 1), -1);
	CHECK_STR_EQ(capture_end(), expected);
	CHECK(lstat(path, &st) == 0 && S_ISLNK(st.st_mode));
	CHECK_STR_EQ(read_file(target), text);
	CHECK_EQ(stray_files(dir), 1); /* the link's target */
	/* nor is the lock file followed */
	CHECK_EQ(unlink(path), 0);
	CHECK_EQ(unlink(path_in(dir, STATE_LOCK_FILE_NAME)), 0);
	CHECK_EQ(symlink(target, path_in(dir, STATE_LOCK_FILE_NAME)), 0);
	snprintf(expected, sizeof(expected),
		 "natpmp: warning: state lock file %s is a symbolic link: "
		 "state not saved\n",
		 path_in(dir, STATE_LOCK_FILE_NAME));
	capture_begin();
	CHECK_EQ(state_commit(dir, NOW, &c, 1), -1);
	CHECK_STR_EQ(capture_end(), expected);
	CHECK_STR_EQ(read_file(target), text);
	CHECK_EQ(access(path, F_OK), -1);
}

/* systemd's StateDirectory= with DynamicUser= is root's symbolic link to
 * the real directory: a link of ours or root's is followed, and where it
 * leads is held to the same rules as any state directory. */
static void test_symbolic_link_directory(void)
{
	char *real = make_test_directory("real");
	char *open_dir = make_test_directory("open");
	char *link = path_in(temporary_root, "link");
	char *open_link = path_in(temporary_root, "open-link");
	const char *text = HEADER GATEWAY;
	struct state_change c = remember("10.0.0.2", 80, 1);
	char expected[1024];
	struct state s;

	write_file(path_in(real, STATE_FILE_NAME), text, strlen(text), 0600);
	CHECK_EQ(symlink(real, link), 0);
	capture_begin();
	CHECK_EQ(state_load(link, NOW, &s), 0);
	CHECK_STR_EQ(capture_end(), "");
	CHECK_EQ(s.gateway_count, 1);
	state_free(&s);
	capture_begin();
	CHECK_EQ(state_commit(link, NOW, &c, 1), 0);
	CHECK_STR_EQ(capture_end(), "");
	CHECK_STR_CONTAINS(read_file(path_in(real, STATE_FILE_NAME)),
			   "mapping ");

	/* what it leads to must be private all the same */
	CHECK_EQ(chmod(open_dir, 0777), 0);
	CHECK_EQ(symlink(open_dir, open_link), 0);
	capture_begin();
	CHECK_EQ(state_commit(open_link, NOW, &c, 1), -1);
	CHECK_STR_CONTAINS(capture_end(), "is writable by group or others "
					  "(mode 0777): state not saved");
	CHECK_EQ(access(path_in(open_dir, STATE_FILE_NAME), F_OK), -1);

	/* a link someone else made is not followed */
	if (geteuid() != 0) {
		fprintf(stderr,
			"test_state: not root: the link of another "
			"user cannot be made, that check did not run\n");
		return;
	}
	CHECK_EQ(lchown(link, 12345, 12345), 0);
	snprintf(expected, sizeof(expected),
		 "natpmp: warning: state directory %s is a symbolic link "
		 "owned by uid 12345, neither this user nor root: ignoring "
		 "it\n",
		 link);
	capture_begin();
	CHECK_EQ(state_load(link, NOW, &s), 0);
	CHECK_STR_EQ(capture_end(), expected);
	CHECK_EQ(s.gateway_count, 0);
	capture_begin();
	CHECK_EQ(state_commit(link, NOW, &c, 1), -1);
	CHECK_STR_CONTAINS(capture_end(), "owned by uid 12345");
}

static void test_open_directory_refused(void)
{
	char *dir = make_test_directory("group-writable");
	const char *text = HEADER GATEWAY;
	struct state_change c = remember("10.0.0.2", 80, 1);
	char expected[1024];
	struct state s;

	write_file(path_in(dir, STATE_FILE_NAME), text, strlen(text), 0600);
	CHECK_EQ(chmod(dir, 0770), 0);
	snprintf(expected, sizeof(expected),
		 "natpmp: warning: state directory %s is writable by group or "
		 "others (mode 0770): ignoring it\n",
		 dir);
	capture_begin();
	CHECK_EQ(state_load(dir, NOW, &s), 0);
	CHECK_STR_EQ(capture_end(), expected);
	CHECK_EQ(s.gateway_count, 0);
	CHECK_EQ(chmod(dir, 0703), 0);
	capture_begin();
	CHECK_EQ(state_commit(dir, NOW, &c, 1), -1);
	CHECK_STR_CONTAINS(capture_end(), "is writable by group or others "
					  "(mode 0703): state not saved");
	CHECK_STR_EQ(read_file(path_in(dir, STATE_FILE_NAME)), text);
	CHECK_EQ(stray_files(dir), 0);
	CHECK_EQ(access(path_in(dir, STATE_LOCK_FILE_NAME), F_OK), -1);
	/* 0755, as systemd makes a StateDirectory, is fine */
	CHECK_EQ(chmod(dir, 0755), 0);
	capture_begin();
	CHECK_EQ(state_commit(dir, NOW, &c, 1), 0);
	CHECK_STR_EQ(capture_end(), "");
}

/* Files of another user are never read nor written over. As root the
 * test makes them; otherwise "/" is one. */
static void test_foreign_owner_refused(void)
{
	char *dir = make_test_directory("foreign");
	char *path = path_in(dir, STATE_FILE_NAME);
	const char *text = HEADER GATEWAY;
	struct state_change c = remember("10.0.0.2", 80, 1);
	char expected[1024];
	struct state s;

	if (geteuid() != 0) {
		capture_begin();
		CHECK_EQ(state_load("/", NOW, &s), 0);
		CHECK_STR_CONTAINS(capture_end(), "state directory / is owned "
						  "by uid 0");
		return;
	}
	write_file(path, text, strlen(text), 0600);
	CHECK_EQ(chown(path, 65534, 65534), 0);
	snprintf(expected, sizeof(expected),
		 "natpmp: warning: state file %s is owned by uid 65534, not 0: "
		 "state not saved\n",
		 path);
	capture_begin();
	CHECK_EQ(state_commit(dir, NOW, &c, 1), -1);
	CHECK_STR_EQ(capture_end(), expected);
	CHECK_STR_EQ(read_file(path), text);
	CHECK_EQ(stray_files(dir), 0);
	CHECK_EQ(chown(dir, 65534, 65534), 0);
	capture_begin();
	CHECK_EQ(state_load(dir, NOW, &s), 0);
	CHECK_STR_CONTAINS(capture_end(), "is owned by uid 65534, not 0: "
					  "ignoring it");
	CHECK_EQ(s.gateway_count, 0);
}

static void test_other_files_refused(void)
{
	char *dir = make_test_directory("others");
	char *path = path_in(dir, STATE_FILE_NAME);
	const char *newer = "natpmp-state 2\nsomething new\n";
	struct state_change c = remember("10.0.0.2", 80, 1);
	struct state s;
	char *big;

	/* a newer natpmp's file is kept for it */
	write_file(path, newer, strlen(newer), 0600);
	capture_begin();
	CHECK_EQ(state_commit(dir, NOW, &c, 1), -1);
	CHECK_STR_CONTAINS(capture_end(),
			   "is in a newer format (line 1: format version 2 is "
			   "not supported): state not saved");
	CHECK_STR_EQ(read_file(path), newer);
	/* not a regular file: no blocking on a FIFO */
	CHECK_EQ(unlink(path), 0);
	CHECK_EQ(mkfifo(path, 0600), 0);
	capture_begin();
	CHECK_EQ(state_load(dir, NOW, &s), 0);
	CHECK_STR_CONTAINS(capture_end(), "is not a regular file: ignoring it");
	CHECK_EQ(unlink(path), 0);
	/* too big is corrupt, and replaced */
	big = calloc(STATE_FILE_MAX + 1, 1);
	memset(big, 'x', STATE_FILE_MAX + 1);
	write_file(path, big, STATE_FILE_MAX + 1, 0600);
	free(big);
	capture_begin();
	CHECK_EQ(state_commit(dir, NOW, &c, 1), 0);
	CHECK_STR_CONTAINS(capture_end(),
			   "is larger than 2097152 bytes: starting afresh");
	CHECK_EQ(state_load(dir, NOW, &s), 0);
	CHECK_EQ(s.mapping_count, 1);
	state_free(&s);
}

/* A write that fails half-way leaves the old file and no temporary one. */
static void test_failed_write_cleans_up(void)
{
	char *dir = make_test_directory("full");
	struct state_change c[40];
	char *before;
	int status = -1;
	size_t i;
	pid_t child;

	for (i = 0; i < 40; i++)
		c[i] = remember("10.0.0.2", (uint16_t)(i + 1), 0);
	CHECK_EQ(state_commit(dir, NOW, c, 1), 0);
	before = strdup(read_file(path_in(dir, STATE_FILE_NAME)));
	capture_begin();
	fflush(NULL);
	child = fork();
	if (child == 0) {
		/* files may not grow past 512 bytes: the write fails */
		struct rlimit limit = { 512, 512 };
		signal(SIGXFSZ, SIG_IGN);
		setrlimit(RLIMIT_FSIZE, &limit);
		_exit(state_commit(dir, NOW, c, 40) == -1 ? 0 : 1);
	}
	CHECK_EQ(waitpid(child, &status, 0), child);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK_STR_CONTAINS(capture_end(), "File too large): state not saved");
	CHECK_STR_EQ(read_file(path_in(dir, STATE_FILE_NAME)), before);
	CHECK_EQ(stray_files(dir), 0);
	free(before);
}

static void remove_tree(const char *path)
{
	struct stat st;
	DIR *dir;
	struct dirent *entry;
	char child[1024];

	if (lstat(path, &st) < 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		unlink(path);
		return;
	}
	chmod(path, 0700);
	dir = opendir(path);
	while (dir && (entry = readdir(dir))) {
		if (!strcmp(entry->d_name, ".") || !strcmp(entry->d_name, ".."))
			continue;
		snprintf(child, sizeof(child), "%s/%s", path, entry->d_name);
		remove_tree(child);
	}
	if (dir)
		closedir(dir);
	rmdir(path);
}

int main(void)
{
	umask(022);
	test_directory_rules();
	test_round_trip();
	test_round_trip_without_nonce();
	test_malformed_header();
	test_malformed_lines();
	test_malformed_fields();
	test_length_and_nul();
	test_duplicates();
	test_limits();
	test_stale_entries_dropped();
	test_gone_interface();
	test_apply_gateways();
	test_apply_mappings();
	test_apply_forget_every_port();
	test_apply_lookup_by_scope();
	test_apply_refuses_invalid();
	test_apply_normalises();
	test_apply_limit();
	if (!mkdtemp(temporary_root)) {
		perror(temporary_root);
		return 2;
	}
	test_load_missing();
	test_commit_then_load();
	test_commits_merge();
	test_commit_waits_for_lock();
	test_concurrent_commits();
	test_corrupt_file_replaced();
	test_open_file_mode_refused();
	test_symbolic_link_file_refused();
	test_symbolic_link_directory();
	test_open_directory_refused();
	test_foreign_owner_refused();
	test_other_files_refused();
	test_failed_write_cleans_up();
	remove_tree(temporary_root);
	while (path_count)
		free(paths[--path_count]);
	return check_report("test_state");
}
