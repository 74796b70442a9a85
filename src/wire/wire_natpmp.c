/* wire_natpmp.c - NAT-PMP packet encoding and decoding (RFC 6886 section 3).
 * Byte by byte over (buffer, length); nothing here touches the network. */
#include "wire/wire_natpmp.h"

#include <stdio.h>
#include <string.h>

#include "wire/wire_bytes.h"
#include "wire/wire_pcp.h"

size_t natpmp_request_encode(const struct natpmp_request *request,
			     uint8_t *buffer, size_t size)
{
	if (request->opcode == NATPMP_OP_ADDRESS) {
		if (size < NATPMP_ADDRESS_REQUEST_SIZE)
			return 0;
		buffer[0] = NATPMP_VERSION;
		buffer[1] = NATPMP_OP_ADDRESS;
		return NATPMP_ADDRESS_REQUEST_SIZE;
	}
	if (size < NATPMP_MAP_REQUEST_SIZE)
		return 0;
	buffer[0] = NATPMP_VERSION;
	buffer[1] = (uint8_t)request->opcode;
	wire_put16(buffer + 2, 0); /* reserved, MUST be zero (section 3.3) */
	wire_put16(buffer + 4, request->internal_port);
	/* section 3.4: a deletion MUST suggest external port 0 */
	wire_put16(buffer + 6, request->lifetime == 0
				       ? 0
				       : request->suggested_external_port);
	wire_put32(buffer + 8, request->lifetime);
	return NATPMP_MAP_REQUEST_SIZE;
}

/*
 * Reply forms accepted, all with version 0 and opcode = request + 128:
 *   the full response (12 bytes for address, 16 for map), any result;
 *   with a non-zero result only, the 8-byte header-and-epoch form some
 *   gateways send, and for map the 12-byte echo of the request that
 *   section 3.5 prescribes for an unsupported opcode (internal port at
 *   offset 4, no epoch). Anything else is not ours: ignore it.
 */
static enum natpmp_verdict decode(const uint8_t *d, size_t length,
				  enum natpmp_opcode opcode,
				  struct natpmp_reply *reply)
{
	bool is_map = opcode != NATPMP_OP_ADDRESS;
	size_t full = is_map ? NATPMP_MAP_RESPONSE_SIZE
			     : NATPMP_ADDRESS_RESPONSE_SIZE;

	if (length < 4)
		return NATPMP_REPLY_TOO_SHORT;
	if (d[0] == PCP_VERSION) {
		/* a gateway that speaks PCP, not NAT-PMP, answers version 0
		 * with its own UNSUPP_VERSION (RFC 6887 section 9); another
		 * PCP response (a late one to a PCP request on the same
		 * socket), or junk merely starting with 2, is not that */
		struct pcp_response_header header;
		return pcp_response_header_decode(d, length, &header) ==
					       PCP_ACCEPTED &&
				       header.result ==
					       PCP_RESULT_UNSUPPORTED_VERSION
			       ? NATPMP_REPLY_PCP_FORMAT
			       : NATPMP_REPLY_BAD_VERSION;
	}
	if (d[0] != NATPMP_VERSION)
		return NATPMP_REPLY_BAD_VERSION;
	if (!(d[1] & NATPMP_OP_RESPONSE_BIT))
		return NATPMP_REPLY_NOT_A_RESPONSE;
	if (d[1] != (NATPMP_OP_RESPONSE_BIT | opcode))
		return NATPMP_REPLY_WRONG_OPCODE;

	reply->opcode = opcode;
	reply->result = wire_get16(d + 2);
	if (length == full) {
		reply->has_epoch = true;
		reply->epoch = wire_get32(d + 4);
		if (!is_map) {
			/* section 3.2: with a non-zero result the address
			 * MUST be ignored */
			reply->has_address =
				reply->result == NATPMP_RESULT_SUCCESS;
			if (reply->has_address)
				reply->external_address = wire_get32(d + 8);
			return NATPMP_REPLY_ACCEPTED;
		}
		reply->has_mapping = true;
		reply->internal_port = wire_get16(d + 8);
		reply->external_port = wire_get16(d + 10);
		reply->lifetime = wire_get32(d + 12);
		return NATPMP_REPLY_ACCEPTED;
	}
	if (reply->result == NATPMP_RESULT_SUCCESS)
		return NATPMP_REPLY_BAD_LENGTH;
	if (length == NATPMP_SHORT_ERROR_SIZE) {
		reply->has_epoch = true;
		reply->epoch = wire_get32(d + 4);
		return NATPMP_REPLY_ACCEPTED;
	}
	if (is_map && length == NATPMP_MAP_REQUEST_SIZE) {
		reply->internal_port = wire_get16(d + 4);
		return NATPMP_REPLY_ACCEPTED;
	}
	return NATPMP_REPLY_BAD_LENGTH;
}

enum natpmp_verdict natpmp_reply_decode(const uint8_t *datagram, size_t length,
					const struct natpmp_request *request,
					struct natpmp_reply *reply)
{
	struct natpmp_reply decoded;
	enum natpmp_verdict verdict;
	bool carries_port;

	memset(reply, 0, sizeof(*reply));
	memset(&decoded, 0, sizeof(decoded));
	verdict = decode(datagram, length, request->opcode, &decoded);
	if (verdict != NATPMP_REPLY_ACCEPTED)
		return verdict;
	/* a late answer to an earlier mapping request looks just like ours
	 * but for the internal port (section 3.5 makes servers echo it) */
	carries_port = decoded.has_mapping || length == NATPMP_MAP_REQUEST_SIZE;
	if (request->opcode != NATPMP_OP_ADDRESS && carries_port &&
	    decoded.internal_port != request->internal_port)
		return NATPMP_REPLY_WRONG_INTERNAL_PORT;
	/* section 3.4: a deletion is answered with lifetime 0; a lifetime is
	 * a late answer to an earlier request to map the same port */
	if (request->opcode != NATPMP_OP_ADDRESS && request->lifetime == 0 &&
	    decoded.has_mapping && decoded.result == NATPMP_RESULT_SUCCESS &&
	    decoded.lifetime != 0)
		return NATPMP_REPLY_NOT_A_DELETION;
	*reply = decoded;
	return NATPMP_REPLY_ACCEPTED;
}

enum natpmp_verdict natpmp_announcement_decode(const uint8_t *datagram,
					       size_t length,
					       struct natpmp_reply *reply)
{
	struct natpmp_request address = { .opcode = NATPMP_OP_ADDRESS };
	enum natpmp_verdict verdict;

	verdict = natpmp_reply_decode(datagram, length, &address, reply);
	/* an announcement always has the full address-reply format */
	if (verdict == NATPMP_REPLY_ACCEPTED &&
	    length != NATPMP_ADDRESS_RESPONSE_SIZE) {
		memset(reply, 0, sizeof(*reply));
		return NATPMP_REPLY_BAD_LENGTH;
	}
	return verdict;
}

bool natpmp_has_reply_form(const uint8_t *d, size_t length)
{
	return (length == NATPMP_SHORT_ERROR_SIZE ||
		length == NATPMP_ADDRESS_RESPONSE_SIZE ||
		length == NATPMP_MAP_RESPONSE_SIZE) &&
	       d[0] == NATPMP_VERSION && (d[1] & NATPMP_OP_RESPONSE_BIT);
}

const char *natpmp_verdict_text(enum natpmp_verdict verdict)
{
	switch (verdict) {
	case NATPMP_REPLY_ACCEPTED: return "accepted";
	case NATPMP_REPLY_TOO_SHORT: return "too short";
	case NATPMP_REPLY_PCP_FORMAT:
		return "a PCP server's UNSUPP_VERSION (version 2)";
	case NATPMP_REPLY_BAD_VERSION: return "unknown version";
	case NATPMP_REPLY_NOT_A_RESPONSE: return "not a response";
	case NATPMP_REPLY_WRONG_OPCODE: return "answers another request type";
	case NATPMP_REPLY_BAD_LENGTH: return "wrong length";
	case NATPMP_REPLY_WRONG_INTERNAL_PORT:
		return "answers another internal port";
	case NATPMP_REPLY_NOT_A_DELETION:
		return "grants a lifetime: answers a mapping, not this deletion";
	}
	return "unknown";
}

const char *natpmp_result_text(uint16_t result)
{
	switch (result) {
	case NATPMP_RESULT_SUCCESS: return "success";
	case NATPMP_RESULT_UNSUPPORTED_VERSION: return "unsupported version";
	case NATPMP_RESULT_NOT_AUTHORIZED: return "not authorized";
	case NATPMP_RESULT_NETWORK_FAILURE: return "network failure";
	case NATPMP_RESULT_OUT_OF_RESOURCES: return "out of resources";
	case NATPMP_RESULT_UNSUPPORTED_OPCODE: return "unsupported opcode";
	}
	return "unknown result code";
}

static const char *opcode_name(enum natpmp_opcode opcode)
{
	switch (opcode) {
	case NATPMP_OP_ADDRESS: return "address";
	case NATPMP_OP_MAP_UDP: return "map udp";
	case NATPMP_OP_MAP_TCP: return "map tcp";
	}
	return "opcode ?";
}

void natpmp_request_describe(const struct natpmp_request *request, char *text,
			     size_t size)
{
	if (request->opcode == NATPMP_OP_ADDRESS) {
		snprintf(text, size, "address request");
		return;
	}
	snprintf(
		text, size,
		"%s request: internal port %u, suggested external port %u, lifetime %lus",
		opcode_name(request->opcode), (unsigned)request->internal_port,
		request->lifetime == 0
			? 0u
			: (unsigned)request->suggested_external_port,
		(unsigned long)request->lifetime);
}

void natpmp_reply_describe(const struct natpmp_reply *reply, char *text,
			   size_t size)
{
	int n = snprintf(text, size, "%s reply: result %u (%s)",
			 opcode_name(reply->opcode), (unsigned)reply->result,
			 natpmp_result_text(reply->result));

	if (n < 0 || (size_t)n >= size)
		return;
	if (reply->has_epoch)
		n += snprintf(text + n, size - (size_t)n, ", epoch %lu",
			      (unsigned long)reply->epoch);
	if (n < 0 || (size_t)n >= size)
		return;
	if (reply->has_address) {
		uint32_t a = reply->external_address;
		snprintf(text + n, size - (size_t)n,
			 ", external address %u.%u.%u.%u", a >> 24,
			 a >> 16 & 0xff, a >> 8 & 0xff, a & 0xff);
	} else if (reply->has_mapping) {
		snprintf(text + n, size - (size_t)n,
			 ", internal port %u, external port %u, lifetime %lus",
			 (unsigned)reply->internal_port,
			 (unsigned)reply->external_port,
			 (unsigned long)reply->lifetime);
	}
}
