/* protocol_natpmp.c - NAT-PMP (RFC 6886) behind the protocol seam: neutral
 * requests into wire_natpmp's packets and its replies into neutral ones,
 * with the section 3.1 retransmission schedule. */
#include <stdio.h>
#include <string.h>

#include "proto/protocol.h"
#include "wire/wire_natpmp.h"

#define FIRST_WAIT_MS 250

/* section 3.1: 250 ms, doubling, 9 sends; after the 9th wait 64 s more,
 * which gives up 127.75 s after the first */
static int64_t natpmp_next_wait_ms(int64_t previous_wait_ms, uint32_t random)
{
	(void)random;
	return previous_wait_ms ? previous_wait_ms * 2 : FIRST_WAIT_MS;
}

static const struct retry_schedule natpmp_schedule = {
	.max_sends = 9,
	.next_wait_ms = natpmp_next_wait_ms,
};

static void to_wire(const struct request *request, struct natpmp_request *wire)
{
	memset(wire, 0, sizeof(*wire));
	if (request->kind == REQUEST_ADDRESS) {
		wire->opcode = NATPMP_OP_ADDRESS;
		return;
	}
	wire->opcode = request->transport == TRANSPORT_UDP ? NATPMP_OP_MAP_UDP
							   : NATPMP_OP_MAP_TCP;
	wire->internal_port = request->internal_port;
	if (request->kind == REQUEST_MAP) {
		wire->suggested_external_port = request->suggested_port;
		wire->lifetime = request->lifetime;
	}
}

static size_t natpmp_encode(const struct request *request, uint8_t *buffer,
			    size_t size)
{
	struct natpmp_request wire;

	if (request->kind == REQUEST_ANNOUNCE)
		return 0; /* PCP's alone */
	to_wire(request, &wire);
	return natpmp_request_encode(&wire, buffer, size);
}

static enum failure classify(uint16_t result)
{
	switch (result) {
	case NATPMP_RESULT_SUCCESS: return FAILURE_NONE;
	case NATPMP_RESULT_UNSUPPORTED_VERSION:
	case NATPMP_RESULT_UNSUPPORTED_OPCODE: return FAILURE_UNSUPPORTED;
	case NATPMP_RESULT_NOT_AUTHORIZED: return FAILURE_NOT_AUTHORIZED;
	case NATPMP_RESULT_NETWORK_FAILURE: return FAILURE_NETWORK;
	case NATPMP_RESULT_OUT_OF_RESOURCES: return FAILURE_OUT_OF_RESOURCES;
	}
	return FAILURE_BAD_RESULT; /* section 3.5: unknown codes are fatal */
}

static enum reply_verdict natpmp_decode(const struct request *request,
					const uint8_t *datagram, size_t length,
					struct reply *reply, char *note,
					size_t note_size)
{
	struct natpmp_request wire;
	struct natpmp_reply decoded;
	enum natpmp_verdict verdict;

	memset(reply, 0, sizeof(*reply));
	to_wire(request, &wire);
	verdict = natpmp_reply_decode(datagram, length, &wire, &decoded);
	if (verdict == NATPMP_REPLY_PCP_FORMAT) {
		snprintf(note, note_size, "%s", natpmp_verdict_text(verdict));
		return REPLY_OTHER_PROTOCOL;
	}
	if (verdict != NATPMP_REPLY_ACCEPTED) {
		snprintf(note, note_size, "%s", natpmp_verdict_text(verdict));
		return REPLY_IGNORED;
	}
	natpmp_reply_describe(&decoded, note, note_size);
	reply->code = decoded.result;
	reply->failure = classify(decoded.result);
	reply->has_epoch = decoded.has_epoch;
	reply->epoch = decoded.epoch;
	if (decoded.has_address)
		ip_address_set_v4(&reply->external_address,
				  decoded.external_address);
	reply->external_port = decoded.external_port;
	reply->lifetime = decoded.lifetime;
	return REPLY_ANSWER;
}

static void natpmp_describe(const struct request *request, char *text,
			    size_t size)
{
	struct natpmp_request wire;

	to_wire(request, &wire);
	natpmp_request_describe(&wire, text, size);
}

/* The result codes whose words need only the gateway's name. */
static const struct result_words natpmp_words[] = {
	{ NATPMP_RESULT_UNSUPPORTED_VERSION,
	  "does not speak NAT-PMP version 0 (unsupported version)" },
	{ NATPMP_RESULT_OUT_OF_RESOURCES,
	  "is out of resources (no more mappings for now)" },
	{ NATPMP_RESULT_UNSUPPORTED_OPCODE,
	  "does not support this request (unsupported opcode)" },
};

static void natpmp_explain(const struct request *request,
			   const struct reply *reply, const char *gw,
			   char *message, size_t size)
{
	switch (reply->code) {
	case NATPMP_RESULT_NOT_AUTHORIZED:
		/* section 3.5: the box maps ports, but not for us now (a
		 * refused external port 0 is the client's to explain) */
		if (request->kind == REQUEST_MAP && request->suggested_port)
			protocol_say(
				message, size, gw,
				"refused (not authorized): allow this device to open ports by itself in the router's settings (a permission many routers give per device), or turn NAT-PMP on there");
		else
			protocol_say(message, size, gw,
				     "refused (not authorized)");
		break;
	case NATPMP_RESULT_NETWORK_FAILURE:
		/* section 3.5: typically the gateway has no DHCP lease on its
		 * external side yet, and reports 0.0.0.0 */
		protocol_say(
			message, size, gw,
			request->kind == REQUEST_ADDRESS
				? "has no external address yet (network failure)"
				: "reported a network failure (it may have no external address yet)");
		break;
	default:
		protocol_explain_code(natpmp_words,
				      sizeof(natpmp_words) /
					      sizeof(natpmp_words[0]),
				      reply->code, gw, message, size);
		break;
	}
}

/* RFC 6886 section 3.3: renew at half the lifetime, no later */
static int64_t natpmp_renewal_spread_ms(uint32_t lifetime, uint32_t random)
{
	(void)lifetime;
	(void)random;
	return 0;
}

const struct protocol protocol_natpmp = {
	.id = PROTOCOL_NATPMP,
	.other = PROTOCOL_PCP,
	.deletes_all = true,
	.presence_request = REQUEST_ADDRESS,
	/* the second retransmission, 0.75 s in: past the first, a prompt
	 * NAT-PMP gateway has answered, and a busy one gets a PCP datagram
	 * it can answer as well */
	.other_asked_at_send = 3,
	.renewal_spread_ms = natpmp_renewal_spread_ms,
	.schedule = &natpmp_schedule,
	.has_form = natpmp_has_reply_form,
	.encode = natpmp_encode,
	.decode = natpmp_decode,
	.describe = natpmp_describe,
	.explain = natpmp_explain,
	.observe_epoch = epoch_observe,
};
