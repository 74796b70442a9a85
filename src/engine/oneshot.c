/* oneshot.c - address, map and unmap on the same event loop, exchange and
 * ledger as renew-loop: each request run to its end, one at a time, once
 * per address family asked for. */
#include "engine/oneshot.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/diag.h"
#include "core/exit_status.h"
#include "engine/save.h"

static int oneshot_open(struct oneshot *s)
{
	const struct options *options = s->options;
	struct ip_endpoint gateway = options->gateway;
	struct gateway_route route = { 0 };
	struct result failure;
	const struct protocol *protocol;
	bool follow, routed = policy_route_needed(options, s->family);

	if (routed &&
	    policy_gateway(options, s->family, &gateway, &route, &failure) < 0)
		goto fail;
	protocol = policy_protocol(options, s->family, s->ledger, &gateway,
				   &follow);
	if (client_open(&s->client, s->loop, protocol, follow, &gateway,
			s->family == AF_INET6 ? &route.source : NULL,
			&failure) < 0)
		goto fail;
	if (routed)
		client_set_tunnel(&s->client,
				  route.tunnel ? route.interface_name : NULL);
	s->patience = patience_for_command(options->timeout_ms, clock_now_ms());
	return 0;
fail:
	failure.kind = RESULT_SETUP;
	oneshot_report(s, &failure);
	return -1;
}

/* What a signal must reach: the request in flight. */
struct interruption {
	bool interrupted;
	struct client *client; /* the family's now */
};

/* The state's writer ended: the loop wakes, and save_and_wait sees it. */
static void on_child(void *context)
{
	(void)context;
}

static void on_stop_signal(void *context)
{
	struct interruption *i = context;

	i->interrupted = true;
	if (i->client && client_running(i->client))
		client_cancel(i->client);
}

int oneshot_run_families(const struct options *options, oneshot_body body)
{
	static const int stop_signals[] = { SIGINT, SIGTERM, SIGHUP };
	struct interruption interruption = { 0 };
	static const int families[] = { AF_INET, AF_INET6 };
	static const unsigned bits[] = { FAMILY_V4, FAMILY_V6 };
	struct output output = { .json = options->json,
				 .quiet = options->quiet };
	struct oneshot s;
	struct ledger ledger;
	struct eloop *loop = eloop_new();
	int status = EXIT_OK;
	size_t i;

	if (!loop) {
		diag_error("cannot start: %s", strerror(errno));
		return EXIT_SYSTEM;
	}
	for (i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++)
		if (eloop_signal(loop, stop_signals[i], on_stop_signal,
				 &interruption) < 0 ||
		    (i == 0 &&
		     eloop_signal(loop, SIGCHLD, on_child, NULL) < 0)) {
			diag_error("cannot watch for signals: %s",
				   strerror(errno));
			eloop_free(loop);
			return EXIT_SYSTEM;
		}
	if (ledger_open(&ledger, options->state_directory) < 0) {
		diag_error("cannot read the state: %s", strerror(errno));
		eloop_free(loop);
		return EXIT_SYSTEM;
	}
	for (i = 0; i < 2 && !interruption.interrupted; i++) {
		if (!(options->families & bits[i]))
			continue;
		memset(&s, 0, sizeof(s));
		s.options = options;
		s.family = families[i];
		s.loop = loop;
		s.ledger = &ledger;
		s.output = &output;
		s.interrupted = &interruption.interrupted;
		interruption.client = &s.client;
		if (oneshot_open(&s) == 0)
			body(&s);
		client_close(&s.client); /* not running: no signal reaches it */
		if (status == EXIT_OK)
			status = s.exit_status;
	}
	/* what every family made, in one write */
	save_and_wait(loop, &ledger, SAVE_PATIENCE_MS);
	ledger_close(&ledger);
	eloop_free(loop);
	if (output.failed && status == EXIT_OK)
		status = EXIT_OUTPUT;
	return status;
}

/* A request not sent because the gateway failed an earlier one: the same
 * failure, and why. */
static void fail_from_silence(struct oneshot *s, struct result *r)
{
	r->failure = s->silence.failure;
	if (s->silence.failure == FAILURE_TIMEOUT) {
		char label[64];
		result_label(&s->silence, label, sizeof(label));
		/* the precision only keeps the compiler sure it fits */
		snprintf(r->message, sizeof(r->message),
			 "not sent after the %s request had %.280s", label,
			 s->silence.message);
	} else {
		snprintf(r->message, sizeof(r->message), "not sent: %.370s",
			 s->silence.message);
	}
}

/* The mapping a request is about, as the ledger knows it: this host's,
 * or the --for host's. */
static void ledger_key_of(const struct oneshot *s,
			  const struct request *request, struct ledger_key *key)
{
	memset(key, 0, sizeof(*key));
	key->gateway = *client_gateway(&s->client);
	key->transport = request->transport;
	key->host = request->third_party ? request->third_party_address
					 : *client_source(&s->client);
	key->internal_port = request->internal_port;
}

/* A mapping keeps its nonce for life, across runs: the one the ledger
 * knows, else a new one. */
static int bring_nonce(struct oneshot *s, struct request *request)
{
	struct ledger_key key;

	if (request->kind == REQUEST_ADDRESS)
		return 0;
	ledger_key_of(s, request, &key);
	if (ledger_nonce(s->ledger, &key, request->nonce))
		return 0;
	return client_new_nonce(request->nonce);
}

/* What the ledger must remember of an answer: every mapping made, with
 * its nonce over a protocol that keeps one, so that unmap can delete it
 * and the doctor leaves it alone. */
static void remember(struct oneshot *s, const struct request *request,
		     const struct result *r)
{
	struct ledger_key key;

	ledger_heard(s->ledger, client_gateway(&s->client), r->via,
		     client_follows_gateway(&s->client));
	if (r->failure != FAILURE_NONE || request->kind == REQUEST_ADDRESS)
		return;
	ledger_key_of(s, request, &key);
	if (request->kind == REQUEST_MAP)
		ledger_granted(s->ledger, &key,
			       protocol_backend(r->via)->keeps_nonce
				       ? request->nonce
				       : NULL,
			       r->lifetime);
	else
		ledger_deleted(s->ledger, &key);
}

/* A request cut short by a signal: the gateway may have made the mapping
 * all the same, so it is remembered (with its nonce over PCP), for unmap
 * to delete it. */
static void interrupted(struct oneshot *s, const struct request *request,
			struct result *r)
{
	struct ledger_key key;

	client_result_for(&s->client, request, r);
	r->failure = FAILURE_INTERRUPTED;
	snprintf(r->message, sizeof(r->message),
		 "interrupted while waiting for gateway %s%s",
		 client_gateway_text(&s->client),
		 request->kind == REQUEST_MAP
			 ? " (it may have made the mapping: unmap deletes it)"
			 : "");
	if (request->kind != REQUEST_MAP)
		return;
	ledger_key_of(s, request, &key);
	ledger_granted(s->ledger, &key,
		       client_protocol(&s->client)->keeps_nonce ? request->nonce
								: NULL,
		       request->lifetime);
}

void oneshot_request(struct oneshot *s, const struct request *asked,
		     struct result *r)
{
	struct request request = *asked;

	if (s->silenced) {
		client_result_for(&s->client, &request, r);
		fail_from_silence(s, r);
		return;
	}
	if (oneshot_interrupted(s)) {
		client_result_for(&s->client, &request, r);
		r->failure = FAILURE_INTERRUPTED;
		snprintf(r->message, sizeof(r->message),
			 "not sent: interrupted");
		return;
	}
	if (bring_nonce(s, &request) < 0) {
		client_result_for(&s->client, &request, r);
		r->failure = FAILURE_SYSTEM;
		snprintf(r->message, sizeof(r->message),
			 "cannot draw a random nonce: %s", strerror(errno));
		return;
	}
	if (client_run(&s->client, &request, &s->patience, r) > 0) {
		interrupted(s, &request, r);
		return;
	}
	remember(s, &request, r);
	if (failure_is_silence(r->failure)) {
		s->silenced = true;
		s->silence = *r;
	}
}

void oneshot_report(struct oneshot *s, const struct result *result)
{
	bool already = s->output->failed;

	if (output_result(s->output, result) < 0 && !already)
		diag_error("cannot write the results: %s",
			   strerror(s->output->error_number));
	if (result->failure != FAILURE_NONE && s->exit_status == EXIT_OK)
		s->exit_status = failure_exit_status(result->failure);
}

bool oneshot_interrupted(const struct oneshot *s)
{
	return *s->interrupted;
}
