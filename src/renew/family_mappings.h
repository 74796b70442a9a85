/* family_mappings.h - renew-loop's mappings of one address family at its
 * gateway: the supervisor that holds the gateway, the scheduler that says
 * what to send, and the pump that sends it, one request at a time, on the
 * event loop all families share. */
#ifndef NATPMP_FAMILY_MAPPINGS_H
#define NATPMP_FAMILY_MAPPINGS_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/eloop.h"
#include "engine/options.h"
#include "out/mapping_status.h"
#include "renew/reporter.h"
#include "renew/scheduler.h"
#include "renew/supervisor.h"
#include "state/ledger.h"

/* Each write rewrites the whole state file: the changes of a burst of
 * grants (a range of ports) are written together, at most this often. */
#define RENEW_STATE_SAVE_INTERVAL_MS 250

/* announcements make natpmp ask the gateway at most this often */
#define RENEW_CONFIRM_INTERVAL_MS 2000

/* What the families share. */
struct renew_shared {
	const struct options *options;
	struct eloop *loop;
	struct reporter rep;
	struct ledger ledger;	       /* what is kept between runs */
	struct eloop_timer save_timer; /* when to write them */
	int64_t saved_at_ms;
	bool stopping;
	bool stop_again; /* a second SIGINT or SIGTERM while deleting */
	/* called when a family's mappings or gateway changed */
	void (*changed)(void *context);
	void *context;
};

struct family_mappings {
	struct renew_shared *shared;
	int family;	   /* AF_INET or AF_INET6 */
	size_t first_lane; /* its mappings' hook lanes start here */
	struct mapping *mappings;
	struct scheduler sched;
	struct supervisor sup;
	struct eloop_timer pump_timer;
	struct eloop_timer status_timer; /* STATUS= again, outside callbacks */
	struct eloop_timer wake_timer;
	struct eloop_timer confirm_timer; /* the next question after a burst */
	int64_t confirmed_ms;		 /* the last announcement asked about */
	struct ip_address address;	 /* the external address last told */
	struct ip_endpoint last_gateway; /* where the mappings are */
	enum protocol_id last_via;
	bool in_flight;
	struct action action;
};

/* Starts writing the state changes not yet written, through a child (at
 * save_timer). */
void renew_shared_save_state(struct renew_shared *shared);
/* Known now, in the file soon: at the next turn of the loop, or
 * RENEW_STATE_SAVE_INTERVAL_MS after the last write if that is later (a
 * crash loses at most that much), later still after failed writes; never
 * while a writer is at work (its end calls this again). */
void renew_shared_save_soon(struct renew_shared *shared);

/* Makes the family's mappings from the command line's specs and starts
 * its supervisor. Returns 0, or -1 with errno. */
int family_mappings_start(struct family_mappings *f,
			  struct renew_shared *shared, int family,
			  size_t first_lane);
void family_mappings_free(struct family_mappings *f);

/* Sends what is due, soon (from the loop, never from a caller's stack). */
void family_mappings_pump_soon(struct family_mappings *f);
/* SIGHUP: renew everything now, resend what waits. */
void family_mappings_renew_now(struct family_mappings *f);
/* After a suspend: the request in flight timed out only in our sleep. */
void family_mappings_resumed(struct family_mappings *f);
/* Reports the mappings whose grant ran out by now. */
void family_mappings_expire(struct family_mappings *f);
/* SIGUSR1. */
void family_mappings_print_state(struct family_mappings *f);
/* On the way out, how long the gateway may leave a deletion unanswered:
 * each answer gives the next deletions this long again, so a silent
 * gateway costs this much and a range of ports is deleted to the end. */
#define RENEW_DELETE_PATIENCE_MS 1500

/* The way out: stop sending, freeze the gateway, delete the mappings
 * (unless --keep) by *deadline_ms, which each answer moves to
 * RENEW_DELETE_PATIENCE_MS from then; families share it. */
void family_mappings_shut_down(struct family_mappings *f, int64_t *deadline_ms);
/* A second stop signal: the deletion in flight is given up. */
void family_mappings_give_up(struct family_mappings *f);

size_t family_mappings_established(const struct family_mappings *f);
/* The external ports of the active mappings, into out (room for
 * family_mappings_count); returns how many. */
size_t family_mappings_active_ports(struct family_mappings *f, uint16_t *out);
/* Each mapping as natpmp status shows it, into out (room for
 * family_mappings_count); returns how many. */
size_t family_mappings_status(struct family_mappings *f,
			      struct mapping_status *out);
/* how many mappings it keeps, established or not */
size_t family_mappings_count(const struct family_mappings *f);
bool family_mappings_all_tried(const struct family_mappings *f);
/* Its client, or NULL while it has no gateway. */
const struct client *family_mappings_client(struct family_mappings *f);

#endif
