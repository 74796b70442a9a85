/* family_status.c - one address family's mappings seen from outside:
 * how many, which ports are active, the live status for `natpmp status`
 * and the state SIGUSR1 prints. */
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "renew/family_mappings.h"

size_t family_mappings_count(const struct family_mappings *f)
{
	return f->sched.count;
}

size_t family_mappings_established(const struct family_mappings *f)
{
	return scheduler_established(&f->sched);
}

size_t family_mappings_active_ports(struct family_mappings *f, uint16_t *out)
{
	size_t i, n = 0;

	if (!family_mappings_client(f))
		return 0;
	for (i = 0; i < f->sched.count; i++)
		if (f->mappings[i].established)
			out[n++] = f->mappings[i].external_port;
	return n;
}

static enum mapping_condition condition_of(const struct mapping *m,
					   bool connected)
{
	if (m->established && connected)
		return CONDITION_ACTIVE;
	return m->established || m->granted_ms ? CONDITION_LOST
					       : CONDITION_WAITING;
}

size_t family_mappings_status(struct family_mappings *f,
			      struct mapping_status *out)
{
	const struct client *c = family_mappings_client(f);
	size_t i;

	for (i = 0; i < f->sched.count; i++) {
		const struct mapping *m = &f->mappings[i];
		struct mapping_status *s = &out[i];
		memset(s, 0, sizeof(*s));
		s->family = f->family;
		s->transport = m->transport;
		s->internal_port = m->internal_port;
		s->internal_address =
			ip_address_is_set(&m->internal_address) || !c
				? m->internal_address
				: *client_source(c);
		s->condition = condition_of(m, c != NULL);
		if (m->established || m->granted_ms) {
			s->external_address = m->external_address;
			s->external_port = m->external_port;
			s->lifetime = m->lifetime;
		}
		s->expires_ms = m->established ? m->expires_at_ms : 0;
		/* with no gateway, nothing is sent until one is found */
		s->next_ms = c ? m->due_ms : 0;
		s->gateway_known =
			c || ip_address_is_set(&f->last_gateway.address);
		s->gateway = c ? *client_gateway(c) : f->last_gateway;
		s->via = c ? client_protocol(c)->id : f->last_via;
		if (!c)
			snprintf(s->problem, sizeof(s->problem), "%s",
				 supervisor_last_failure(&f->sup));
	}
	return f->sched.count;
}

bool family_mappings_all_tried(const struct family_mappings *f)
{
	return scheduler_all_tried(&f->sched);
}

/* The SIGUSR1 dump. */
void family_mappings_print_state(struct family_mappings *f)
{
	int64_t now = clock_now_ms();
	size_t i;

	const struct client *c = family_mappings_client(f);

	family_mappings_expire(f);
	if (c)
		reporter_dump_gateway(c, supervisor_interface(&f->sup),
				      &f->address);
	else
		reporter_dump_no_gateway(supervisor_last_failure(&f->sup));
	for (i = 0; i < f->sched.count; i++)
		reporter_dump_mapping(&f->mappings[i], now);
	if (c && client_running(c))
		reporter_dump_waiting(c, now);
}
