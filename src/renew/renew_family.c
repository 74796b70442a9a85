/* renew_family.c - one address family's mappings kept alive: the pump
 * sends what the scheduler says is due, one request at a time; results,
 * expiries, announcements and network changes update the schedule and go
 * to the reporter; PCP nonces and grants go to the state directory. */
#include "renew/renew_family.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/diag.h"
#include "engine/session.h"

/* an in-flight request this many sends in gets resent when the gateway
 * announces itself */
#define KICK_AFTER_SENDS 3

static const char *const event_names[] = {
	[MAPPING_MAPPED] = "mapped",
	[MAPPING_RENEWED] = "renewed",
	[MAPPING_CHANGED] = "changed",
	[MAPPING_LIFETIME_CHANGED] = "changed",
};

static struct client *gateway_client(struct renew_family *f)
{
	return f->sup.connected ? &f->sup.client : NULL;
}

const struct client *renew_family_client(const struct renew_family *f)
{
	return f->sup.connected ? &f->sup.client : NULL;
}

static unsigned random_number(void)
{
	return (unsigned)random();
}

static void changed(struct renew_family *f)
{
	f->shared->changed(f->shared->context);
}

void renew_family_pump_soon(struct renew_family *f)
{
	eloop_timer_at(&f->shared->loop, &f->pump_timer, clock_now_ms());
}

/* A mapping event, at the gateway in use. */
static void report(struct renew_family *f, size_t index, const char *event,
		   bool run_hook)
{
	const struct client *c = gateway_client(f);
	struct mapping_place place = { 0 };

	if (c) {
		place.gateway = &c->exchange.gateway;
		place.epoch = &c->epoch;
		place.via = c->protocol->id;
	}
	reporter_mapping(&f->shared->rep, &f->mappings[index],
			 f->first_lane + index, event, run_hook, &place);
}

void renew_family_expire(struct renew_family *f)
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
static void ledger_key_of(const struct renew_family *f, size_t index,
			  struct ledger_key *key)
{
	const struct options *options = f->shared->options;
	const struct mapping *m = &f->mappings[index];

	memset(key, 0, sizeof(*key));
	key->gateway = f->sup.client.exchange.gateway;
	key->transport = m->transport;
	key->host = options->third_party ? options->third_party_address
					 : f->sup.client.exchange.local.address;
	key->internal_port = m->internal_port;
}

void renew_shared_save_state(struct renew_shared *shared)
{
	eloop_timer_stop(&shared->loop, &shared->save_timer);
	ledger_save(&shared->ledger);
	shared->saved_at_ms = clock_now_ms();
}

/* Known now, in the file soon: at the next turn of the loop, or
 * RENEW_STATE_SAVE_INTERVAL_MS after the last write if that is later (a
 * crash loses at most that much). */
static void save_soon(struct renew_shared *shared)
{
	if (ledger_unsaved(&shared->ledger) && !shared->save_timer.armed)
		eloop_timer_at(&shared->loop, &shared->save_timer,
			       shared->saved_at_ms +
				       RENEW_STATE_SAVE_INTERVAL_MS);
}

static void remember_mapping(struct renew_family *f, size_t index, bool forget)
{
	const struct mapping *m = &f->mappings[index];
	struct ledger_key key;

	ledger_key_of(f, index, &key);
	if (forget)
		ledger_deleted(&f->shared->ledger, &key);
	else
		ledger_granted(&f->shared->ledger, &key, m->nonce, m->lifetime);
	save_soon(f->shared);
}

static void remember_protocol(struct renew_family *f, enum protocol_id via)
{
	ledger_heard(&f->shared->ledger, &f->sup.client.exchange.gateway, via,
		     f->sup.client.follow_gateway);
	save_soon(f->shared);
}

/* A loop restarted keeps its mappings' nonces: those the ledger knows for
 * this gateway. */
static void adopt_nonces(struct renew_family *f)
{
	struct ledger_key key;
	size_t i;

	for (i = 0; i < f->sched.count; i++) {
		ledger_key_of(f, i, &key);
		ledger_nonce(&f->shared->ledger, &key, f->mappings[i].nonce);
	}
}

/* --- what the gateway tells us --- */

static void gateway_was_reset(struct renew_family *f, int64_t now)
{
	f->sup.client.gateway_reset = false;
	reporter_gateway(&f->shared->rep, "gateway-reset", gateway_client(f),
			 NULL);
	scheduler_gateway_reset(&f->sched, now, random_number);
}

static void learned_address(struct renew_family *f,
			    const struct ip_address *address)
{
	struct result r;
	size_t i;

	/* later grants carry it, whoever told it: a reply or an
	 * announcement */
	if (f->sup.connected)
		f->sup.client.external_address = *address;
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

static int64_t renewal_spread_ms(const struct renew_family *f,
				 uint32_t lifetime)
{
	return f->sup.client.protocol->renewal_spread_ms(lifetime,
							 (uint32_t)random());
}

/* A grant for mapping index, answered or (unsolicited is true) told
 * unasked; the news that nothing changed is not told twice. */
static void apply_grant(struct renew_family *f, size_t index,
			const struct result *r, int64_t now, bool unsolicited)
{
	enum mapping_event event;

	event = scheduler_granted(&f->sched, index, r, now,
				  renewal_spread_ms(f, r->lifetime));
	if (!unsolicited || event != MAPPING_RENEWED)
		report(f, index, event_names[event],
		       event == MAPPING_MAPPED || event == MAPPING_CHANGED);
	if (protocol_backend(r->via)->keeps_nonce) {
		remember_mapping(f, index, false);
		/* PCP's grants carry the address: no request for it */
		if (ip_address_is_set(&r->external_address)) {
			scheduler_address_learned(&f->sched, now);
			learned_address(f, &r->external_address);
		}
	}
}

static void took_mapping(struct renew_family *f, struct result *r, int64_t now)
{
	size_t index = f->action.index;

	if (r->failure != FAILURE_NONE) {
		scheduler_failed(&f->sched, index, now,
				 (int64_t)r->error_lifetime * 1000);
		reporter_failure(&f->shared->rep, r);
		return;
	}
	apply_grant(f, index, r, now, false);
}

static void took_address(struct renew_family *f, struct result *r, int64_t now)
{
	if (r->failure != FAILURE_NONE) {
		scheduler_address_failed(&f->sched, now);
		reporter_failure(&f->shared->rep, r);
		return;
	}
	scheduler_address_learned(&f->sched, now);
	if (ip_address_is_set(&r->external_address))
		learned_address(f, &r->external_address);
}

/* The request that creates or renews mapping index. */
static void mapping_request(const struct renew_family *f, size_t index,
			    struct request *request)
{
	const struct mapping *m = &f->mappings[index];

	session_request(f->shared->options, REQUEST_MAP, m->transport,
			m->internal_port, m->suggested_port, request);
	request->lifetime = m->requested_lifetime;
	memcpy(request->nonce, m->nonce, sizeof(request->nonce));
}

/* RFC 6887 sections 8 and 14.2: the gateway may answer about a mapping
 * again, late or unasked (another external address or port, a shorter
 * lifetime, a mapping it ended): the newest answer is the truth. Errors
 * change nothing: they are late answers to requests already judged. */
static bool on_stray(void *context, const uint8_t *datagram, size_t length,
		     char *note, size_t note_size)
{
	struct renew_family *f = context;
	int64_t now = clock_now_ms();
	size_t i;

	if (f->shared->stopping)
		return false;
	for (i = 0; i < f->sched.count; i++) {
		struct request request;
		struct result r;
		enum client_update update;

		mapping_request(f, i, &request);
		update = client_take_update(&f->sup.client, &request, datagram,
					    length, &r, note, note_size);
		if (update == CLIENT_UPDATE_NONE)
			continue;
		if (f->sup.client.gateway_reset)
			gateway_was_reset(f, now);
		if (update == CLIENT_UPDATE_GRANT)
			apply_grant(f, i, &r, now, true);
		else if (update == CLIENT_UPDATE_ENDED &&
			 scheduler_ended(&f->sched, i, now))
			report(f, i, "lost", true);
		changed(f);
		renew_family_pump_soon(f);
		return true;
	}
	return false;
}

static void on_result(void *context, struct result *r)
{
	struct renew_family *f = context;
	int64_t now = clock_now_ms();

	f->in_flight = false;
	renew_family_expire(f);
	if (f->sup.client.gateway_reset)
		gateway_was_reset(f, now);
	remember_protocol(f, r->via);
	if (f->action.kind == ACTION_ADDRESS)
		took_address(f, r, now);
	else
		took_mapping(f, r, now);
	/* a silent gateway may mean the host moved: look again (a request
	 * that only gave way to another proves nothing) */
	if (failure_is_silence(r->failure) &&
	    !(f->action.patience == PATIENCE_YIELD &&
	      f->sup.client.exchange.deadline_reached))
		supervisor_check_soon(&f->sup);
	changed(f);
	renew_family_pump_soon(f);
}

static void on_announced(void *context, const struct announcement *a)
{
	struct renew_family *f = context;
	struct exchange *ex = &f->sup.client.exchange;
	int64_t now = clock_now_ms();
	bool reset;

	reset = epoch_observe_announcement(&f->sup.client.epoch, a->epoch, now,
					   a->format == PROTOCOL_PCP);
	diag_verbose("%s announcement from gateway %s: epoch %lu",
		     protocol_name(a->format), ex->gateway_text,
		     (unsigned long)a->epoch);
	if (reset) {
		gateway_was_reset(f, now);
	} else {
		/* RFC 6886 section 3.2.1: the gateway is up; what failed may
		 * succeed now */
		scheduler_gateway_alive(&f->sched, now);
		if (ex->busy && ex->round_sends >= KICK_AFTER_SENDS)
			exchange_kick(ex);
	}
	if (ip_address_is_set(&a->external_address))
		learned_address(f, &a->external_address);
	changed(f);
	renew_family_pump_soon(f);
}

/* The mappings made at another gateway, or for another address of this
 * host, forward nothing to us now: they are lost, where they were. */
static void lose_everything(struct renew_family *f)
{
	struct mapping_place place = { .gateway = &f->last_gateway,
				       .via = f->last_via };
	size_t i;

	for (i = 0; i < f->sched.count; i++)
		if (scheduler_lose(&f->sched, i))
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
	struct renew_family *f = context;

	eloop_timer_at(&f->shared->loop, &f->status_timer, clock_now_ms());
}

static void on_connected(void *context, enum network_change change)
{
	struct renew_family *f = context;

	f->in_flight = false; /* the old client went with the old gateway */
	if (change != NETWORK_FIRST) {
		reporter_gateway(&f->shared->rep,
				 change == NETWORK_NEW_GATEWAY
					 ? "gateway-changed"
					 : "network-changed",
				 &f->sup.client, f->sup.route.interface_name);
		if (change != NETWORK_MOVED)
			lose_everything(f);
		scheduler_renew_all(&f->sched, clock_now_ms(), true);
	}
	adopt_nonces(f);
	exchange_set_stray(&f->sup.client.exchange, on_stray, f);
	/* a silent gateway shows on a terminal and in STATUS=, as for the
	 * one-shots */
	f->sup.client.exchange.progress = diag_progress_possible();
	f->sup.client.exchange.waiting_changed = on_waiting_changed;
	f->sup.client.exchange.waiting_context = f;
	f->last_gateway = f->sup.client.exchange.gateway;
	f->last_via = f->sup.client.protocol->id;
	changed(f);
	renew_family_pump_soon(f);
}

static void on_lost(void *context, const struct result *failure)
{
	struct renew_family *f = context;
	struct result copy;

	f->in_flight = false;
	if (failure) {
		copy = *failure;
		reporter_failure(&f->shared->rep, &copy);
	}
	changed(f);
	renew_family_pump_soon(f);
}

static const struct supervisor_events supervisor_events = {
	.connected = on_connected,
	.lost = on_lost,
	.announced = on_announced,
};

/* --- the pump: one request at a time --- */

static void request_for(struct renew_family *f, struct request *request)
{
	if (f->action.kind == ACTION_ADDRESS) {
		memset(request, 0, sizeof(*request));
		request->kind = REQUEST_ADDRESS;
		request->address_optional = true;
		return;
	}
	mapping_request(f, f->action.index, request);
}

static void arm_wake(struct renew_family *f)
{
	bool sending =
		!f->shared->stopping && f->sup.connected && !f->in_flight;
	int64_t next = scheduler_wake_ms(&f->sched, sending);

	if (next == INT64_MAX)
		eloop_timer_stop(&f->shared->loop, &f->wake_timer);
	else
		eloop_timer_at(&f->shared->loop, &f->wake_timer, next);
}

static void pump(void *context)
{
	struct renew_family *f = context;
	int64_t now = clock_now_ms();
	struct request request;

	renew_family_expire(f);
	if (!f->shared->stopping && f->sup.connected && !f->in_flight) {
		f->action = scheduler_next(&f->sched, now,
					   f->shared->options->timeout_ms);
		if (f->action.kind != ACTION_NONE) {
			request_for(f, &request);
			f->in_flight = true;
			client_start(&f->sup.client, &request,
				     f->action.deadline_ms, f->action.patience,
				     on_result, f);
		}
	}
	arm_wake(f);
}

void renew_family_renew_now(struct renew_family *f)
{
	scheduler_renew_all(&f->sched, clock_now_ms(), false);
	if (f->sup.connected)
		exchange_kick(&f->sup.client.exchange);
	renew_family_pump_soon(f);
}

void renew_family_resumed(struct renew_family *f)
{
	if (f->in_flight)
		client_cancel(&f->sup.client);
	f->in_flight = false;
	scheduler_renew_all(&f->sched, clock_now_ms(), false);
	supervisor_check_soon(&f->sup);
	renew_family_pump_soon(f);
}

size_t renew_family_established(const struct renew_family *f)
{
	return scheduler_established(&f->sched);
}

bool renew_family_all_tried(const struct renew_family *f)
{
	return scheduler_all_tried(&f->sched);
}

/* --- SIGUSR1 --- */

static void print_mapping_state(const struct mapping *m, int64_t now)
{
	const char *protocol = transport_name(m->transport);
	long long next = (long long)((m->due_ms - now + 999) / 1000);

	if (next < 0)
		next = 0;
	if (m->established)
		diag_error(
			"state: %s %u: external port %u, lifetime %lus, expires in %llds, renewal in %llds",
			protocol, (unsigned)m->internal_port,
			(unsigned)m->external_port, (unsigned long)m->lifetime,
			(long long)((m->expires_at_ms - now) / 1000), next);
	else
		diag_error(
			"state: %s %u: not mapped, %u failed attempts, next attempt in %llds",
			protocol, (unsigned)m->internal_port, m->failures,
			next);
}

void renew_family_print_state(struct renew_family *f)
{
	const struct exchange *ex = &f->sup.client.exchange;
	int64_t now = clock_now_ms();
	char address[IP_ADDRESS_TEXT_SIZE];
	size_t i;

	renew_family_expire(f);
	ip_address_format(&f->address, address, sizeof(address));
	if (f->sup.connected) {
		char source[IP_ADDRESS_TEXT_SIZE];
		diag_error(
			"state: gateway %s (%s, interface %s, source %s), external address %s, epoch %lu",
			ex->gateway_text,
			protocol_name(f->sup.client.protocol->id),
			f->sup.route.interface_name,
			ip_address_format(&ex->local.address, source,
					  sizeof(source)),
			address, (unsigned long)f->sup.client.epoch.sssoe);
	} else {
		diag_error("state: no gateway (%s)", f->sup.last_failure);
	}
	for (i = 0; i < f->sched.count; i++)
		print_mapping_state(&f->mappings[i], now);
	if (f->sup.connected && ex->busy)
		diag_error(
			"state: waiting for the reply to the %s: attempt %d, %llds waited",
			ex->label, ex->sends,
			(long long)((now - ex->started_ms) / 1000));
}

/* --- the way out --- */

static void on_deleted(void *context, struct result *result)
{
	struct renew_family *f = context;

	(void)result;
	f->deleting_done = true;
}

/* Runs one deletion to completion, or until a second stop signal. */
static bool run_delete(struct renew_family *f, const struct request *request,
		       int64_t deadline)
{
	f->deleting_done = false;
	client_start(&f->sup.client, request, deadline, PATIENCE_SCHEDULE,
		     on_deleted, f);
	/* the deadline ends the exchange; the clock check is a safety net */
	while (!f->deleting_done && !f->shared->stop_again &&
	       clock_now_ms() < deadline + 100)
		if (eloop_turn(&f->shared->loop) < 0)
			break;
	if (!f->deleting_done) {
		client_cancel(&f->sup.client);
		return false;
	}
	return true;
}

static bool may_delete(const struct renew_family *f, const struct mapping *m)
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

static bool delete_one(struct renew_family *f, size_t i, int64_t *deadline)
{
	struct mapping *m = &f->mappings[i];
	struct request request;
	struct result r;

	session_request(f->shared->options, REQUEST_DELETE, m->transport,
			m->internal_port, 0, &request);
	memcpy(request.nonce, m->nonce, sizeof(request.nonce));
	if (!run_delete(f, &request, *deadline))
		return false;
	r = f->sup.client.result;
	if (!failure_is_silence(r.failure))
		*deadline = clock_now_ms() + RENEW_DELETE_PATIENCE_MS;
	if (r.failure != FAILURE_NONE) {
		reporter_failure(&f->shared->rep, &r);
		/* the others would wait in vain too */
		return !failure_is_silence(r.failure);
	}
	m->established = false;
	if (protocol_backend(r.via)->keeps_nonce)
		remember_mapping(f, i, true);
	reporter_unmapped(&f->shared->rep, &r);
	return true;
}

/* The mappings granted, and last the one whose request was cut short (the
 * gateway may have made it; deleting one that does not exist succeeds). */
static void delete_mappings(struct renew_family *f, bool cut_short,
			    size_t cut_index, int64_t *deadline)
{
	bool extra = cut_short && !f->mappings[cut_index].established;
	size_t n, i;

	if (!f->sup.connected)
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

void renew_family_shut_down(struct renew_family *f, int64_t *deadline_ms)
{
	bool cut_short = f->in_flight && f->action.kind == ACTION_MAP;

	/* no more status while the deletes go out */
	f->sup.client.exchange.waiting_changed = NULL;
	if (f->in_flight)
		client_cancel(&f->sup.client);
	f->in_flight = false;
	eloop_timer_stop(&f->shared->loop, &f->pump_timer);
	eloop_timer_stop(&f->shared->loop, &f->wake_timer);
	eloop_timer_stop(&f->shared->loop, &f->status_timer);
	/* the last requests go to the gateway as it is now */
	supervisor_freeze(&f->sup);
	if (!f->shared->options->keep)
		delete_mappings(f, cut_short, f->action.index, deadline_ms);
}

/* --- setting up --- */

static int make_mappings(struct renew_family *f)
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

int renew_family_start(struct renew_family *f, struct renew_shared *shared,
		       int family, size_t first_lane)
{
	memset(f, 0, sizeof(*f));
	f->shared = shared;
	f->family = family;
	f->first_lane = first_lane;
	eloop_timer_init(&f->pump_timer, pump, f);
	eloop_timer_init(&f->wake_timer, pump, f);
	eloop_timer_init(&f->status_timer, on_status_timer, f);
	if (make_mappings(f) < 0)
		return -1;
	if (supervisor_start(&f->sup, &shared->loop, shared->options, family,
			     &shared->ledger, &supervisor_events, f) < 0)
		return -1;
	renew_family_pump_soon(f);
	return 0;
}

void renew_family_free(struct renew_family *f)
{
	supervisor_stop(&f->sup);
	free(f->mappings);
	f->mappings = NULL;
}
