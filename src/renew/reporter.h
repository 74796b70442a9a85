/* reporter.h - renew-loop's voice: each event as a line of text or a JSON
 * object on stdout, errors on stderr too, the --on-change hook for the
 * events a program must hear of, and readiness and status for systemd. */
#ifndef NATPMP_REPORTER_H
#define NATPMP_REPORTER_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/client.h"
#include "engine/eloop.h"
#include "engine/options.h"
#include "out/output.h"
#include "renew/hook.h"
#include "renew/scheduler.h"

/* STATUS= goes out at most this often: a range of ports changes the
 * count at each grant, and each message is work for systemd */
#define REPORTER_STATUS_INTERVAL_MS 200
/* a STATUS= line, its ports cut short to fit ("... and 150 more") */
#define REPORTER_STATUS_SIZE 256

struct reporter {
	struct output output;
	bool quiet_renewals;
	bool hook_renewals; /* the hook hears of every renewal */
	struct hook_runner hooks;
	bool ready;
	struct eloop *loop;
	char status[REPORTER_STATUS_SIZE];     /* the last STATUS= sent */
	char status_due[REPORTER_STATUS_SIZE]; /* the newest, at status_timer */
	struct eloop_timer status_timer;
	int64_t status_sent_ms;
};

int reporter_init(struct reporter *r, struct eloop *loop,
		  const struct options *options, size_t mapping_count);
void reporter_free(struct reporter *r);

/* Where a mapping is (or was): the gateway, its epoch tracker and the
 * protocol spoken; any may be NULL. */
struct mapping_place {
	const struct ip_endpoint *gateway;
	const struct epoch_tracker *epoch;
	enum protocol_id via;
};

/* A mapping event (mapped, renewed, changed, lost); with run_hook the
 * hook of lane (one per mapping) hears of it too. */
void reporter_mapping(struct reporter *r, const struct mapping *m, size_t lane,
		      const char *event, bool run_hook,
		      const struct mapping_place *place);
/* A mapping deleted on the way out. */
void reporter_unmapped(struct reporter *r, struct result *result);
/* A failed request or setup, as an "error" event. */
void reporter_failure(struct reporter *r, struct result *failure);
/* gateway-reset, gateway-changed, network-changed. */
void reporter_gateway(struct reporter *r, const char *event,
		      const struct client *client, const char *interface);
/* address-changed, to address. */
void reporter_address(struct reporter *r, const struct client *client,
		      const struct ip_address *address);

/* STATUS= with the mappings active and their external ports (ascending,
 * each once), and the gateway a request has waited on for a second or
 * more (waiting, or NULL), when it changed: at once, or the newest
 * REPORTER_STATUS_INTERVAL_MS after the last. READY=1 once, after the
 * newest STATUS=. */
void reporter_status(struct reporter *r, size_t active, size_t count,
		     const struct client *client, const struct client *waiting,
		     const uint16_t *ports, size_t port_count);
void reporter_ready(struct reporter *r);
/* Sends the STATUS= that waits for its time now (on the way out). */
void reporter_status_flush(struct reporter *r);

/* SIGUSR1: a family's gateway (or why it has none), each mapping, and
 * the request that waits, a line each on stderr. */
void reporter_dump_gateway(const struct client *client, const char *interface,
			   const struct ip_address *external_address);
void reporter_dump_no_gateway(const char *why);
void reporter_dump_mapping(const struct mapping *m, int64_t now_ms);
void reporter_dump_waiting(const struct client *client, int64_t now_ms);

/* The hooks are the reporter's: children that ended are collected (at
 * SIGCHLD), and all are ended on the way out (hook_end_all). */
void reporter_reap_hooks(struct reporter *r);
void reporter_end_hooks(struct reporter *r, int64_t grace_ms);

/* stdout can no longer be written because its reader went away. */
bool reporter_output_gone(const struct reporter *r);

#endif
