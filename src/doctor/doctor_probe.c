/* doctor_probe.c - the probes behind `natpmp doctor`, run on the same event
 * loop and exchange as every command: find each family's gateway, ask it
 * in NAT-PMP (an address request) and in PCP (ANNOUNCE), then make test
 * mappings in the protocol natpmp map would use, and delete each at once.
 * Every probe waits PATIENCE_PROBE_MS (or --timeout) at most: the doctor
 * probes, it does not wait out the RFC schedules. SIGINT, SIGTERM and
 * SIGHUP stop the probes, and the test mappings made so far are deleted
 * before natpmp exits; a second signal gives up on the deletions. */
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

/* a deletion gets this long at most: the gateway that made the mapping
 * answers at once, and one that went silent must not stretch the run */
#define DELETE_PATIENCE_MS 1000

struct doctor_run {
	const struct options *options;
	struct doctor_facts *facts;
	struct eloop *loop;
	struct client client;
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
	case FAILURE_TIMEOUT: return PROBE_SILENT;
	case FAILURE_PORT_UNREACHABLE: return PROBE_CLOSED;
	case FAILURE_SYSTEM: return PROBE_FAILED;
	default: break;
	}
	/* an answer in the other protocol's format, or a refusal in this
	 * one's */
	return client_answered_in_other_protocol(c) ? PROBE_OTHER_PROTOCOL
						    : PROBE_REFUSED;
}

/* Runs one request in protocol within patience_ms; false if a signal
 * cut it short (probe->outcome stays PROBE_NOT_RUN). */
static bool run(struct doctor_run *d, const struct protocol *protocol,
		const struct request *request, int64_t patience_ms,
		struct doctor_probe *probe)
{
	struct client *c = &d->client;
	struct patience patience = patience_within(patience_ms, clock_now_ms());
	struct result result;
	int status;

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
	if (client_open(&d->client, d->loop, &protocol_natpmp, false,
			&route->gateway,
			family == AF_INET6 ? &route->route.source : NULL,
			&failure) < 0) {
		probe->outcome = PROBE_FAILED;
		probe->result = failure;
		return -1;
	}
	if (route->route.tunnel)
		client_set_tunnel(&d->client, route->route.interface_name);
	return 0;
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

/* Makes a test mapping, judges nothing, deletes it again. */
static void test_mapping(struct doctor_run *d, const struct protocol *protocol,
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
	if (!run(d, protocol, &request, d->facts->probe_ms, &m->probe))
		m->delete_needed = true;
	else
		m->delete_needed = m->probe.outcome == PROBE_ANSWERED ||
				   m->probe.outcome == PROBE_SILENT;
	if (!m->delete_needed || d->abandon)
		return;
	request.kind = REQUEST_DELETE;
	request.suggested_port = 0;
	request.lifetime = 0;
	memset(&deletion, 0, sizeof(deletion));
	if (run(d, protocol, &request,
		d->facts->probe_ms < DELETE_PATIENCE_MS ? d->facts->probe_ms
							: DELETE_PATIENCE_MS,
		&deletion))
		m->deleted = deletion.outcome == PROBE_ANSWERED;
	if (!m->deleted)
		diag_verbose("test mapping %u/%s not deleted: %s",
			     (unsigned)m->internal_port,
			     transport_name(m->transport),
			     deletion.result.message[0]
				     ? deletion.result.message
				     : "interrupted");
}

static void set_mapping(struct doctor_mapping *m, unsigned transport,
			uint16_t internal_port, uint16_t suggested_port)
{
	m->transport = transport;
	m->internal_port = internal_port;
	m->suggested_port = suggested_port;
	m->lifetime = DOCTOR_TEST_LIFETIME;
}

static bool answered_in_protocol(const struct doctor_probe *probe)
{
	return probe->outcome == PROBE_ANSWERED ||
	       probe->outcome == PROBE_REFUSED;
}

/* NAT-PMP, then PCP, then the test mappings in the protocol natpmp map
 * would speak: the forced one, else NAT-PMP if it answered, else PCP. */
static void probe_ipv4(struct doctor_run *d)
{
	struct doctor_facts *f = d->facts;
	const struct protocol *protocol = NULL;
	struct request address = { .kind = REQUEST_ADDRESS };
	struct request announce = { .kind = REQUEST_ANNOUNCE };

	find_route(d->options, AF_INET, &f->v4);
	if (!f->v4.found || open_client(d, &f->v4, AF_INET, &f->natpmp) < 0)
		return;
	if (!f->forced_pcp && !d->stop)
		run(d, &protocol_natpmp, &address, f->probe_ms, &f->natpmp);
	if (!f->forced_natpmp && !d->stop)
		run(d, &protocol_pcp, &announce, f->probe_ms, &f->pcp);
	if (f->forced_pcp || f->forced_natpmp)
		protocol = f->forced_pcp ? &protocol_pcp : &protocol_natpmp;
	else if (answered_in_protocol(&f->natpmp))
		protocol = &protocol_natpmp;
	else if (answered_in_protocol(&f->pcp))
		protocol = &protocol_pcp;
	if (!protocol)
		return;
	/* after a probe the gateway left unanswered, the rest is not sent */
	if (!d->stop)
		test_mapping(d, protocol, &f->tcp);
	if (!d->stop && f->tcp.probe.outcome != PROBE_SILENT)
		test_mapping(d, protocol, &f->udp);
	if (!d->stop && f->tcp.probe.outcome == PROBE_ANSWERED &&
	    f->udp.probe.outcome != PROBE_SILENT)
		test_mapping(d, protocol, &f->port_zero);
}

static void probe_ipv6(struct doctor_run *d)
{
	struct doctor_facts *f = d->facts;
	struct request announce = { .kind = REQUEST_ANNOUNCE };

	find_route(d->options, AF_INET6, &f->v6);
	if (!f->v6.found || d->stop ||
	    open_client(d, &f->v6, AF_INET6, &f->v6_pcp) < 0)
		return;
	run(d, &protocol_pcp, &announce, f->probe_ms, &f->v6_pcp);
	if (!d->stop && answered_in_protocol(&f->v6_pcp))
		test_mapping(d, &protocol_pcp, &f->pinhole);
}

/* --port, or one of the dynamic ports drawn at random */
static uint16_t test_port(const struct options *options)
{
	uint8_t random[NONCE_SIZE];
	unsigned span = 65536 - DOCTOR_PORT_FIRST;

	if (options->port)
		return options->port;
	if (client_new_nonce(random) < 0)
		return (uint16_t)(DOCTOR_PORT_FIRST +
				  (unsigned)clock_now_ms() % span);
	return (uint16_t)(DOCTOR_PORT_FIRST +
			  ((unsigned)random[0] << 8 | random[1]) % span);
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
	uint16_t port = test_port(options);

	memset(f, 0, sizeof(*f));
	memset(&d, 0, sizeof(d));
	d.options = options;
	d.facts = f;
	f->probe_ms = patience_probe_ms(options->timeout_ms);
	f->forced_natpmp = options->protocol_choice == CHOOSE_NATPMP;
	f->forced_pcp = options->protocol_choice == CHOOSE_PCP;
	choose_families(options, f);
	set_mapping(&f->tcp, TRANSPORT_TCP, port, port);
	set_mapping(&f->udp, TRANSPORT_UDP, port, port);
	set_mapping(&f->port_zero, TRANSPORT_TCP, port, 0);
	set_mapping(&f->pinhole, TRANSPORT_TCP, port, port);
	d.loop = eloop_new();
	if (!d.loop) {
		diag_error("cannot start: %s", strerror(errno));
		return EXIT_SYSTEM;
	}
	if (eloop_signal(d.loop, SIGINT, on_stop_signal, &d) < 0 ||
	    eloop_signal(d.loop, SIGTERM, on_stop_signal, &d) < 0 ||
	    eloop_signal(d.loop, SIGHUP, on_stop_signal, &d) < 0) {
		diag_error("cannot watch for signals: %s", strerror(errno));
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
	eloop_free(d.loop);
	diag_progress_clear();
	return EXIT_OK;
}
