/* announce.c - announcements decoded, in either protocol's format. */
#include "proto/announce.h"

#include <string.h>

#include "wire/wire_natpmp.h"
#include "wire/wire_pcp.h"

bool announce_decode(const uint8_t *d, size_t length, struct announcement *a,
		     const char **why)
{
	struct natpmp_reply reply;
	struct pcp_response_header header;
	enum natpmp_verdict verdict;

	memset(a, 0, sizeof(*a));
	if (length >= 1 && d[0] == PCP_VERSION) {
		enum pcp_verdict pcp = pcp_announce_decode(d, length, &header);
		if (pcp != PCP_ACCEPTED) {
			*why = pcp_verdict_text(pcp);
			return false;
		}
		a->format = PROTOCOL_PCP;
		a->epoch = header.epoch;
		return true;
	}
	verdict = natpmp_announcement_decode(d, length, &reply);
	if (verdict != NATPMP_REPLY_ACCEPTED) {
		*why = natpmp_verdict_text(verdict);
		return false;
	}
	if (reply.result != NATPMP_RESULT_SUCCESS) {
		*why = "result is not success";
		return false;
	}
	a->format = PROTOCOL_NATPMP;
	a->epoch = reply.epoch;
	if (reply.external_address)
		ip_address_set_v4(&a->external_address, reply.external_address);
	return true;
}
