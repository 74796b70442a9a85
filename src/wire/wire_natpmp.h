/* wire_natpmp.h - NAT-PMP packet encoding and decoding (RFC 6886 section 3).
 * Pure functions over (buffer, length): no sockets, no errno, no output. */
#ifndef NATPMP_WIRE_NATPMP_H
#define NATPMP_WIRE_NATPMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/port_mapping.h"

#define NATPMP_VERSION 0
#define NATPMP_OP_RESPONSE_BIT 128

enum natpmp_opcode {
	NATPMP_OP_ADDRESS = 0,
	NATPMP_OP_MAP_UDP = 1,
	NATPMP_OP_MAP_TCP = 2,
};

/* RFC 6886 section 3.5; any other value is a fatal error of the request */
enum natpmp_result_code {
	NATPMP_RESULT_SUCCESS = 0,
	NATPMP_RESULT_UNSUPPORTED_VERSION = 1,
	NATPMP_RESULT_NOT_AUTHORIZED = 2,
	NATPMP_RESULT_NETWORK_FAILURE = 3,
	NATPMP_RESULT_OUT_OF_RESOURCES = 4,
	NATPMP_RESULT_UNSUPPORTED_OPCODE = 5,
};

#define NATPMP_ADDRESS_REQUEST_SIZE 2
#define NATPMP_MAP_REQUEST_SIZE 12
#define NATPMP_ADDRESS_RESPONSE_SIZE 12
#define NATPMP_MAP_RESPONSE_SIZE 16
#define NATPMP_SHORT_ERROR_SIZE 8
#define NATPMP_REQUEST_MAX_SIZE NATPMP_MAP_REQUEST_SIZE

struct natpmp_request {
	enum natpmp_opcode opcode;
	uint16_t internal_port;		  /* map only */
	uint16_t suggested_external_port; /* map only; 0 = no preference */
	uint32_t lifetime;		  /* map only; 0 = delete */
};

/* A decoded reply. Fields a given reply form does not carry are zero and
 * flagged by has_epoch, has_address and has_mapping. Addresses are in host byte order. */
struct natpmp_reply {
	enum natpmp_opcode opcode; /* the request opcode this answers */
	uint16_t result;
	bool has_epoch;
	uint32_t epoch; /* seconds since start of epoch (SSSoE) */
	bool has_address;
	uint32_t external_address; /* address replies */
	bool has_mapping; /* internal port, external port and lifetime valid */
	uint16_t internal_port;
	uint16_t external_port;
	uint32_t lifetime;
};

/* Why a datagram is not an acceptable reply to a request. */
enum natpmp_verdict {
	NATPMP_REPLY_ACCEPTED,
	NATPMP_REPLY_TOO_SHORT,
	NATPMP_REPLY_PCP_FORMAT, /* a PCP server's UNSUPP_VERSION */
	NATPMP_REPLY_BAD_VERSION,
	NATPMP_REPLY_NOT_A_RESPONSE,
	NATPMP_REPLY_WRONG_OPCODE,
	NATPMP_REPLY_BAD_LENGTH,
	NATPMP_REPLY_WRONG_INTERNAL_PORT,
	NATPMP_REPLY_NOT_A_DELETION, /* grants a lifetime to a deletion */
};

/* Encodes a request; returns its length, or 0 if size is too small. */
size_t natpmp_request_encode(const struct natpmp_request *request,
			     uint8_t *buffer, size_t size);

/* Decodes a datagram as the reply to request. On anything but
 * NATPMP_REPLY_ACCEPTED, *reply is left zeroed. */
enum natpmp_verdict natpmp_reply_decode(const uint8_t *datagram, size_t length,
					const struct natpmp_request *request,
					struct natpmp_reply *reply);

/* Decodes a gateway announcement (an unsolicited address reply sent to
 * 224.0.0.1:5350, RFC 6886 section 3.2.1). */
enum natpmp_verdict natpmp_announcement_decode(const uint8_t *datagram,
					       size_t length,
					       struct natpmp_reply *reply);

/* Whether a datagram has the form of some NAT-PMP reply (version 0, the
 * response bit, 8, 12 or 16 bytes), whatever request it answers. */
bool natpmp_has_reply_form(const uint8_t *datagram, size_t length);

const char *natpmp_verdict_text(enum natpmp_verdict verdict);
const char *natpmp_result_text(uint16_t result);

/* One-line human descriptions for --verbose. */
void natpmp_request_describe(const struct natpmp_request *request, char *text,
			     size_t size);
void natpmp_reply_describe(const struct natpmp_reply *reply, char *text,
			   size_t size);

#endif
