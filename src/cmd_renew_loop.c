/* cmd_renew_loop.c - `natpmp renew-loop SPEC...`: create the mappings,
 * then keep them alive until stopped. One event loop drives everything:
 * the scheduler decides what to send, the supervisor keeps the gateway and
 * the network current, the reporter speaks; nothing here ever blocks, so
 * expiries, signals, announcements and network changes are acted on while
 * a request waits for its answer. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "command.h"
#include "diag.h"
#include "exit_status.h"
#include "notify.h"
#include "reporter.h"
#include "scheduler.h"
#include "signals.h"
#include "supervisor.h"

/* deleting on the way out, and ending hooks: bounded in total */
#define SHUTDOWN_DELETE_MS 1500
#define SHUTDOWN_HOOK_GRACE_MS 400
#define SHUTDOWN_OUTPUT_GRACE_MS 300
/* systemd hears READY=1 by then even if the gateway stays silent */
#define READY_AT_THE_LATEST_MS 10000
/* a jump of boot time over monotonic time this large is a suspend */
#define RESUME_THRESHOLD_MS 1000
/* an in-flight request this many sends in gets resent when the gateway
 * announces itself */
#define KICK_AFTER_SENDS 3

struct renew_loop {
	const struct invocation *inv;
	struct eloop loop;
	struct scheduler sched;
	struct mapping *mappings;
	struct supervisor sup;
	struct reporter rep;
	struct eloop_timer pump_timer;
	struct eloop_timer wake_timer;
	struct eloop_timer ready_timer;
	int signal_fd;
	int64_t asleep_ms;
	bool stopping;
	bool stop_again; /* a second SIGINT or SIGTERM while deleting */
	bool output_warned;
	bool stdout_watched;
	short stdout_events;
	struct ip_address address; /* the external address last reported */
	struct ip_endpoint last_gateway; /* where the mappings are */
	/* the request in flight */
	bool in_flight;
	struct action action;
	bool deleting_done;
};

static const char *const event_names[] = {
	[MAPPING_MAPPED] = "mapped",
	[MAPPING_RENEWED] = "renewed",
	[MAPPING_CHANGED] = "changed",
	[MAPPING_LIFETIME_CHANGED] = "changed",
};

static struct client *gateway_client(struct renew_loop *l)
{
	return l->sup.connected ? &l->sup.client : NULL;
}

/* A mapping event, at the gateway in use. */
static void report(struct renew_loop *l, size_t index, const char *event,
		   bool run_hook)
{
	const struct client *c = gateway_client(l);

	reporter_mapping(&l->rep, &l->sched, index, event, run_hook,
			 c ? &c->exchange.gateway : NULL, c ? &c->epoch : NULL);
}

static unsigned random_number(void)
{
	return (unsigned)random();
}

/* Runs the pump from the loop, never from inside a callback's caller. */
static void pump_soon(struct renew_loop *l)
{
	eloop_timer_at(&l->loop, &l->pump_timer, clock_now_ms());
}

static void check_output(struct renew_loop *l)
{
	if (reporter_output_gone(&l->rep)) {
		if (!l->stopping)
			diag_verbose("stdout was closed: stopping");
		l->stopping = true;
	} else if (l->rep.output.failed && !l->output_warned) {
		diag_warning("cannot write events to stdout: %s",
			     strerror(l->rep.output.error_number));
		l->output_warned = true;
	}
}

static void update_status(struct renew_loop *l)
{
	reporter_status(&l->rep, &l->sched, gateway_client(l));
	if (scheduler_all_tried(&l->sched)) {
		reporter_ready(&l->rep);
		/* no reason left to wake at the deadline */
		eloop_timer_stop(&l->loop, &l->ready_timer);
	}
	check_output(l);
}

static void report_expiries(struct renew_loop *l, int64_t now)
{
	size_t index;

	while (scheduler_expire_next(&l->sched, now, &index)) {
		report(l, index, "lost", true);
		update_status(l);
	}
}

/* --- what the gateway tells us --- */

static void gateway_was_reset(struct renew_loop *l, int64_t now)
{
	l->sup.client.gateway_reset = false;
	reporter_gateway(&l->rep, "gateway-reset", gateway_client(l), NULL);
	scheduler_gateway_reset(&l->sched, now, random_number);
}

static void learned_address(struct renew_loop *l,
			    const struct ip_address *address)
{
	struct result r;
	size_t i;

	/* later grants carry it, whoever told it: a reply or an
	 * announcement */
	if (l->sup.connected)
		l->sup.client.external_address = *address;
	if (!ip_address_equal(&l->address, address)) {
		if (ip_address_is_set(&l->address))
			reporter_address(&l->rep, gateway_client(l), address);
		l->address = *address;
		memset(&r, 0, sizeof(r));
		r.external_address = *address;
		output_address_warning(&r);
	}
	/* also for a mapping granted while the address was unknown */
	for (i = 0; i < l->sched.count; i++)
		if (mapping_address_changed(&l->mappings[i], address))
			report(l, i, "changed", true);
}

static void took_mapping(struct renew_loop *l, struct result *r, int64_t now)
{
	size_t index = l->action.index;
	enum mapping_event event;

	if (r->failure != FAILURE_NONE) {
		scheduler_failed(&l->sched, index, now);
		reporter_failure(&l->rep, r);
		return;
	}
	event = scheduler_granted(&l->sched, index, r, now);
	report(l, index, event_names[event],
	       event == MAPPING_MAPPED || event == MAPPING_CHANGED);
}

static void took_address(struct renew_loop *l, struct result *r, int64_t now)
{
	if (r->failure != FAILURE_NONE) {
		scheduler_address_failed(&l->sched, now);
		reporter_failure(&l->rep, r);
		return;
	}
	scheduler_address_learned(&l->sched, now);
	learned_address(l, &r->external_address);
}

static void on_result(void *context, struct result *r)
{
	struct renew_loop *l = context;
	int64_t now = clock_now_ms();

	l->in_flight = false;
	report_expiries(l, now);
	if (l->sup.client.gateway_reset)
		gateway_was_reset(l, now);
	if (l->action.kind == ACTION_ADDRESS)
		took_address(l, r, now);
	else
		took_mapping(l, r, now);
	/* a silent gateway may mean the host moved: look again (a request
	 * that only gave way to another proves nothing) */
	if (failure_is_silence(r->failure) &&
	    !(l->action.patience == PATIENCE_YIELD &&
	      l->sup.client.exchange.deadline_reached))
		supervisor_check_soon(&l->sup);
	update_status(l);
	pump_soon(l);
}

static void on_announced(void *context, const struct announcement *a)
{
	struct renew_loop *l = context;
	struct exchange *ex = &l->sup.client.exchange;
	int64_t now = clock_now_ms();
	bool reset;

	reset = epoch_observe_announcement(&l->sup.client.epoch, a->epoch, now,
					   a->format == ANNOUNCE_PCP);
	diag_verbose("%s announcement from gateway %s: epoch %lu",
		     a->format == ANNOUNCE_PCP ? "PCP" : "NAT-PMP",
		     ex->gateway_text, (unsigned long)a->epoch);
	if (reset) {
		gateway_was_reset(l, now);
	} else {
		/* RFC 6886 section 3.2.1: the gateway is up; what failed may
		 * succeed now */
		scheduler_gateway_alive(&l->sched, now);
		if (ex->busy && ex->round_sends >= KICK_AFTER_SENDS)
			exchange_kick(ex);
	}
	if (ip_address_is_set(&a->external_address))
		learned_address(l, &a->external_address);
	update_status(l);
	pump_soon(l);
}

/* The mappings made at another gateway, or for another address of this
 * host, forward nothing to us now: they are lost, where they were. */
static void lose_everything(struct renew_loop *l)
{
	size_t i;

	for (i = 0; i < l->sched.count; i++)
		if (scheduler_lose(&l->sched, i))
			reporter_mapping(&l->rep, &l->sched, i, "lost", true,
					 &l->last_gateway, NULL);
}

static void on_connected(void *context, enum network_change change)
{
	struct renew_loop *l = context;

	l->in_flight = false; /* the old client went with the old gateway */
	if (change != NETWORK_FIRST) {
		reporter_gateway(&l->rep,
				 change == NETWORK_NEW_GATEWAY
					 ? "gateway-changed"
					 : "network-changed",
				 &l->sup.client, l->sup.route.interface_name);
		if (change != NETWORK_MOVED)
			lose_everything(l);
		scheduler_renew_all(&l->sched, clock_now_ms(), true);
	}
	l->last_gateway = l->sup.client.exchange.gateway;
	update_status(l);
	pump_soon(l);
}

static void on_lost(void *context, const struct result *failure)
{
	struct renew_loop *l = context;
	struct result copy;

	l->in_flight = false;
	if (failure) {
		copy = *failure;
		reporter_failure(&l->rep, &copy);
	}
	update_status(l);
	pump_soon(l);
}

static const struct supervisor_events supervisor_events = {
	.connected = on_connected,
	.lost = on_lost,
	.announced = on_announced,
};

/* --- the pump: one request at a time --- */

static void request_for(const struct renew_loop *l, struct request *request)
{
	const struct mapping *m = &l->mappings[l->action.index];

	memset(request, 0, sizeof(*request));
	if (l->action.kind == ACTION_ADDRESS) {
		request->kind = REQUEST_ADDRESS;
		return;
	}
	request->kind = REQUEST_MAP;
	request->protocol = m->protocol;
	request->internal_port = m->internal_port;
	request->suggested_port = m->suggested_port;
	request->lifetime = m->requested_lifetime;
}

static void arm_wake(struct renew_loop *l)
{
	bool sending = !l->stopping && l->sup.connected && !l->in_flight;
	int64_t next = scheduler_wake_ms(&l->sched, sending);

	if (next == INT64_MAX)
		eloop_timer_stop(&l->loop, &l->wake_timer);
	else
		eloop_timer_at(&l->loop, &l->wake_timer, next);
}

static void pump(void *context)
{
	struct renew_loop *l = context;
	int64_t now = clock_now_ms();
	struct request request;

	report_expiries(l, now);
	if (!l->stopping && l->sup.connected && !l->in_flight) {
		l->action = scheduler_next(&l->sched, now, l->inv->timeout_ms);
		if (l->action.kind != ACTION_NONE) {
			request_for(l, &request);
			l->in_flight = true;
			client_start(&l->sup.client, &request,
				     l->action.deadline_ms, l->action.patience,
				     on_result, l);
		}
	}
	arm_wake(l);
}

static void on_ready_deadline(void *context)
{
	struct renew_loop *l = context;

	reporter_ready(&l->rep);
}

/* --- signals, suspend, stdout --- */

static void print_mapping_state(const struct mapping *m, int64_t now)
{
	const char *protocol = m->protocol == PROTOCOL_UDP ? "udp" : "tcp";
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

static void print_state(struct renew_loop *l)
{
	const struct exchange *ex = &l->sup.client.exchange;
	int64_t now = clock_now_ms();
	char address[IP_ADDRESS_TEXT_SIZE];
	size_t i;

	report_expiries(l, now);
	ip_address_format(&l->address, address, sizeof(address));
	if (l->sup.connected) {
		char source[IP_ADDRESS_TEXT_SIZE];
		diag_error(
			"state: gateway %s (interface %s, source %s), external address %s, epoch %lu",
			ex->gateway_text, l->sup.route.interface_name,
			ip_address_format(&ex->local.address, source,
					  sizeof(source)),
			address, (unsigned long)l->sup.client.epoch.sssoe);
	} else {
		diag_error("state: no gateway (%s)", l->sup.last_failure);
	}
	for (i = 0; i < l->sched.count; i++)
		print_mapping_state(&l->mappings[i], now);
	if (l->sup.connected && ex->busy)
		diag_error(
			"state: waiting for the reply to the %s: attempt %d, %llds waited",
			ex->label, ex->sends,
			(long long)((now - ex->started_ms) / 1000));
}

static void take_signals(struct renew_loop *l)
{
	unsigned taken = signals_take();

	if (taken & SIGNAL_CHILD)
		hook_reap(&l->rep.hooks);
	if (taken & SIGNAL_STATE)
		print_state(l);
	if (taken & SIGNAL_RENEW) {
		scheduler_renew_all(&l->sched, clock_now_ms(), false);
		if (l->sup.connected)
			exchange_kick(&l->sup.client.exchange);
		pump_soon(l);
	}
	if (taken & SIGNAL_STOP) {
		if (l->stopping)
			l->stop_again = true;
		l->stopping = true;
	}
}

static void on_signal(void *context, int fd, short revents)
{
	(void)fd;
	(void)revents;
	take_signals(context);
}

/* stdout: its reader went away (an error or hang-up), or it can take
 * more of the queued events. */
static void on_stdout(void *context, int fd, short revents)
{
	struct renew_loop *l = context;

	if (revents & (POLLERR | POLLHUP)) {
		eloop_unwatch(&l->loop, fd);
		l->stdout_watched = false;
		l->rep.output.failed = true;
		l->rep.output.error_number = EPIPE;
		output_queue_free(&l->rep.output);
	} else if (revents & POLLOUT) {
		output_flush(&l->rep.output, fd);
	}
	check_output(l);
}

/* Before each sleep: wait for stdout to take more only while events
 * wait for it, and always hear of its reader going away. */
static void watch_stdout(void *context)
{
	struct renew_loop *l = context;
	short events = output_pending(&l->rep.output) ? POLLOUT : 0;

	if (l->rep.output.failed) {
		if (l->stdout_watched)
			eloop_unwatch(&l->loop, STDOUT_FILENO);
		l->stdout_watched = false;
		return;
	}
	if (l->stdout_watched && events == l->stdout_events)
		return;
	l->stdout_watched =
		eloop_watch(&l->loop, STDOUT_FILENO, events, on_stdout, l) == 0;
	l->stdout_events = events;
}

/* At exit: what stdout still has to take, for a short while at most. */
static void drain_stdout(struct renew_loop *l, int64_t grace_ms)
{
	int64_t give_up = clock_now_ms() + grace_ms;

	while (output_pending(&l->rep.output) && !l->rep.output.failed) {
		struct pollfd pfd = { .fd = STDOUT_FILENO, .events = POLLOUT };
		int64_t left = give_up - clock_now_ms();
		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0 ||
		    (pfd.revents & (POLLERR | POLLHUP)))
			break;
		output_flush(&l->rep.output, STDOUT_FILENO);
	}
}

/* After a suspend the network may be another, the gateway may have
 * forgotten us, and a request in flight timed out only in our sleep. */
static void on_wake(void *context)
{
	struct renew_loop *l = context;
	int64_t asleep = clock_asleep_ms();

	if (asleep - l->asleep_ms > RESUME_THRESHOLD_MS) {
		diag_verbose("resumed after %llds of suspend: renewing now",
			     (long long)((asleep - l->asleep_ms) / 1000));
		if (l->in_flight)
			client_cancel(&l->sup.client);
		l->in_flight = false;
		scheduler_renew_all(&l->sched, clock_now_ms(), false);
		supervisor_check_soon(&l->sup);
		pump_soon(l);
	}
	l->asleep_ms = asleep;
}

/* --- the way out --- */

static void on_deleted(void *context, struct result *result)
{
	struct renew_loop *l = context;

	(void)result;
	l->deleting_done = true;
}

/* Runs one deletion to completion, or until a second stop signal. */
static bool run_delete(struct renew_loop *l, const struct request *request,
		       int64_t deadline)
{
	l->deleting_done = false;
	client_start(&l->sup.client, request, deadline, PATIENCE_SCHEDULE,
		     on_deleted, l);
	/* the deadline ends the exchange; the clock check is a safety net */
	while (!l->deleting_done && !l->stop_again &&
	       clock_now_ms() < deadline + 100)
		if (eloop_turn(&l->loop) < 0)
			break;
	if (!l->deleting_done) {
		client_cancel(&l->sup.client);
		return false;
	}
	return true;
}

static bool may_delete(const struct renew_loop *l, const struct mapping *m)
{
	const char *protocol = m->protocol == PROTOCOL_UDP ? "udp" : "tcp";

	if (m->internal_port != 0 || l->inv->unmap_all_on_exit)
		return true;
	/* NAT-PMP deletes internal port 0 only together with every other
	 * mapping of this host for the protocol (RFC 6886 section 3.4) */
	diag_verbose(
		"leaving %s 0 to expire: deleting it would delete every %s mapping of this host (--unmap-all-on-exit)",
		protocol, protocol);
	return false;
}

/* The mappings granted, and last the one whose request was cut short (the
 * gateway may have made it; deleting one that does not exist succeeds). */
static void delete_mappings(struct renew_loop *l, bool cut_short,
			    size_t cut_index)
{
	int64_t deadline = clock_now_ms() + SHUTDOWN_DELETE_MS;
	bool extra = cut_short && !l->mappings[cut_index].established;
	size_t n, i;

	if (!l->sup.connected)
		return;
	for (n = 0; n <= l->sched.count && !l->stop_again; n++) {
		struct mapping *m;
		struct request request = { .kind = REQUEST_DELETE };
		struct result r;

		if (n == l->sched.count) {
			if (!extra)
				break;
			i = cut_index;
		} else if (l->mappings[n].established) {
			i = n;
		} else {
			continue;
		}
		m = &l->mappings[i];
		if (!may_delete(l, m))
			continue;
		request.protocol = m->protocol;
		request.internal_port = m->internal_port;
		if (!run_delete(l, &request, deadline))
			break;
		r = l->sup.client.result;
		if (r.failure != FAILURE_NONE) {
			reporter_failure(&l->rep, &r);
			if (failure_is_silence(r.failure))
				break; /* the others would wait in vain too */
			continue;
		}
		m->established = false;
		reporter_unmapped(&l->rep, &r);
	}
}

static void shut_down(struct renew_loop *l)
{
	bool cut_short = l->in_flight && l->action.kind == ACTION_MAP;

	notify_send("STOPPING=1");
	if (l->in_flight)
		client_cancel(&l->sup.client);
	l->in_flight = false;
	eloop_timer_stop(&l->loop, &l->pump_timer);
	eloop_timer_stop(&l->loop, &l->wake_timer);
	eloop_timer_stop(&l->loop, &l->ready_timer);
	/* the last requests go to the gateway as it is now */
	supervisor_freeze(&l->sup);
	if (!l->inv->keep)
		delete_mappings(l, cut_short, l->action.index);
	hook_end_all(&l->rep.hooks, SHUTDOWN_HOOK_GRACE_MS);
	drain_stdout(l, SHUTDOWN_OUTPUT_GRACE_MS);
}

/* --- setting up --- */

static int make_mappings(struct renew_loop *l)
{
	const struct invocation *inv = l->inv;
	int64_t now = clock_now_ms();
	unsigned protocol;
	size_t i, n = 0;

	l->mappings = calloc(inv->spec_count * 2 + 1, sizeof(*l->mappings));
	if (!l->mappings)
		return -1;
	for (i = 0; i < inv->spec_count; i++)
		for (protocol = PROTOCOL_UDP; protocol <= PROTOCOL_TCP;
		     protocol <<= 1)
			if (inv->specs[i].protocols & protocol)
				mapping_init(&l->mappings[n++], protocol,
					     inv->specs[i].internal_port,
					     inv->specs[i].external_port,
					     inv->lifetime, now);
	scheduler_init(&l->sched, l->mappings, n);
	return 0;
}

static int loop_init(struct renew_loop *l, const struct invocation *inv)
{
	memset(l, 0, sizeof(*l));
	l->inv = inv;
	l->signal_fd = -1;
	if (eloop_init(&l->loop) < 0 || make_mappings(l) < 0 ||
	    reporter_init(&l->rep, &l->loop, inv, l->sched.count) < 0)
		return -1;
	eloop_timer_init(&l->pump_timer, pump, l);
	eloop_timer_init(&l->wake_timer, pump, l);
	eloop_timer_init(&l->ready_timer, on_ready_deadline, l);
	l->signal_fd = signals_open();
	if (l->signal_fd < 0 ||
	    eloop_watch(&l->loop, l->signal_fd, POLLIN, on_signal, l) < 0)
		return -1;
	l->loop.before_poll = watch_stdout;
	l->loop.before_poll_context = l;
	l->loop.on_wake = on_wake;
	l->loop.wake_context = l;
	l->asleep_ms = clock_asleep_ms();
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	eloop_timer_at(&l->loop, &l->ready_timer,
		       clock_now_ms() + READY_AT_THE_LATEST_MS);
	return 0;
}

static void loop_free(struct renew_loop *l)
{
	supervisor_stop(&l->sup);
	reporter_free(&l->rep);
	free(l->mappings);
	eloop_free(&l->loop);
}

static int run_renew_loop(const struct invocation *inv)
{
	struct renew_loop l;
	int status = EXIT_OK;

	if (loop_init(&l, inv) < 0 ||
	    supervisor_start(&l.sup, &l.loop, inv, &supervisor_events, &l) <
		    0) {
		diag_error("renew-loop: cannot start: %s", strerror(errno));
		loop_free(&l);
		return EXIT_SYSTEM;
	}
	update_status(&l);
	pump_soon(&l);
	while (!l.stopping) {
		if (eloop_turn(&l.loop) < 0) {
			diag_error("renew-loop: cannot wait for events: %s",
				   strerror(errno));
			status = EXIT_SYSTEM;
			break;
		}
	}
	shut_down(&l);
	/* a reader that went away is a way to stop; anything else that kept
	 * the events from being written is a failure to report them */
	if (status == EXIT_OK && l.rep.output.failed &&
	    !reporter_output_gone(&l.rep))
		status = EXIT_OUTPUT;
	loop_free(&l);
	return status;
}

const struct command command_renew_loop = {
	.name = "renew-loop",
	.run = run_renew_loop,
	.summary = "keep port mappings alive until stopped",
	.usage =
		"usage: natpmp [options] renew-loop [--on-change CMD] [--hook-timeout DURATION]\n"
		"                                   [--keep | --unmap-all-on-exit] SPEC...\n"
		"\n"
		"Creates each mapping, then renews it at half the granted lifetime, recreates\n"
		"it after a gateway restart, and follows address, route and link changes.\n"
		"Prints one timestamped line (or JSON object) per event. SIGINT or SIGTERM\n"
		"deletes the mappings and exits 0; SIGHUP renews now; SIGUSR1 prints the state.\n"
		"\n"
		"  -l, --lifetime DURATION   requested lifetime (default 7200s)\n"
		"  --on-change CMD           run /bin/sh -c CMD when a mapping is made, changes\n"
		"                            port or address, or is lost; facts in NATPMP_*\n"
		"  --hook-timeout DURATION   end a hook still running after this (default 60s)\n"
		"  --keep                    on exit, leave the mappings to expire\n"
		"  --unmap-all-on-exit       on exit, delete internal-port-0 mappings too, with\n"
		"                            a request that deletes all of this host's mappings\n"
		"                            of that protocol\n",
	.options = CLI_OPTION_LIFETIME | CLI_OPTION_ON_CHANGE |
		   CLI_OPTION_KEEP | CLI_OPTION_HOOK_TIMEOUT |
		   CLI_OPTION_UNMAP_ALL_ON_EXIT,
	.operands = CLI_OPERANDS_SPECS,
};
