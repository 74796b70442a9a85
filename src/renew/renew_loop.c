/* renew_loop.c - renew-loop: create the mappings, then keep them alive
 * until stopped. One event loop drives everything: per address family
 * the scheduler decides what to send and the supervisor keeps the gateway
 * and the network current (family_mappings.c); here, what they share:
 * signals, stdout, suspend, readiness for systemd and the way out.
 * Nothing ever blocks, so expiries, signals, announcements and network
 * changes are acted on while a request waits. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/diag.h"
#include "core/exit_status.h"
#include "engine/save.h"
#include "renew/family_mappings.h"
#include "renew/live_state.h"
#include "renew/notify.h"
#include "renew/port_file.h"
#include "renew/renew_loop.h"

/* ending hooks and writing the last events on the way out: bounded in
 * total (deleting is bounded by the gateway's silence,
 * RENEW_DELETE_PATIENCE_MS) */
#define SHUTDOWN_HOOK_GRACE_MS 400
#define SHUTDOWN_OUTPUT_GRACE_MS 300
/* systemd hears READY=1 by then even if the gateway stays silent */
#define READY_AT_THE_LATEST_MS 10000
/* a jump of boot time over monotonic time this large is a suspend */
#define RESUME_THRESHOLD_MS 1000
/* the port file and the live state are rewritten at once for the first
 * PUBLISH_BURST changes of a PUBLISH_INTERVAL_MS (a VPN's few ports: no
 * timer to wake for), then at most once per interval (a range of ports is
 * granted in a burst of hundreds) */
#define PUBLISH_INTERVAL_MS 250
#define PUBLISH_BURST 8
/* a bit for each port number */
#define PORT_WORDS (65536 / 64)

struct renew_loop {
	struct renew_shared shared;
	struct family_mappings families[2];
	size_t family_count;
	struct eloop_timer ready_timer;
	int64_t asleep_ms;
	bool output_warned;
	bool stdout_watched;
	short stdout_events;
	/* what others may read of the loop: the ports, and for natpmp
	 * status every mapping */
	struct port_file port_file;
	struct live_publisher live;
	struct eloop_timer publish_timer;
	int64_t burst_started_ms;
	unsigned burst_writes;
	struct mapping_status *statuses; /* room for every mapping */
	uint16_t *ports;
	uint64_t port_bits[PORT_WORDS];
};

/* The active mappings' external ports, ascending and each once, into
 * l->ports; returns how many (*active: how many mappings are active).
 * Done at every event, so without sorting: a bit per port. */
static size_t active_ports(struct renew_loop *l, size_t *active)
{
	size_t i, n = 0, ports = 0;
	unsigned word;

	for (i = 0; i < l->family_count; i++)
		ports += family_mappings_active_ports(&l->families[i],
						      l->ports + ports);
	*active = ports;
	memset(l->port_bits, 0, sizeof(l->port_bits));
	for (i = 0; i < ports; i++)
		l->port_bits[l->ports[i] / 64] |= UINT64_C(1)
						  << (l->ports[i] % 64);
	for (word = 0; word < PORT_WORDS; word++) {
		uint64_t bits = l->port_bits[word];
		unsigned bit;
		for (bit = 0; bits; bit++, bits >>= 1)
			if (bits & 1)
				l->ports[n++] = (uint16_t)(word * 64 + bit);
	}
	return n;
}

/* Every mapping into the live state, then the active mappings' ports into
 * the port file: whoever saw the ports change finds status agreeing. */
static void publish(struct renew_loop *l)
{
	size_t i, count = 0, active, ports;
	char *text;

	eloop_timer_stop(l->shared.loop, &l->publish_timer);
	for (i = 0; i < l->family_count; i++)
		count += family_mappings_status(&l->families[i],
						l->statuses + count);
	text = live_state_format((long)getpid(), l->statuses, count);
	live_publisher_write(&l->live, text);
	free(text);
	ports = active_ports(l, &active);
	port_file_write(&l->port_file, l->ports, ports);
}

static void on_publish_timer(void *context)
{
	struct renew_loop *l = context;

	/* the burst goes on: the next change waits for the next interval */
	l->burst_started_ms = clock_now_ms();
	l->burst_writes = PUBLISH_BURST;
	publish(l);
}

/* At once, or at the end of a burst's interval. */
static void publish_soon(struct renew_loop *l)
{
	int64_t now = clock_now_ms();

	if (l->publish_timer.armed)
		return;
	if (now - l->burst_started_ms >= PUBLISH_INTERVAL_MS) {
		l->burst_started_ms = now;
		l->burst_writes = 0;
	}
	if (l->burst_writes < PUBLISH_BURST) {
		l->burst_writes++;
		publish(l);
	} else {
		eloop_timer_at(l->shared.loop, &l->publish_timer,
			       l->burst_started_ms + PUBLISH_INTERVAL_MS);
	}
}

static void check_output(struct renew_loop *l)
{
	struct reporter *rep = &l->shared.rep;

	if (reporter_output_gone(rep)) {
		if (!l->shared.stopping)
			diag_verbose("stdout was closed: stopping");
		l->shared.stopping = true;
	} else if (rep->output.failed && !l->output_warned) {
		diag_warning("cannot write events to stdout: %s",
			     strerror(rep->output.error_number));
		l->output_warned = true;
	}
}

/* STATUS= across the families; READY=1 once every mapping was tried. */
static void on_changed(void *context)
{
	struct renew_loop *l = context;
	const struct client *client = NULL, *waiting = NULL;
	size_t i, active, count = 0, ports = active_ports(l, &active);
	bool tried = true;

	for (i = 0; i < l->family_count; i++) {
		struct family_mappings *f = &l->families[i];
		const struct client *c = family_mappings_client(f);
		count += family_mappings_count(f);
		tried = tried && family_mappings_all_tried(f);
		if (!client)
			client = c;
		if (!waiting && c && client_waiting(c))
			waiting = c;
	}
	reporter_status(&l->shared.rep, active, count, client, waiting,
			l->ports, ports);
	publish_soon(l);
	if (tried) {
		reporter_ready(&l->shared.rep);
		/* no reason left to wake at the deadline */
		eloop_timer_stop(l->shared.loop, &l->ready_timer);
	}
	check_output(l);
}

static void on_ready_deadline(void *context)
{
	struct renew_loop *l = context;

	reporter_ready(&l->shared.rep);
}

/* --- signals, suspend, stdout --- */

static void on_child(void *context)
{
	struct renew_loop *l = context;

	reporter_reap_hooks(&l->shared.rep);
	if (ledger_write_reap(&l->shared.ledger))
		renew_shared_save_soon(&l->shared);
}

/* SIGUSR1: the state of each family, on stderr. */
static void on_dump(void *context)
{
	struct renew_loop *l = context;
	size_t i;

	for (i = 0; i < l->family_count; i++)
		family_mappings_print_state(&l->families[i]);
}

/* SIGHUP: renew everything now. */
static void on_renew(void *context)
{
	struct renew_loop *l = context;
	size_t i;

	for (i = 0; i < l->family_count; i++)
		family_mappings_renew_now(&l->families[i]);
}

/* SIGINT, SIGTERM: the way out; a second one while deleting cuts the
 * deletions short. */
static void on_stop(void *context)
{
	struct renew_loop *l = context;

	if (l->shared.stopping) {
		size_t i;
		l->shared.stop_again = true;
		for (i = 0; i < l->family_count; i++)
			family_mappings_give_up(&l->families[i]);
	}
	l->shared.stopping = true;
}

/* stdout: its reader went away (an error or hang-up), or it can take
 * more of the queued events. */
static void on_stdout(void *context, int fd, short revents)
{
	struct renew_loop *l = context;
	struct output *output = &l->shared.rep.output;

	if (revents & (POLLERR | POLLHUP)) {
		eloop_unwatch(l->shared.loop, fd);
		l->stdout_watched = false;
		output->failed = true;
		output->error_number = EPIPE;
		output_queue_free(output);
	} else if (revents & POLLOUT) {
		output_flush(output, fd);
	}
	check_output(l);
}

/* Before each sleep: wait for stdout to take more only while events
 * wait for it, and always hear of its reader going away. */
static void watch_stdout(void *context)
{
	struct renew_loop *l = context;
	struct output *output = &l->shared.rep.output;
	short events = output_pending(output) ? POLLOUT : 0;

	if (output->failed) {
		if (l->stdout_watched)
			eloop_unwatch(l->shared.loop, STDOUT_FILENO);
		l->stdout_watched = false;
		return;
	}
	if (l->stdout_watched && events == l->stdout_events)
		return;
	l->stdout_watched = eloop_watch(l->shared.loop, STDOUT_FILENO, events,
					on_stdout, l) == 0;
	l->stdout_events = events;
}

static bool output_drained(void *context)
{
	const struct output *output = context;

	return output->failed || !output_pending(output);
}

/* At exit: what stdout still has to take, for a short while at most (the
 * loop watches stdout for it before each sleep). */
static void drain_stdout(struct renew_loop *l, int64_t grace_ms)
{
	eloop_run_until(l->shared.loop, output_drained, &l->shared.rep.output,
			clock_now_ms() + grace_ms);
}

/* After a suspend the network may be another, the gateway may have
 * forgotten us, and a request in flight timed out only in our sleep. */
static void on_wake(void *context)
{
	struct renew_loop *l = context;
	int64_t asleep = clock_asleep_ms();

	if (asleep - l->asleep_ms > RESUME_THRESHOLD_MS) {
		size_t i;

		diag_verbose("resumed after %llds of suspend: renewing now",
			     (long long)((asleep - l->asleep_ms) / 1000));
		for (i = 0; i < l->family_count; i++)
			family_mappings_resumed(&l->families[i]);
	}
	l->asleep_ms = asleep;
}

/* --- the way out --- */

static void shut_down(struct renew_loop *l)
{
	int64_t deadline = clock_now_ms() + RENEW_DELETE_PATIENCE_MS;
	size_t i;

	reporter_status_flush(&l->shared.rep);
	notify_send("STOPPING=1");
	eloop_timer_stop(l->shared.loop, &l->ready_timer);
	for (i = 0; i < l->family_count; i++)
		family_mappings_shut_down(&l->families[i], &deadline);
	save_and_wait(l->shared.loop, &l->shared.ledger, SAVE_PATIENCE_MS);
	/* what --keep left holds; what was deleted, or is left to lapse, no
	 * longer forwards anything natpmp keeps */
	if (!l->shared.options->keep)
		port_file_write(&l->port_file, NULL, 0);
	live_publisher_close(&l->live);
	reporter_end_hooks(&l->shared.rep, SHUTDOWN_HOOK_GRACE_MS);
	drain_stdout(l, SHUTDOWN_OUTPUT_GRACE_MS);
}

/* --- setting up --- */

static void on_save_timer(void *context)
{
	renew_shared_save_state(context);
}

static size_t mapping_count(const struct options *options)
{
	size_t i, n = 0;

	for (i = 0; i < options->spec_count; i++)
		n += (options->specs[i].transports & TRANSPORT_UDP ? 1u : 0u) +
		     (options->specs[i].transports & TRANSPORT_TCP ? 1u : 0u);
	return n;
}

static int loop_init(struct renew_loop *l, const struct options *options)
{
	size_t per_family = mapping_count(options);
	size_t families = options->families == (FAMILY_V4 | FAMILY_V6) ? 2 : 1;

	memset(l, 0, sizeof(*l));
	l->live.directory_fd = l->live.lock_fd = -1;
	/* + 1: never a request for 0 bytes */
	l->statuses = calloc(per_family * families + 1, sizeof(*l->statuses));
	l->ports = calloc(per_family * families + 1, sizeof(*l->ports));
	if (!l->statuses || !l->ports)
		return -1;
	eloop_timer_init(&l->publish_timer, on_publish_timer, l);
	l->burst_started_ms = clock_now_ms() - PUBLISH_INTERVAL_MS;
	l->shared.options = options;
	l->shared.changed = on_changed;
	l->shared.context = l;
	l->shared.loop = eloop_new();
	if (!l->shared.loop ||
	    reporter_init(&l->shared.rep, l->shared.loop, options,
			  per_family * families) < 0)
		return -1;
	if (ledger_open(&l->shared.ledger, options->state_directory) < 0)
		return -1;
	eloop_timer_init(&l->ready_timer, on_ready_deadline, l);
	eloop_timer_init(&l->shared.save_timer, on_save_timer, &l->shared);
	/* the first change is written at once */
	l->shared.saved_at_ms = clock_now_ms() - RENEW_STATE_SAVE_INTERVAL_MS;
	/* in this order when several come at once: children reaped, state
	 * shown, renewals, the way out */
	if (eloop_signal(l->shared.loop, SIGCHLD, on_child, l) < 0 ||
	    eloop_signal(l->shared.loop, SIGUSR1, on_dump, l) < 0 ||
	    eloop_signal(l->shared.loop, SIGHUP, on_renew, l) < 0 ||
	    eloop_signal(l->shared.loop, SIGINT, on_stop, l) < 0 ||
	    eloop_signal(l->shared.loop, SIGTERM, on_stop, l) < 0)
		return -1;
	eloop_before_sleep(l->shared.loop, watch_stdout, l);
	eloop_on_wake(l->shared.loop, on_wake, l);
	l->asleep_ms = clock_asleep_ms();
	eloop_timer_at(l->shared.loop, &l->ready_timer,
		       clock_now_ms() + READY_AT_THE_LATEST_MS);
	return 0;
}

static int start_families(struct renew_loop *l)
{
	static const int families[] = { AF_INET, AF_INET6 };
	static const unsigned bits[] = { FAMILY_V4, FAMILY_V6 };
	const struct options *options = l->shared.options;
	size_t i, lanes = mapping_count(options);

	for (i = 0; i < 2; i++) {
		size_t n = l->family_count;
		if (!(options->families & bits[i]))
			continue;
		l->family_count++; /* freed with the others if it fails */
		/* the hooks of each family's mappings run in lanes of their
		 * own */
		if (family_mappings_start(&l->families[n], &l->shared,
					  families[i], n * lanes) < 0)
			return -1;
	}
	return 0;
}

static void loop_free(struct renew_loop *l)
{
	size_t i;

	if (l->shared.loop)
		eloop_timer_stop(l->shared.loop, &l->publish_timer);
	for (i = 0; i < l->family_count; i++)
		family_mappings_free(&l->families[i]);
	reporter_free(&l->shared.rep);
	ledger_close(&l->shared.ledger);
	eloop_free(l->shared.loop);
	live_publisher_close(&l->live);
	port_file_close(&l->port_file);
	free(l->statuses);
	free(l->ports);
}

/* What the loop will need later, checked before anything is sent: a hook
 * that cannot run or a port file that cannot be written is a mistake in
 * the setup, not something to find out at the first grant. */
static int prepare_outputs(struct renew_loop *l)
{
	char error[PORT_FILE_ERROR_SIZE];

	if (hook_check(l->shared.options->on_change, error, sizeof(error)) <
	    0) {
		diag_error("renew-loop: %s", error);
		return EXIT_USAGE;
	}
	if (port_file_open(&l->port_file, l->shared.options->port_file, error,
			   sizeof(error)) < 0) {
		diag_error("renew-loop: %s", error);
		return EXIT_CANNOT_CREATE;
	}
	live_publisher_open(&l->live, l->shared.options->state_directory);
	return EXIT_OK;
}

int renew_loop_run(const struct options *options)
{
	struct renew_loop *l = calloc(1, sizeof(*l));
	int status = EXIT_OK;

	if (!l || loop_init(l, options) < 0 ||
	    (status = prepare_outputs(l)) != EXIT_OK || start_families(l) < 0) {
		if (status == EXIT_OK) {
			diag_error("renew-loop: cannot start: %s",
				   strerror(errno));
			status = EXIT_SYSTEM;
		}
		if (l)
			loop_free(l);
		free(l);
		return status;
	}
	on_changed(l);
	while (!l->shared.stopping) {
		if (eloop_turn(l->shared.loop) < 0) {
			diag_error("renew-loop: cannot wait for events: %s",
				   strerror(errno));
			status = EXIT_SYSTEM;
			break;
		}
	}
	shut_down(l);
	/* events that could not be written, a reader that went away
	 * included, are a failure to report them: a service manager
	 * restarting on failure brings the loop back */
	if (status == EXIT_OK && l->shared.rep.output.failed)
		status = EXIT_OUTPUT;
	loop_free(l);
	free(l);
	return status;
}
