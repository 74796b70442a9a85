/* wire_pcp.c - PCP (RFC 6887) encoding and decoding, byte by byte over
 * (buffer, length); nothing here touches the network. */
#include "wire/wire_pcp.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "wire/wire_bytes.h"

#define OPTION_HEADER_SIZE 4 /* code, reserved, length: section 7.3 */
#define THIRD_PARTY_SIZE 16  /* section 13.1 */
#define FILTER_SIZE 20	     /* section 13.3 */
#define ADDRESS_TEXT_SIZE 48 /* INET6_ADDRSTRLEN and a little */

static const uint8_t v4_mapped_prefix[12] = { [10] = 0xff, [11] = 0xff };

static bool is_v4_mapped(const uint8_t address[16])
{
	return memcmp(address, v4_mapped_prefix, sizeof(v4_mapped_prefix)) == 0;
}

/* section 13.3: at most 128 bits; an IPv4-mapped address needs the 96
 * that make it one, unless the prefix is 0 (no address filtering) */
static bool filter_is_valid(const struct pcp_filter *filter)
{
	if (filter->prefix_length > 128)
		return false;
	return !is_v4_mapped(filter->remote_address) ||
	       filter->prefix_length == 0 || filter->prefix_length >= 96;
}

static bool request_is_valid(const struct pcp_request *r)
{
	if (r->opcode == PCP_OP_ANNOUNCE)
		return r->lifetime == 0; /* section 14.1.1 */
	if (r->opcode != PCP_OP_MAP || r->filter_count > FILTER_MAX)
		return false;
	/* section 11.1: with protocol 0 (all protocols) the internal port
	 * MUST be 0 */
	if (r->protocol == 0 && r->internal_port != 0)
		return false;
	for (size_t i = 0; i < r->filter_count; i++)
		if (!filter_is_valid(&r->filters[i]))
			return false;
	return true;
}

static size_t request_size(const struct pcp_request *r)
{
	size_t size = PCP_HEADER_SIZE;

	if (r->opcode != PCP_OP_MAP)
		return size;
	size += PCP_MAP_SIZE;
	if (r->third_party)
		size += OPTION_HEADER_SIZE + THIRD_PARTY_SIZE;
	if (r->prefer_failure)
		size += OPTION_HEADER_SIZE;
	return size + r->filter_count * (OPTION_HEADER_SIZE + FILTER_SIZE);
}

static uint8_t *put_option_header(uint8_t *p, uint8_t code, uint16_t length)
{
	p[0] = code;
	p[1] = 0; /* reserved */
	wire_put16(p + 2, length);
	return p + OPTION_HEADER_SIZE;
}

/* section 13; all three have data lengths that need no padding */
static void encode_options(const struct pcp_request *r, uint8_t *p)
{
	if (r->third_party) {
		p = put_option_header(p, PCP_OPTION_THIRD_PARTY,
				      THIRD_PARTY_SIZE);
		memcpy(p, r->internal_address, THIRD_PARTY_SIZE);
		p += THIRD_PARTY_SIZE;
	}
	if (r->prefer_failure)
		p = put_option_header(p, PCP_OPTION_PREFER_FAILURE, 0);
	for (size_t i = 0; i < r->filter_count; i++) {
		const struct pcp_filter *filter = &r->filters[i];

		p = put_option_header(p, PCP_OPTION_FILTER, FILTER_SIZE);
		p[0] = 0; /* reserved */
		p[1] = filter->prefix_length;
		wire_put16(p + 2, filter->remote_port);
		memcpy(p + 4, filter->remote_address, 16);
		p += FILTER_SIZE;
	}
}

/* section 11.1 */
static void encode_map(const struct pcp_request *r, uint8_t *p)
{
	memcpy(p, r->nonce, NONCE_SIZE);
	p[12] = r->protocol;
	memset(p + 13, 0, 3); /* reserved */
	wire_put16(p + 16, r->internal_port);
	wire_put16(p + 18, r->suggested_port);
	memcpy(p + 20, r->suggested_address, 16);
}

size_t pcp_request_encode(const struct pcp_request *r, uint8_t *buffer,
			  size_t size)
{
	size_t length;

	if (!request_is_valid(r))
		return 0;
	length = request_size(r);
	if (size < length)
		return 0;
	/* section 7.1 */
	buffer[0] = PCP_VERSION;
	buffer[1] = (uint8_t)r->opcode; /* R bit clear: a request */
	wire_put16(buffer + 2, 0);	/* reserved */
	wire_put32(buffer + 4, r->lifetime);
	memcpy(buffer + 8, r->client_address, 16);
	if (r->opcode == PCP_OP_MAP) {
		encode_map(r, buffer + PCP_HEADER_SIZE);
		encode_options(r, buffer + PCP_HEADER_SIZE + PCP_MAP_SIZE);
	}
	return length;
}

/* sections 7 and 8.3: the size of every PCP message */
static enum pcp_verdict check_length(size_t length)
{
	if (length < PCP_HEADER_SIZE)
		return PCP_TOO_SHORT;
	if (length > PCP_DATAGRAM_MAX)
		return PCP_TOO_LONG;
	if (length % 4 != 0)
		return PCP_NOT_MULTIPLE_OF_4;
	return PCP_ACCEPTED;
}

/* section 7.2 */
static void read_header(const uint8_t *d, struct pcp_response_header *header)
{
	header->version = d[0];
	header->opcode = d[1] & (uint8_t)~PCP_RESPONSE_BIT;
	header->result = d[3];
	header->lifetime = wire_get32(d + 4);
	header->epoch = wire_get32(d + 8);
}

enum pcp_verdict pcp_response_header_decode(const uint8_t *d, size_t length,
					    struct pcp_response_header *header)
{
	enum pcp_verdict verdict = check_length(length);

	memset(header, 0, sizeof(*header));
	if (verdict != PCP_ACCEPTED)
		return verdict;
	if (d[0] != PCP_VERSION)
		return PCP_NOT_VERSION_2;
	if (!(d[1] & PCP_RESPONSE_BIT))
		return PCP_NOT_A_RESPONSE;
	read_header(d, header);
	return PCP_ACCEPTED;
}

/* section 11.4: a MAP response answers the request with the same nonce,
 * protocol and internal port; the server chose everything else */
static enum pcp_verdict decode_map(const uint8_t *d, size_t length,
				   const struct pcp_request *r,
				   struct pcp_response *response)
{
	const uint8_t *map = d + PCP_HEADER_SIZE;

	if (length < PCP_HEADER_SIZE + PCP_MAP_SIZE)
		return PCP_TOO_SHORT;
	if (memcmp(map, r->nonce, NONCE_SIZE) != 0)
		return PCP_WRONG_NONCE;
	if (map[12] != r->protocol)
		return PCP_WRONG_PROTOCOL;
	if (wire_get16(map + 16) != r->internal_port)
		return PCP_WRONG_INTERNAL_PORT;
	memcpy(response->nonce, map, NONCE_SIZE);
	response->protocol = map[12];
	response->internal_port = wire_get16(map + 16);
	response->external_port = wire_get16(map + 18);
	memcpy(response->external_address, map + 20, 16);
	return PCP_ACCEPTED;
}

static enum pcp_verdict decode_third_party(const uint8_t *data,
					   size_t data_length,
					   const struct pcp_request *r,
					   struct pcp_response *response)
{
	if (data_length != THIRD_PARTY_SIZE || !r->third_party ||
	    response->third_party)
		return PCP_BAD_OPTION;
	response->third_party = true;
	memcpy(response->internal_address, data, THIRD_PARTY_SIZE);
	/* section 11.4: the internal address is part of the match */
	if (memcmp(data, r->internal_address, THIRD_PARTY_SIZE) != 0)
		return PCP_WRONG_INTERNAL_ADDRESS;
	return PCP_ACCEPTED;
}

static enum pcp_verdict decode_filter(const uint8_t *data, size_t data_length,
				      const struct pcp_request *r,
				      struct pcp_response *response)
{
	struct pcp_filter filter = { .prefix_length = 0 };

	/* the server echoes what it applied: no more than we sent */
	if (data_length != FILTER_SIZE ||
	    response->filter_count >= r->filter_count)
		return PCP_BAD_OPTION;
	filter.prefix_length = data[1];
	memcpy(filter.remote_address, data + 4, 16);
	if (!filter_is_valid(&filter))
		return PCP_BAD_OPTION;
	response->filter_count++;
	return PCP_ACCEPTED;
}

/* Section 13: each known option is valid in a MAP response only, and
 * only if the request carried it. Section 7.3: a client ignores the
 * options it does not understand, mandatory ones included. */
static enum pcp_verdict decode_option(uint8_t code, const uint8_t *data,
				      size_t data_length,
				      const struct pcp_request *r,
				      struct pcp_response *response)
{
	bool is_map = r->opcode == PCP_OP_MAP;

	switch (code) {
	case PCP_OPTION_THIRD_PARTY:
		if (!is_map)
			return PCP_BAD_OPTION;
		return decode_third_party(data, data_length, r, response);
	case PCP_OPTION_PREFER_FAILURE:
		if (!is_map || data_length != 0 || !r->prefer_failure ||
		    response->prefer_failure)
			return PCP_BAD_OPTION;
		response->prefer_failure = true;
		return PCP_ACCEPTED;
	case PCP_OPTION_FILTER:
		if (!is_map)
			return PCP_BAD_OPTION;
		return decode_filter(data, data_length, r, response);
	default: break;
	}
	response->unknown_options++;
	return PCP_ACCEPTED;
}

/* Section 7.3: options fill the rest of the datagram, each a 4-byte
 * header and its data padded with zeros to a multiple of 4; the length
 * field counts the data without the padding. */
static enum pcp_verdict decode_options(const uint8_t *d, size_t offset,
				       size_t length,
				       const struct pcp_request *r,
				       struct pcp_response *response)
{
	while (offset < length) {
		const uint8_t *option = d + offset;
		size_t data_length, padded;
		enum pcp_verdict verdict;

		/* lengths in multiples of 4 rule this out; it guards the read */
		if (length - offset < OPTION_HEADER_SIZE)
			return PCP_BAD_OPTION;
		data_length = wire_get16(option + 2);
		padded = (data_length + 3) & ~(size_t)3;
		if (padded > length - offset - OPTION_HEADER_SIZE)
			return PCP_BAD_OPTION;
		verdict = decode_option(option[0], option + OPTION_HEADER_SIZE,
					data_length, r, response);
		if (verdict != PCP_ACCEPTED)
			return verdict;
		offset += OPTION_HEADER_SIZE + padded;
	}
	return PCP_ACCEPTED;
}

/* Section 9: a server that does not speak our version answers in its own,
 * with UNSUPP_VERSION. Its header layout may be all we share with it. */
static bool is_other_version(const uint8_t *d)
{
	return d[0] != PCP_VERSION && (d[1] & PCP_RESPONSE_BIT) &&
	       d[3] == PCP_RESULT_UNSUPPORTED_VERSION;
}

static enum pcp_verdict decode_body(const uint8_t *d, size_t length,
				    const struct pcp_request *r,
				    struct pcp_response *response)
{
	size_t options = PCP_HEADER_SIZE;

	if (response->header.opcode != (unsigned)r->opcode)
		return PCP_WRONG_OPCODE;
	if (r->opcode == PCP_OP_MAP) {
		enum pcp_verdict verdict = decode_map(d, length, r, response);
		if (verdict != PCP_ACCEPTED)
			return verdict;
		options += PCP_MAP_SIZE;
	} else if (r->opcode != PCP_OP_ANNOUNCE) {
		return PCP_WRONG_OPCODE; /* never sent: nothing answers it */
	}
	return decode_options(d, options, length, r, response);
}

enum pcp_verdict pcp_response_decode(const uint8_t *d, size_t length,
				     const struct pcp_request *r,
				     struct pcp_response *response)
{
	enum pcp_verdict verdict = check_length(length);

	memset(response, 0, sizeof(*response));
	if (verdict == PCP_ACCEPTED && is_other_version(d)) {
		read_header(d, &response->header);
		return PCP_OTHER_VERSION;
	}
	if (verdict == PCP_ACCEPTED)
		verdict = pcp_response_header_decode(d, length,
						     &response->header);
	if (verdict == PCP_ACCEPTED)
		verdict = decode_body(d, length, r, response);
	if (verdict != PCP_ACCEPTED)
		memset(response, 0, sizeof(*response));
	return verdict;
}

enum pcp_verdict pcp_announce_decode(const uint8_t *d, size_t length,
				     struct pcp_response_header *header)
{
	enum pcp_verdict verdict =
		pcp_response_header_decode(d, length, header);

	if (verdict != PCP_ACCEPTED)
		return verdict;
	if (header->opcode != PCP_OP_ANNOUNCE)
		verdict = PCP_NOT_AN_ANNOUNCE;
	else if (header->result != PCP_RESULT_SUCCESS)
		verdict = PCP_NOT_SUCCESS;
	if (verdict != PCP_ACCEPTED)
		memset(header, 0, sizeof(*header));
	return verdict;
}

bool pcp_has_response_form(const uint8_t *d, size_t length)
{
	return check_length(length) == PCP_ACCEPTED && d[0] != 0 &&
	       (d[1] & PCP_RESPONSE_BIT);
}

const char *pcp_verdict_text(enum pcp_verdict verdict)
{
	switch (verdict) {
	case PCP_ACCEPTED: return "accepted";
	case PCP_TOO_SHORT: return "shorter than a PCP header";
	case PCP_TOO_LONG: return "longer than 1100 bytes";
	case PCP_NOT_MULTIPLE_OF_4: return "length not a multiple of 4";
	case PCP_NOT_VERSION_2: return "not PCP version 2";
	case PCP_NOT_A_RESPONSE: return "not a response";
	case PCP_NOT_AN_ANNOUNCE: return "not an ANNOUNCE";
	case PCP_NOT_SUCCESS: return "result is not SUCCESS";
	case PCP_WRONG_OPCODE: return "answers another opcode";
	case PCP_WRONG_NONCE: return "nonce is not the request's";
	case PCP_WRONG_PROTOCOL: return "protocol is not the request's";
	case PCP_WRONG_INTERNAL_PORT:
		return "internal port is not the request's";
	case PCP_BAD_OPTION: return "malformed or unrequested option";
	case PCP_OTHER_VERSION: return "the server speaks another PCP version";
	case PCP_WRONG_INTERNAL_ADDRESS:
		return "third party is not the request's";
	}
	return "unknown";
}

const char *pcp_result_name(uint8_t result)
{
	/* section 7.4 */
	static const char *const names[] = {
		"SUCCESS",	    "UNSUPP_VERSION",
		"NOT_AUTHORIZED",   "MALFORMED_REQUEST",
		"UNSUPP_OPCODE",    "UNSUPP_OPTION",
		"MALFORMED_OPTION", "NETWORK_FAILURE",
		"NO_RESOURCES",	    "UNSUPP_PROTOCOL",
		"USER_EX_QUOTA",    "CANNOT_PROVIDE_EXTERNAL",
		"ADDRESS_MISMATCH", "EXCESSIVE_REMOTE_PEERS",
	};

	if (result < sizeof(names) / sizeof(names[0]))
		return names[result];
	return "unknown result";
}

/* A line built piece by piece, cut short (but always terminated) when the
 * buffer is full. */
struct line {
	char *text;
	size_t size;
	size_t used;
};

static void line_start(struct line *line, char *text, size_t size)
{
	line->text = text;
	line->size = size;
	line->used = 0;
	if (size > 0)
		text[0] = '\0';
}

__attribute__((format(printf, 2, 3))) static void append(struct line *line,
							 const char *format,
							 ...)
{
	va_list arguments;
	int n;

	if (line->used + 1 >= line->size)
		return;
	va_start(arguments, format);
	n = vsnprintf(line->text + line->used, line->size - line->used, format,
		      arguments);
	va_end(arguments);
	line->used = n < 0 ? line->size : line->used + (size_t)n;
}

/* IPv4-mapped addresses as plain IPv4, the way users know them */
static const char *address_text(const uint8_t address[16], char *text,
				size_t size)
{
	const uint8_t *a = address;

	if (is_v4_mapped(a))
		snprintf(text, size, "%u.%u.%u.%u", a[12], a[13], a[14], a[15]);
	else if (!inet_ntop(AF_INET6, a, text, (socklen_t)size))
		snprintf(text, size, "?");
	return text;
}

static bool is_unspecified(const uint8_t address[16])
{
	static const uint8_t zeros[16];

	return memcmp(address, zeros, 16) == 0 ||
	       (is_v4_mapped(address) && memcmp(address + 12, zeros, 4) == 0);
}

static const char *protocol_text(uint8_t protocol, char *text, size_t size)
{
	switch (protocol) {
	case PCP_PROTOCOL_TCP: return transport_name(TRANSPORT_TCP);
	case PCP_PROTOCOL_UDP: return transport_name(TRANSPORT_UDP);
	case 0: return "all-protocols";
	}
	snprintf(text, size, "protocol-%u", (unsigned)protocol);
	return text;
}

static void append_filter(struct line *line, const struct pcp_filter *filter)
{
	char address[ADDRESS_TEXT_SIZE];
	unsigned prefix = filter->prefix_length;

	address_text(filter->remote_address, address, sizeof(address));
	if (prefix == 0)
		append(line, ", filter any address");
	else if (is_v4_mapped(filter->remote_address) && prefix >= 96)
		append(line, ", filter %s/%u", address, prefix - 96);
	else
		append(line, ", filter %s/%u", address, prefix);
	if (filter->remote_port == 0)
		append(line, " any port");
	else
		append(line, " port %u", (unsigned)filter->remote_port);
}

static void describe_map_request(const struct pcp_request *r, struct line *line)
{
	char protocol[16], address[ADDRESS_TEXT_SIZE];

	append(line,
	       "PCP map %s request: internal port %u, suggested external port %u, lifetime %lus%s, nonce ",
	       protocol_text(r->protocol, protocol, sizeof(protocol)),
	       (unsigned)r->internal_port, (unsigned)r->suggested_port,
	       (unsigned long)r->lifetime, r->lifetime ? "" : " (delete)");
	for (size_t i = 0; i < NONCE_SIZE; i++)
		append(line, "%02x", r->nonce[i]);
	if (!is_unspecified(r->suggested_address))
		append(line, ", suggested external address %s",
		       address_text(r->suggested_address, address,
				    sizeof(address)));
	if (r->third_party)
		append(line, ", third party %s",
		       address_text(r->internal_address, address,
				    sizeof(address)));
	if (r->prefer_failure)
		append(line, ", prefer failure");
	for (size_t i = 0; i < r->filter_count && i < FILTER_MAX; i++)
		append_filter(line, &r->filters[i]);
}

void pcp_request_describe(const struct pcp_request *r, char *text, size_t size)
{
	struct line line;
	char client[ADDRESS_TEXT_SIZE];

	line_start(&line, text, size);
	address_text(r->client_address, client, sizeof(client));
	if (r->opcode == PCP_OP_MAP)
		describe_map_request(r, &line);
	else if (r->opcode == PCP_OP_ANNOUNCE)
		append(&line, "PCP announce request");
	else
		append(&line, "PCP opcode %u request", (unsigned)r->opcode);
	append(&line, ", client address %s", client);
}

static void describe_mapping(const struct pcp_response *r, struct line *line)
{
	char address[ADDRESS_TEXT_SIZE];

	address_text(r->external_address, address, sizeof(address));
	append(line, ", internal port %u, external ",
	       (unsigned)r->internal_port);
	if (is_v4_mapped(r->external_address))
		append(line, "%s:%u", address, (unsigned)r->external_port);
	else
		append(line, "[%s]:%u", address, (unsigned)r->external_port);
}

static void describe_response_options(const struct pcp_response *r,
				      struct line *line)
{
	if (r->third_party) {
		char address[ADDRESS_TEXT_SIZE];
		append(line, ", third party %s",
		       address_text(r->internal_address, address,
				    sizeof(address)));
	}
	if (r->prefer_failure)
		append(line, ", prefer failure");
	if (r->filter_count)
		append(line, ", %lu filters", (unsigned long)r->filter_count);
	if (r->unknown_options)
		append(line, ", %u unknown options", r->unknown_options);
}

void pcp_response_describe(const struct pcp_response *r, char *text,
			   size_t size)
{
	const struct pcp_response_header *h = &r->header;
	struct line line;

	line_start(&line, text, size);
	if (h->version != PCP_VERSION) {
		/* from a server of another version: only its header is known */
		append(&line, "PCP version %u response: result %u (%s)",
		       (unsigned)h->version, (unsigned)h->result,
		       pcp_result_name(h->result));
		return;
	}
	if (h->opcode == PCP_OP_MAP) {
		char protocol[16];
		append(&line, "PCP map %s response",
		       protocol_text(r->protocol, protocol, sizeof(protocol)));
	} else if (h->opcode == PCP_OP_ANNOUNCE) {
		append(&line, "PCP announce response");
	} else {
		append(&line, "PCP opcode %u response", (unsigned)h->opcode);
	}
	append(&line, ": result %u (%s), epoch %lu", (unsigned)h->result,
	       pcp_result_name(h->result), (unsigned long)h->epoch);
	if (h->opcode == PCP_OP_MAP)
		describe_mapping(r, &line);
	append(&line, ", lifetime %lus", (unsigned long)h->lifetime);
	describe_response_options(r, &line);
}
