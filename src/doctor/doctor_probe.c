/* doctor_probe.c - the probes behind `natpmp doctor`, run on the same event
 * loop and exchange as every command: find each family's gateway, ask it
 * in NAT-PMP (an address request) and in PCP (ANNOUNCE), then make test
 * mappings in the protocol natpmp map would use, and delete each at once.
 * Every probe waits PATIENCE_PROBE_MS (or --timeout), then the next goes;
 * an answer that comes later, within PATIENCE_PROBE_BUDGET_MS of the
 * probe's first send, still counts, as a slow one: the doctor waits that
 * long while no protocol has answered, and gives a slow gateway's test
 * mappings that long. What it learned of the gateway's protocols goes to
 * the ledger as the commands would put it. SIGINT, SIGTERM and SIGHUP
 * stop the probes, and the test mappings made so far are deleted before
 * natpmp exits; a second signal gives up on the deletions. The test port
 * is never one a mapping natpmp made holds, as the ledger says: the test
 * mapping's deletion would delete it. */
#include "doctor/doctor.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/diag.h"
#include "core/exit_status.h"
#include "engine/client.h"
#include "engine/options.h"
#include "engine/policy.h"
#include "state/ledger.h"

/* a deletion gets this long at most: the gateway that made the mapping
 * answers at once, and one that went silent must not stretch the run */
#define DELETE_PATIENCE_MS 1000
/* the requests sent to a gateway, whose answers may come late */
#define SENT_MAX 16

/* A request sent: a late answer to it is taken (a protocol probe's, while
 * within the budget) or at least not counted as noise. */
struct sent {
	const struct protocol *protocol;
	struct request request;
	struct doctor_probe *probe; /* NULL: its late answers are not used */
	int64_t started_ms;
};

struct doctor_run {
	const struct options *options;
	struct doctor_facts *facts;
	struct eloop *loop;
	struct client client;
	struct ledger ledger;
	struct sent sent[SENT_MAX]; /* to the gateway of the client open */
	size_t sent_count;
	/* the probes a late answer is waited for, NULL-ended */
	struct doctor_probe *waiting[3];
	bool deleting; /* the request in flight is a test mapping's deletion */
	bool stop;     /* a signal asked to stop: no new probes */
	bool abandon;  /* a second one: no deletions either */
};

/* SIGINT, SIGTERM or SIGHUP: stop probing, and delete what was made. */
static void on_stop_signal(void *context)
{
	struct doctor_run *d = context;

	if (d->stop)
		d->abandon = true;
	d->stop = true;
	d->facts->interrupted = true;
	/* a deletion in flight is let finish, unless told twice */
	if (client_running(&d->client) && (d->abandon || !d->deleting))
		client_cancel(&d->client);
}

static enum probe_outcome outcome_of(const struct client *c,
				     const struct result *r)
{
	switch (r->failure) {
	case FAILURE_NONE: return PROBE_ANSWERED;
	case FAILURE_TIMEOUT:
		return client_strays(c)->count ? PROBE_UNUSABLE : PROBE_SILENT;
	case FAILURE_PORT_UNREACHABLE: return PROBE_CLOSED;
	case FAILURE_SYSTEM: return PROBE_FAILED;
	default: break;
	}
	/* an answer in the other protocol's format, or a refusal in this
	 * one's */
	return client_answered_in_other_protocol(c) ? PROBE_OTHER_PROTOCOL
						    : PROBE_REFUSED;
}

/* Keeps a request sent, for its late answers; a probe's answer counts
 * while within the budget. */
static void note_sent(struct doctor_run *d, const struct protocol *protocol,
		      const struct request *request, struct doctor_probe *probe)
{
	struct sent *s;

	if (d->sent_count == SENT_MAX)
		return;
	s = &d->sent[d->sent_count++];
	s->protocol = protocol;
	s->request = *request;
	s->probe = probe;
	s->started_ms = clock_now_ms();
}

/* A probe that ran out of patience hears its answer now: it counts, as a
 * late one, while within the budget. */
static void take_late(struct doctor_run *d, struct sent *s,
		      enum reply_verdict verdict, const struct result *result)
{
	struct doctor_probe *probe = s->probe;
	int64_t after = clock_now_ms() - s->started_ms;

	if (!probe ||
	    (probe->outcome != PROBE_SILENT &&
	     probe->outcome != PROBE_UNUSABLE) ||
	    after > d->facts->budget_ms)
		return;
	if (verdict == REPLY_ANSWER) {
		probe->result = *result;
		probe->outcome = result->failure == FAILURE_NONE
					 ? PROBE_ANSWERED
					 : PROBE_REFUSED;
	} else {
		probe->outcome = PROBE_OTHER_PROTOCOL;
	}
	probe->late = true;
	probe->waited_ms = after;
	diag_verbose("a late answer, after %lld ms, counts for the probe",
		     (long long)after);
}

/* A datagram outside a request: a late answer to one sent before? */
static bool on_stray(void *context, const uint8_t *datagram, size_t length,
		     char *note, size_t note_size)
{
	struct doctor_run *d = context;
	size_t i;

	for (i = 0; i < d->sent_count; i++) {
		struct sent *s = &d->sent[i];
		struct result result;
		enum reply_verdict verdict = client_take_late(
			&d->client, s->protocol, &s->request, datagram, length,
			&result, note, note_size);
		if (verdict == REPLY_IGNORED)
			continue;
		take_late(d, s, verdict, &result);
		return true;
	}
	return false;
}

static const struct client_events events = { .stray = on_stray };

/* Runs one request in protocol within patience_ms; false if a signal
 * cut it short (probe->outcome stays PROBE_NOT_RUN). A probe whose
 * answer may count late is late_probe. */
static bool run(struct doctor_run *d, const struct protocol *protocol,
		const struct request *request, int64_t patience_ms,
		struct doctor_probe *probe, bool late_probe)
{
	struct client *c = &d->client;
	struct patience patience = patience_within(patience_ms, clock_now_ms());
	struct result result;
	int status;

	note_sent(d, protocol, request, late_probe ? probe : NULL);
	client_speak(c, protocol);
	d->deleting = request->kind == REQUEST_DELETE;
	status = client_run(c, request, &patience, &result);
	d->deleting = false;
	if (status > 0)
		return false; /* cancelled before any answer */
	probe->result = result;
	if (status < 0) {
		probe->outcome = PROBE_FAILED;
		return true;
	}
	probe->outcome = outcome_of(c, &result);
	probe->sends = client_sends(c);
	probe->waited_ms = client_waited_ms(c);
	return true;
}

static int open_client(struct doctor_run *d, const struct doctor_route *route,
		       int family, struct doctor_probe *probe)
{
	struct result failure;

	client_close(&d->client);
	d->sent_count = 0;
	if (client_open(&d->client, d->loop, &protocol_natpmp, false,
			&route->gateway,
			family == AF_INET6 ? &route->route.source : NULL,
			&failure) < 0) {
		probe->outcome = PROBE_FAILED;
		probe->result = failure;
		return -1;
	}
	client_listen(&d->client, &events, d);
	client_set_tunnel(&d->client, route->route.tunnel
					      ? route->route.interface_name
					      : NULL);
	return 0;
}

static bool answered_in_protocol(const struct doctor_probe *probe)
{
	return probe->outcome == PROBE_ANSWERED ||
	       probe->outcome == PROBE_REFUSED;
}

static bool unanswered(const struct doctor_probe *probe)
{
	return probe->outcome == PROBE_SILENT ||
	       probe->outcome == PROBE_UNUSABLE;
}

/* Whether any probe waited for has answered in its own protocol. */
static bool heard(void *context)
{
	const struct doctor_run *d = context;
	size_t i;

	for (i = 0; d->waiting[i]; i++)
		if (answered_in_protocol(d->waiting[i]))
			return true;
	return false;
}

/* No protocol answered in its own format in time: wait out the budget of
 * the first probe sent for a late answer to first or second (may be
 * NULL). */
static void wait_for_late_answers(struct doctor_run *d,
				  struct doctor_probe *first,
				  struct doctor_probe *second)
{
	int64_t until;

	d->waiting[0] = first;
	d->waiting[1] = second;
	d->waiting[2] = NULL;
	/* nothing to wait for once one answered, or none is unanswered */
	if (d->stop || d->sent_count == 0 || heard(d) ||
	    !(unanswered(first) || (second && unanswered(second))))
		return;
	until = d->sent[0].started_ms + d->facts->budget_ms;
	if (clock_now_ms() >= until)
		return;
	diag_verbose(
		"no answer yet: waiting for a late one until %lld ms after the first probe",
		(long long)d->facts->budget_ms);
	if (eloop_run_until(d->loop, heard, d, until) < 0)
		diag_verbose("cannot wait: %s", strerror(errno));
}

/* A gateway that answered slowly gets the budget for each request. */
static int64_t patience_for(const struct doctor_run *d,
			    const struct doctor_probe *probe, int64_t ms)
{
	return probe_was_slow(probe) && d->facts->budget_ms > ms
		       ? d->facts->budget_ms
		       : ms;
}

static void find_route(const struct options *options, int family,
		       struct doctor_route *route)
{
	struct result failure;

	route->checked = true;
	if (policy_gateway(options, family, &route->gateway, &route->route,
			   &failure) < 0) {
		snprintf(route->error, sizeof(route->error), "%s",
			 failure.message);
		return;
	}
	route->found = true;
	/* a named gateway's route is looked up, not required */
	route->reachable = route->route.origin[0] != '\0';
	if (!route->reachable)
		snprintf(route->error, sizeof(route->error),
			 "the kernel has no route to it");
	if (options->gateway_given)
		route->found_by =
			strcmp(options->gateway_origin, "NATPMP_GATEWAY") == 0
				? FOUND_BY_ENVIRONMENT
				: FOUND_BY_OPTION;
	else
		route->found_by = route->route.policy ? FOUND_BY_POLICY_RULE
						      : FOUND_BY_DEFAULT_ROUTE;
}

/* A test mapping the gateway still holds is remembered as a command would
 * remember it, with its nonce over PCP, so that natpmp unmap can delete
 * it. */
static void remember_mapping(struct doctor_run *d,
			     const struct protocol *protocol,
			     const struct request *request,
			     const struct doctor_mapping *m)
{
	struct ledger_key key = { .gateway = *client_gateway(&d->client),
				  .transport = request->transport,
				  .host = *client_source(&d->client),
				  .internal_port = request->internal_port };

	if (m->probe.outcome == PROBE_ANSWERED && !m->deleted)
		ledger_granted(&d->ledger, &key,
			       protocol->keeps_nonce ? request->nonce : NULL,
			       m->probe.result.lifetime);
}

/* Makes a test mapping, judges nothing, deletes it again; with the
 * patience the gateway's answer to the protocol probe showed it needs. */
static void test_mapping(struct doctor_run *d, const struct protocol *protocol,
			 const struct doctor_probe *spoken,
			 struct doctor_mapping *m)
{
	struct request request;
	struct doctor_probe deletion;

	m->via = protocol->id;
	policy_request(d->options, REQUEST_MAP, m->transport, m->internal_port,
		       m->suggested_port, &request);
	request.lifetime = m->lifetime; /* a test mapping's, not -l's */
	if (client_new_nonce(request.nonce) < 0) {
		m->probe.outcome = PROBE_FAILED;
		snprintf(m->probe.result.message,
			 sizeof(m->probe.result.message),
			 "cannot draw a random nonce: %s", strerror(errno));
		return;
	}
	/* cut short by a signal, the request may have reached the gateway */
	if (!run(d, protocol, &request,
		 patience_for(d, spoken, d->facts->probe_ms), &m->probe, false))
		m->delete_needed = true;
	else
		m->delete_needed = m->probe.outcome == PROBE_ANSWERED ||
				   unanswered(&m->probe);
	if (!m->delete_needed || d->abandon)
		return;
	request.kind = REQUEST_DELETE;
	request.suggested_port = 0;
	request.lifetime = 0;
	memset(&deletion, 0, sizeof(deletion));
	if (run(d, protocol, &request,
		patience_for(d, spoken,
			     d->facts->probe_ms < DELETE_PATIENCE_MS
				     ? d->facts->probe_ms
				     : DELETE_PATIENCE_MS),
		&deletion, false))
		m->deleted = deletion.outcome == PROBE_ANSWERED;
	if (!m->deleted)
		diag_verbose("test mapping %u/%s not deleted: %s",
			     (unsigned)m->internal_port,
			     transport_name(m->transport),
			     deletion.result.message[0]
				     ? deletion.result.message
				     : "interrupted");
	request.kind = REQUEST_MAP;
	remember_mapping(d, protocol, &request, m);
}

static void set_mapping(struct doctor_mapping *m, unsigned transport,
			uint16_t internal_port, uint16_t suggested_port)
{
	m->transport = transport;
	m->internal_port = internal_port;
	m->suggested_port = suggested_port;
	m->lifetime = DOCTOR_TEST_LIFETIME;
}

/* The protocol natpmp map would speak, as the ledger will say: the forced
 * one, else NAT-PMP if it answered in NAT-PMP, else PCP if that did. */
static const struct protocol *choose_protocol(const struct doctor_facts *f)
{
	if (f->forced_pcp || f->forced_natpmp)
		return f->forced_pcp ? &protocol_pcp : &protocol_natpmp;
	if (answered_in_protocol(&f->natpmp))
		return &protocol_natpmp;
	if (answered_in_protocol(&f->pcp))
		return &protocol_pcp;
	return NULL;
}

/* What the doctor learned of the gateway's protocols, as a command that
 * got this answer would remember it: the next map starts there. */
static void remember_protocol(struct doctor_run *d,
			      const struct protocol *protocol,
			      const struct doctor_probe *probe, bool forced)
{
	if (answered_in_protocol(probe))
		ledger_heard(&d->ledger, client_gateway(&d->client),
			     protocol->id, !forced);
}

/* NAT-PMP, then PCP (and, while neither answered, the rest of the budget
 * for a late answer), then the test mappings in the protocol natpmp map
 * would speak. */
static void probe_ipv4(struct doctor_run *d)
{
	struct doctor_facts *f = d->facts;
	const struct protocol *protocol;
	const struct doctor_probe *spoken;
	struct request address = { .kind = REQUEST_ADDRESS };
	struct request announce = { .kind = REQUEST_ANNOUNCE };

	find_route(d->options, AF_INET, &f->v4);
	if (!f->v4.found || open_client(d, &f->v4, AF_INET, &f->natpmp) < 0)
		return;
	if (!f->forced_pcp && !d->stop)
		run(d, &protocol_natpmp, &address, f->probe_ms, &f->natpmp,
		    true);
	if (!f->forced_natpmp && !d->stop)
		run(d, &protocol_pcp, &announce, f->probe_ms, &f->pcp, true);
	wait_for_late_answers(d, f->forced_pcp ? &f->pcp : &f->natpmp,
			      f->forced_natpmp || f->forced_pcp ? NULL
								: &f->pcp);
	protocol = choose_protocol(f);
	if (!protocol)
		return;
	spoken = protocol == &protocol_pcp ? &f->pcp : &f->natpmp;
	remember_protocol(d, protocol, spoken,
			  f->forced_pcp || f->forced_natpmp);
	/* after a probe the gateway left unanswered, the rest is not sent */
	if (!d->stop)
		test_mapping(d, protocol, spoken, &f->tcp);
	if (!d->stop && !unanswered(&f->tcp.probe))
		test_mapping(d, protocol, spoken, &f->udp);
	if (!d->stop && f->tcp.probe.outcome == PROBE_ANSWERED &&
	    !unanswered(&f->udp.probe))
		test_mapping(d, protocol, spoken, &f->port_zero);
}

static void probe_ipv6(struct doctor_run *d)
{
	struct doctor_facts *f = d->facts;
	struct request announce = { .kind = REQUEST_ANNOUNCE };

	find_route(d->options, AF_INET6, &f->v6);
	if (!f->v6.found || d->stop ||
	    open_client(d, &f->v6, AF_INET6, &f->v6_pcp) < 0)
		return;
	run(d, &protocol_pcp, &announce, f->probe_ms, &f->v6_pcp, true);
	wait_for_late_answers(d, &f->v6_pcp, NULL);
	remember_protocol(d, &protocol_pcp, &f->v6_pcp, true);
	if (!d->stop && answered_in_protocol(&f->v6_pcp))
		test_mapping(d, &protocol_pcp, &f->v6_pcp, &f->pinhole);
}

static uint32_t draw_port(void *context)
{
	(void)context;
	return os_random_number();
}

/* A mapping of this host that natpmp made holds port: the doctor's test
 * mapping would replace it, and its deletion delete it. */
static bool port_held(void *context, uint16_t port)
{
	const struct ledger *ledger = context;

	return ledger_port_held(ledger, port, os_address_is_local);
}

/* --port, unless a mapping natpmp made holds it (0 then, after saying so),
 * or a dynamic port drawn at random that none holds. */
static uint16_t test_port(const struct options *options, struct ledger *ledger)
{
	unsigned port = options->port;

	if (!port)
		return doctor_random_port(draw_port, port_held, ledger);
	if (!port_held(ledger, (uint16_t)port))
		return (uint16_t)port;
	diag_error(
		"doctor --port %u: port %u is held by a mapping natpmp made (map or renew-loop); choose another port",
		port, port);
	return 0;
}

/* Which families are checked: the one -4 or -6 names, the named
 * gateway's, or both. */
static void choose_families(const struct options *options,
			    struct doctor_facts *f)
{
	unsigned asked = options->families_given;

	if (options->gateway_given)
		asked = options->families;
	if (asked == FAMILY_V4)
		f->v6_skip =
			options->families_given
				? "-4 given"
				: "the named gateway is IPv4; check IPv6 with -6 -g ROUTER";
	if (asked == FAMILY_V6)
		f->v4_skip =
			options->families_given
				? "-6 given"
				: "the named gateway is IPv6; check IPv4 with -4 -g ROUTER";
	if (!f->v6_skip && f->forced_natpmp)
		f->v6_skip = "--nat-pmp given, and NAT-PMP has no IPv6";
}

int doctor_probe(const struct options *options, struct doctor_facts *f)
{
	struct doctor_run d;
	uint16_t port;

	memset(f, 0, sizeof(*f));
	memset(&d, 0, sizeof(d));
	d.options = options;
	d.facts = f;
	f->probe_ms = patience_probe_ms(options->timeout_ms);
	f->budget_ms = patience_probe_budget_ms(options->timeout_ms);
	f->forced_natpmp = options->protocol_choice == CHOOSE_NATPMP;
	f->forced_pcp = options->protocol_choice == CHOOSE_PCP;
	choose_families(options, f);
	d.loop = eloop_new();
	if (!d.loop || ledger_open(&d.ledger, options->state_directory) < 0) {
		diag_error("cannot start: %s", strerror(errno));
		if (d.loop)
			eloop_free(d.loop);
		return EXIT_SYSTEM;
	}
	port = test_port(options, &d.ledger);
	if (!port) {
		ledger_close(&d.ledger);
		eloop_free(d.loop);
		return EXIT_USAGE;
	}
	set_mapping(&f->tcp, TRANSPORT_TCP, port, port);
	set_mapping(&f->udp, TRANSPORT_UDP, port, port);
	set_mapping(&f->port_zero, TRANSPORT_TCP, port, 0);
	set_mapping(&f->pinhole, TRANSPORT_TCP, port, port);
	if (eloop_signal(d.loop, SIGINT, on_stop_signal, &d) < 0 ||
	    eloop_signal(d.loop, SIGTERM, on_stop_signal, &d) < 0 ||
	    eloop_signal(d.loop, SIGHUP, on_stop_signal, &d) < 0) {
		diag_error("cannot watch for signals: %s", strerror(errno));
		ledger_close(&d.ledger);
		eloop_free(d.loop);
		return EXIT_SYSTEM;
	}
	diag_verbose("test mappings use internal port %u for %d s",
		     (unsigned)port, DOCTOR_TEST_LIFETIME);
	if (!f->v4_skip)
		probe_ipv4(&d);
	if (!f->v6_skip && !d.stop)
		probe_ipv6(&d);
	client_close(&d.client);
	ledger_save(&d.ledger);
	ledger_close(&d.ledger);
	eloop_free(d.loop);
	diag_progress_clear();
	return EXIT_OK;
}
