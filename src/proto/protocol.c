/* protocol.c - from a protocol's name to its backend, and what the
 * backends share in explaining a result code. */
#include "proto/protocol.h"

#include <stdio.h>

const struct protocol *protocol_backend(enum protocol_id protocol)
{
	return protocol == PROTOCOL_PCP ? &protocol_pcp : &protocol_natpmp;
}

void protocol_say(char *message, size_t size, const char *gateway_text,
		  const char *says)
{
	snprintf(message, size, "gateway %s %s", gateway_text, says);
}

void protocol_explain_code(const struct result_words *words, size_t count,
			   unsigned code, const char *gateway_text,
			   char *message, size_t size)
{
	size_t i;

	for (i = 0; i < count; i++)
		if (words[i].code == code) {
			protocol_say(message, size, gateway_text,
				     words[i].says);
			return;
		}
	snprintf(message, size,
		 "gateway %s answered with unknown result code %u",
		 gateway_text, code);
}
