/* session.c - setup and bookkeeping shared by address, map and unmap: the
 * same event loop and exchange as renew-loop, run one request at a time to
 * completion. */
#include "session.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "diag.h"
#include "exit_status.h"
#include "wire_natpmp.h"

int session_find_gateway(const struct invocation *inv,
			 struct ip_endpoint *gateway,
			 struct gateway_route *route, struct result *failure)
{
	char text[IP_ADDRESS_TEXT_SIZE];

	memset(failure, 0, sizeof(*failure));
	failure->kind = RESULT_SETUP;
	if (inv->gateway_given) {
		*gateway = inv->gateway;
		if (gateway_route_to(&gateway->address, route, failure->message,
				     sizeof(failure->message)) < 0)
			diag_verbose("no route to gateway %s: %s",
				     ip_address_format(&gateway->address, text,
						       sizeof(text)),
				     failure->message);
		else
			diag_verbose("using the %s", route->origin);
		return 0;
	}
	if (gateway_discover(AF_INET, route, failure->message,
			     sizeof(failure->message)) < 0) {
		failure->failure = FAILURE_NO_GATEWAY;
		return -1;
	}
	gateway->address = route->gateway;
	gateway->port = NATPMP_SERVER_PORT;
	diag_verbose("gateway %s, from the %s",
		     ip_address_format(&route->gateway, text, sizeof(text)),
		     route->origin);
	return 0;
}

int session_open(struct session *s, const struct invocation *inv)
{
	struct ip_endpoint gateway;
	struct gateway_route route;
	struct result failure;

	memset(s, 0, sizeof(*s));
	s->output.json = inv->json;
	s->output.quiet = inv->quiet;
	s->client.exchange.fd = -1;
	s->deadline_ms = inv->timeout_ms >= 0 ? clock_now_ms() + inv->timeout_ms
					      : EXCHANGE_NO_DEADLINE;
	if (eloop_init(&s->loop) < 0) {
		memset(&failure, 0, sizeof(failure));
		snprintf(failure.message, sizeof(failure.message),
			 "cannot start: %s", strerror(errno));
		failure.failure = FAILURE_SYSTEM;
		session_report(s, &failure);
		return s->exit_status;
	}
	if (session_find_gateway(inv, &gateway, &route, &failure) < 0 ||
	    client_open(&s->client, &s->loop, &protocol_natpmp, &gateway,
			&failure) < 0) {
		failure.kind = RESULT_SETUP;
		session_report(s, &failure);
		eloop_free(&s->loop);
		return s->exit_status;
	}
	s->client.timeout_ms = inv->timeout_ms;
	s->client.exchange.progress = diag_progress_possible();
	return 0;
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

void session_run(struct session *s, const struct request *request,
		 struct result *r)
{
	enum patience patience = s->deadline_ms == EXCHANGE_NO_DEADLINE
					 ? PATIENCE_SCHEDULE
					 : PATIENCE_TIMEOUT;

	if (s->silenced) {
		client_result_for(&s->client, request, r);
		fail_from_silence(s, r);
		return;
	}
	s->done = false;
	client_start(&s->client, request, s->deadline_ms, patience, on_done, s);
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
	if (failure_is_silence(r->failure)) {
		s->silenced = true;
		s->silence = *r;
	}
}

void session_report(struct session *s, const struct result *result)
{
	bool already = s->output.failed;

	if (output_result(&s->output, result) < 0 && !already)
		diag_error("cannot write the results: %s",
			   strerror(s->output.error_number));
	if (result->failure != FAILURE_NONE && s->exit_status == EXIT_OK)
		s->exit_status = failure_exit_status(result->failure);
	if (s->output.failed && s->exit_status == EXIT_OK)
		s->exit_status = EXIT_OUTPUT;
}

void session_close(struct session *s)
{
	client_close(&s->client);
	eloop_free(&s->loop);
}
