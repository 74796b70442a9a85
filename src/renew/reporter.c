/* reporter.c - events into output lines, hooks and sd_notify messages. */
#include "renew/reporter.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/diag.h"
#include "renew/notify.h"

static void on_status_timer(void *context)
{
	reporter_status_flush(context);
}

int reporter_init(struct reporter *r, struct eloop *loop,
		  const struct options *options, size_t mapping_count)
{
	memset(r, 0, sizeof(*r));
	r->output.json = options->json;
	r->output.timed_failures = true;
	r->quiet_renewals = options->quiet;
	r->hook_renewals = options->hook_renewals;
	r->loop = loop;
	eloop_timer_init(&r->status_timer, on_status_timer, r);
	r->status_sent_ms = clock_now_ms() - REPORTER_STATUS_INTERVAL_MS;
	output_queue_start(&r->output);
	return hook_runner_init(&r->hooks, loop, options->on_change,
				options->hook_timeout_ms, mapping_count);
}

void reporter_free(struct reporter *r)
{
	eloop_timer_stop(r->loop, &r->status_timer);
	hook_runner_free(&r->hooks);
	output_queue_free(&r->output);
}

static void emit(struct reporter *r, struct result *result, const char *event)
{
	result->event = event;
	result->time = time(NULL);
	/* an event line starts a line of its own, even on a terminal where a
	 * wait is being shown; the next tick draws it again */
	diag_progress_clear();
	output_result(&r->output, result);
}

static void base(struct result *result, enum result_kind kind,
		 const struct client *client)
{
	memset(result, 0, sizeof(*result));
	if (client) {
		client_result_init(client, result, kind);
		result->epoch_known = client_epoch(client)->known;
		result->epoch = client_epoch(client)->sssoe;
	}
	result->kind = kind;
}

void reporter_mapping(struct reporter *r, const struct mapping *m, size_t lane,
		      const char *event, bool run_hook,
		      const struct mapping_place *place)
{
	bool lost = strcmp(event, "lost") == 0;
	bool renewal = strcmp(event, "renewed") == 0;
	struct result result;
	struct hook_event hook;

	base(&result, RESULT_MAP, NULL);
	if (place->gateway) {
		result.gateway_known = true;
		result.gateway = *place->gateway;
	}
	if (place->epoch && place->epoch->known) {
		result.epoch_known = true;
		result.epoch = place->epoch->sssoe;
	}
	result.via = place->via;
	result.transport = m->transport;
	result.internal_port = m->internal_port;
	result.internal_address = m->internal_address;
	result.external_port = m->external_port;
	result.external_address = m->external_address;
	result.lifetime = lost ? 0 : m->lifetime;
	if (!renewal || !r->quiet_renewals)
		emit(r, &result, event);
	if (!run_hook && !renewal)
		return;
	memset(&hook, 0, sizeof(hook));
	hook.event = event;
	hook.transport = m->transport;
	hook.internal_port = m->internal_port;
	hook.internal_address = m->internal_address;
	hook.external_port = m->external_port;
	hook.external_address = m->external_address;
	hook.lifetime = result.lifetime;
	hook.gateway = result.gateway;
	hook.via = place->via;
	if (run_hook)
		hook_queue(&r->hooks, lane, &hook);
	else if (r->hook_renewals)
		hook_renewed(&r->hooks, lane, &hook);
	else /* a plain renewal runs only a hook that failed before */
		hook_retry(&r->hooks, lane, &hook);
}

void reporter_unmapped(struct reporter *r, struct result *result)
{
	emit(r, result, "unmapped");
}

void reporter_failure(struct reporter *r, struct result *failure)
{
	emit(r, failure, "error");
}

void reporter_gateway(struct reporter *r, const char *event,
		      const struct client *client, const char *interface)
{
	struct result result;

	base(&result, RESULT_GATEWAY, client);
	result.interface = interface;
	if (client)
		result.via = client_protocol(client)->id;
	emit(r, &result, event);
}

void reporter_address(struct reporter *r, const struct client *client,
		      const struct ip_address *address)
{
	struct result result;

	base(&result, RESULT_ADDRESS, client);
	result.external_address = *address;
	emit(r, &result, "address-changed");
}

/* ", external ports 51413 56790", as many as fit in what is left of
 * status, then "... and N more". */
static void append_ports(char *status, size_t size, const uint16_t *ports,
			 size_t count)
{
	size_t used = strlen(status), i;
	/* room kept for the longest " ... and N more" */
	size_t room = size > 24 ? size - 24 : 0;

	if (count == 0 || used >= room)
		return;
	used += (size_t)snprintf(status + used, size - used,
				 ", external port%s", count > 1 ? "s" : "");
	for (i = 0; i < count && used + 7 < room; i++)
		used += (size_t)snprintf(status + used, size - used, " %u",
					 (unsigned)ports[i]);
	if (i < count)
		snprintf(status + used, size - used, " ... and %zu more",
			 count - i);
}

void reporter_status(struct reporter *r, size_t active, size_t count,
		     const struct client *client, const struct client *waiting,
		     const uint16_t *ports, size_t port_count)
{
	char *status = r->status_due;
	size_t size = sizeof(r->status_due);

	if (waiting)
		snprintf(
			status, size,
			"STATUS=waiting for gateway %s; %zu of %zu mappings active",
			client_gateway_text(waiting), active, count);
	else if (client)
		snprintf(status, size,
			 "STATUS=%zu of %zu mappings active via %s", active,
			 count, client_gateway_text(client));
	else
		snprintf(status, size,
			 "STATUS=%zu of %zu mappings active, no gateway",
			 active, count);
	append_ports(status, size, ports, port_count);
	if (r->status_timer.armed)
		return;
	if (clock_now_ms() - r->status_sent_ms >= REPORTER_STATUS_INTERVAL_MS)
		reporter_status_flush(r);
	else
		eloop_timer_at(r->loop, &r->status_timer,
			       r->status_sent_ms + REPORTER_STATUS_INTERVAL_MS);
}

void reporter_status_flush(struct reporter *r)
{
	eloop_timer_stop(r->loop, &r->status_timer);
	if (r->status_due[0] == '\0' || strcmp(r->status_due, r->status) == 0)
		return;
	snprintf(r->status, sizeof(r->status), "%s", r->status_due);
	notify_send(r->status);
	r->status_sent_ms = clock_now_ms();
}

void reporter_ready(struct reporter *r)
{
	if (r->ready)
		return;
	r->ready = true;
	reporter_status_flush(r);
	notify_send("READY=1");
}

bool reporter_output_gone(const struct reporter *r)
{
	return r->output.failed && (r->output.error_number == EPIPE ||
				    r->output.error_number == ECONNRESET);
}

/* --- SIGUSR1: the state, on stderr --- */

void reporter_dump_gateway(const struct client *client, const char *interface,
			   const struct ip_address *external_address)
{
	char address[IP_ADDRESS_TEXT_SIZE], source[IP_ADDRESS_TEXT_SIZE];

	diag_error(
		"state: gateway %s (%s, interface %s, source %s), external address %s, epoch %lu",
		client_gateway_text(client),
		protocol_name(client_protocol(client)->id), interface,
		ip_address_format(client_source(client), source,
				  sizeof(source)),
		ip_address_format(external_address, address, sizeof(address)),
		(unsigned long)client_epoch(client)->sssoe);
}

void reporter_dump_no_gateway(const char *why)
{
	diag_error("state: no gateway (%s)", why);
}

void reporter_dump_mapping(const struct mapping *m, int64_t now_ms)
{
	const char *transport = transport_name(m->transport);
	long long next = (long long)((m->due_ms - now_ms + 999) / 1000);

	if (next < 0)
		next = 0;
	if (m->established)
		diag_error(
			"state: %s %u: external port %u, lifetime %lus, expires in %llds, renewal in %llds",
			transport, (unsigned)m->internal_port,
			(unsigned)m->external_port, (unsigned long)m->lifetime,
			(long long)((m->expires_at_ms - now_ms) / 1000), next);
	else
		diag_error(
			"state: %s %u: not mapped, %u failed attempts, next attempt in %llds",
			transport, (unsigned)m->internal_port, m->failures,
			next);
}

void reporter_dump_waiting(const struct client *client, int64_t now_ms)
{
	diag_error(
		"state: waiting for the reply to the %s: attempt %d, %llds waited",
		client_request_label(client), client_sends(client),
		(long long)((now_ms - client_started_ms(client)) / 1000));
}

/* --- hooks --- */

void reporter_reap_hooks(struct reporter *r)
{
	hook_reap(&r->hooks);
}

void reporter_end_hooks(struct reporter *r, int64_t grace_ms)
{
	hook_end_all(&r->hooks, grace_ms);
}
