/* wire_pcp.c - PCP (RFC 6887) decoding, byte by byte over (buffer,
 * length); nothing here touches the network. */
#include "wire_pcp.h"

#include <string.h>

#include "wire_bytes.h"

enum pcp_verdict pcp_response_header_decode(const uint8_t *d, size_t length,
					    struct pcp_response_header *header)
{
	memset(header, 0, sizeof(*header));
	if (length < PCP_HEADER_SIZE)
		return PCP_TOO_SHORT;
	if (length > PCP_DATAGRAM_MAX)
		return PCP_TOO_LONG;
	if (length % 4 != 0)
		return PCP_NOT_MULTIPLE_OF_4;
	if (d[0] != PCP_VERSION)
		return PCP_NOT_VERSION_2;
	if (!(d[1] & PCP_RESPONSE_BIT))
		return PCP_NOT_A_RESPONSE;
	header->opcode = d[1] & (uint8_t)~PCP_RESPONSE_BIT;
	header->result = d[3];
	header->lifetime = wire_get32(d + 4);
	header->epoch = wire_get32(d + 8);
	return PCP_ACCEPTED;
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
	}
	return "unknown";
}
