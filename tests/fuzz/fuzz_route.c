/* fuzz_route.c - libFuzzer target for the kernel's route answers: the
 * parser must never read outside the datagram or invent a gateway. */
#include <stddef.h>
#include <stdint.h>

#include "route_netlink.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct route_answer answer;
	uint32_t sequence = 1;

	if (size >= 4) {
		sequence = (uint32_t)data[0] | (uint32_t)data[1] << 8 |
			   (uint32_t)data[2] << 16 | (uint32_t)data[3] << 24;
		data += 4;
		size -= 4;
	}
	route_answer_parse(data, size, sequence, &answer);
	return 0;
}
