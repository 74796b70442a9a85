/* fuzz_reply.c - libFuzzer target for everything decoded from the network:
 * NAT-PMP replies to each kind of request, PCP response headers, and
 * gateway announcements in either format. What is accepted must really be
 * what it claims. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "proto/announce.h"
#include "wire/wire_natpmp.h"
#include "wire/wire_pcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_natpmp(const uint8_t *data, size_t size,
			 const struct natpmp_request *request)
{
	struct natpmp_reply reply;
	char text[256];
	enum natpmp_verdict verdict =
		natpmp_reply_decode(data, size, request, &reply);

	if (verdict == NATPMP_REPLY_PCP_FORMAT &&
	    (size < PCP_HEADER_SIZE || size % 4 || data[0] != PCP_VERSION ||
	     !(data[1] & PCP_RESPONSE_BIT) ||
	     data[3] != PCP_RESULT_UNSUPPORTED_VERSION))
		__builtin_trap();
	if (verdict != NATPMP_REPLY_ACCEPTED)
		return;
	/* what is accepted must really be the reply to this request */
	if (size < 4 || data[0] != 0 ||
	    data[1] != (NATPMP_OP_RESPONSE_BIT | request->opcode))
		__builtin_trap();
	if (reply.has_mapping && reply.internal_port != request->internal_port)
		__builtin_trap();
	if (reply.result == 0 && size != NATPMP_ADDRESS_RESPONSE_SIZE &&
	    size != NATPMP_MAP_RESPONSE_SIZE)
		__builtin_trap();
	natpmp_reply_describe(&reply, text, sizeof(text));
	if (strlen(text) >= sizeof(text))
		__builtin_trap();
}

static void check_pcp(const uint8_t *data, size_t size)
{
	struct pcp_response_header header;

	if (pcp_response_header_decode(data, size, &header) == PCP_ACCEPTED &&
	    (size < PCP_HEADER_SIZE || size > PCP_DATAGRAM_MAX || size % 4 ||
	     data[0] != PCP_VERSION || !(data[1] & PCP_RESPONSE_BIT) ||
	     header.opcode != (data[1] & 0x7f) || header.result != data[3]))
		__builtin_trap();
	if (pcp_announce_decode(data, size, &header) == PCP_ACCEPTED &&
	    (header.opcode != PCP_OP_ANNOUNCE || header.result != 0))
		__builtin_trap();
}

static void check_announcement(const uint8_t *data, size_t size)
{
	struct announcement a;
	const char *why = "";

	if (!announce_decode(data, size, &a, &why)) {
		if (!why || strlen(why) == 0)
			__builtin_trap(); /* a refusal always says why */
		return;
	}
	if (a.format == PROTOCOL_NATPMP &&
	    (size != NATPMP_ADDRESS_RESPONSE_SIZE || data[0] != 0 ||
	     data[1] != NATPMP_OP_RESPONSE_BIT || data[2] || data[3]))
		__builtin_trap();
	if (a.format == PROTOCOL_PCP &&
	    (size < PCP_HEADER_SIZE || data[0] != PCP_VERSION ||
	     data[1] != PCP_RESPONSE_BIT || data[3] != 0))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct natpmp_request request = { .opcode = NATPMP_OP_ADDRESS };
	char text[256];

	/* the first three bytes choose the request the datagram answers */
	if (size >= 3) {
		request.opcode = (enum natpmp_opcode)((data[0] & 0x7f) % 3);
		request.internal_port = (uint16_t)(data[1] << 8 | data[2]);
		request.lifetime = data[0] & 0x80 ? 0 : 7200;
		data += 3;
		size -= 3;
	}
	check_natpmp(data, size, &request);
	natpmp_request_describe(&request, text, sizeof(text));
	check_pcp(data, size);
	check_announcement(data, size);
	return 0;
}
