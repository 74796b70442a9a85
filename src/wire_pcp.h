/* wire_pcp.h - PCP (RFC 6887) packet decoding: the common response header
 * (section 7.2) and the ANNOUNCE a server multicasts after it lost its
 * state (section 14.1). Pure functions over (buffer, length). */
#ifndef NATPMP_WIRE_PCP_H
#define NATPMP_WIRE_PCP_H

#include <stddef.h>
#include <stdint.h>

#define PCP_VERSION 2
#define PCP_HEADER_SIZE 24    /* section 7.1 and 7.2 */
#define PCP_DATAGRAM_MAX 1100 /* section 7 */
#define PCP_RESPONSE_BIT 0x80 /* the R bit, on the opcode byte */
#define PCP_OP_ANNOUNCE 0
#define PCP_RESULT_SUCCESS 0
#define PCP_RESULT_UNSUPPORTED_VERSION 1

struct pcp_response_header {
	uint8_t opcode; /* without the R bit */
	uint8_t result;
	uint32_t lifetime;
	uint32_t epoch; /* the server's Epoch Time (section 8.5) */
};

/* Why a datagram is not a PCP response (section 8.3: silently ignore). */
enum pcp_verdict {
	PCP_ACCEPTED,
	PCP_TOO_SHORT,
	PCP_TOO_LONG,
	PCP_NOT_MULTIPLE_OF_4,
	PCP_NOT_VERSION_2,
	PCP_NOT_A_RESPONSE,
	PCP_NOT_AN_ANNOUNCE,
	PCP_NOT_SUCCESS,
};

/* Decodes the header of any PCP response: version 2, R bit set, 24 to
 * 1100 bytes in a multiple of 4. On anything else *header is zeroed. */
enum pcp_verdict pcp_response_header_decode(const uint8_t *datagram,
					    size_t length,
					    struct pcp_response_header *header);

/* Decodes an unsolicited ANNOUNCE response: a header with opcode 0 and
 * result SUCCESS (section 14.1.3). */
enum pcp_verdict pcp_announce_decode(const uint8_t *datagram, size_t length,
				     struct pcp_response_header *header);

const char *pcp_verdict_text(enum pcp_verdict verdict);

#endif
