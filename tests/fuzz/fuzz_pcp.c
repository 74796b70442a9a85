/* fuzz_pcp.c - libFuzzer target for the PCP codec: the first bytes of the
 * input choose a request, the rest is decoded as its response. Whatever is
 * accepted must really answer that request; what is encoded must be it. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "wire/wire_bytes.h"
#include "wire/wire_pcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The choice of request, CHOICE_SIZE bytes:
 *   [0]      bits 0-1 opcode (2 and 3 cannot be sent), bit 2 THIRD_PARTY,
 *            bit 3 PREFER_FAILURE, bits 4-7 FILTER count (9-15 too many)
 *   [1-12]   nonce
 *   [13]     protocol
 *   [14-15]  internal port     [16-17] suggested external port
 *   [18-21]  lifetime
 *   [22]     every filter's prefix length
 *   [23]     bit 0: IPv6 addresses, not IPv4-mapped ones; bits 1-7: the
 *            result code of the server-side view
 */
#define CHOICE_SIZE 24

static void set_address(uint8_t address[16], bool ipv6, uint8_t last)
{
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	static const uint8_t v4[16] = { [10] = 0xff, [11] = 0xff, 10, 99, 0 };

	memcpy(address, ipv6 ? v6 : v4, 16);
	address[15] = last;
}

static void choose_request(const uint8_t *c, struct pcp_request *r)
{
	bool ipv6 = c[23] & 1;

	memset(r, 0, sizeof(*r));
	r->opcode = (enum pcp_opcode)(c[0] & 3);
	r->third_party = c[0] & 4;
	r->prefer_failure = c[0] & 8;
	r->filter_count = c[0] >> 4;
	memcpy(r->nonce, c + 1, NONCE_SIZE);
	r->protocol = c[13];
	r->internal_port = wire_get16(c + 14);
	r->suggested_port = wire_get16(c + 16);
	r->lifetime = wire_get32(c + 18);
	set_address(r->client_address, ipv6, 2);
	set_address(r->internal_address, ipv6, 3);
	set_address(r->suggested_address, ipv6, 0);
	for (size_t i = 0; i < FILTER_MAX; i++) {
		r->filters[i].prefix_length = c[22];
		r->filters[i].remote_port = (uint16_t)(443 + i);
		set_address(r->filters[i].remote_address, ipv6, 0);
		if (!ipv6) /* 198.51.100.0 */
			memcpy(r->filters[i].remote_address + 12,
			       (const uint8_t[]){ 198, 51, 100, 0 }, 4);
	}
}

/* what the interface promises to encode, worked out on its own */
static bool can_be_sent(const struct pcp_request *r, bool ipv6)
{
	uint8_t prefix = r->filters[0].prefix_length;

	if (r->opcode == PCP_OP_ANNOUNCE)
		return r->lifetime == 0;
	if (r->opcode != PCP_OP_MAP || r->filter_count > FILTER_MAX)
		return false;
	if (r->protocol == 0 && r->internal_port != 0)
		return false;
	return r->filter_count == 0 ||
	       (prefix <= 128 && (ipv6 || prefix == 0 || prefix >= 96));
}

static size_t expected_size(const struct pcp_request *r)
{
	if (r->opcode == PCP_OP_ANNOUNCE)
		return PCP_HEADER_SIZE;
	return PCP_HEADER_SIZE + PCP_MAP_SIZE + (r->third_party ? 20u : 0u) +
	       (r->prefer_failure ? 4u : 0u) + r->filter_count * 24;
}

static bool option_is(const uint8_t *p, uint8_t code, uint16_t length)
{
	return p[0] == code && p[1] == 0 && wire_get16(p + 2) == length;
}

/* Reads the encoded options back, in the order of section 13's rules. */
static bool options_match(const uint8_t *p, const struct pcp_request *r)
{
	if (r->third_party) {
		if (!option_is(p, PCP_OPTION_THIRD_PARTY, 16) ||
		    memcmp(p + 4, r->internal_address, 16) != 0)
			return false;
		p += 20;
	}
	if (r->prefer_failure) {
		if (!option_is(p, PCP_OPTION_PREFER_FAILURE, 0))
			return false;
		p += 4;
	}
	for (size_t i = 0; i < r->filter_count; i++, p += 24) {
		const struct pcp_filter *f = &r->filters[i];
		if (!option_is(p, PCP_OPTION_FILTER, 20) || p[4] != 0 ||
		    p[5] != f->prefix_length ||
		    wire_get16(p + 6) != f->remote_port ||
		    memcmp(p + 8, f->remote_address, 16) != 0)
			return false;
	}
	return true;
}

/* Reads an encoded request back by hand (sections 7.1 and 11.1). */
static bool request_matches(const uint8_t *d, const struct pcp_request *r)
{
	if (d[0] != PCP_VERSION || d[1] != (uint8_t)r->opcode || d[2] || d[3] ||
	    wire_get32(d + 4) != r->lifetime ||
	    memcmp(d + 8, r->client_address, 16) != 0)
		return false;
	if (r->opcode == PCP_OP_ANNOUNCE)
		return true;
	return memcmp(d + 24, r->nonce, NONCE_SIZE) == 0 &&
	       d[36] == r->protocol && !d[37] && !d[38] && !d[39] &&
	       wire_get16(d + 40) == r->internal_port &&
	       wire_get16(d + 42) == r->suggested_port &&
	       memcmp(d + 44, r->suggested_address, 16) == 0 &&
	       options_match(d + 60, r);
}

/* A server that echoes the request, as miniupnpd does, must be heard. */
static void check_server_view(const uint8_t *request, size_t length,
			      const struct pcp_request *r, uint8_t result)
{
	bool is_map = r->opcode == PCP_OP_MAP;
	uint8_t d[PCP_DATAGRAM_MAX];
	struct pcp_response response;

	memcpy(d, request, length);
	d[1] |= PCP_RESPONSE_BIT;
	d[3] = result;
	memset(d + 8, 0x5a, 16); /* epoch and reserved */
	if (is_map)
		memset(d + 42, 0xa5, 18); /* assigned port and address */
	if (pcp_response_decode(d, length, r, &response) != PCP_ACCEPTED ||
	    response.header.result != result || response.unknown_options)
		__builtin_trap();
	if (is_map && (response.internal_port != r->internal_port ||
		       response.external_port != 0xa5a5 ||
		       response.third_party != r->third_party ||
		       response.prefer_failure != r->prefer_failure ||
		       response.filter_count != r->filter_count))
		__builtin_trap();
}

static void check_encoding(const struct pcp_request *r, const uint8_t *choice)
{
	uint8_t buffer[PCP_DATAGRAM_MAX + 64];
	size_t length = pcp_request_encode(r, buffer, sizeof(buffer));

	if ((length != 0) != can_be_sent(r, choice[23] & 1))
		__builtin_trap();
	if (length == 0)
		return;
	if (length > PCP_DATAGRAM_MAX || length % 4 ||
	    length != expected_size(r) || !request_matches(buffer, r))
		__builtin_trap();
	/* a buffer one byte short is refused, not overrun */
	if (pcp_request_encode(r, buffer, length - 1) != 0)
		__builtin_trap();
	check_server_view(buffer, length, r, choice[23] >> 1);
}

/* Walks the options of an accepted response: they must fill it. */
static unsigned count_options(const uint8_t *d, size_t offset, size_t size)
{
	unsigned count = 0;

	while (offset + 4 <= size) {
		offset += 4 + ((wire_get16(d + offset + 2) + 3u) & ~3u);
		count++;
	}
	if (offset != size)
		__builtin_trap();
	return count;
}

static void check_map_response(const uint8_t *d, size_t size,
			       const struct pcp_request *r,
			       const struct pcp_response *p)
{
	if (size < PCP_HEADER_SIZE + PCP_MAP_SIZE ||
	    memcmp(d + 24, r->nonce, NONCE_SIZE) != 0 || d[36] != r->protocol ||
	    wire_get16(d + 40) != r->internal_port ||
	    memcmp(p->nonce, r->nonce, NONCE_SIZE) != 0 ||
	    p->protocol != r->protocol ||
	    p->internal_port != r->internal_port ||
	    p->external_port != wire_get16(d + 42) ||
	    memcmp(p->external_address, d + 44, 16) != 0)
		__builtin_trap();
}

static void check_accepted(const uint8_t *d, size_t size,
			   const struct pcp_request *r,
			   const struct pcp_response *p)
{
	bool is_map = r->opcode == PCP_OP_MAP;
	unsigned known = (unsigned)p->third_party +
			 (unsigned)p->prefer_failure +
			 (unsigned)p->filter_count;

	if (size < PCP_HEADER_SIZE || size > PCP_DATAGRAM_MAX || size % 4 ||
	    d[0] != PCP_VERSION || d[1] != (PCP_RESPONSE_BIT | r->opcode) ||
	    p->header.version != PCP_VERSION || p->header.opcode != r->opcode ||
	    p->header.result != d[3] ||
	    p->header.lifetime != wire_get32(d + 4) ||
	    p->header.epoch != wire_get32(d + 8))
		__builtin_trap();
	if (is_map)
		check_map_response(d, size, r, p);
	/* options only as the request carried them */
	if ((p->third_party &&
	     (!is_map || !r->third_party ||
	      memcmp(p->internal_address, r->internal_address, 16) != 0)) ||
	    (p->prefer_failure && (!is_map || !r->prefer_failure)) ||
	    (p->filter_count && (!is_map || p->filter_count > r->filter_count)))
		__builtin_trap();
	if (count_options(d, is_map ? 60 : 24, size) !=
	    known + p->unknown_options)
		__builtin_trap();
}

/* every byte of it, as the decoder's memset leaves it */
static bool is_zeroed(const struct pcp_response *p)
{
	const uint8_t *bytes = (const uint8_t *)p;

	for (size_t i = 0; i < sizeof(*p); i++)
		if (bytes[i])
			return false;
	return true;
}

static void check_response(const uint8_t *d, size_t size,
			   const struct pcp_request *r)
{
	struct pcp_response p;
	enum pcp_verdict verdict = pcp_response_decode(d, size, r, &p);

	if (verdict == PCP_ACCEPTED) {
		check_accepted(d, size, r, &p);
	} else if (verdict == PCP_OTHER_VERSION) {
		if (size < PCP_HEADER_SIZE || size > PCP_DATAGRAM_MAX ||
		    size % 4 || d[0] == PCP_VERSION ||
		    !(d[1] & PCP_RESPONSE_BIT) ||
		    d[3] != PCP_RESULT_UNSUPPORTED_VERSION ||
		    p.header.version != d[0] || p.internal_port != 0)
			__builtin_trap();
	} else if (!is_zeroed(&p)) {
		__builtin_trap(); /* a refusal leaves nothing behind */
	}
	if (!*pcp_verdict_text(verdict))
		__builtin_trap();
}

/* The descriptions stop at the buffer's end, which the canary marks. */
static void check_describe(const struct pcp_request *r, const uint8_t *response,
			   size_t response_size, size_t size)
{
	char text[512];
	struct pcp_response p;

	pcp_response_decode(response, response_size, r, &p);
	memset(text, '#', sizeof(text));
	pcp_request_describe(r, text, size);
	if (text[size] != '#' || (size && strlen(text) >= size))
		__builtin_trap();
	memset(text, '#', sizeof(text));
	pcp_response_describe(&p, text, size);
	if (text[size] != '#' || (size && strlen(text) >= size))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pcp_request request;

	if (size < CHOICE_SIZE)
		return 0;
	choose_request(data, &request);
	check_encoding(&request, data);
	check_response(data + CHOICE_SIZE, size - CHOICE_SIZE, &request);
	/* a roomy buffer, and one of 0-255 bytes that cuts most lines short */
	check_describe(&request, data + CHOICE_SIZE, size - CHOICE_SIZE, 511);
	check_describe(&request, data + CHOICE_SIZE, size - CHOICE_SIZE,
		       data[22]);
	return 0;
}
