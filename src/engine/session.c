/* session.c - setup and bookkeeping shared by address, map and unmap: the
 * same event loop and exchange as renew-loop, run one request at a time to
 * completion, once per address family asked for; the state directory
 * remembers each gateway's protocol and each PCP mapping's nonce. */
#include "engine/session.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/diag.h"
#include "core/exit_status.h"
#include "wire/wire_natpmp.h"

/* For IPv6 the source must be a global address even toward a link-local
 * gateway: the pinhole is for the address the request comes from. */
static int global_source(struct gateway_route *route, struct result *failure)
{
	struct gateway_route internet;
	char error[RESULT_MESSAGE_SIZE];

	if (ip_address_is_set(&route->source) &&
	    !ip_address_is_link_local(&route->source))
		return 0;
	if (gateway_discover(AF_INET6, &internet, error, sizeof(error)) == 0 &&
	    ip_address_is_set(&internet.source) &&
	    !ip_address_is_link_local(&internet.source)) {
		route->source = internet.source;
		return 0;
	}
	failure->failure = FAILURE_NO_GATEWAY;
	snprintf(
		failure->message, sizeof(failure->message),
		"this host has no global IPv6 address toward the gateway to open a pinhole for");
	return -1;
}

int session_find_gateway(const struct options *options, int family,
			 struct ip_endpoint *gateway,
			 struct gateway_route *route, struct result *failure)
{
	char text[IP_ADDRESS_TEXT_SIZE];

	memset(failure, 0, sizeof(*failure));
	failure->kind = RESULT_SETUP;
	if (options->gateway_given) {
		*gateway = options->gateway;
		if (gateway_route_to(&gateway->address, route, failure->message,
				     sizeof(failure->message)) < 0)
			diag_verbose("no route to gateway %s: %s",
				     ip_address_format(&gateway->address, text,
						       sizeof(text)),
				     failure->message);
		else
			diag_verbose("using the %s", route->origin);
	} else {
		if (gateway_discover(family, route, failure->message,
				     sizeof(failure->message)) < 0) {
			failure->failure = FAILURE_NO_GATEWAY;
			return -1;
		}
		gateway->address = route->gateway;
		gateway->port = GATEWAY_PORT;
		diag_verbose(
			"gateway %s, from the %s",
			ip_address_format(&route->gateway, text, sizeof(text)),
			route->origin);
	}
	memset(failure->message, 0, sizeof(failure->message));
	if (family == AF_INET6)
		return global_source(route, failure);
	return 0;
}

const struct protocol *session_protocol(const struct options *options,
					int family, const struct ledger *ledger,
					const struct ip_endpoint *gateway,
					bool *follow_gateway)
{
	*follow_gateway = false;
	if (options->protocol_choice == CHOOSE_PCP)
		return &protocol_pcp;
	if (options->protocol_choice == CHOOSE_NATPMP)
		return &protocol_natpmp;
	/* NAT-PMP has no IPv6 and none of these options */
	if (family == AF_INET6 || options->exact || options->third_party ||
	    options->filter_count)
		return &protocol_pcp;
	*follow_gateway = true;
	/* what answered last time, else NAT-PMP, which costs a NAT-PMP
	 * gateway no extra round trip */
	return protocol_backend(ledger ? ledger_protocol(ledger, gateway)
				       : PROTOCOL_NATPMP);
}

/* "cannot DO: why" */
static void fail_setup(struct session *s, const char *what, int error)
{
	struct result failure;

	memset(&failure, 0, sizeof(failure));
	failure.failure = FAILURE_SYSTEM;
	snprintf(failure.message, sizeof(failure.message), "cannot %s: %s",
		 what, strerror(error));
	session_report(s, &failure);
}

static int session_open(struct session *s, const struct options *options,
			int family, struct ledger *ledger,
			struct output *output)
{
	struct ip_endpoint gateway;
	struct gateway_route route;
	struct result failure;
	const struct protocol *protocol;
	bool follow;

	s->options = options;
	s->family = family;
	s->ledger = ledger;
	s->output = output;
	s->client.exchange.fd = -1;
	if (eloop_init(&s->loop) < 0) {
		fail_setup(s, "start", errno);
		return -1;
	}
	if (session_find_gateway(options, family, &gateway, &route, &failure) <
	    0)
		goto fail;
	protocol =
		session_protocol(options, family, s->ledger, &gateway, &follow);
	if (client_open(&s->client, &s->loop, protocol, follow, &gateway,
			family == AF_INET6 ? &route.source : NULL,
			&failure) < 0)
		goto fail;
	s->client.timeout_ms = options->timeout_ms;
	s->client.exchange.progress = diag_progress_possible();
	s->deadline_ms = options->timeout_ms >= 0
				 ? clock_now_ms() + options->timeout_ms
				 : EXCHANGE_NO_DEADLINE;
	return 0;
fail:
	failure.kind = RESULT_SETUP;
	session_report(s, &failure);
	return -1;
}

static void session_close(struct session *s)
{
	client_close(&s->client);
	eloop_free(&s->loop);
}

int session_run_families(const struct options *options, session_body body)
{
	static const int families[] = { AF_INET, AF_INET6 };
	static const unsigned bits[] = { FAMILY_V4, FAMILY_V6 };
	struct output output = { .json = options->json,
				 .quiet = options->quiet };
	struct ledger ledger;
	int status = EXIT_OK;
	size_t i;

	if (ledger_open(&ledger, options->state_directory) < 0) {
		diag_error("cannot read the state: %s", strerror(errno));
		return EXIT_SYSTEM;
	}
	for (i = 0; i < 2; i++) {
		struct session *s;
		if (!(options->families & bits[i]))
			continue;
		s = calloc(1, sizeof(*s));
		if (!s) {
			diag_error("out of memory");
			status = EXIT_SYSTEM;
			break;
		}
		if (session_open(s, options, families[i], &ledger, &output) ==
		    0)
			body(s);
		session_close(s);
		if (status == EXIT_OK)
			status = s->exit_status;
		free(s);
	}
	/* what every family made, in one write */
	ledger_save(&ledger);
	ledger_close(&ledger);
	if (output.failed && status == EXIT_OK)
		status = EXIT_OUTPUT;
	return status;
}

static void on_done(void *context, struct result *result)
{
	struct session *s = context;

	(void)result;
	s->done = true;
}

/* A request not sent because the gateway failed an earlier one: the same
 * failure, and why. */
static void fail_from_silence(struct session *s, struct result *r)
{
	r->failure = s->silence.failure;
	if (s->silence.failure == FAILURE_TIMEOUT) {
		char label[64];
		result_label(&s->silence, label, sizeof(label));
		/* the precision only keeps the compiler sure it fits */
		snprintf(r->message, sizeof(r->message),
			 "not sent after the %s request had %.150s", label,
			 s->silence.message);
	} else {
		snprintf(r->message, sizeof(r->message), "not sent: %.240s",
			 s->silence.message);
	}
}

void session_request(const struct options *options, enum request_kind kind,
		     unsigned transport, uint16_t internal_port,
		     uint16_t suggested_port, struct request *request)
{
	memset(request, 0, sizeof(*request));
	request->kind = kind;
	request->transport = transport;
	request->internal_port = internal_port;
	request->suggested_port = suggested_port;
	request->lifetime = options->lifetime;
	request->exact = options->exact;
	request->third_party = options->third_party;
	request->third_party_address = options->third_party_address;
	memcpy(request->filters, options->filters, sizeof(request->filters));
	request->filter_count = options->filter_count;
}

/* The mapping a request is about, as the ledger knows it: this host's,
 * or the --for host's. */
static void ledger_key_of(const struct session *s,
			  const struct request *request, struct ledger_key *key)
{
	memset(key, 0, sizeof(*key));
	key->gateway = s->client.exchange.gateway;
	key->transport = request->transport;
	key->host = request->third_party ? request->third_party_address
					 : s->client.exchange.local.address;
	key->internal_port = request->internal_port;
}

/* A mapping keeps its nonce for life, across runs: the one the ledger
 * knows, else a new one. */
static int bring_nonce(struct session *s, struct request *request)
{
	struct ledger_key key;

	if (request->kind == REQUEST_ADDRESS)
		return 0;
	ledger_key_of(s, request, &key);
	if (ledger_nonce(s->ledger, &key, request->nonce))
		return 0;
	return client_new_nonce(request->nonce);
}

/* What the ledger must remember of an answer. */
static void remember(struct session *s, const struct request *request,
		     const struct result *r)
{
	struct ledger_key key;

	ledger_heard(s->ledger, &s->client.exchange.gateway, r->via,
		     s->client.follow_gateway);
	if (!protocol_backend(r->via)->keeps_nonce ||
	    r->failure != FAILURE_NONE || request->kind == REQUEST_ADDRESS)
		return;
	ledger_key_of(s, request, &key);
	if (request->kind == REQUEST_MAP)
		ledger_granted(s->ledger, &key, request->nonce, r->lifetime);
	else
		ledger_deleted(s->ledger, &key);
}

void session_run(struct session *s, const struct request *asked,
		 struct result *r)
{
	struct request request = *asked;
	int64_t deadline = s->deadline_ms;
	enum patience patience = PATIENCE_TIMEOUT;

	if (s->silenced) {
		client_result_for(&s->client, &request, r);
		fail_from_silence(s, r);
		return;
	}
	if (bring_nonce(s, &request) < 0) {
		client_result_for(&s->client, &request, r);
		r->failure = FAILURE_SYSTEM;
		snprintf(r->message, sizeof(r->message),
			 "cannot draw a random nonce: %s", strerror(errno));
		return;
	}
	if (s->options->timeout_ms < 0)
		patience = PATIENCE_SCHEDULE; /* the protocol's own */
	s->done = false;
	client_start(&s->client, &request, deadline, patience, on_done, s);
	while (!s->done) {
		if (eloop_turn(&s->loop) < 0) {
			client_cancel(&s->client);
			*r = s->client.result;
			r->failure = FAILURE_SYSTEM;
			snprintf(r->message, sizeof(r->message),
				 "cannot wait for the gateway: %s",
				 strerror(errno));
			return;
		}
	}
	*r = s->client.result;
	remember(s, &request, r);
	if (failure_is_silence(r->failure)) {
		s->silenced = true;
		s->silence = *r;
	}
}

void session_report(struct session *s, const struct result *result)
{
	bool already = s->output->failed;

	if (output_result(s->output, result) < 0 && !already)
		diag_error("cannot write the results: %s",
			   strerror(s->output->error_number));
	if (result->failure != FAILURE_NONE && s->exit_status == EXIT_OK)
		s->exit_status = failure_exit_status(result->failure);
}
