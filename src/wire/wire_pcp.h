/* wire_pcp.h - PCP (RFC 6887) packet encoding and decoding: the common
 * headers (section 7), MAP (section 11) and ANNOUNCE (section 14) with
 * the THIRD_PARTY, PREFER_FAILURE and FILTER options (section 13). Pure
 * functions over (buffer, length): no sockets, no errno, no output. */
#ifndef NATPMP_WIRE_PCP_H
#define NATPMP_WIRE_PCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/port_mapping.h"

#define PCP_VERSION 2
#define PCP_HEADER_SIZE 24    /* section 7.1 and 7.2 */
#define PCP_MAP_SIZE 36	      /* the MAP opcode's data, section 11.1 */
#define PCP_DATAGRAM_MAX 1100 /* section 7 */
#define PCP_RESPONSE_BIT 0x80 /* the R bit, on the opcode byte */

enum pcp_opcode {
	PCP_OP_ANNOUNCE = 0,
	PCP_OP_MAP = 1,
};

enum pcp_option_code {
	PCP_OPTION_THIRD_PARTY = 1,
	PCP_OPTION_PREFER_FAILURE = 2,
	PCP_OPTION_FILTER = 3,
};

/* IANA protocol numbers, as the MAP opcode carries them */
#define PCP_PROTOCOL_TCP 6
#define PCP_PROTOCOL_UDP 17

/* section 7.4 */
enum pcp_result_code {
	PCP_RESULT_SUCCESS = 0,
	PCP_RESULT_UNSUPPORTED_VERSION = 1,
	PCP_RESULT_NOT_AUTHORIZED = 2,
	PCP_RESULT_MALFORMED_REQUEST = 3,
	PCP_RESULT_UNSUPPORTED_OPCODE = 4,
	PCP_RESULT_UNSUPPORTED_OPTION = 5,
	PCP_RESULT_MALFORMED_OPTION = 6,
	PCP_RESULT_NETWORK_FAILURE = 7,
	PCP_RESULT_NO_RESOURCES = 8,
	PCP_RESULT_UNSUPPORTED_PROTOCOL = 9,
	PCP_RESULT_USER_EXCEEDED_QUOTA = 10,
	PCP_RESULT_CANNOT_PROVIDE_EXTERNAL = 11,
	PCP_RESULT_ADDRESS_MISMATCH = 12,
	PCP_RESULT_EXCESSIVE_REMOTE_PEERS = 13,
};

/* Addresses are 16 bytes in network order, IPv4 as IPv4-mapped IPv6
 * (::ffff:a.b.c.d), as PCP carries them (section 5). */
struct pcp_filter {
	uint8_t prefix_length; /* of remote_address: 0 (any address) to 128;
				  0 or 96-128 for an IPv4-mapped one */
	uint16_t remote_port;  /* 0: any */
	uint8_t remote_address[16];
};

struct pcp_request {
	enum pcp_opcode opcode;
	uint32_t lifetime;	    /* MAP: 0 deletes; ANNOUNCE: 0 */
	uint8_t client_address[16]; /* the request's source address */
	/* MAP only */
	uint8_t nonce[NONCE_SIZE];
	uint8_t protocol; /* PCP_PROTOCOL_TCP or _UDP */
	uint16_t internal_port;
	uint16_t suggested_port;       /* 0: no preference */
	uint8_t suggested_address[16]; /* all zeros of the family: none */
	bool third_party;	       /* THIRD_PARTY with internal_address */
	uint8_t internal_address[16];
	bool prefer_failure; /* PREFER_FAILURE */
	struct pcp_filter filters[FILTER_MAX];
	size_t filter_count;
};

struct pcp_response_header {
	uint8_t version;
	uint8_t opcode; /* without the R bit */
	uint8_t result;
	uint32_t lifetime; /* of the mapping, or how long an error holds */
	uint32_t epoch;	   /* the server's Epoch Time (section 8.5) */
};

struct pcp_response {
	struct pcp_response_header header;
	/* MAP only */
	uint8_t nonce[NONCE_SIZE];
	uint8_t protocol;
	uint16_t internal_port;
	uint16_t external_port;	      /* assigned */
	uint8_t external_address[16]; /* assigned */
	/* options the response carried */
	bool third_party;
	uint8_t internal_address[16]; /* THIRD_PARTY's, when third_party */
	bool prefer_failure;
	size_t filter_count;
	unsigned unknown_options; /* well-formed but not understood */
};

/* Why a datagram is not a PCP response, or not the one to a request
 * (section 8.3: silently ignore it). */
enum pcp_verdict {
	PCP_ACCEPTED,
	PCP_TOO_SHORT,
	PCP_TOO_LONG,
	PCP_NOT_MULTIPLE_OF_4,
	PCP_NOT_VERSION_2,
	PCP_NOT_A_RESPONSE,
	PCP_NOT_AN_ANNOUNCE,
	PCP_NOT_SUCCESS,
	/* only from pcp_response_decode */
	PCP_WRONG_OPCODE,
	PCP_WRONG_NONCE,
	PCP_WRONG_PROTOCOL,
	PCP_WRONG_INTERNAL_PORT,
	PCP_BAD_OPTION,	   /* an option overruns, has the wrong length or
			   data, or is one the request did not carry */
	PCP_OTHER_VERSION, /* UNSUPP_VERSION from a server of another
			      version: see header.version */
	PCP_WRONG_INTERNAL_ADDRESS, /* THIRD_PARTY names another host */
};

/* Encodes a request (header, MAP data, options in the order THIRD_PARTY,
 * PREFER_FAILURE, FILTERs); returns its length, or 0 if size is too
 * small or the request cannot be encoded: an opcode other than MAP or
 * ANNOUNCE, an ANNOUNCE with a lifetime, more than FILTER_MAX
 * filters, a filter's prefix length out of range, or protocol 0 (all
 * protocols) with an internal port. ANNOUNCE ignores the MAP fields. */
size_t pcp_request_encode(const struct pcp_request *request, uint8_t *buffer,
			  size_t size);

/* Decodes the header of any PCP response: version 2, R bit set, 24 to
 * 1100 bytes in a multiple of 4; header.version is then 2. On anything
 * else *header is zeroed. */
enum pcp_verdict pcp_response_header_decode(const uint8_t *datagram,
					    size_t length,
					    struct pcp_response_header *header);

/* Decodes a datagram as the response to request: the header, the same
 * opcode, for MAP the same nonce, protocol and internal port (an error
 * response carries the request's fields back, section 7.2), and options
 * that are all well formed and fill the datagram exactly (unknown ones
 * are counted and skipped). A known option must have been in the request
 * (section 13), at most once for THIRD_PARTY and PREFER_FAILURE, and a
 * THIRD_PARTY must name the request's internal address (section 11.4).
 * A response of 24 to 1100 bytes in a multiple of 4 with the R bit,
 * result UNSUPP_VERSION and a version other than 2 is PCP_OTHER_VERSION
 * with only *header filled in: header.version is the one the server
 * speaks (section 9); neither the opcode nor anything after the header
 * is compared, since another version's layout is unknown. On anything but
 * PCP_ACCEPTED and PCP_OTHER_VERSION *response is zeroed. */
enum pcp_verdict pcp_response_decode(const uint8_t *datagram, size_t length,
				     const struct pcp_request *request,
				     struct pcp_response *response);

/* Decodes an unsolicited ANNOUNCE response: a header with opcode 0 and
 * result SUCCESS (section 14.1.3). */
enum pcp_verdict pcp_announce_decode(const uint8_t *datagram, size_t length,
				     struct pcp_response_header *header);

/* Whether a datagram has the form of some PCP response, of any version
 * but NAT-PMP's 0 (24 to 1100 bytes in a multiple of 4, the R bit),
 * whatever request it answers. */
bool pcp_has_response_form(const uint8_t *datagram, size_t length);

const char *pcp_verdict_text(enum pcp_verdict verdict);
/* "NOT_AUTHORIZED" and so on; "unknown result" outside 0-13. */
const char *pcp_result_name(uint8_t result);

/* One-line descriptions for --verbose. */
void pcp_request_describe(const struct pcp_request *request, char *text,
			  size_t size);
void pcp_response_describe(const struct pcp_response *response, char *text,
			   size_t size);

#endif
