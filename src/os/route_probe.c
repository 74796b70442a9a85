/* route_probe.c - a sweep over nested CIDR prefixes that finds the internet
 * address least specifically routed. Addresses are big-endian byte arrays
 * so IPv6 needs no 128-bit integers (natpmp builds on 32-bit ARM). */
#include "os/route_probe.h"

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define BITS_PER_BYTE 8

typedef uint8_t address[ROUTE_PROBE_MAX_BYTES];

/* An inclusive range of candidate addresses. */
struct range {
	address first, last;
};

/* 1.0.0.0-126.255.255.255 and 128.0.0.0-223.255.255.255: 0/8, loopback,
 * multicast and the reserved 240/4 are never the internet. */
static const struct range internet_v4[] = {
	{ { 1, 0, 0, 0 }, { 126, 255, 255, 255 } },
	{ { 128, 0, 0, 0 }, { 223, 255, 255, 255 } },
};

/* 2000::/3, the global unicast space. */
static const struct range internet_v6[] = {
	{ { 0x20 },
	  { 0x3f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0xff, 0xff } },
};

/* A prefix still open during the sweep: where it ends, how long it is. */
struct open_prefix {
	address last;
	int length;
};

struct sweep {
	size_t width; /* bytes per address: 4 or 16 */
	const struct range *ranges;
	size_t range_count;
	address cursor;	 /* the first address not swept yet */
	bool swept_all;	 /* the cursor went past the last address */
	int best_length; /* of the prefix covering best; INT_MAX: none yet */
	address best;
	/* strictly nested prefixes, outermost first: at most one per length */
	struct open_prefix stack[ROUTE_PROBE_MAX_BYTES * BITS_PER_BYTE];
	size_t depth;
};

static int compare(const uint8_t *a, const uint8_t *b, size_t width)
{
	return memcmp(a, b, width);
}

/* Returns false when a was the last address (all ones). */
static bool increment(uint8_t *a, size_t width)
{
	size_t i = width;

	while (i-- > 0)
		if (++a[i] != 0)
			return true;
	return false;
}

static void decrement(uint8_t *a, size_t width)
{
	size_t i = width;

	while (i-- > 0)
		if (a[i]-- != 0)
			return;
}

/* The bits of byte i that lie after the first length bits. */
static uint8_t host_mask(size_t i, int length)
{
	int network_bits = length - (int)(i * BITS_PER_BYTE);

	if (network_bits >= BITS_PER_BYTE)
		return 0;
	if (network_bits <= 0)
		return 0xff;
	return (uint8_t)(0xff >> network_bits);
}

/* Clears (or with ones, sets) every bit after the first length bits. */
static void fill_host_bits(uint8_t *a, int length, bool ones)
{
	size_t i;

	for (i = 0; i < ROUTE_PROBE_MAX_BYTES; i++)
		a[i] = ones ? (uint8_t)(a[i] | host_mask(i, length))
			    : (uint8_t)(a[i] & ~host_mask(i, length));
}

static int by_address_then_length(const void *left, const void *right)
{
	const struct route_prefix *a = left, *b = right;
	int order = memcmp(a->bytes, b->bytes, sizeof(a->bytes));

	if (order)
		return order;
	return (int)a->length - (int)b->length;
}

/* Keeps the prefixes that can be routes of this width, host bits cleared;
 * returns how many. */
static size_t normalise(struct route_prefix *prefixes, size_t count,
			size_t width)
{
	size_t i, kept = 0;

	for (i = 0; i < count; i++) {
		if (prefixes[i].length == 0 ||
		    prefixes[i].length > width * BITS_PER_BYTE)
			continue;
		prefixes[kept] = prefixes[i];
		fill_host_bits(prefixes[kept].bytes, prefixes[kept].length,
			       false);
		kept++;
	}
	return kept;
}

/* The addresses from the cursor to last are covered by a prefix of this
 * length (0: none): note the first candidate among them if it beats the
 * best so far, then move the cursor past them. */
static void sweep_to(struct sweep *s, const uint8_t *last, int length)
{
	size_t i;

	if (s->swept_all || compare(s->cursor, last, s->width) > 0)
		return;
	for (i = 0; i < s->range_count && length < s->best_length; i++) {
		const struct range *r = &s->ranges[i];
		const uint8_t *low = compare(s->cursor, r->first, s->width) > 0
					     ? s->cursor
					     : r->first;
		const uint8_t *high =
			compare(last, r->last, s->width) < 0 ? last : r->last;

		if (compare(low, high, s->width) <= 0) {
			memcpy(s->best, low, s->width);
			s->best_length = length;
		}
	}
	memcpy(s->cursor, last, s->width);
	s->swept_all = !increment(s->cursor, s->width);
}

static int innermost_length(const struct sweep *s)
{
	return s->depth ? s->stack[s->depth - 1].length : 0;
}

/* The innermost open prefix ends: sweep to its end. */
static void close_prefix(struct sweep *s)
{
	sweep_to(s, s->stack[s->depth - 1].last, innermost_length(s));
	s->depth--;
}

static void close_before(struct sweep *s, const uint8_t *first)
{
	while (s->depth &&
	       compare(s->stack[s->depth - 1].last, first, s->width) < 0)
		close_prefix(s);
}

static void open_prefix(struct sweep *s, const struct route_prefix *p)
{
	struct open_prefix *top;

	close_before(s, p->bytes);
	if (compare(s->cursor, p->bytes, s->width) < 0) {
		address before;
		memcpy(before, p->bytes, s->width);
		decrement(before, s->width);
		sweep_to(s, before, innermost_length(s));
	}
	/* sorted, and CIDR prefixes nest or are disjoint: p lies inside
	 * every open prefix and is longer than each, so the stack holds at
	 * most one prefix per length */
	if (s->depth == sizeof(s->stack) / sizeof(s->stack[0]))
		return;
	top = &s->stack[s->depth++];
	memcpy(top->last, p->bytes, sizeof(top->last));
	fill_host_bits(top->last, p->length, true);
	top->length = p->length;
}

int route_probe_pick(int family, struct route_prefix *prefixes, size_t count,
		     uint8_t destination[ROUTE_PROBE_MAX_BYTES])
{
	struct sweep s;
	address all_ones;
	size_t i;

	memset(&s, 0, sizeof(s));
	if (family == AF_INET) {
		s.width = 4;
		s.ranges = internet_v4;
		s.range_count = sizeof(internet_v4) / sizeof(internet_v4[0]);
	} else if (family == AF_INET6) {
		s.width = 16;
		s.ranges = internet_v6;
		s.range_count = sizeof(internet_v6) / sizeof(internet_v6[0]);
	} else {
		return -1;
	}
	s.best_length = INT_MAX;
	count = normalise(prefixes, count, s.width);
	if (count > 1)
		qsort(prefixes, count, sizeof(*prefixes),
		      by_address_then_length);
	for (i = 0; i < count; i++) {
		bool repeated =
			i > 0 && by_address_then_length(&prefixes[i - 1],
							&prefixes[i]) == 0;
		if (!repeated)
			open_prefix(&s, &prefixes[i]);
	}
	while (s.depth)
		close_prefix(&s);
	memset(all_ones, 0xff, sizeof(all_ones));
	sweep_to(&s, all_ones, 0);
	memset(destination, 0, ROUTE_PROBE_MAX_BYTES);
	memcpy(destination, s.best, s.width);
	return s.best_length;
}
