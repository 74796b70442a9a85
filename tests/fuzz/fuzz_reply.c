/* fuzz_reply.c - libFuzzer target for everything decoded from the network:
 * replies to each kind of request, and gateway announcements. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "wire_natpmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct natpmp_request request = { .opcode = NATPMP_OP_ADDRESS };
	struct natpmp_reply reply;
	char text[256];

	/* the first three bytes choose the request the datagram answers */
	if (size >= 3) {
		request.opcode = (enum natpmp_opcode)((data[0] & 0x7f) % 3);
		request.internal_port = (uint16_t)(data[1] << 8 | data[2]);
		request.lifetime = data[0] & 0x80 ? 0 : 7200;
		data += 3;
		size -= 3;
	}
	if (natpmp_reply_decode(data, size, &request, &reply) ==
	    NATPMP_REPLY_ACCEPTED) {
		/* what is accepted must really be the reply to this request */
		if (size < 4 || data[0] != 0 ||
		    data[1] != (NATPMP_OP_RESPONSE_BIT | request.opcode))
			__builtin_trap();
		if (reply.has_mapping &&
		    reply.internal_port != request.internal_port)
			__builtin_trap();
		if (reply.result == 0 && size != NATPMP_ADDRESS_RESPONSE_SIZE &&
		    size != NATPMP_MAP_RESPONSE_SIZE)
			__builtin_trap();
		natpmp_reply_describe(&reply, text, sizeof(text));
		if (strlen(text) >= sizeof(text))
			__builtin_trap();
	}
	natpmp_request_describe(&request, text, sizeof(text));
	if (natpmp_announcement_decode(data, size, &reply) ==
		    NATPMP_REPLY_ACCEPTED &&
	    size != NATPMP_ADDRESS_RESPONSE_SIZE)
		__builtin_trap();
	return 0;
}
