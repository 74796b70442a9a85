/* client.c - neutral requests through the exchange, replies into results.
 * Knows what a request means and how to explain its failure; leaves bytes
 * to the protocol backend and sockets and timing to exchange.c. */
#include "engine/client.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/diag.h"
#include "engine/silence.h"
#include "os/os.h"

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

static void describe_silence(struct client *c)
{
	const struct exchange *ex = &c->exchange;
	const struct protocol *other = fallback_other(&c->fallback);
	struct silence s = {
		.gateway_text = ex->gateway_text,
		.reason = ex->deadline_reached ? c->patience.reason
					       : PATIENCE_SCHEDULE,
		.waited_ms = ex->waited_ms,
		.timeout_ms = c->patience.timeout_ms,
		.sends = ex->sends,
		.spoken = protocol_name(c->protocol->id),
		.other = protocol_name(c->protocol->other),
		.other_sends = fallback_sends(&c->fallback),
		.strays = &c->strays,
		.error_number = ex->error_number,
	};

	if (s.other_sends && other)
		s.other = protocol_name(other->id);
	c->result.failure = FAILURE_TIMEOUT;
	silence_describe(&s, c->result.message, sizeof(c->result.message));
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

int client_new_nonce(uint8_t nonce[NONCE_SIZE])
{
	return os_random(nonce, NONCE_SIZE);
}

/* A datagram that answered no request: counted while one waits (not
 * what was queued before it was sent). */
static void tally_stray(struct client *c, const uint8_t *datagram,
			size_t length, const char *note)
{
	const struct protocol *other = protocol_backend(c->protocol->other);

	if (c->running && c->exchange.busy)
		stray_tally_add(&c->strays, datagram, length,
				c->protocol->has_form(datagram, length) ||
					other->has_form(datagram, length),
				note);
}

/* The exchange's news, passed on to whoever listens; what nobody takes
 * is counted. */
static bool on_stray(void *context, const uint8_t *datagram, size_t length,
		     char *note, size_t note_size)
{
	struct client *c = context;

	if (c->events && c->events->stray &&
	    c->events->stray(c->events_context, datagram, length, note,
			     note_size))
		return true;
	tally_stray(c, datagram, length, note);
	return false;
}

/* What came to the other protocol's socket and answered nothing. */
static bool on_fallback_stray(void *context, const uint8_t *datagram,
			      size_t length, char *note, size_t note_size)
{
	(void)note_size;
	tally_stray(context, datagram, length, note);
	return false;
}

static void on_other_answered(void *context);

static void on_waiting_changed(void *context)
{
	struct client *c = context;

	if (c->events && c->events->waiting_changed)
		c->events->waiting_changed(c->events_context);
}

int client_open(struct client *c, struct eloop *loop,
		const struct protocol *protocol, bool follow_gateway,
		const struct ip_endpoint *gateway,
		const struct ip_address *source, struct result *failure)
{
	memset(c, 0, sizeof(*c));
	c->protocol = protocol;
	c->follow_gateway = follow_gateway;
	if (exchange_open(&c->exchange, loop, gateway, source) == 0) {
		c->open = true;
		/* a silent gateway shows on a terminal, as a line that
		 * rewrites itself */
		c->exchange.progress = diag_progress_possible();
		exchange_set_stray(&c->exchange, on_stray, c);
		fallback_init(&c->fallback, loop, gateway,
			      &c->exchange.local.address, on_other_answered,
			      on_fallback_stray, c);
		return 0;
	}
	client_result_init(c, failure, RESULT_SETUP);
	set_message(failure, FAILURE_SYSTEM, "cannot reach gateway %s: %s",
		    c->exchange.gateway_text,
		    strerror(c->exchange.error_number));
	return -1;
}

void client_close(struct client *c)
{
	if (c->open) {
		fallback_close(&c->fallback);
		exchange_close(&c->exchange);
	}
	c->open = false;
	c->running = false;
}

void client_set_tunnel(struct client *c, const char *interface)
{
	snprintf(c->tunnel, sizeof(c->tunnel), "%s",
		 interface ? interface : "");
	c->tunnel_known = true;
}

void client_listen(struct client *c, const struct client_events *events,
		   void *context)
{
	c->events = events;
	c->events_context = context;
	c->exchange.waiting_changed = events ? on_waiting_changed : NULL;
	c->exchange.waiting_context = c;
}

void client_cancel(struct client *c)
{
	fallback_stop(&c->fallback);
	exchange_cancel(&c->exchange);
	if (c->running)
		c->cancelled = true;
	c->running = false;
}

static bool match_reply(void *context, const uint8_t *datagram, size_t length,
			char *note, size_t note_size)
{
	struct client *c = context;

	c->verdict = c->protocol->decode(&c->sent, datagram, length, &c->reply,
					 note, note_size);
	return c->verdict != REPLY_IGNORED;
}

static void on_exchange_done(void *context, enum exchange_status status);

/* A success: what it granted, in the result. */
static void take_grant(struct client *c, const struct request *sent,
		       const struct reply *reply, struct result *r)
{
	const char *gw = c->exchange.gateway_text;
	/* RFC 6886 section 3.2: 0.0.0.0 means no address yet */
	bool address = ip_address_is_set(&reply->external_address) &&
		       !ip_address_is_unspecified(&reply->external_address);

	if (sent->kind == REQUEST_ADDRESS) {
		if (!address) {
			set_message(
				r, FAILURE_NETWORK,
				"gateway %s has no external address yet (it reported 0.0.0.0)",
				gw);
			return;
		}
		r->external_address = c->external_address =
			reply->external_address;
		return;
	}
	if (sent->kind == REQUEST_DELETE || sent->kind == REQUEST_ANNOUNCE)
		return; /* deleted, or never existed: both are success; an
			   announcement carries nothing but its epoch */
	if (reply->external_port == 0 || reply->lifetime == 0) {
		set_message(
			r, FAILURE_BAD_RESULT,
			"gateway %s reported success but granted %s (no mapping was made)",
			gw,
			reply->lifetime == 0 ? "a lifetime of 0 s"
					     : "external port 0");
		return;
	}
	/* PCP's grants carry the address: the gateway's word is the latest */
	if (address)
		c->external_address = reply->external_address;
	r->external_address = c->external_address;
	r->external_port = reply->external_port;
	r->lifetime = reply->lifetime;
}

static void finish(struct client *c)
{
	c->running = false;
	c->done(c->done_context, &c->result);
}

/* Puts c->sent on the wire, to wait until the request's deadline. */
static void send_request(struct client *c)
{
	uint8_t datagram[PROTOCOL_DATAGRAM_MAX];
	char label[EXCHANGE_LABEL_SIZE];
	size_t length;
	int64_t deadline =
		patience_deadline(&c->patience, c->protocol, clock_now_ms());

	memset(&c->reply, 0, sizeof(c->reply));
	c->sent.client_address = c->exchange.local.address;
	length = c->protocol->encode(&c->sent, datagram, sizeof(datagram));
	if (length == 0) {
		set_message(
			&c->result, FAILURE_UNSUPPORTED,
			c->sent.internal_port == 0
				? "gateway %s speaks %s, which has no request for internal port 0 (NAT-PMP's every-port form): name a port"
				: "gateway %s speaks %s, which cannot express this request",
			c->exchange.gateway_text,
			protocol_name(c->protocol->id));
		finish(c);
		return;
	}
	c->protocol->describe(&c->sent, label, sizeof(label));
	exchange_start(&c->exchange, datagram, length, label,
		       c->protocol->schedule, deadline, match_reply,
		       on_exchange_done, c);
	/* once per request, and not for the deletion of a probe mapping */
	if (c->follow_gateway && !c->switched_now &&
	    c->step != STEP_PROBE_DELETE && c->exchange.busy)
		fallback_arm(&c->fallback, c->protocol, c->exchange.started_ms,
			     deadline);
}

/* Starts the request in the protocol spoken now. A protocol whose grants
 * carry the external address has no address request: then an optional
 * address is simply not asked, and a wanted one is read from a mapping of
 * the discard port made and deleted at once. */
static void begin(struct client *c)
{
	c->sent = c->request;
	c->step = STEP_REQUEST;
	if (c->request.kind == REQUEST_ADDRESS &&
	    c->protocol->grants_carry_address) {
		if (c->request.address_optional) {
			c->result.via = c->protocol->id;
			finish(c);
			return;
		}
		c->step = STEP_PROBE_MAP;
		c->sent.kind = REQUEST_MAP;
		c->sent.transport = TRANSPORT_UDP;
		c->sent.internal_port = c->exchange.local.port;
		c->sent.suggested_port = 0;
		c->sent.lifetime = CLIENT_PROBE_LIFETIME;
		if (client_new_nonce(c->sent.nonce) < 0) {
			set_message(&c->result, FAILURE_SYSTEM,
				    "cannot draw a random nonce: %s",
				    strerror(errno));
			finish(c);
			return;
		}
	}
	send_request(c);
}

/* The gateway answered in the other protocol: whether to speak that one
 * now (the user let natpmp choose, and the evidence is enough). */
static bool may_follow_other(struct client *c)
{
	const struct protocol *other = protocol_backend(c->protocol->other);

	if (!c->follow_gateway || c->switched_now)
		return false;
	/* a gateway that answered with our nonce is not taken for another
	 * on one answer anyone on the link could forge */
	if (c->protocol->answers_echo_nonce && c->proven &&
	    ++c->contrary < CLIENT_SWITCH_EVIDENCE) {
		diag_verbose(
			"gateway %s answered in %s format, but it answered in %s before: not switching on this alone (%u of %d)",
			c->exchange.gateway_text, protocol_name(other->id),
			protocol_name(c->protocol->id), c->contrary,
			CLIENT_SWITCH_EVIDENCE);
		return false;
	}
	return true;
}

/* Speaks the other protocol from now on, and makes the request again in
 * it. */
static void switch_to_other(struct client *c)
{
	const struct protocol *other = protocol_backend(c->protocol->other);

	c->proven = false;
	c->contrary = 0;
	diag_verbose("gateway %s speaks %s: switching to it",
		     c->exchange.gateway_text, protocol_name(other->id));
	c->protocol = other;
	c->switched_now = true;
	/* the gateway answered in it, whatever comes of the request */
	c->result.via = other->id;
	begin(c);
}

static bool follow_other_protocol(struct client *c)
{
	if (!may_follow_other(c))
		return false;
	switch_to_other(c);
	return true;
}

/* The gateway answered the other protocol's presence request while the
 * request waited unanswered: it speaks that one, so the request is made
 * again in it. */
static void on_other_answered(void *context)
{
	struct client *c = context;
	const struct ip_address *address =
		&fallback_reply(&c->fallback)->external_address;

	/* the request goes on waiting unless the answer is enough to move */
	if (!c->running || !may_follow_other(c))
		return;
	/* NAT-PMP's presence request is the address request: keep it (the
	 * codec gives none from an error, RFC 6886 section 3.2) */
	if (ip_address_is_set(address) && !ip_address_is_unspecified(address))
		c->external_address = *address;
	exchange_cancel(&c->exchange);
	switch_to_other(c);
}

/* Every answer's epoch feeds the restart detector, by the rule of the
 * protocol it came in. */
static void take_epoch(struct client *c, const struct protocol *protocol,
		       const struct reply *reply, struct result *r)
{
	bool reset;

	if (!reply->has_epoch)
		return;
	r->epoch_known = true;
	r->epoch = reply->epoch;
	if (c->confirming) {
		c->confirming = false;
		reset = epoch_observe_strictly(&c->epoch, reply->epoch,
					       clock_now_ms(),
					       protocol->observe_epoch);
	} else {
		reset = protocol->observe_epoch(&c->epoch, reply->epoch,
						clock_now_ms());
	}
	if (reset && c->events && c->events->gateway_reset)
		c->events->gateway_reset(c->events_context);
}

/* RouterOS, for one, will not choose the external port itself: a refused
 * request that left the choice to the gateway (:0) says to make one. */
static void hint_port_zero(const struct request *sent, struct result *r)
{
	size_t used = strlen(r->message);

	if (sent->kind != REQUEST_MAP || sent->suggested_port != 0 ||
	    sent->internal_port == 0)
		return;
	switch (r->failure) {
	case FAILURE_NOT_AUTHORIZED:
	case FAILURE_NETWORK:
	case FAILURE_OUT_OF_RESOURCES:
	case FAILURE_PORT_UNAVAILABLE:
	case FAILURE_BAD_RESULT: break;
	default: return;
	}
	snprintf(
		r->message + used, sizeof(r->message) - used,
		"; external port 0 asks the gateway to choose one, which some refuse: suggest a port (%u:%u)",
		(unsigned)sent->internal_port, (unsigned)sent->internal_port);
}

/* An answer in protocol, granted or failed, into r. */
static void take_reply(struct client *c, const struct protocol *protocol,
		       const struct request *sent, const struct reply *reply,
		       struct result *r)
{
	r->via = protocol->id;
	take_epoch(c, protocol, reply, r);
	if (reply->failure != FAILURE_NONE) {
		r->failure = reply->failure;
		if (protocol->errors_hold_for_lifetime)
			r->error_lifetime = reply->lifetime;
		protocol->explain(sent, reply, c->exchange.gateway_text,
				  r->message, sizeof(r->message));
		hint_port_zero(sent, r);
		return;
	}
	take_grant(c, sent, reply, r);
}

static void take_answer(struct client *c)
{
	struct result *r = &c->result;

	if (c->verdict == REPLY_ANSWER) {
		c->proven = true;
		c->contrary = 0;
	}
	if (c->verdict == REPLY_OTHER_PROTOCOL) {
		set_message(
			r, FAILURE_UNSUPPORTED,
			"gateway %s answered in %s format: it speaks %s, not %s",
			c->exchange.gateway_text,
			protocol_name(c->protocol->other),
			protocol_name(c->protocol->other),
			protocol_name(c->protocol->id));
		return;
	}
	take_reply(c, c->protocol, &c->sent, &c->reply, r);
}

/* A datagram that came outside an exchange, decoded as the answer to
 * request sent from this client's socket (into sent); an answer starts r
 * as a result for it. */
static enum reply_verdict decode_as_sent(const struct client *c,
					 const struct protocol *protocol,
					 const struct request *request,
					 const uint8_t *datagram, size_t length,
					 struct request *sent,
					 struct reply *reply, struct result *r,
					 char *note, size_t note_size)
{
	enum reply_verdict verdict;

	*sent = *request;
	sent->client_address = c->exchange.local.address;
	verdict = protocol->decode(sent, datagram, length, reply, note,
				   note_size);
	if (verdict == REPLY_ANSWER)
		client_result_for(c, sent, r);
	return verdict;
}

enum client_update client_take_update(struct client *c,
				      const struct request *request,
				      const uint8_t *datagram, size_t length,
				      struct result *r, char *note,
				      size_t note_size)
{
	struct request sent;
	struct reply reply;

	if (!c->protocol->answers_again || request->kind != REQUEST_MAP ||
	    decode_as_sent(c, c->protocol, request, datagram, length, &sent,
			   &reply, r, note, note_size) != REPLY_ANSWER)
		return CLIENT_UPDATE_NONE;
	if (reply.failure == FAILURE_NONE && reply.lifetime == 0) {
		r->via = c->protocol->id;
		take_epoch(c, c->protocol, &reply, r);
		return CLIENT_UPDATE_ENDED;
	}
	take_reply(c, c->protocol, &sent, &reply, r);
	return r->failure == FAILURE_NONE ? CLIENT_UPDATE_GRANT
					  : CLIENT_UPDATE_FAILURE;
}

enum reply_verdict client_take_late(struct client *c,
				    const struct protocol *protocol,
				    const struct request *request,
				    const uint8_t *datagram, size_t length,
				    struct result *r, char *note,
				    size_t note_size)
{
	struct request sent;
	struct reply reply;
	enum reply_verdict verdict =
		decode_as_sent(c, protocol, request, datagram, length, &sent,
			       &reply, r, note, note_size);

	if (verdict == REPLY_ANSWER)
		take_reply(c, protocol, &sent, &reply, r);
	return verdict;
}

/* An address read from the probe mapping: now delete it again. */
static bool delete_probe(struct client *c)
{
	if (c->step != STEP_PROBE_MAP || c->result.failure != FAILURE_NONE)
		return false;
	c->result.kind = RESULT_ADDRESS;
	c->result.external_port = 0;
	c->result.lifetime = 0;
	if (!ip_address_is_set(&c->result.external_address))
		set_message(
			&c->result, FAILURE_NETWORK,
			"gateway %s has no external address yet (its mapping showed none)",
			c->exchange.gateway_text);
	c->step = STEP_PROBE_DELETE;
	c->sent.kind = REQUEST_DELETE;
	send_request(c);
	return true;
}

static void on_exchange_done(void *context, enum exchange_status status)
{
	struct client *c = context;
	struct result *r = &c->result;

	/* an answer in the protocol spoken: the other's socket, opened while
	 * the gateway was silent, is given back until it is silent again */
	if (status == EXCHANGE_ANSWERED)
		fallback_close(&c->fallback);
	else
		fallback_stop(&c->fallback);
	if (c->step == STEP_PROBE_DELETE) {
		/* the address is known; a deletion that failed leaves the
		 * discard port mapped until its short lifetime ends */
		if (status != EXCHANGE_ANSWERED ||
		    c->reply.failure != FAILURE_NONE)
			diag_verbose(
				"could not delete UDP port %u mapped to learn the address: it expires in %d s",
				(unsigned)c->sent.internal_port,
				CLIENT_PROBE_LIFETIME);
		finish(c);
		return;
	}
	switch (status) {
	case EXCHANGE_ANSWERED:
		if (c->verdict == REPLY_OTHER_PROTOCOL &&
		    follow_other_protocol(c))
			return;
		take_answer(c);
		break;
	case EXCHANGE_TIMEOUT: describe_silence(c); break;
	case EXCHANGE_PORT_UNREACHABLE:
		if (client_tunnel(c))
			/* a VPN server closes the port to connections whose
			 * port forwarding is off */
			set_message(
				r, FAILURE_PORT_UNREACHABLE,
				"gateway %s does not speak %s (ICMP port unreachable through the tunnel %s): port forwarding is not enabled for this VPN connection; enable it with the provider",
				c->exchange.gateway_text,
				protocol_name(c->protocol->id), c->tunnel);
		else
			set_message(
				r, FAILURE_PORT_UNREACHABLE,
				"gateway %s does not speak %s (ICMP port unreachable)",
				c->exchange.gateway_text,
				protocol_name(c->protocol->id));
		break;
	case EXCHANGE_SYSTEM_ERROR:
		set_message(r, FAILURE_SYSTEM, "cannot talk to gateway %s: %s",
			    c->exchange.gateway_text,
			    strerror(c->exchange.error_number));
		break;
	}
	if (delete_probe(c))
		return;
	finish(c);
}

static enum result_kind kind_of(const struct request *request)
{
	switch (request->kind) {
	case REQUEST_ADDRESS:
	case REQUEST_ANNOUNCE: return RESULT_ADDRESS;
	case REQUEST_MAP: return RESULT_MAP;
	case REQUEST_DELETE: break;
	}
	return RESULT_UNMAP;
}

void client_result_for(const struct client *c, const struct request *request,
		       struct result *r)
{
	client_result_init(c, r, kind_of(request));
	r->transport = request->transport;
	r->internal_port = request->internal_port;
	r->all = request->kind == REQUEST_DELETE && request->internal_port == 0;
	r->deleted = -1;
	if (request->third_party)
		r->internal_address = request->third_party_address;
}

void client_start(struct client *c, const struct request *request,
		  const struct patience *patience, client_done_fn done,
		  void *context)
{
	c->request = *request;
	c->patience = *patience;
	c->done = done;
	c->done_context = context;
	c->switched_now = false;
	stray_tally_clear(&c->strays);
	c->running = true;
	c->cancelled = false;
	client_result_for(c, request, &c->result);
	begin(c);
}

static void on_run_done(void *context, struct result *result)
{
	(void)context;
	(void)result;
}

static bool ended(void *context)
{
	const struct client *c = context;

	return !c->running;
}

int client_run(struct client *c, const struct request *request,
	       const struct patience *patience, struct result *result)
{
	client_start(c, request, patience, on_run_done, c);
	if (eloop_run_until(c->exchange.loop, ended, c, CLOCK_NEVER) < 0) {
		int error = errno;
		client_cancel(c);
		*result = c->result;
		result->failure = FAILURE_SYSTEM;
		snprintf(result->message, sizeof(result->message),
			 "cannot wait for the gateway: %s", strerror(error));
		return -1;
	}
	*result = c->result;
	return c->cancelled ? 1 : 0;
}

void client_kick(struct client *c, int after_sends)
{
	if (c->exchange.busy && c->exchange.round_sends >= after_sends)
		exchange_kick(&c->exchange);
}

void client_confirm_announcement(struct client *c)
{
	c->confirming = true;
}

bool client_running(const struct client *c)
{
	return c->running;
}

const struct protocol *client_protocol(const struct client *c)
{
	return c->protocol;
}

bool client_follows_gateway(const struct client *c)
{
	return c->follow_gateway;
}

const struct ip_endpoint *client_gateway(const struct client *c)
{
	return &c->exchange.gateway;
}

const char *client_gateway_text(const struct client *c)
{
	return c->exchange.gateway_text;
}

const char *client_tunnel(struct client *c)
{
	/* a one-shot toward a named IPv4 gateway reaches it without its
	 * route: the route is asked only now, when the answer matters; no
	 * route to it is no tunnel */
	if (!c->tunnel_known) {
		struct gateway_route route;
		char error[256];
		bool tunnel =
			gateway_route_to(&c->exchange.gateway.address, &route,
					 error, sizeof(error)) == 0 &&
			route.tunnel;
		client_set_tunnel(c, tunnel ? route.interface_name : NULL);
	}
	return c->tunnel[0] ? c->tunnel : NULL;
}

const struct ip_address *client_source(const struct client *c)
{
	return &c->exchange.local.address;
}

const struct epoch_tracker *client_epoch(const struct client *c)
{
	return &c->epoch;
}

bool client_waiting(const struct client *c)
{
	return c->exchange.waiting;
}

int client_sends(const struct client *c)
{
	return c->exchange.sends;
}

int64_t client_waited_ms(const struct client *c)
{
	return c->exchange.waited_ms;
}

bool client_answered_in_other_protocol(const struct client *c)
{
	return c->verdict == REPLY_OTHER_PROTOCOL;
}

const char *client_request_label(const struct client *c)
{
	return c->exchange.label;
}

int64_t client_started_ms(const struct client *c)
{
	return c->exchange.started_ms;
}

bool client_deadline_reached(const struct client *c)
{
	return c->exchange.deadline_reached;
}

const struct stray_tally *client_strays(const struct client *c)
{
	return &c->strays;
}

void client_learned_address(struct client *c, const struct ip_address *address)
{
	c->external_address = *address;
}

void client_speak(struct client *c, const struct protocol *protocol)
{
	c->protocol = protocol;
}
