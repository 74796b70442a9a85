/* reporter.c - events into output lines, hooks and sd_notify messages. */
#include "reporter.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "diag.h"
#include "notify.h"

int reporter_init(struct reporter *r, struct eloop *loop,
		  const struct invocation *inv, size_t mapping_count)
{
	memset(r, 0, sizeof(*r));
	r->output.json = inv->json;
	r->quiet_renewals = inv->quiet;
	output_queue_start(&r->output);
	return hook_runner_init(&r->hooks, loop, inv->on_change,
				inv->hook_timeout_ms, mapping_count);
}

void reporter_free(struct reporter *r)
{
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
		result->epoch_known = client->epoch.known;
		result->epoch = client->epoch.sssoe;
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
	result.protocol = m->protocol;
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
	hook.protocol = m->protocol;
	hook.internal_port = m->internal_port;
	hook.internal_address = m->internal_address;
	hook.external_port = m->external_port;
	hook.external_address = m->external_address;
	hook.lifetime = result.lifetime;
	hook.gateway = result.gateway;
	hook.via = place->via;
	if (run_hook)
		hook_queue(&r->hooks, lane, &hook);
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
		result.via = client->protocol->json_name;
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

void reporter_status(struct reporter *r, size_t active, size_t count,
		     const struct client *client, const struct client *waiting)
{
	char status[sizeof(r->status)];

	if (waiting)
		snprintf(
			status, sizeof(status),
			"STATUS=waiting for gateway %s; %zu of %zu mappings active",
			waiting->exchange.gateway_text, active, count);
	else if (client)
		snprintf(status, sizeof(status),
			 "STATUS=%zu of %zu mappings active via %s", active,
			 count, client->exchange.gateway_text);
	else
		snprintf(status, sizeof(status),
			 "STATUS=%zu of %zu mappings active, no gateway",
			 active, count);
	if (strcmp(status, r->status) == 0)
		return;
	snprintf(r->status, sizeof(r->status), "%s", status);
	notify_send(status);
}

void reporter_ready(struct reporter *r)
{
	if (r->ready)
		return;
	r->ready = true;
	notify_send("READY=1");
}

bool reporter_output_gone(const struct reporter *r)
{
	return r->output.failed && (r->output.error_number == EPIPE ||
				    r->output.error_number == ECONNRESET);
}
