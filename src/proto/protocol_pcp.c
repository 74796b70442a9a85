/* protocol_pcp.c - PCP (RFC 6887) behind the protocol seam: neutral map
 * and delete requests into MAP packets, responses into neutral replies,
 * with the section 8.1.1 retransmission schedule. */
#include <stdio.h>
#include <string.h>

#include "proto/protocol.h"
#include "wire/wire_natpmp.h"
#include "wire/wire_pcp.h"

/* section 8.1.1: initial and maximum retransmission waits */
#define IRT_MS 3000
#define MRT_MS 1024000
/* a one-shot command gives up after sends at about 0, 3, 9 and 21 s */
#define ONE_SHOT_PATIENCE_MS 30000

/* Each wait is the previous doubled (the first IRT), at most MRT, times a
 * random factor between 0.9 and 1.1. */
static int64_t pcp_next_wait_ms(int64_t previous_wait_ms, uint32_t random)
{
	int64_t base = previous_wait_ms ? previous_wait_ms * 2 : IRT_MS;
	int64_t per_mille = (int64_t)(random % 201) - 100; /* -100..100 */

	if (base > MRT_MS)
		base = MRT_MS;
	return base + base * per_mille / 1000;
}

static const struct retry_schedule pcp_schedule = {
	.max_sends = 0, /* MRC 0: the caller's patience decides */
	.next_wait_ms = pcp_next_wait_ms,
};

/* PCP carries every address in 16 bytes, IPv4 as ::ffff:a.b.c.d */
static void to_wire_address(const struct ip_address *a, int family,
			    uint8_t out[16])
{
	memset(out, 0, 16);
	if (a->family == AF_INET ||
	    (!ip_address_is_set(a) && family == AF_INET)) {
		out[10] = out[11] = 0xff;
		if (a->family == AF_INET)
			memcpy(out + 12, a->bytes, 4);
	} else if (a->family == AF_INET6) {
		memcpy(out, a->bytes, 16);
	}
}

static void from_wire_address(const uint8_t in[16], struct ip_address *a)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (memcmp(in, mapped, sizeof(mapped)) == 0)
		ip_address_set_v4(a, (uint32_t)in[12] << 24 |
					     (uint32_t)in[13] << 16 |
					     (uint32_t)in[14] << 8 | in[15]);
	else
		ip_address_set_v6(a, in, 0);
}

static void to_wire(const struct request *request, struct pcp_request *wire)
{
	int family = request->client_address.family;
	size_t i;

	memset(wire, 0, sizeof(*wire));
	wire->opcode = request->kind == REQUEST_ANNOUNCE ? PCP_OP_ANNOUNCE
							 : PCP_OP_MAP;
	wire->lifetime = request->kind == REQUEST_MAP ? request->lifetime : 0;
	to_wire_address(&request->client_address, family, wire->client_address);
	memcpy(wire->nonce, request->nonce, NONCE_SIZE);
	wire->protocol = request->transport == TRANSPORT_UDP ? PCP_PROTOCOL_UDP
							     : PCP_PROTOCOL_TCP;
	wire->internal_port = request->internal_port;
	/* unset: no preference, the all-zeros address of the family */
	to_wire_address(request->kind == REQUEST_MAP
				? &request->suggested_address
				: &(struct ip_address){ .family = AF_UNSPEC },
			family, wire->suggested_address);
	if (request->third_party) {
		/* on behalf of that host, to make or to delete */
		wire->third_party = true;
		to_wire_address(&request->third_party_address, family,
				wire->internal_address);
	}
	if (request->kind != REQUEST_MAP)
		return; /* a deletion suggests nothing and asks for nothing */
	wire->suggested_port = request->suggested_port;
	wire->prefer_failure = request->exact;
	for (i = 0; i < request->filter_count && i < FILTER_MAX; i++) {
		const struct port_filter *f = &request->filters[i];
		to_wire_address(&f->address, family,
				wire->filters[i].remote_address);
		wire->filters[i].prefix_length =
			(uint8_t)(f->address.family == AF_INET
					  ? 96 + f->prefix_length
					  : f->prefix_length);
		wire->filters[i].remote_port = f->port;
	}
	wire->filter_count = i;
}

static size_t pcp_encode(const struct request *request, uint8_t *buffer,
			 size_t size)
{
	struct pcp_request wire;

	/* PCP has no address request (client.c maps a port instead), and
	 * its internal port 0 means every port, not NAT-PMP's "any" */
	if (request->kind == REQUEST_ADDRESS ||
	    (request->kind != REQUEST_ANNOUNCE && request->internal_port == 0))
		return 0;
	to_wire(request, &wire);
	return pcp_request_encode(&wire, buffer, size);
}

static enum failure classify(uint8_t result)
{
	switch (result) {
	case PCP_RESULT_SUCCESS: return FAILURE_NONE;
	case PCP_RESULT_UNSUPPORTED_VERSION:
	case PCP_RESULT_UNSUPPORTED_OPCODE:
	case PCP_RESULT_UNSUPPORTED_PROTOCOL: return FAILURE_UNSUPPORTED;
	case PCP_RESULT_NOT_AUTHORIZED: return FAILURE_NOT_AUTHORIZED;
	case PCP_RESULT_MALFORMED_REQUEST:
	case PCP_RESULT_MALFORMED_OPTION: return FAILURE_MALFORMED;
	case PCP_RESULT_UNSUPPORTED_OPTION: return FAILURE_UNSUPPORTED_OPTION;
	case PCP_RESULT_NETWORK_FAILURE: return FAILURE_NETWORK;
	case PCP_RESULT_NO_RESOURCES: return FAILURE_OUT_OF_RESOURCES;
	case PCP_RESULT_USER_EXCEEDED_QUOTA: return FAILURE_QUOTA;
	case PCP_RESULT_CANNOT_PROVIDE_EXTERNAL:
		return FAILURE_PORT_UNAVAILABLE;
	case PCP_RESULT_ADDRESS_MISMATCH: return FAILURE_ADDRESS_MISMATCH;
	case PCP_RESULT_EXCESSIVE_REMOTE_PEERS: return FAILURE_TOO_MANY_PEERS;
	}
	return FAILURE_BAD_RESULT;
}

/* RFC 6887 Appendix A: a NAT-PMP server answers a PCP request with its
 * own "unsupported version", in NAT-PMP's 8-byte form. */
static bool is_natpmp_refusal(const uint8_t *d, size_t length)
{
	return length >= NATPMP_SHORT_ERROR_SIZE && d[0] == NATPMP_VERSION &&
	       (d[1] & NATPMP_OP_RESPONSE_BIT) && d[2] == 0 &&
	       d[3] == NATPMP_RESULT_UNSUPPORTED_VERSION;
}

static enum reply_verdict pcp_decode(const struct request *request,
				     const uint8_t *datagram, size_t length,
				     struct reply *reply, char *note,
				     size_t note_size)
{
	struct pcp_request wire;
	struct pcp_response response;
	enum pcp_verdict verdict;

	memset(reply, 0, sizeof(*reply));
	if (is_natpmp_refusal(datagram, length)) {
		snprintf(note, note_size,
			 "a NAT-PMP answer: unsupported version");
		return REPLY_OTHER_PROTOCOL;
	}
	to_wire(request, &wire);
	verdict = pcp_response_decode(datagram, length, &wire, &response);
	if (verdict == PCP_OTHER_VERSION) {
		snprintf(note, note_size,
			 "UNSUPP_VERSION from a server of PCP version %u",
			 (unsigned)response.header.version);
		reply->failure = FAILURE_UNSUPPORTED;
		reply->code = PCP_RESULT_UNSUPPORTED_VERSION;
		reply->version = response.header.version;
		return REPLY_ANSWER;
	}
	if (verdict != PCP_ACCEPTED) {
		snprintf(note, note_size, "%s", pcp_verdict_text(verdict));
		return REPLY_IGNORED;
	}
	/* section 15: a deletion is answered with lifetime 0; a lifetime is
	 * a late answer to an earlier request for the same mapping */
	if (request->kind == REQUEST_DELETE &&
	    response.header.result == PCP_RESULT_SUCCESS &&
	    response.header.lifetime != 0) {
		snprintf(
			note, note_size,
			"grants a lifetime: answers a mapping, not this deletion");
		return REPLY_IGNORED;
	}
	pcp_response_describe(&response, note, note_size);
	reply->code = response.header.result;
	reply->version = response.header.version;
	reply->failure = classify(response.header.result);
	reply->has_epoch = true;
	reply->epoch = response.header.epoch;
	reply->lifetime = response.header.lifetime;
	reply->external_port = response.external_port;
	if (reply->failure == FAILURE_NONE)
		from_wire_address(response.external_address,
				  &reply->external_address);
	return REPLY_ANSWER;
}

static void pcp_describe(const struct request *request, char *text, size_t size)
{
	struct pcp_request wire;

	to_wire(request, &wire);
	pcp_request_describe(&wire, text, size);
}

/* UNSUPP_OPTION: the options the request carried, by their names and the
 * options of natpmp that put them there, or that it carried none. */
static void explain_unsupported_option(const struct request *request,
				       const char *gw, char *message,
				       size_t size)
{
	const char *sent[3];
	size_t n = 0;

	if (request->third_party)
		sent[n++] = "THIRD_PARTY, for --for";
	if (request->exact)
		sent[n++] = "PREFER_FAILURE, for --exact";
	if (request->filter_count)
		sent[n++] = "FILTER, for --allow-from";
	if (n == 0)
		protocol_say(
			message, size, gw,
			"answered that it does not support an option (UNSUPP_OPTION), but the request carried none");
	else if (n == 1)
		snprintf(
			message, size,
			"gateway %s does not support the option sent: %s (UNSUPP_OPTION)",
			gw, sent[0]);
	else
		snprintf(
			message, size,
			"gateway %s does not support one of the options sent: %s; %s%s%s (UNSUPP_OPTION)",
			gw, sent[0], sent[1], n > 2 ? "; " : "",
			n > 2 ? sent[2] : "");
}

/* FRITZ!Box and others answer NOT_AUTHORIZED until the device may open
 * ports by itself, a setting per device; or with the service off. */
static void explain_refusal(const struct request *request, const char *gw,
			    char *message, size_t size)
{
	if (request->kind == REQUEST_DELETE)
		protocol_say(
			message, size, gw,
			"refused to delete it (NOT_AUTHORIZED): it was made with another nonce, by another program or without natpmp's state directory");
	else if (request->third_party)
		protocol_say(
			message, size, gw,
			"refused (NOT_AUTHORIZED): it does not allow mappings on behalf of another host (--for)");
	else if (request->suggested_port == 0) /* the client explains */
		protocol_say(message, size, gw, "refused (NOT_AUTHORIZED)");
	else
		protocol_say(
			message, size, gw,
			"refused (NOT_AUTHORIZED): allow this device to open ports by itself in the router's settings (a permission many routers give per device), or turn PCP on there");
}

/* The result codes whose words need only the gateway's name. */
static const struct result_words pcp_words[] = {
	{ PCP_RESULT_MALFORMED_REQUEST,
	  "found the request malformed (MALFORMED_REQUEST)" },
	{ PCP_RESULT_UNSUPPORTED_OPCODE,
	  "does not support this request (UNSUPP_OPCODE)" },
	{ PCP_RESULT_MALFORMED_OPTION,
	  "found an option malformed (MALFORMED_OPTION)" },
	{ PCP_RESULT_NETWORK_FAILURE,
	  "reported a network failure (NETWORK_FAILURE): it may have no external address yet" },
	{ PCP_RESULT_NO_RESOURCES, "is out of resources (NO_RESOURCES)" },
	{ PCP_RESULT_UNSUPPORTED_PROTOCOL,
	  "does not map this protocol (UNSUPP_PROTOCOL)" },
	{ PCP_RESULT_USER_EXCEEDED_QUOTA,
	  "refused: this host has used up its quota of mappings (USER_EX_QUOTA)" },
	{ PCP_RESULT_ADDRESS_MISMATCH,
	  "saw the request come from another address than this host's (ADDRESS_MISMATCH): there is a NAT between this host and the gateway" },
	{ PCP_RESULT_EXCESSIVE_REMOTE_PEERS,
	  "refused that many --allow-from peers (EXCESSIVE_REMOTE_PEERS)" },
};

static void pcp_explain(const struct request *request,
			const struct reply *reply, const char *gw,
			char *message, size_t size)
{
	switch (reply->code) {
	case PCP_RESULT_UNSUPPORTED_VERSION:
		/* only a header of another version names the one it speaks */
		if (reply->version && reply->version != PCP_VERSION)
			snprintf(
				message, size,
				"gateway %s speaks PCP version %u only, not version %u (UNSUPP_VERSION)",
				gw, reply->version, (unsigned)PCP_VERSION);
		else
			protocol_say(
				message, size, gw,
				"does not support this PCP version (UNSUPP_VERSION)");
		break;
	case PCP_RESULT_NOT_AUTHORIZED:
		explain_refusal(request, gw, message, size);
		break;
	case PCP_RESULT_UNSUPPORTED_OPTION:
		explain_unsupported_option(request, gw, message, size);
		break;
	case PCP_RESULT_CANNOT_PROVIDE_EXTERNAL:
		snprintf(
			message, size,
			request->exact
				? "gateway %s cannot give external port %u, and --exact takes no other (CANNOT_PROVIDE_EXTERNAL)"
				: "gateway %s cannot give external port %u (CANNOT_PROVIDE_EXTERNAL)",
			gw, (unsigned)request->suggested_port);
		break;
	default:
		protocol_explain_code(pcp_words,
				      sizeof(pcp_words) / sizeof(pcp_words[0]),
				      reply->code, gw, message, size);
		break;
	}
}

/* Section 11.2.1: renew between 1/2 and 5/8 of the lifetime, at random,
 * so that clients restarted together spread their renewals. */
static int64_t pcp_renewal_spread_ms(uint32_t lifetime, uint32_t random)
{
	int64_t eighth = (int64_t)lifetime * 125;

	return eighth > 0 ? (int64_t)(random % (uint64_t)(eighth + 1)) : 0;
}

const struct protocol protocol_pcp = {
	.id = PROTOCOL_PCP,
	.other = PROTOCOL_NATPMP,
	.grants_carry_address = true,
	.keeps_nonce = true,
	.errors_hold_for_lifetime = true,
	.answers_echo_nonce = true,
	.renewal_spread_ms = pcp_renewal_spread_ms,
	.answers_again = true,
	.default_patience_ms = ONE_SHOT_PATIENCE_MS,
	.presence_request = REQUEST_ANNOUNCE,
	/* the first retransmission, about 3 s in (section 8.1.1's IRT) */
	.other_asked_at_send = 2,
	.schedule = &pcp_schedule,
	.has_form = pcp_has_response_form,
	.encode = pcp_encode,
	.decode = pcp_decode,
	.describe = pcp_describe,
	.explain = pcp_explain,
	.observe_epoch = epoch_observe_pcp,
};
