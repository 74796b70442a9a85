/* family_mappings.c - one address family's mappings kept alive: the pump
 * sends what the scheduler says is due, one request at a time; results,
 * expiries, announcements and network changes update the schedule and go
 * to the reporter; nonces and protocols go to the ledger. */
#include "renew/family_mappings.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/diag.h"
#include "engine/policy.h"
#include "os/os.h"

/* an in-flight request this many sends in gets resent when the gateway
 * announces itself */
#define KICK_AFTER_SENDS 3

static const char *const event_names[] = {
	[MAPPING_MAPPED] = "mapped",
	[MAPPING_RENEWED] = "renewed",
	[MAPPING_CHANGED] = "changed",
	[MAPPING_LIFETIME_CHANGED] = "changed",
};

/* The client open to the gateway, NULL while there is none. */
static struct client *gateway_client(struct family_mappings *f)
{
	return supervisor_client(&f->sup);
}

const struct client *family_mappings_client(struct family_mappings *f)
{
	return gateway_client(f);
}

static unsigned random_number(void)
{
	return os_random_number();
}

static void changed(struct family_mappings *f)
{
	f->shared->changed(f->shared->context);
}

void family_mappings_pump_soon(struct family_mappings *f)
{
	eloop_timer_at(f->shared->loop, &f->pump_timer, clock_now_ms());
}

/* A mapping event, at the gateway in use. */
static void report(struct family_mappings *f, size_t index, const char *event,
		   bool run_hook)
{
	const struct client *c = gateway_client(f);
	struct mapping_place place = { 0 };

	if (c) {
		place.gateway = client_gateway(c);
		place.epoch = client_epoch(c);
		place.via = client_protocol(c)->id;
	}
	reporter_mapping(&f->shared->rep, &f->mappings[index],
			 f->first_lane + index, event, run_hook, &place);
}

void family_mappings_expire(struct family_mappings *f)
{
	size_t index;

	while (scheduler_expire_next(&f->sched, clock_now_ms(), &index)) {
		report(f, index, "lost", true);
		changed(f);
	}
}

/* --- the state directory --- */

/* The mapping as the ledger knows it: at this gateway, for this host or
 * the --for one. */
static void ledger_key_of(struct family_mappings *f, size_t index,
			  struct ledger_key *key)
{
	const struct options *options = f->shared->options;
	const struct mapping *m = &f->mappings[index];
	const struct client *c = gateway_client(f);

	memset(key, 0, sizeof(*key));
	key->gateway = *client_gateway(c);
	key->transport = m->transport;
	key->host = options->third_party ? options->third_party_address
					 : *client_source(c);
	key->internal_port = m->internal_port;
}

void renew_shared_save_state(struct renew_shared *shared)
{
	eloop_timer_stop(shared->loop, &shared->save_timer);
	shared->saved_at_ms = clock_now_ms();
	if (ledger_write_start(&shared->ledger) < 0)
		renew_shared_save_soon(shared); /* fork failed: later */
}

void renew_shared_save_soon(struct renew_shared *shared)
{
	unsigned failures = ledger_write_failures(&shared->ledger);
	int64_t wait = (int64_t)RENEW_STATE_SAVE_INTERVAL_MS
		       << (failures < 8 ? failures : 8);

	if (ledger_unsaved(&shared->ledger) &&
	    !ledger_writing(&shared->ledger) && !shared->save_timer.armed)
		eloop_timer_at(shared->loop, &shared->save_timer,
			       shared->saved_at_ms + wait);
}

/* Every mapping the loop holds is remembered, with its nonce over a
 * protocol that keeps one (granted_via), so that unmap can delete it and
 * the doctor leaves it alone; granted_via NULL: deleted, forgotten. */
static void remember_mapping(struct family_mappings *f, size_t index,
			     const struct protocol *granted_via)
{
	const struct mapping *m = &f->mappings[index];
	struct ledger_key key;

	ledger_key_of(f, index, &key);
	if (!granted_via)
		ledger_deleted(&f->shared->ledger, &key);
	else
		ledger_granted(&f->shared->ledger, &key,
			       granted_via->keeps_nonce ? m->nonce : NULL,
			       m->lifetime);
	renew_shared_save_soon(f->shared);
}

static void remember_protocol(struct family_mappings *f, enum protocol_id via)
{
	const struct client *c = gateway_client(f);

	ledger_heard(&f->shared->ledger, client_gateway(c), via,
		     client_follows_gateway(c));
	renew_shared_save_soon(f->shared);
}

/* A loop restarted keeps its mappings' nonces: those the ledger knows for
 * this gateway. */
static void adopt_nonces(struct family_mappings *f)
{
	struct ledger_key key;
	size_t i;

	for (i = 0; i < f->sched.count; i++) {
		ledger_key_of(f, i, &key);
		ledger_nonce(&f->shared->ledger, &key, f->mappings[i].nonce);
	}
}

/* --- what the gateway tells us --- */

/* The gateway lost its mappings: they forward nothing now, so they are
 * lost at once (never claimed while they are gone), and mapped again when
 * re-created, after RFC 6886's random spread. */
static void gateway_was_reset(struct family_mappings *f, int64_t now)
{
	size_t i;

	reporter_gateway(&f->shared->rep, "gateway-reset", gateway_client(f),
			 NULL);
	for (i = 0; i < f->sched.count; i++)
		if (scheduler_lose(&f->sched, i))
			report(f, i, "lost", true);
	scheduler_gateway_reset(&f->sched, now, random_number);
}

static void learned_address(struct family_mappings *f,
			    const struct ip_address *address)
{
	struct result r;
	size_t i;

	/* later grants carry it, whoever told it: a reply or an
	 * announcement */
	if (gateway_client(f))
		client_learned_address(gateway_client(f), address);
	if (!ip_address_equal(&f->address, address)) {
		if (ip_address_is_set(&f->address))
			reporter_address(&f->shared->rep, gateway_client(f),
					 address);
		f->address = *address;
		memset(&r, 0, sizeof(r));
		r.external_address = *address;
		output_address_warning(&r);
	}
	/* also for a mapping granted while the address was unknown */
	for (i = 0; i < f->sched.count; i++)
		if (mapping_address_changed(&f->mappings[i], address))
			report(f, i, "changed", true);
}

static int64_t renewal_spread_ms(struct family_mappings *f, uint32_t lifetime)
{
	return client_protocol(gateway_client(f))
		->renewal_spread_ms(lifetime, os_random_number());
}

/* A grant for mapping index, answered or (unsolicited is true) told
 * unasked; the news that nothing changed is not told twice. */
static void apply_grant(struct family_mappings *f, size_t index,
			const struct result *r, int64_t now, bool unsolicited)
{
	enum mapping_event event;

	event = scheduler_granted(&f->sched, index, r, now,
				  renewal_spread_ms(f, r->lifetime));
	if (!unsolicited || event != MAPPING_RENEWED)
		report(f, index, event_names[event],
		       event == MAPPING_MAPPED || event == MAPPING_CHANGED);
	remember_mapping(f, index, protocol_backend(r->via));
	if (protocol_backend(r->via)->keeps_nonce) {
		/* PCP's grants carry the address: no request for it */
		if (ip_address_is_set(&r->external_address)) {
			scheduler_address_learned(&f->sched, now);
			learned_address(f, &r->external_address);
		}
	}
}

/* A renewal refused for want of resources by the gateway that granted
 * the mapping: delete it and make it again, once, and say so. Internal
 * port 0 is left alone: NAT-PMP would delete every mapping of the host. */
static bool remake_refused_renewal(struct family_mappings *f, size_t index,
				   struct result *r, int64_t now)
{
	size_t used = strlen(r->message);

	if (r->failure != FAILURE_OUT_OF_RESOURCES ||
	    f->mappings[index].internal_port == 0 ||
	    !scheduler_renewal_refused(&f->sched, index, now))
		return false;
	snprintf(
		r->message + used, sizeof(r->message) - used,
		"; it granted this mapping before: deleting it and making it anew");
	reporter_failure(&f->shared->rep, r);
	return true;
}

static void took_mapping(struct family_mappings *f, struct result *r,
			 int64_t now)
{
	size_t index = f->action.index;

	if (r->failure != FAILURE_NONE) {
		if (remake_refused_renewal(f, index, r, now))
			return;
		if (r->failure == FAILURE_PORT_UNAVAILABLE)
			scheduler_suggestion_refused(&f->sched, index);
		scheduler_failed(&f->sched, index, now,
				 (int64_t)r->error_lifetime * 1000);
		if (r->failure == FAILURE_PORT_UNREACHABLE)
			scheduler_hold(&f->sched, f->mappings[index].due_ms);
		reporter_failure(&f->shared->rep, r);
		return;
	}
	apply_grant(f, index, r, now, false);
}

/* The deletion before a mapping is made anew: whatever came of it, the
 * mapping is asked for next. */
static void took_deletion(struct family_mappings *f, struct result *r,
			  int64_t now)
{
	if (r->failure != FAILURE_NONE)
		reporter_failure(&f->shared->rep, r);
	else
		diag_verbose("deleted %s %u: making it anew",
			     transport_name(r->transport),
			     (unsigned)r->internal_port);
	scheduler_deleted(&f->sched, f->action.index, now);
}

static void took_address(struct family_mappings *f, struct result *r,
			 int64_t now)
{
	if (r->failure != FAILURE_NONE) {
		scheduler_address_failed(&f->sched, now);
		if (r->failure == FAILURE_PORT_UNREACHABLE)
			scheduler_hold(
				&f->sched,
				now + scheduler_retry_ms(
					      f->sched.address_failures));
		reporter_failure(&f->shared->rep, r);
		return;
	}
	scheduler_address_learned(&f->sched, now);
	if (ip_address_is_set(&r->external_address))
		learned_address(f, &r->external_address);
}

/* The request that creates or renews mapping index. */
static void mapping_request(const struct family_mappings *f, size_t index,
			    struct request *request)
{
	const struct mapping *m = &f->mappings[index];

	policy_request(f->shared->options, REQUEST_MAP, m->transport,
		       m->internal_port, m->suggested_port, request);
	request->lifetime = m->requested_lifetime;
	request->suggested_address = m->suggested_address;
	memcpy(request->nonce, m->nonce, sizeof(request->nonce));
}

/* RFC 6887 sections 8 and 14.2: the gateway may answer about a mapping
 * again, late or unasked (another external address or port, a shorter
 * lifetime, a mapping it ended): the newest answer is the truth. Errors
 * change nothing: they are late answers to requests already judged. */
static bool on_stray(void *context, const uint8_t *datagram, size_t length,
		     char *note, size_t note_size)
{
	struct family_mappings *f = context;
	int64_t now = clock_now_ms();
	size_t i;

	if (f->shared->stopping)
		return false;
	for (i = 0; i < f->sched.count; i++) {
		struct request request;
		struct result r;
		enum client_update update;

		mapping_request(f, i, &request);
		update = client_take_update(gateway_client(f), &request,
					    datagram, length, &r, note,
					    note_size);
		if (update == CLIENT_UPDATE_NONE)
			continue;
		if (update == CLIENT_UPDATE_GRANT)
			apply_grant(f, i, &r, now, true);
		else if (update == CLIENT_UPDATE_ENDED &&
			 scheduler_ended(&f->sched, i, now))
			report(f, i, "lost", true);
		changed(f);
		family_mappings_pump_soon(f);
		return true;
	}
	return false;
}

static void on_result(void *context, struct result *r)
{
	struct family_mappings *f = context;
	int64_t now = clock_now_ms();

	f->in_flight = false;
	family_mappings_expire(f);
	remember_protocol(f, r->via);
	if (f->action.kind == ACTION_ADDRESS)
		took_address(f, r, now);
	else if (f->action.kind == ACTION_DELETE)
		took_deletion(f, r, now);
	else
		took_mapping(f, r, now);
	/* a silent gateway may mean the host moved: look again (a request
	 * that only gave way to another proves nothing) */
	if (failure_is_silence(r->failure) &&
	    !(f->action.patience.reason == PATIENCE_YIELD &&
	      client_deadline_reached(gateway_client(f))))
		supervisor_check_soon(&f->sup);
	changed(f);
	family_mappings_pump_soon(f);
}

/* Asks the gateway what an announcement claimed: one request whose
 * answer, the gateway's own word, carries its epoch and address; and the
 * request waiting in vain is sent again now. */
static void confirm(struct family_mappings *f)
{
	struct client *c = gateway_client(f);
	int64_t now = clock_now_ms();

	eloop_timer_stop(f->shared->loop, &f->confirm_timer);
	if (!c)
		return;
	f->confirmed_ms = now;
	/* RFC 6886 section 3.2.1: the gateway may be up again; what failed
	 * may succeed now */
	scheduler_gateway_alive(&f->sched, now);
	scheduler_confirm(&f->sched, now,
			  client_protocol(c)->grants_carry_address);
	client_confirm_announcement(c);
	client_kick(c, KICK_AFTER_SENDS);
	changed(f);
	family_mappings_pump_soon(f);
}

static void on_confirm_timer(void *context)
{
	confirm(context);
}

/* An announcement is a reason to ask, never the answer: anyone on the link
 * can send one. A burst of them, or a flood, is one question at most every
 * RENEW_CONFIRM_INTERVAL_MS. */
static void on_announced(void *context, const struct announcement *a)
{
	struct family_mappings *f = context;
	int64_t now = clock_now_ms();

	diag_verbose("%s announcement from gateway %s: epoch %lu",
		     protocol_name(a->format),
		     client_gateway_text(gateway_client(f)),
		     (unsigned long)a->epoch);
	if (f->confirm_timer.armed)
		return;
	if (now - f->confirmed_ms >= RENEW_CONFIRM_INTERVAL_MS)
		confirm(f);
	else
		eloop_timer_at(f->shared->loop, &f->confirm_timer,
			       f->confirmed_ms + RENEW_CONFIRM_INTERVAL_MS);
}

/* An epoch in a reply showed a restart: told before the reply itself is
 * taken, so what ran out is lost first, then everything is made again. */
static void on_gateway_reset(void *context)
{
	struct family_mappings *f = context;

	family_mappings_expire(f);
	gateway_was_reset(f, clock_now_ms());
}

/* The mappings made at another gateway, or for another address of this
 * host, forward nothing to us now: they are lost, where they were. */
static void lose_everything(struct family_mappings *f)
{
	struct mapping_place place = { .gateway = &f->last_gateway,
				       .via = f->last_via };
	size_t i;

	for (i = 0; i < f->sched.count; i++)
		if (scheduler_moved(&f->sched, i))
			reporter_mapping(&f->shared->rep, &f->mappings[i],
					 f->first_lane + i, "lost", true,
					 &place);
}

static void on_status_timer(void *context)
{
	changed(context);
}

/* from inside the exchange: tell the others from the loop, later */
static void on_waiting_changed(void *context)
{
	struct family_mappings *f = context;

	eloop_timer_at(f->shared->loop, &f->status_timer, clock_now_ms());
}

static const struct client_events client_events = {
	.gateway_reset = on_gateway_reset,
	.waiting_changed = on_waiting_changed,
	.stray = on_stray,
};

static void on_connected(void *context, enum network_change change)
{
	struct family_mappings *f = context;
	struct client *c = gateway_client(f);

	f->in_flight = false; /* the old client went with the old gateway */
	if (change != NETWORK_FIRST) {
		reporter_gateway(&f->shared->rep,
				 change == NETWORK_NEW_GATEWAY
					 ? "gateway-changed"
					 : "network-changed",
				 c, supervisor_interface(&f->sup));
		if (change != NETWORK_MOVED)
			lose_everything(f);
		scheduler_renew_all(&f->sched, clock_now_ms(), true);
	}
	adopt_nonces(f);
	/* a silent gateway shows in STATUS= too */
	client_listen(c, &client_events, f);
	f->last_gateway = *client_gateway(c);
	f->last_via = client_protocol(c)->id;
	changed(f);
	family_mappings_pump_soon(f);
}

static void on_lost(void *context, const struct result *failure)
{
	struct family_mappings *f = context;
	struct result copy;

	f->in_flight = false;
	if (failure) {
		copy = *failure;
		reporter_failure(&f->shared->rep, &copy);
	}
	changed(f);
	family_mappings_pump_soon(f);
}

static const struct supervisor_events supervisor_events = {
	.connected = on_connected,
	.lost = on_lost,
	.announced = on_announced,
};

/* --- the pump: one request at a time --- */

static void request_for(struct family_mappings *f, struct request *request)
{
	if (f->action.kind == ACTION_ADDRESS) {
		memset(request, 0, sizeof(*request));
		request->kind = REQUEST_ADDRESS;
		request->address_optional = true;
		return;
	}
	mapping_request(f, f->action.index, request);
	if (f->action.kind == ACTION_DELETE) {
		request->kind = REQUEST_DELETE;
		request->suggested_port = 0;
		request->lifetime = 0;
		memset(&request->suggested_address, 0,
		       sizeof(request->suggested_address));
	}
}

static void arm_wake(struct family_mappings *f)
{
	bool sending =
		!f->shared->stopping && gateway_client(f) && !f->in_flight;
	int64_t next = scheduler_wake_ms(&f->sched, sending);

	if (next == INT64_MAX)
		eloop_timer_stop(f->shared->loop, &f->wake_timer);
	else
		eloop_timer_at(f->shared->loop, &f->wake_timer, next);
}

static void pump(void *context)
{
	struct family_mappings *f = context;
	int64_t now = clock_now_ms();
	struct request request;

	family_mappings_expire(f);
	if (!f->shared->stopping && gateway_client(f) && !f->in_flight) {
		f->action = scheduler_next(&f->sched, now,
					   f->shared->options->timeout_ms);
		if (f->action.kind != ACTION_NONE) {
			request_for(f, &request);
			f->in_flight = true;
			client_start(gateway_client(f), &request,
				     &f->action.patience, on_result, f);
		}
	}
	arm_wake(f);
}

void family_mappings_renew_now(struct family_mappings *f)
{
	scheduler_renew_all(&f->sched, clock_now_ms(), false);
	if (gateway_client(f))
		client_kick(gateway_client(f), 0);
	family_mappings_pump_soon(f);
}

void family_mappings_resumed(struct family_mappings *f)
{
	family_mappings_give_up(f);
	f->in_flight = false;
	scheduler_renew_all(&f->sched, clock_now_ms(), false);
	supervisor_check_soon(&f->sup);
	family_mappings_pump_soon(f);
}

/* --- the way out --- */

void family_mappings_give_up(struct family_mappings *f)
{
	struct client *c = gateway_client(f);

	if (c && client_running(c))
		client_cancel(c);
}

static bool may_delete(const struct family_mappings *f, const struct mapping *m)
{
	const char *protocol = transport_name(m->transport);

	if (m->internal_port != 0 || f->shared->options->unmap_all_on_exit)
		return true;
	/* NAT-PMP deletes internal port 0 only together with every other
	 * mapping of this host for the protocol (RFC 6886 section 3.4) */
	diag_verbose(
		"leaving %s 0 to expire: deleting it would delete every %s mapping of this host (--unmap-all-on-exit)",
		protocol, protocol);
	return false;
}

static bool delete_one(struct family_mappings *f, size_t i, int64_t *deadline)
{
	/* the gateway's own schedule, cut short at the shared deadline */
	struct patience patience = { .deadline_ms = *deadline,
				     .reason = PATIENCE_SCHEDULE };
	struct mapping *m = &f->mappings[i];
	struct request request;
	struct result r;

	policy_request(f->shared->options, REQUEST_DELETE, m->transport,
		       m->internal_port, 0, &request);
	memcpy(request.nonce, m->nonce, sizeof(request.nonce));
	/* cut short by a second stop signal, or a loop that cannot wait */
	if (client_run(gateway_client(f), &request, &patience, &r) != 0)
		return false;
	if (!failure_is_silence(r.failure))
		*deadline = clock_now_ms() + RENEW_DELETE_PATIENCE_MS;
	if (r.failure != FAILURE_NONE) {
		reporter_failure(&f->shared->rep, &r);
		/* the others would wait in vain too */
		return !failure_is_silence(r.failure);
	}
	m->established = false;
	remember_mapping(f, i, NULL);
	reporter_unmapped(&f->shared->rep, &r);
	return true;
}

/* The mappings granted, and last the one whose request was cut short (the
 * gateway may have made it; deleting one that does not exist succeeds). */
static void delete_mappings(struct family_mappings *f, bool cut_short,
			    size_t cut_index, int64_t *deadline)
{
	bool extra = cut_short && !f->mappings[cut_index].established;
	size_t n, i;

	if (!gateway_client(f))
		return;
	for (n = 0; n <= f->sched.count && !f->shared->stop_again; n++) {
		if (n == f->sched.count) {
			if (!extra)
				break;
			i = cut_index;
		} else if (f->mappings[n].established) {
			i = n;
		} else {
			continue;
		}
		if (!may_delete(f, &f->mappings[i]))
			continue;
		if (!delete_one(f, i, deadline))
			break;
	}
}

void family_mappings_shut_down(struct family_mappings *f, int64_t *deadline_ms)
{
	bool cut_short = f->in_flight && f->action.kind == ACTION_MAP;

	/* no more status or news while the deletes go out */
	if (gateway_client(f))
		client_listen(gateway_client(f), NULL, NULL);
	family_mappings_give_up(f);
	f->in_flight = false;
	eloop_timer_stop(f->shared->loop, &f->pump_timer);
	eloop_timer_stop(f->shared->loop, &f->wake_timer);
	eloop_timer_stop(f->shared->loop, &f->status_timer);
	eloop_timer_stop(f->shared->loop, &f->confirm_timer);
	/* the last requests go to the gateway as it is now */
	supervisor_freeze(&f->sup);
	if (!f->shared->options->keep)
		delete_mappings(f, cut_short, f->action.index, deadline_ms);
}

/* --- setting up --- */

static int make_mappings(struct family_mappings *f)
{
	const struct options *options = f->shared->options;
	int64_t now = clock_now_ms();
	unsigned transport;
	size_t i, n = 0;

	f->mappings = calloc(options->spec_count * 2 + 1, sizeof(*f->mappings));
	if (!f->mappings)
		return -1;
	for (i = 0; i < options->spec_count; i++)
		for (transport = TRANSPORT_UDP; transport <= TRANSPORT_TCP;
		     transport <<= 1) {
			struct mapping *m = &f->mappings[n];
			if (!(options->specs[i].transports & transport))
				continue;
			mapping_init(m, transport,
				     options->specs[i].internal_port,
				     options->specs[i].external_port,
				     options->lifetime, now);
			if (client_new_nonce(m->nonce) < 0)
				return -1;
			n++;
		}
	scheduler_init(&f->sched, f->mappings, n);
	return 0;
}

int family_mappings_start(struct family_mappings *f,
			  struct renew_shared *shared, int family,
			  size_t first_lane)
{
	memset(f, 0, sizeof(*f));
	f->shared = shared;
	f->family = family;
	f->first_lane = first_lane;
	eloop_timer_init(&f->pump_timer, pump, f);
	eloop_timer_init(&f->wake_timer, pump, f);
	eloop_timer_init(&f->status_timer, on_status_timer, f);
	eloop_timer_init(&f->confirm_timer, on_confirm_timer, f);
	f->confirmed_ms = clock_now_ms() - RENEW_CONFIRM_INTERVAL_MS;
	if (make_mappings(f) < 0)
		return -1;
	if (supervisor_start(&f->sup, shared->loop, shared->options, family,
			     &shared->ledger, &supervisor_events, f) < 0)
		return -1;
	family_mappings_pump_soon(f);
	return 0;
}

void family_mappings_free(struct family_mappings *f)
{
	supervisor_stop(&f->sup);
	free(f->mappings);
	f->mappings = NULL;
}
