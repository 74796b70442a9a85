/* protocol.c - from a protocol's name to its backend. */
#include "proto/protocol.h"

const struct protocol *protocol_backend(enum protocol_id protocol)
{
	return protocol == PROTOCOL_PCP ? &protocol_pcp : &protocol_natpmp;
}
