/* scheduler.c - renew-loop's schedule: one list of mappings and the
 * address, what to send next and with what patience, grants, failures,
 * expiries, restarts and network changes. No clock, no I/O. */
#include "renew/scheduler.h"

#include <string.h>

void mapping_init(struct mapping *m, unsigned transport, uint16_t internal_port,
		  uint16_t suggested_port, uint32_t requested_lifetime,
		  int64_t now_ms)
{
	memset(m, 0, sizeof(*m));
	m->transport = transport;
	m->internal_port = internal_port;
	m->suggested_port = suggested_port;
	m->requested_lifetime = requested_lifetime;
	m->due_ms = now_ms;
}

void scheduler_init(struct scheduler *s, struct mapping *mappings, size_t count)
{
	memset(s, 0, sizeof(*s));
	s->mappings = mappings;
	s->count = count;
	s->address_wanted = true;
}

int64_t scheduler_retry_ms(unsigned failures)
{
	int64_t wait = SCHEDULER_RETRY_FIRST_MS;

	while (failures > 1 && wait < SCHEDULER_RETRY_MAX_MS) {
		wait *= 2;
		failures--;
	}
	return wait < SCHEDULER_RETRY_MAX_MS ? wait : SCHEDULER_RETRY_MAX_MS;
}

static bool address_due(const struct scheduler *s, int64_t now_ms)
{
	return s->address_wanted && s->address_due_ms <= now_ms;
}

/* The index of the next mapping to send for, or count: established ones
 * by earliest expiry, else the first new one. */
static size_t pick_mapping(const struct scheduler *s, int64_t now_ms,
			   bool established)
{
	size_t i, best = s->count;

	for (i = 0; i < s->count; i++) {
		const struct mapping *m = &s->mappings[i];
		if (m->established != established || m->due_ms > now_ms)
			continue;
		if (!established)
			return i;
		if (best == s->count ||
		    m->expires_at_ms < s->mappings[best].expires_at_ms)
			best = i;
	}
	return best;
}

static void limit(struct action *a, int64_t at_ms, enum patience_reason why)
{
	if (at_ms < a->patience.deadline_ms) {
		a->patience.deadline_ms = at_ms;
		a->patience.reason = why;
	}
}

/* Giving way to another's turn at at_ms, but only after a fair wait of its
 * own, and never after latest_ms, past which the other would be in danger. */
static void give_way(struct action *a, int64_t at_ms, int64_t latest_ms,
		     int64_t now_ms)
{
	if (at_ms < now_ms + SCHEDULER_MIN_WAIT_MS)
		at_ms = now_ms + SCHEDULER_MIN_WAIT_MS;
	if (at_ms > latest_ms)
		at_ms = latest_ms;
	if (at_ms < now_ms + SCHEDULER_LEAST_WAIT_MS)
		at_ms = now_ms + SCHEDULER_LEAST_WAIT_MS;
	limit(a, at_ms, PATIENCE_YIELD);
}

/* No request may make another established mapping miss its renewal:
 * wait at most until the next one comes due, and for one already due and
 * waiting its turn, half of what is left of its grant. The fair wait of
 * SCHEDULER_MIN_WAIT_MS never eats more than half of the time between the
 * other's renewal and its expiry (it matters for grants of a few seconds).
 * Nor may it keep a mapping never tried yet waiting for long. */
static void yield_to_renewals(const struct scheduler *s, struct action *a,
			      int64_t now_ms)
{
	int64_t latest_ms;
	size_t i;

	for (i = 0; i < s->count; i++) {
		const struct mapping *m = &s->mappings[i];
		if (a->kind != ACTION_ADDRESS && i == a->index)
			continue;
		if (!m->established) {
			/* one silent request must not keep the others from
			 * ever being tried */
			if (!m->tried)
				give_way(a, now_ms + SCHEDULER_TURN_MS,
					 INT64_MAX, now_ms);
			continue;
		}
		if (m->due_ms > now_ms) {
			latest_ms = m->due_ms;
			if (m->expires_at_ms > m->due_ms)
				latest_ms += (m->expires_at_ms - m->due_ms) / 2;
			give_way(a, m->due_ms, latest_ms, now_ms);
		} else {
			latest_ms = now_ms + (m->expires_at_ms - now_ms) / 2;
			give_way(a, latest_ms, latest_ms, now_ms);
		}
	}
}

static enum action_kind choose(const struct scheduler *s, int64_t now_ms,
			       size_t *index)
{
	*index = s->count;
	if (!s->address_known && address_due(s, now_ms))
		return ACTION_ADDRESS;
	*index = pick_mapping(s, now_ms, true);
	if (*index == s->count)
		*index = pick_mapping(s, now_ms, false);
	if (*index < s->count)
		return ACTION_MAP;
	return address_due(s, now_ms) ? ACTION_ADDRESS : ACTION_NONE;
}

struct action scheduler_next(const struct scheduler *s, int64_t now_ms,
			     int64_t timeout_ms)
{
	struct action a = { .kind = ACTION_NONE,
			    .patience = { .deadline_ms = CLOCK_NEVER,
					  .reason = PATIENCE_SCHEDULE } };
	size_t index;

	a.kind = choose(s, now_ms, &index);
	if (a.kind == ACTION_NONE)
		return a;
	a.index = index;
	if (a.kind == ACTION_MAP && s->mappings[index].delete_first)
		a.kind = ACTION_DELETE;
	if (timeout_ms != OPTIONS_NO_TIMEOUT) {
		a.patience.timeout_ms = timeout_ms;
		limit(&a, now_ms + timeout_ms, PATIENCE_TIMEOUT);
	}
	if (a.kind != ACTION_ADDRESS && s->mappings[index].established)
		limit(&a, s->mappings[index].expires_at_ms, PATIENCE_EXPIRY);
	yield_to_renewals(s, &a, now_ms);
	return a;
}

int64_t scheduler_wake_ms(const struct scheduler *s, bool sending)
{
	int64_t next =
		sending && s->address_wanted ? s->address_due_ms : INT64_MAX;
	size_t i;

	for (i = 0; i < s->count; i++) {
		const struct mapping *m = &s->mappings[i];
		if (sending && m->due_ms < next)
			next = m->due_ms;
		if (m->established && m->expires_at_ms < next)
			next = m->expires_at_ms;
	}
	return next;
}

enum mapping_event scheduler_granted(struct scheduler *s, size_t index,
				     const struct result *r, int64_t now_ms,
				     int64_t spread_ms)
{
	struct mapping *m = &s->mappings[index];
	enum mapping_event event = MAPPING_RENEWED;

	if (!m->established)
		event = MAPPING_MAPPED;
	else if (r->external_port != m->external_port ||
		 !ip_address_equal(&r->external_address,
				   &m->external_address) ||
		 !ip_address_equal(&r->internal_address, &m->internal_address))
		event = MAPPING_CHANGED;
	else if (r->lifetime != m->lifetime)
		event = MAPPING_LIFETIME_CHANGED;

	/* a renewal (not a first grant) is when the address may have moved
	 * without an announcement: ask for it again after this round */
	if (m->established && !s->address_wanted &&
	    now_ms - s->address_asked_ms >= SCHEDULER_ADDRESS_FRESH_MS) {
		s->address_wanted = true;
		s->address_due_ms = now_ms;
	}
	m->established = true;
	m->tried = true;
	m->recreating = false;
	m->remade = false;
	m->external_port = r->external_port;
	m->suggested_port = r->external_port;
	m->suggested_address = r->external_address;
	m->external_address = r->external_address;
	m->internal_address = r->internal_address;
	m->lifetime = r->lifetime;
	m->failures = 0;
	m->granted_ms = now_ms;
	m->expires_at_ms = now_ms + (int64_t)r->lifetime * 1000;
	m->due_ms = now_ms + (int64_t)r->lifetime * 500 + spread_ms;
	return event;
}

bool scheduler_renewal_refused(struct scheduler *s, size_t index,
			       int64_t now_ms)
{
	struct mapping *m = &s->mappings[index];

	if (!m->established || m->remade)
		return false;
	m->delete_first = true;
	m->remade = true;
	m->tried = true;
	m->due_ms = now_ms;
	return true;
}

void scheduler_deleted(struct scheduler *s, size_t index, int64_t now_ms)
{
	struct mapping *m = &s->mappings[index];

	m->delete_first = false;
	/* what the new grant brings is compared with what it had */
	m->recreating = m->established;
	m->due_ms = now_ms;
}

void scheduler_suggestion_refused(struct scheduler *s, size_t index)
{
	memset(&s->mappings[index].suggested_address, 0,
	       sizeof(s->mappings[index].suggested_address));
}

void scheduler_failed(struct scheduler *s, size_t index, int64_t now_ms,
		      int64_t at_least_ms)
{
	struct mapping *m = &s->mappings[index];
	int64_t wait;

	m->tried = true;
	m->failures++;
	wait = scheduler_retry_ms(m->failures);
	if (at_least_ms > SCHEDULER_ERROR_HOLD_MAX_MS)
		at_least_ms = SCHEDULER_ERROR_HOLD_MAX_MS;
	if (wait < at_least_ms)
		wait = at_least_ms;
	/* a mapping still granted is asked for again before it runs out,
	 * whatever the error said: halfway to its end at the latest */
	if (m->established && m->expires_at_ms > now_ms &&
	    wait > (m->expires_at_ms - now_ms) / 2)
		wait = (m->expires_at_ms - now_ms) / 2;
	m->due_ms = now_ms + wait;
}

void scheduler_hold(struct scheduler *s, int64_t until_ms)
{
	size_t i;

	for (i = 0; i < s->count; i++) {
		struct mapping *m = &s->mappings[i];
		m->tried = true;
		if (m->due_ms < until_ms)
			m->due_ms = until_ms;
	}
	if (s->address_wanted && s->address_due_ms < until_ms)
		s->address_due_ms = until_ms;
}

void scheduler_address_learned(struct scheduler *s, int64_t now_ms)
{
	s->address_known = true;
	s->address_wanted = false;
	s->address_failures = 0;
	s->address_asked_ms = now_ms;
}

void scheduler_address_failed(struct scheduler *s, int64_t now_ms)
{
	s->address_failures++;
	if (s->address_known) {
		s->address_wanted = false; /* asked again after renewals */
		return;
	}
	s->address_due_ms = now_ms + scheduler_retry_ms(s->address_failures);
}

bool scheduler_expire_next(struct scheduler *s, int64_t now_ms, size_t *index)
{
	size_t i;

	for (i = 0; i < s->count; i++) {
		struct mapping *m = &s->mappings[i];
		if (m->established && m->expires_at_ms <= now_ms) {
			m->established = false;
			m->recreating = false;
			m->delete_first = false;
			if (m->due_ms > now_ms && !m->failures)
				m->due_ms = now_ms;
			*index = i;
			return true;
		}
	}
	return false;
}

bool mapping_address_changed(struct mapping *m,
			     const struct ip_address *address)
{
	if (!m->established || m->recreating ||
	    ip_address_equal(&m->external_address, address))
		return false;
	m->external_address = *address;
	m->suggested_address = *address;
	return true;
}

void scheduler_gateway_reset(struct scheduler *s, int64_t now_ms,
			     unsigned (*random_fn)(void))
{
	size_t i;

	for (i = 0; i < s->count; i++) {
		struct mapping *m = &s->mappings[i];
		int64_t window = SCHEDULER_RESET_SPREAD_MS;
		if (m->established && (m->expires_at_ms - now_ms) / 2 < window)
			window = (m->expires_at_ms - now_ms) / 2;
		if (window < 0)
			window = 0;
		m->failures = 0;
		m->recreating = m->established;
		m->delete_first = false; /* the restart deleted it */
		m->due_ms = now_ms +
			    (int64_t)(random_fn() % (unsigned)(window + 1));
	}
	s->address_wanted = true;
	s->address_due_ms = now_ms;
	s->address_failures = 0;
}

void scheduler_renew_all(struct scheduler *s, int64_t now_ms, bool new_network)
{
	size_t i;

	for (i = 0; i < s->count; i++) {
		s->mappings[i].due_ms = now_ms;
		s->mappings[i].failures = 0;
		if (new_network)
			s->mappings[i].recreating = s->mappings[i].established;
	}
	s->address_wanted = true;
	s->address_due_ms = now_ms;
	s->address_failures = 0;
	if (new_network)
		s->address_known = false;
}

void scheduler_gateway_alive(struct scheduler *s, int64_t now_ms)
{
	size_t i;

	for (i = 0; i < s->count; i++)
		if (s->mappings[i].failures && s->mappings[i].due_ms > now_ms)
			s->mappings[i].due_ms = now_ms;
	if (s->address_wanted && s->address_failures)
		s->address_due_ms = now_ms;
}

bool scheduler_confirm(struct scheduler *s, int64_t now_ms,
		       bool grants_carry_address)
{
	size_t i, soonest = s->count;

	if (!grants_carry_address) {
		s->address_wanted = true;
		s->address_due_ms = now_ms;
		return true;
	}
	/* a grant tells the address and the epoch: the renewal that was due
	 * first goes now */
	for (i = 0; i < s->count; i++)
		if (s->mappings[i].established &&
		    (soonest == s->count ||
		     s->mappings[i].due_ms < s->mappings[soonest].due_ms))
			soonest = i;
	if (soonest == s->count)
		return false;
	if (s->mappings[soonest].due_ms > now_ms)
		s->mappings[soonest].due_ms = now_ms;
	return true;
}

bool scheduler_lose(struct scheduler *s, size_t index)
{
	struct mapping *m = &s->mappings[index];
	bool was = m->established;

	m->established = false;
	m->recreating = false;
	m->delete_first = false;
	return was;
}

bool scheduler_moved(struct scheduler *s, size_t index)
{
	/* what another gateway granted means nothing here */
	memset(&s->mappings[index].suggested_address, 0,
	       sizeof(s->mappings[index].suggested_address));
	return scheduler_lose(s, index);
}

bool scheduler_ended(struct scheduler *s, size_t index, int64_t now_ms)
{
	struct mapping *m = &s->mappings[index];

	if (!m->established)
		return false;
	m->failures = 0;
	m->due_ms = now_ms;
	return scheduler_lose(s, index);
}

size_t scheduler_established(const struct scheduler *s)
{
	size_t i, n = 0;

	for (i = 0; i < s->count; i++)
		n += s->mappings[i].established;
	return n;
}

bool scheduler_all_tried(const struct scheduler *s)
{
	size_t i;

	for (i = 0; i < s->count; i++)
		if (!s->mappings[i].tried)
			return false;
	return true;
}
