/* client.c - neutral requests through the exchange, replies into results.
 * Knows what a request means and how to explain its failure; leaves bytes
 * to the protocol backend and sockets and timing to exchange.c. */
#include "client.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "clock.h"

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

static const char *plural(int n)
{
	return n == 1 ? "attempt" : "attempts";
}

static void describe_silence(struct client *c)
{
	const struct exchange *ex = &c->exchange;
	struct result *r = &c->result;
	char waited[32], why[96] = "";
	enum patience patience =
		ex->deadline_reached ? c->patience : PATIENCE_SCHEDULE;

	if (ex->error_number)
		snprintf(why, sizeof(why), " (%s)", strerror(ex->error_number));
	format_seconds(ex->waited_ms, waited, sizeof(waited));
	switch (patience) {
	case PATIENCE_TIMEOUT:
		format_seconds(c->timeout_ms, waited, sizeof(waited));
		set_message(
			r, FAILURE_TIMEOUT,
			"no reply from gateway %s within the %s timeout (%d %s)%s",
			ex->gateway_text, waited, ex->sends, plural(ex->sends),
			why);
		break;
	case PATIENCE_EXPIRY:
		set_message(
			r, FAILURE_TIMEOUT,
			"no reply from gateway %s before the mapping ran out (%d %s over %s)%s",
			ex->gateway_text, ex->sends, plural(ex->sends), waited,
			why);
		break;
	case PATIENCE_YIELD:
		set_message(
			r, FAILURE_TIMEOUT,
			"no reply from gateway %s in %s (%d %s), giving way to other requests%s",
			ex->gateway_text, waited, ex->sends, plural(ex->sends),
			why);
		break;
	case PATIENCE_SCHEDULE:
		set_message(r, FAILURE_TIMEOUT,
			    "no reply from gateway %s after %d %s over %s%s",
			    ex->gateway_text, ex->sends, plural(ex->sends),
			    waited, why);
		break;
	}
}

void client_result_init(const struct client *c, struct result *r,
			enum result_kind kind)
{
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->gateway_known = true;
	r->gateway = c->exchange.gateway;
	r->internal_address = c->exchange.local.address;
}

int client_open(struct client *c, struct eloop *loop,
		const struct protocol *protocol,
		const struct ip_endpoint *gateway, struct result *failure)
{
	memset(c, 0, sizeof(*c));
	c->timeout_ms = -1;
	c->protocol = protocol;
	if (exchange_open(&c->exchange, loop, gateway) == 0)
		return 0;
	client_result_init(c, failure, RESULT_SETUP);
	set_message(failure, FAILURE_SYSTEM, "cannot reach gateway %s: %s",
		    c->exchange.gateway_text,
		    strerror(c->exchange.error_number));
	return -1;
}

void client_close(struct client *c)
{
	exchange_close(&c->exchange);
}

bool client_busy(const struct client *c)
{
	return c->exchange.busy;
}

void client_cancel(struct client *c)
{
	exchange_cancel(&c->exchange);
}

static bool match_reply(void *context, const uint8_t *datagram, size_t length,
			char *note, size_t note_size)
{
	struct client *c = context;

	c->verdict = c->protocol->decode(&c->request, datagram, length,
					 &c->reply, note, note_size);
	return c->verdict != REPLY_IGNORED;
}

/* A success: what it granted, in the result. */
static void take_grant(struct client *c)
{
	struct result *r = &c->result;
	const struct reply *reply = &c->reply;
	const char *gw = c->exchange.gateway_text;

	switch (c->request.kind) {
	case REQUEST_ADDRESS:
		/* RFC 6886 section 3.2: 0.0.0.0 means no address yet */
		if (ip_address_is_unspecified(&reply->external_address)) {
			set_message(
				r, FAILURE_NETWORK,
				"gateway %s has no external address yet (it reported 0.0.0.0)",
				gw);
			return;
		}
		r->external_address = reply->external_address;
		c->external_address = reply->external_address;
		return;
	case REQUEST_MAP:
		if (reply->external_port == 0 || reply->lifetime == 0) {
			set_message(
				r, FAILURE_BAD_RESULT,
				"gateway %s reported success but granted %s (no mapping was made)",
				gw,
				reply->lifetime == 0 ? "a lifetime of 0 s"
						     : "external port 0");
			return;
		}
		r->external_address = c->external_address;
		r->external_port = reply->external_port;
		r->lifetime = reply->lifetime;
		return;
	case REQUEST_DELETE:
		return; /* deleted, or never existed: both are success */
	}
}

static void take_answer(struct client *c)
{
	struct result *r = &c->result;

	if (c->verdict == REPLY_OTHER_PROTOCOL) {
		set_message(
			r, FAILURE_UNSUPPORTED,
			"gateway %s answered in %s format: it speaks %s, not %s",
			c->exchange.gateway_text, c->protocol->other_name,
			c->protocol->other_name, c->protocol->name);
		return;
	}
	if (c->reply.has_epoch) {
		r->epoch_known = true;
		r->epoch = c->reply.epoch;
		if (c->protocol->observe_epoch(&c->epoch, c->reply.epoch,
					       clock_now_ms()))
			c->gateway_reset = true;
	}
	if (c->reply.failure != FAILURE_NONE) {
		r->failure = c->reply.failure;
		c->protocol->explain(&c->request, &c->reply,
				     c->exchange.gateway_text, r->message,
				     sizeof(r->message));
		return;
	}
	take_grant(c);
}

static void on_exchange_done(void *context, enum exchange_status status)
{
	struct client *c = context;
	struct result *r = &c->result;

	switch (status) {
	case EXCHANGE_ANSWERED: take_answer(c); break;
	case EXCHANGE_TIMEOUT: describe_silence(c); break;
	case EXCHANGE_PORT_UNREACHABLE:
		set_message(
			r, FAILURE_PORT_UNREACHABLE,
			"gateway %s does not speak %s (ICMP port unreachable)",
			c->exchange.gateway_text, c->protocol->name);
		break;
	case EXCHANGE_SYSTEM_ERROR:
		set_message(r, FAILURE_SYSTEM, "cannot talk to gateway %s: %s",
			    c->exchange.gateway_text,
			    strerror(c->exchange.error_number));
		break;
	}
	c->done(c->done_context, r);
}

static enum result_kind kind_of(const struct request *request)
{
	switch (request->kind) {
	case REQUEST_ADDRESS: return RESULT_ADDRESS;
	case REQUEST_MAP: return RESULT_MAP;
	case REQUEST_DELETE: break;
	}
	return RESULT_UNMAP;
}

void client_result_for(const struct client *c, const struct request *request,
		       struct result *r)
{
	client_result_init(c, r, kind_of(request));
	r->protocol = request->protocol;
	r->internal_port = request->internal_port;
	r->all = request->kind == REQUEST_DELETE && request->internal_port == 0;
}

void client_start(struct client *c, const struct request *request,
		  int64_t deadline_ms, enum patience patience,
		  client_done_fn done, void *context)
{
	uint8_t datagram[PROTOCOL_DATAGRAM_MAX];
	char label[EXCHANGE_LABEL_SIZE];
	size_t length;

	c->request = *request;
	c->patience = patience;
	c->done = done;
	c->done_context = context;
	memset(&c->reply, 0, sizeof(c->reply));
	client_result_for(c, request, &c->result);
	length = c->protocol->encode(request, datagram, sizeof(datagram));
	c->protocol->describe(request, label, sizeof(label));
	exchange_start(&c->exchange, datagram, length, label,
		       c->protocol->schedule, deadline_ms, match_reply,
		       on_exchange_done, c);
}
