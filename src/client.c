/* client.c - NAT-PMP requests through the exchange, replies into results.
 * Knows the protocol's meaning; leaves sockets and timing to exchange.c. */
#include "client.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "clock.h"
#include "wire.h"

struct reply_matcher {
	const struct natpmp_request *request;
	struct natpmp_reply reply;
};

static bool match_reply(const uint8_t *datagram, size_t length, void *context,
			char *note, size_t note_size)
{
	struct reply_matcher *m = context;
	enum natpmp_verdict verdict;

	verdict = natpmp_reply_decode(datagram, length, m->request, &m->reply);
	if (verdict != NATPMP_REPLY_ACCEPTED) {
		snprintf(note, note_size, "%s", natpmp_verdict_text(verdict));
		return false;
	}
	natpmp_reply_describe(&m->reply, note, note_size);
	return true;
}

static void set_message(struct result *r, enum failure failure,
			const char *format, ...)
	__attribute__((format(printf, 3, 4)));

static void set_message(struct result *r, enum failure failure,
			const char *format, ...)
{
	va_list ap;

	r->failure = failure;
	va_start(ap, format);
	vsnprintf(r->message, sizeof(r->message), format, ap);
	va_end(ap);
}

static void format_seconds(int64_t ms, char *text, size_t size)
{
	if (ms % 1000 == 0)
		snprintf(text, size, "%lld s", (long long)(ms / 1000));
	else
		snprintf(text, size, "%.3g s", (double)ms / 1000.0);
}

static void describe_silence(const struct client *c, struct result *r)
{
	const struct exchange *ex = &c->exchange;
	char waited[32], why[96] = "";

	if (ex->error_number)
		snprintf(why, sizeof(why), " (%s)", strerror(ex->error_number));
	if (c->timeout_ms >= 0 && clock_now_ms() >= ex->deadline_ms) {
		format_seconds(c->timeout_ms, waited, sizeof(waited));
		set_message(
			r, FAILURE_TIMEOUT,
			"no reply from gateway %s within the %s timeout (%d %s)%s",
			ex->gateway_text, waited, ex->sends,
			ex->sends == 1 ? "attempt" : "attempts", why);
		return;
	}
	format_seconds(ex->waited_ms, waited, sizeof(waited));
	set_message(r, FAILURE_TIMEOUT,
		    "no reply from gateway %s after %d attempts over %s%s",
		    ex->gateway_text, ex->sends, waited, why);
}

static void describe_result_code(const struct client *c,
				 const struct natpmp_reply *reply,
				 struct result *r)
{
	const char *gw = c->exchange.gateway_text;

	switch (reply->result) {
	case NATPMP_RESULT_UNSUPPORTED_VERSION:
		set_message(
			r, FAILURE_UNSUPPORTED,
			"gateway %s does not speak NAT-PMP version 0 (unsupported version)",
			gw);
		break;
	case NATPMP_RESULT_NOT_AUTHORIZED:
		set_message(r, FAILURE_NOT_AUTHORIZED,
			    "gateway %s refused (not authorized)", gw);
		break;
	case NATPMP_RESULT_NETWORK_FAILURE:
		/* RFC 6886 section 3.5: typically the gateway has no DHCP
		 * lease on its external side yet, and reports 0.0.0.0 */
		if (reply->opcode == NATPMP_OP_ADDRESS)
			set_message(
				r, FAILURE_NETWORK,
				"gateway %s has no external address yet (network failure)",
				gw);
		else
			set_message(
				r, FAILURE_NETWORK,
				"gateway %s reported a network failure (it may have no external address yet)",
				gw);
		break;
	case NATPMP_RESULT_OUT_OF_RESOURCES:
		set_message(
			r, FAILURE_OUT_OF_RESOURCES,
			"gateway %s is out of resources (no more mappings for now)",
			gw);
		break;
	case NATPMP_RESULT_UNSUPPORTED_OPCODE:
		set_message(
			r, FAILURE_UNSUPPORTED,
			"gateway %s does not support this request (unsupported opcode)",
			gw);
		break;
	default:
		/* section 3.5: undefined result codes are fatal errors */
		set_message(r, FAILURE_BAD_RESULT,
			    "gateway %s answered with unknown result code %u",
			    gw, (unsigned)reply->result);
		break;
	}
}

/* Runs one request; returns true with *reply filled when the gateway
 * answered with success. Otherwise r carries the failure. */
static bool transact(struct client *c, const struct natpmp_request *request,
		     struct natpmp_reply *reply, struct result *r)
{
	struct reply_matcher matcher = { .request = request };
	uint8_t datagram[NATPMP_REQUEST_MAX_SIZE];
	char label[128];
	size_t length;
	enum exchange_status status;

	length = natpmp_request_encode(request, datagram, sizeof(datagram));
	natpmp_request_describe(request, label, sizeof(label));
	status = exchange_run(&c->exchange, datagram, length, label,
			      match_reply, &matcher);
	if (c->exchange.skipped) {
		/* the gateway already failed this command: same failure, at once */
		r->failure = c->silence.failure;
		memcpy(r->message, c->silence.message, sizeof(r->message));
		return false;
	}
	switch (status) {
	case EXCHANGE_ANSWERED: break;
	case EXCHANGE_TIMEOUT:
		describe_silence(c, r);
		c->silence = *r;
		return false;
	case EXCHANGE_PORT_UNREACHABLE:
		set_message(
			r, FAILURE_PORT_UNREACHABLE,
			"gateway %s does not speak NAT-PMP (ICMP port unreachable)",
			c->exchange.gateway_text);
		c->silence = *r;
		return false;
	case EXCHANGE_INTERRUPTED:
		set_message(r, FAILURE_SYSTEM, "interrupted");
		return false;
	case EXCHANGE_SYSTEM_ERROR:
		set_message(r, FAILURE_SYSTEM, "cannot talk to gateway %s: %s",
			    c->exchange.gateway_text,
			    strerror(c->exchange.error_number));
		return false;
	}
	*reply = matcher.reply;
	if (reply->has_epoch) {
		r->epoch_known = true;
		r->epoch = reply->epoch;
		if (epoch_observe(&c->epoch, reply->epoch, clock_now_ms()))
			c->gateway_reset = true;
	}
	if (reply->result != NATPMP_RESULT_SUCCESS) {
		describe_result_code(c, reply, r);
		return false;
	}
	return true;
}

static void result_init(const struct client *c, struct result *r,
			enum result_kind kind)
{
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->gateway_known = true;
	r->gateway = c->exchange.gateway;
	r->internal_address = c->exchange.local.sin_addr;
}

int client_open(struct client *c, const struct sockaddr_in *gateway,
		struct result *failure)
{
	memset(c, 0, sizeof(*c));
	c->timeout_ms = -1;
	if (exchange_open(&c->exchange, gateway) == 0)
		return 0;
	result_init(c, failure, RESULT_ADDRESS);
	set_message(failure, FAILURE_SYSTEM, "cannot reach gateway %s: %s",
		    c->exchange.gateway_text,
		    strerror(c->exchange.error_number));
	return -1;
}

void client_close(struct client *c)
{
	exchange_close(&c->exchange);
}

void client_get_address(struct client *c, struct result *r)
{
	struct natpmp_request request = { .opcode = NATPMP_OP_ADDRESS };
	struct natpmp_reply reply;

	result_init(c, r, RESULT_ADDRESS);
	if (!transact(c, &request, &reply, r))
		return;
	r->external_address.s_addr = htonl(reply.external_address);
	r->external_address_known = true;
	c->external_address = r->external_address;
	c->external_address_known = true;
	if (reply.external_address == 0)
		set_message(
			r, FAILURE_NETWORK,
			"gateway %s has no external address yet (it reported 0.0.0.0)",
			c->exchange.gateway_text);
}

void client_map(struct client *c, unsigned protocol, uint16_t internal_port,
		uint16_t suggested_external_port, uint32_t lifetime,
		struct result *r)
{
	struct natpmp_request request = {
		.opcode = protocol == PROTOCOL_UDP ? NATPMP_OP_MAP_UDP
						   : NATPMP_OP_MAP_TCP,
		.internal_port = internal_port,
		.suggested_external_port = suggested_external_port,
		.lifetime = lifetime,
	};
	struct natpmp_reply reply;

	result_init(c, r, lifetime ? RESULT_MAP : RESULT_UNMAP);
	r->protocol = protocol;
	r->internal_port = internal_port;
	r->all = lifetime == 0 && internal_port == 0;
	if (!transact(c, &request, &reply, r))
		return;
	if (lifetime == 0)
		return; /* deleted, or never existed: both are success */
	if (reply.external_port == 0 || reply.lifetime == 0) {
		set_message(
			r, FAILURE_BAD_RESULT,
			"gateway %s reported success but granted %s (no mapping was made)",
			c->exchange.gateway_text,
			reply.lifetime == 0 ? "a lifetime of 0 s"
					    : "external port 0");
		return;
	}
	r->external_address_known = c->external_address_known;
	r->external_address = c->external_address;
	r->external_port = reply.external_port;
	r->lifetime = reply.lifetime;
}
