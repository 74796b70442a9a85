/* port_mapping.c - the shared words' spellings. */
#include "core/port_mapping.h"

#include <stddef.h>

const char *transport_name(unsigned transport)
{
	switch (transport) {
	case TRANSPORT_UDP: return "udp";
	case TRANSPORT_TCP: return "tcp";
	case TRANSPORT_BOTH: return "both";
	}
	return "?";
}

const char *protocol_name(enum protocol_id protocol)
{
	switch (protocol) {
	case PROTOCOL_NATPMP: return "NAT-PMP";
	case PROTOCOL_PCP: return "PCP";
	case PROTOCOL_NONE: break;
	}
	return "no protocol";
}

const char *protocol_key(enum protocol_id protocol)
{
	switch (protocol) {
	case PROTOCOL_NATPMP: return "nat-pmp";
	case PROTOCOL_PCP: return "pcp";
	case PROTOCOL_NONE: break;
	}
	return NULL;
}
