/* cmd_renew_loop.c - `natpmp renew-loop SPEC...`: create the mappings, then
 * keep them alive until stopped, through gateway restarts, outages, address
 * and route changes (RFC 6886 sections 3.2.1, 3.3, 3.6 and 3.7). */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "announce.h"
#include "clock.h"
#include "command.h"
#include "diag.h"
#include "exit_status.h"
#include "gateway.h"
#include "hook.h"
#include "mapping.h"
#include "notify.h"
#include "output.h"
#include "session.h"
#include "signals.h"

/* deleting on the way out: a quick try, bounded in total */
#define SHUTDOWN_BUDGET_MS 2000
#define SHUTDOWN_SENDS 3

struct loop {
	const struct invocation *inv;
	struct output output;
	struct client client;
	bool connected;
	struct mapping *mappings;
	size_t count;
	struct hook_runner hooks;
	int signal_fd;
	int announce_fd;
	int route_fd;
	bool stopping;
	bool ready;
	bool address_known;
	struct in_addr address;
};

static const char *const event_names[] = {
	[MAPPING_MAPPED] = "mapped",
	[MAPPING_RENEWED] = "renewed",
	[MAPPING_CHANGED] = "changed",
	[MAPPING_LIFETIME_CHANGED] = "changed",
};

/* --- output --- */

static void result_base(const struct loop *loop, struct result *r,
			enum result_kind kind, const char *event)
{
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->event = event;
	r->time = time(NULL);
	r->gateway_known = loop->connected;
	r->gateway = loop->client.exchange.gateway;
	r->internal_address = loop->client.exchange.local.sin_addr;
	r->epoch_known = loop->client.epoch.known;
	r->epoch = loop->client.epoch.sssoe;
	r->external_address_known = loop->address_known;
	r->external_address = loop->address;
}

static void emit_mapping(struct loop *loop, const struct mapping *m,
			 const char *event, bool run_hook)
{
	struct result r;
	struct hook_event hook = {
		.event = event,
		.protocol = m->protocol,
		.internal_port = m->internal_port,
		.external_port = m->external_port,
		.external_address_known = m->external_address_known,
		.external_address = m->external_address,
		.lifetime = m->established ? m->lifetime : 0,
		.gateway = loop->client.exchange.gateway.sin_addr,
	};

	result_base(loop, &r, RESULT_MAP, event);
	r.protocol = m->protocol;
	r.internal_port = m->internal_port;
	r.external_port = m->external_port;
	r.external_address_known = m->external_address_known;
	r.external_address = m->external_address;
	r.lifetime = hook.lifetime;
	if (strcmp(event, "renewed") != 0 || !loop->inv->quiet)
		output_result(&loop->output, &r);
	if (run_hook)
		hook_queue(&loop->hooks, (size_t)(m - loop->mappings), &hook);
}

static void emit_failure(struct loop *loop, struct result *r)
{
	r->event = "error";
	r->time = time(NULL);
	output_result(&loop->output, r);
}

static void emit_gateway_event(struct loop *loop, const char *event)
{
	struct result r;

	result_base(loop, &r, RESULT_GATEWAY, event);
	output_result(&loop->output, &r);
}

static void notify_status(struct loop *loop)
{
	char message[160];
	size_t i, active = 0;

	for (i = 0; i < loop->count; i++)
		active += loop->mappings[i].established;
	snprintf(message, sizeof(message),
		 "STATUS=%zu of %zu mappings active via %s", active,
		 loop->count,
		 loop->connected ? loop->client.exchange.gateway_text
				 : "no gateway");
	notify_send(message);
	if (!loop->ready && active == loop->count) {
		notify_send("READY=1");
		loop->ready = true;
	}
}

/* --- the gateway --- */

static bool on_exchange_signal(void *context);

static void open_announcements(struct loop *loop)
{
	loop->announce_fd = announce_open(loop->client.exchange.local.sin_addr);
	if (loop->announce_fd < 0)
		diag_verbose("not listening for gateway announcements: %s",
			     strerror(errno));
}

static void disconnect(struct loop *loop)
{
	if (loop->announce_fd >= 0)
		close(loop->announce_fd);
	loop->announce_fd = -1;
	if (loop->connected)
		client_close(&loop->client);
	loop->connected = false;
	loop->address_known = false;
}

/* Finds (unless named) and opens the gateway; reports why not. */
static bool connect_gateway(struct loop *loop)
{
	struct sockaddr_in gateway;
	struct result failure;

	if (loop->connected)
		return true;
	if (session_find_gateway(loop->inv, &gateway, &failure) < 0 ||
	    client_open(&loop->client, &gateway, &failure) < 0) {
		failure.kind = RESULT_SETUP;
		emit_failure(loop, &failure);
		return false;
	}
	loop->connected = true;
	loop->client.timeout_ms = loop->inv->timeout_ms;
	loop->client.exchange.remember_silence = true;
	loop->client.exchange.on_signal = on_exchange_signal;
	loop->client.exchange.on_signal_context = loop;
	open_announcements(loop);
	return true;
}

/* Without --gateway, a silent gateway or a route change may mean the host
 * moved: follow the default route to its new gateway. */
static void follow_default_route(struct loop *loop)
{
	struct sockaddr_in gateway;
	struct result failure;
	size_t i;

	if (loop->inv->gateway_given || !loop->connected)
		return;
	if (session_find_gateway(loop->inv, &gateway, &failure) < 0)
		return;
	if (gateway.sin_addr.s_addr ==
	    loop->client.exchange.gateway.sin_addr.s_addr)
		return;
	disconnect(loop);
	if (!connect_gateway(loop))
		return;
	emit_gateway_event(loop, "gateway-changed");
	for (i = 0; i < loop->count; i++)
		loop->mappings[i].renew_at_ms = clock_now_ms();
}

static void start_request(struct loop *loop)
{
	struct exchange *ex = &loop->client.exchange;

	ex->deadline_ms = loop->inv->timeout_ms >= 0
				  ? clock_now_ms() + loop->inv->timeout_ms
				  : EXCHANGE_NO_DEADLINE;
}

/* --- what the gateway tells us --- */

static void gateway_was_reset(struct loop *loop)
{
	int64_t now = clock_now_ms();
	size_t i;

	loop->client.gateway_reset = false;
	emit_gateway_event(loop, "gateway-reset");
	for (i = 0; i < loop->count; i++)
		mapping_gateway_reset(&loop->mappings[i], now,
				      (unsigned)random());
}

static void learned_address(struct loop *loop, struct in_addr address)
{
	struct result r;
	size_t i;

	if (loop->address_known && loop->address.s_addr == address.s_addr)
		return;
	if (loop->address_known) {
		loop->address = address;
		result_base(loop, &r, RESULT_ADDRESS, "address-changed");
		output_result(&loop->output, &r);
	}
	loop->address_known = true;
	loop->address = address;
	result_base(loop, &r, RESULT_ADDRESS, NULL);
	output_address_warning(&r);
	for (i = 0; i < loop->count; i++)
		if (mapping_address_changed(&loop->mappings[i], address))
			emit_mapping(loop, &loop->mappings[i], "changed", true);
}

static void refresh_address(struct loop *loop)
{
	struct result r;

	start_request(loop);
	client_get_address(&loop->client, &r);
	if (loop->stopping)
		return;
	if (r.failure == FAILURE_NONE)
		learned_address(loop, r.external_address);
	else if (loop->client.exchange.silence == EXCHANGE_ANSWERED)
		emit_failure(loop, &r); /* silence is reported per mapping */
}

static void renew(struct loop *loop, struct mapping *m)
{
	enum mapping_event event;
	struct result r;

	start_request(loop);
	client_map(&loop->client, m->protocol, m->internal_port,
		   m->suggested_port, m->requested_lifetime, &r);
	if (loop->stopping)
		return;
	if (r.failure != FAILURE_NONE) {
		mapping_failed(m, clock_now_ms());
		emit_failure(loop, &r);
		return;
	}
	event = mapping_granted(m, r.external_port, r.lifetime,
				r.external_address_known, r.external_address,
				clock_now_ms());
	emit_mapping(loop, m, event_names[event],
		     event == MAPPING_MAPPED || event == MAPPING_CHANGED);
}

/* One round with the gateway: its address, then every mapping due. */
static void run_due(struct loop *loop)
{
	int64_t start = clock_now_ms();
	size_t i;

	if (!connect_gateway(loop)) {
		for (i = 0; i < loop->count; i++)
			if (loop->mappings[i].renew_at_ms <= start)
				mapping_failed(&loop->mappings[i], start);
		return;
	}
	exchange_forget_silence(&loop->client.exchange);
	refresh_address(loop);
	for (i = 0; i < loop->count && !loop->stopping; i++) {
		if (loop->client.gateway_reset)
			gateway_was_reset(loop);
		if (loop->mappings[i].renew_at_ms <= start)
			renew(loop, &loop->mappings[i]);
	}
	if (loop->client.gateway_reset)
		gateway_was_reset(loop);
	if (loop->client.exchange.silence != EXCHANGE_ANSWERED)
		follow_default_route(loop);
	notify_status(loop);
}

static void hear_announcements(struct loop *loop)
{
	struct natpmp_reply reply;
	enum announce_status status;
	struct in_addr address;
	size_t i;

	while ((status =
			announce_receive(loop->announce_fd,
					 loop->client.exchange.gateway.sin_addr,
					 &reply)) != ANNOUNCE_NONE) {
		if (status != ANNOUNCE_HEARD)
			continue;
		diag_verbose("announcement from gateway %s: epoch %lu",
			     loop->client.exchange.gateway_text,
			     (unsigned long)reply.epoch);
		/* section 3.1: an announcement is news that the gateway is up */
		exchange_forget_silence(&loop->client.exchange);
		for (i = 0; i < loop->count; i++)
			if (loop->mappings[i].failures)
				loop->mappings[i].renew_at_ms = clock_now_ms();
		if (epoch_observe(&loop->client.epoch, reply.epoch,
				  clock_now_ms()))
			gateway_was_reset(loop);
		if (reply.result == NATPMP_RESULT_SUCCESS &&
		    reply.external_address != 0) {
			address.s_addr = htonl(reply.external_address);
			learned_address(loop, address);
		}
	}
}

/* --- signals --- */

static void print_state(const struct loop *loop)
{
	int64_t now = clock_now_ms();
	char address[INET_ADDRSTRLEN] = "?";
	size_t i;

	if (loop->address_known)
		inet_ntop(AF_INET, &loop->address, address, sizeof(address));
	diag_error("state: gateway %s, external address %s, epoch %lu",
		   loop->connected ? loop->client.exchange.gateway_text
				   : "none",
		   address, (unsigned long)loop->client.epoch.sssoe);
	for (i = 0; i < loop->count; i++) {
		const struct mapping *m = &loop->mappings[i];
		const char *protocol =
			m->protocol == PROTOCOL_UDP ? "udp" : "tcp";
		long long next = (long long)((m->renew_at_ms - now) / 1000);

		if (m->established)
			diag_error(
				"state: %s %u: external port %u, lifetime %lus, expires in %llds, renewal in %llds",
				protocol, (unsigned)m->internal_port,
				(unsigned)m->external_port,
				(unsigned long)m->lifetime,
				(long long)((m->expires_at_ms - now) / 1000),
				next < 0 ? 0 : next);
		else
			diag_error(
				"state: %s %u: not mapped, %u failed attempts, next in %llds",
				protocol, (unsigned)m->internal_port,
				m->failures, next < 0 ? 0 : next);
	}
}

static void take_signals(struct loop *loop)
{
	unsigned taken = signals_take();

	if (taken & SIGNAL_CHILD)
		hook_reap(&loop->hooks);
	if (taken & SIGNAL_STATE)
		print_state(loop);
	if (taken & SIGNAL_RENEW) {
		for (size_t i = 0; i < loop->count; i++)
			loop->mappings[i].renew_at_ms = clock_now_ms();
		if (loop->connected)
			exchange_forget_silence(&loop->client.exchange);
	}
	if (taken & SIGNAL_STOP)
		loop->stopping = true;
}

static bool on_exchange_signal(void *context)
{
	struct loop *loop = context;

	take_signals(loop);
	return loop->stopping;
}

/* --- the loop --- */

static void expire(struct loop *loop)
{
	int64_t now = clock_now_ms();
	size_t i;

	for (i = 0; i < loop->count; i++)
		if (mapping_expire(&loop->mappings[i], now)) {
			emit_mapping(loop, &loop->mappings[i], "lost", true);
			notify_status(loop);
		}
}

static int64_t next_deadline(const struct loop *loop)
{
	int64_t next = INT64_MAX;
	size_t i;

	for (i = 0; i < loop->count; i++) {
		int64_t t = mapping_next_ms(&loop->mappings[i]);
		if (t < next)
			next = t;
	}
	return next;
}

/* Sleeps in the kernel until the next deadline or an event. */
static void wait_for_events(struct loop *loop, int64_t deadline)
{
	struct pollfd fds[3] = {
		{ .fd = loop->signal_fd, .events = POLLIN },
		{ .fd = loop->announce_fd, .events = POLLIN },
		{ .fd = loop->route_fd, .events = POLLIN },
	};
	int64_t wait = deadline - clock_now_ms();

	if (wait <= 0)
		return;
	if (wait > INT64_C(24) * 3600 * 1000)
		wait = INT64_C(24) * 3600 * 1000; /* fits poll's int */
	if (poll(fds, 3, (int)wait) <= 0)
		return;
	if (fds[1].revents)
		hear_announcements(loop);
	if (fds[2].revents) {
		struct network_news news;
		gateway_watch_read(loop->route_fd, 0, &news);
		diag_verbose("routes changed");
		follow_default_route(loop);
	}
}

static void delete_mappings(struct loop *loop)
{
	struct exchange *ex = &loop->client.exchange;
	size_t i;

	if (!loop->connected)
		return;
	exchange_forget_silence(ex);
	ex->on_signal = NULL;
	ex->deadline_ms = clock_now_ms() + SHUTDOWN_BUDGET_MS;
	ex->max_sends = SHUTDOWN_SENDS;
	for (i = 0; i < loop->count; i++) {
		struct mapping *m = &loop->mappings[i];
		struct result r;

		if (!m->established)
			continue;
		/* internal port 0 can only be deleted with all of the host's
		 * mappings of its protocol: that is what this request does */
		client_map(&loop->client, m->protocol, m->internal_port, 0, 0,
			   &r);
		if (r.failure != FAILURE_NONE) {
			emit_failure(loop, &r);
			continue;
		}
		m->established = false;
		r.event = "unmapped";
		r.time = time(NULL);
		output_result(&loop->output, &r);
	}
}

static int loop_init(struct loop *loop, const struct invocation *inv)
{
	int64_t now = clock_now_ms();
	unsigned protocol;
	size_t i, n = 0;

	memset(loop, 0, sizeof(*loop));
	loop->inv = inv;
	loop->output.json = inv->json;
	loop->announce_fd = -1;
	loop->route_fd = -1;
	loop->client.exchange.fd = -1;
	loop->mappings = calloc(inv->spec_count * 2, sizeof(*loop->mappings));
	if (!loop->mappings)
		return -1;
	for (i = 0; i < inv->spec_count; i++)
		for (protocol = PROTOCOL_UDP; protocol <= PROTOCOL_TCP;
		     protocol <<= 1)
			if (inv->specs[i].protocols & protocol)
				mapping_init(&loop->mappings[n++], protocol,
					     inv->specs[i].internal_port,
					     inv->specs[i].external_port,
					     inv->lifetime, now);
	loop->count = n;
	if (hook_runner_init(&loop->hooks, inv->on_change, n) < 0)
		return -1;
	loop->signal_fd = signals_open();
	if (loop->signal_fd < 0)
		return -1;
	if (!inv->gateway_given)
		loop->route_fd = gateway_watch_open();
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	return 0;
}

static int run_renew_loop(const struct invocation *inv)
{
	struct loop loop;

	if (loop_init(&loop, inv) < 0) {
		diag_error("renew-loop: cannot start: %s", strerror(errno));
		return EXIT_SYSTEM;
	}
	while (!loop.stopping) {
		int64_t next;

		take_signals(&loop);
		if (loop.stopping)
			break;
		expire(&loop);
		next = next_deadline(&loop);
		if (next <= clock_now_ms())
			run_due(&loop);
		else
			wait_for_events(&loop, next);
	}
	notify_send("STOPPING=1");
	if (!inv->keep)
		delete_mappings(&loop);
	disconnect(&loop);
	hook_runner_free(&loop.hooks);
	free(loop.mappings);
	return EXIT_OK;
}

const struct command command_renew_loop = {
	.name = "renew-loop",
	.run = run_renew_loop,
	.summary = "keep port mappings alive until stopped",
	.usage =
		"usage: natpmp [options] renew-loop [--on-change CMD] [--keep] SPEC...\n"
		"\n"
		"Creates each mapping, then renews it at half the granted lifetime, recreates\n"
		"it after a gateway restart, and follows address and route changes. Prints\n"
		"one timestamped line (or JSON object) per event. SIGINT or SIGTERM deletes\n"
		"the mappings and exits 0; SIGHUP renews now; SIGUSR1 prints the state.\n"
		"\n"
		"  -l, --lifetime DURATION   requested lifetime (default 7200s)\n"
		"  --on-change CMD           run /bin/sh -c CMD when a mapping is made, changes\n"
		"                            port or address, or is lost; facts in NATPMP_*\n"
		"  --keep                    on exit, leave the mappings to expire\n",
	.options = CLI_OPTION_LIFETIME | CLI_OPTION_ON_CHANGE | CLI_OPTION_KEEP,
	.operands = CLI_OPERANDS_SPECS,
};
