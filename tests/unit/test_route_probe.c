/* test_route_probe.c - the lookup destination discovery asks the kernel
 * about: outside every route and rule when it can be, otherwise under the
 * least specific of them, and always an internet address. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "check.h"
#include "os/route_probe.h"

#define MAX_PREFIXES 300

struct pick {
	int length; /* of the most specific prefix covering the destination */
	uint8_t destination[ROUTE_PROBE_MAX_BYTES];
};

static struct route_prefix v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d,
			      uint8_t length)
{
	struct route_prefix p = { .bytes = { a, b, c, d }, .length = length };

	return p;
}

/* An IPv6 prefix from its first two 16-bit groups and its last byte. */
static struct route_prefix v6(uint16_t first, uint16_t second, uint8_t last,
			      uint8_t length)
{
	struct route_prefix p = { .length = length };

	p.bytes[0] = (uint8_t)(first >> 8);
	p.bytes[1] = (uint8_t)first;
	p.bytes[2] = (uint8_t)(second >> 8);
	p.bytes[3] = (uint8_t)second;
	p.bytes[15] = last;
	return p;
}

static struct pick pick(int family, size_t count, ...)
{
	struct route_prefix prefixes[MAX_PREFIXES];
	struct pick result;
	va_list ap;
	size_t i;

	va_start(ap, count);
	for (i = 0; i < count; i++)
		prefixes[i] = va_arg(ap, struct route_prefix);
	va_end(ap);
	result.length =
		route_probe_pick(family, prefixes, count, result.destination);
	return result;
}

static bool is_v4(const struct pick *p, uint8_t a, uint8_t b, uint8_t c,
		  uint8_t d)
{
	return p->destination[0] == a && p->destination[1] == b &&
	       p->destination[2] == c && p->destination[3] == d;
}

static bool is_v6(const struct pick *p, uint16_t first, uint16_t second)
{
	struct route_prefix expected = v6(first, second, 0, 0);

	return memcmp(p->destination, expected.bytes, 16) == 0;
}

static void test_nothing_routed(void)
{
	struct pick p = pick(AF_INET, 0);

	CHECK_EQ(p.length, 0);
	CHECK(is_v4(&p, 1, 0, 0, 0));
	p = pick(AF_INET6, 0);
	CHECK_EQ(p.length, 0);
	CHECK(is_v6(&p, 0x2000, 0));
}

/* The reported failure: a LAN numbered from TEST-NET-1 whose router is
 * 192.0.2.1 must not make the probe land on the LAN route. */
static void test_documentation_lan(void)
{
	struct pick p =
		pick(AF_INET, 6, v4(192, 0, 2, 0, 24), v4(192, 0, 2, 2, 32),
		     v4(192, 0, 2, 255, 32), v4(127, 0, 0, 0, 8),
		     v4(127, 0, 0, 1, 32), v4(127, 255, 255, 255, 32));

	CHECK_EQ(p.length, 0);
	CHECK(is_v4(&p, 1, 0, 0, 0));
}

/* Local and broadcast /32s where the internet space begins. */
static void test_host_routes_at_the_start(void)
{
	struct pick p = pick(AF_INET, 4, v4(1, 0, 0, 0, 32), v4(1, 0, 0, 1, 32),
			     v4(1, 0, 0, 3, 32), v4(1, 0, 0, 0, 24));

	CHECK_EQ(p.length, 0);
	CHECK(is_v4(&p, 1, 0, 1, 0));
	p = pick(AF_INET, 2, v4(1, 0, 0, 0, 32), v4(1, 0, 0, 1, 32));
	CHECK(is_v4(&p, 1, 0, 0, 2));
}

static void test_gap_between_routes(void)
{
	struct pick p = pick(AF_INET, 2, v4(3, 0, 0, 0, 8), v4(1, 0, 0, 0, 8));

	CHECK_EQ(p.length, 0);
	CHECK(is_v4(&p, 2, 0, 0, 0));
}

/* OpenVPN's redirect-gateway def1 overrides the default route with two
 * halves; the VPN server keeps a host route via the old gateway. */
static void test_def1(void)
{
	struct pick p = pick(AF_INET, 4, v4(0, 0, 0, 0, 1), v4(128, 0, 0, 0, 1),
			     v4(1, 0, 0, 9, 32), v4(10, 8, 0, 0, 24));

	CHECK_EQ(p.length, 1);
	CHECK(is_v4(&p, 1, 0, 0, 0));
	/* a more specific route at the start is skipped for the /1 */
	p = pick(AF_INET, 3, v4(0, 0, 0, 0, 1), v4(128, 0, 0, 0, 1),
		 v4(1, 0, 0, 0, 8));
	CHECK_EQ(p.length, 1);
	CHECK(is_v4(&p, 2, 0, 0, 0));
}

/* Everything covered: the least specific cover wins, wherever it is. */
static void test_everything_covered(void)
{
	struct pick p = pick(AF_INET, 4, v4(0, 0, 0, 0, 1), v4(0, 0, 0, 0, 2),
			     v4(64, 0, 0, 0, 2), v4(128, 0, 0, 0, 1));

	CHECK_EQ(p.length, 1);
	CHECK(is_v4(&p, 128, 0, 0, 0));
	p = pick(AF_INET, 3, v4(1, 0, 0, 0, 8), v4(128, 0, 0, 0, 2),
		 v4(192, 0, 0, 0, 3));
	CHECK_EQ(p.length, 0); /* 2.0.0.0 is still free */
	CHECK(is_v4(&p, 2, 0, 0, 0));
}

/* Each /8 of the first half routed, and the second half in two pieces. */
static void test_every_slash_8(void)
{
	struct route_prefix prefixes[MAX_PREFIXES];
	uint8_t destination[ROUTE_PROBE_MAX_BYTES];
	size_t count = 0;
	unsigned octet;

	for (octet = 0; octet < 128; octet++)
		prefixes[count++] = v4((uint8_t)octet, 0, 0, 0, 8);
	prefixes[count++] = v4(128, 0, 0, 0, 2);
	prefixes[count++] = v4(192, 0, 0, 0, 2);
	CHECK_EQ(route_probe_pick(AF_INET, prefixes, count, destination), 2);
	CHECK_EQ(destination[0], 128);
}

/* Loopback, multicast, 0/8 and 240/4 are never the probe. */
static void test_never_outside_the_internet(void)
{
	struct pick p = pick(AF_INET, 3, v4(0, 0, 0, 0, 1), v4(128, 0, 0, 0, 2),
			     v4(192, 0, 0, 0, 3));

	/* 224/3 is uncovered but not the internet */
	CHECK_EQ(p.length, 1);
	CHECK(is_v4(&p, 1, 0, 0, 0));
	p = pick(AF_INET, 2, v4(0, 0, 0, 0, 2), v4(64, 0, 0, 0, 3));
	CHECK_EQ(p.length, 0); /* 96.0.0.0 onwards is free */
	CHECK(is_v4(&p, 96, 0, 0, 0));
	p = pick(AF_INET, 3, v4(0, 0, 0, 0, 2), v4(64, 0, 0, 0, 2),
		 v4(128, 0, 0, 0, 1));
	CHECK_EQ(p.length, 1);
	CHECK(is_v4(&p, 128, 0, 0, 0));
	/* the last address of the space, and routes ending at all ones */
	p = pick(AF_INET, 4, v4(0, 0, 0, 0, 1), v4(128, 0, 0, 0, 2),
		 v4(192, 0, 0, 0, 4), v4(208, 0, 0, 0, 5));
	CHECK_EQ(p.length, 0);
	CHECK(is_v4(&p, 216, 0, 0, 0));
	p = pick(AF_INET, 2, v4(255, 255, 255, 255, 32), v4(240, 0, 0, 0, 4));
	CHECK(is_v4(&p, 1, 0, 0, 0));
	/* 1.0.0.0-126.255.255.255 routed, 127/8 not: skipped as loopback */
	p = pick(AF_INET, 7, v4(0, 0, 0, 0, 2), v4(64, 0, 0, 0, 3),
		 v4(96, 0, 0, 0, 4), v4(112, 0, 0, 0, 5), v4(120, 0, 0, 0, 6),
		 v4(124, 0, 0, 0, 7), v4(126, 0, 0, 0, 8));
	CHECK_EQ(p.length, 0);
	CHECK(is_v4(&p, 128, 0, 0, 0));
}

static void test_nested_prefixes(void)
{
	struct pick p =
		pick(AF_INET, 5, v4(1, 0, 0, 0, 8), v4(1, 1, 0, 0, 16),
		     v4(1, 1, 2, 0, 24), v4(1, 1, 2, 3, 32), v4(2, 0, 0, 0, 7));

	CHECK_EQ(p.length, 0);
	CHECK(is_v4(&p, 4, 0, 0, 0));
	p = pick(AF_INET, 4, v4(0, 0, 0, 0, 1), v4(1, 0, 0, 0, 8),
		 v4(1, 1, 0, 0, 16), v4(128, 0, 0, 0, 1));
	/* inside 1/8 nothing is shallower than 8: 2.0.0.0 is under 0/1 */
	CHECK_EQ(p.length, 1);
	CHECK(is_v4(&p, 2, 0, 0, 0));
}

/* What the kernel may report that a prefix cannot be: host bits set,
 * repeats, a default (length 0), a length too long for the family. */
static void test_untidy_input(void)
{
	struct pick p =
		pick(AF_INET, 5, v4(1, 2, 3, 4, 8), v4(1, 0, 0, 0, 8),
		     v4(1, 0, 0, 0, 8), v4(9, 9, 9, 9, 0), v4(2, 0, 0, 0, 33));

	CHECK_EQ(p.length, 0);
	CHECK(is_v4(&p, 2, 0, 0, 0));
	CHECK_EQ(pick(AF_UNIX, 0).length, -1);
}

/* An IPv6 host: its /64 on-link, link-local, multicast, loopback. */
static void test_ipv6_host(void)
{
	struct pick p = pick(AF_INET6, 6, v6(0x2001, 0x0db8, 0, 64),
			     v6(0x2001, 0x0db8, 2, 128), v6(0xfe80, 0, 0, 64),
			     v6(0xff00, 0, 0, 8), v6(0, 0, 1, 128),
			     v6(0x2000, 0, 5, 128));

	CHECK_EQ(p.length, 0);
	CHECK(is_v6(&p, 0x2000, 0));
	CHECK_EQ(p.destination[15], 0);
	CHECK_EQ(p.destination[14], 0);
	p = pick(AF_INET6, 2, v6(0x2000, 0, 0, 3), v6(0x2000, 0, 0, 4));
	CHECK_EQ(p.length, 3);
	CHECK(is_v6(&p, 0x3000, 0));
	/* a def1 of IPv6 */
	p = pick(AF_INET6, 2, v6(0, 0, 0, 1), v6(0x8000, 0, 0, 1));
	CHECK_EQ(p.length, 1);
	CHECK(is_v6(&p, 0x2000, 0));
	/* the first free address after a covered start */
	p = pick(AF_INET6, 1, v6(0x2000, 0, 0, 16));
	CHECK_EQ(p.length, 0);
	CHECK(is_v6(&p, 0x2001, 0));
}

int main(void)
{
	test_nothing_routed();
	test_documentation_lan();
	test_host_routes_at_the_start();
	test_gap_between_routes();
	test_def1();
	test_everything_covered();
	test_every_slash_8();
	test_never_outside_the_internet();
	test_nested_prefixes();
	test_untidy_input();
	test_ipv6_host();
	return check_report("test_route_probe");
}
