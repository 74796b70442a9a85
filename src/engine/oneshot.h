/* oneshot.h - the driver of the one-shot commands (address, map, unmap):
 * per address family asked for, the gateway and the protocol to start in,
 * then each request run to its end on the event loop within the command's
 * timeout, its result printed, and the first failure's exit status kept.
 * What the gateway taught (its protocol, the mappings' nonces) goes to the
 * ledger, written once when the command is done, also when SIGINT,
 * SIGTERM or SIGHUP cut it short (exit 130), so that what was made can be
 * unmapped. */
#ifndef NATPMP_ONESHOT_H
#define NATPMP_ONESHOT_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/client.h"
#include "engine/eloop.h"
#include "engine/options.h"
#include "engine/policy.h"
#include "out/output.h"
#include "state/ledger.h"

/* One address family's run of a command. */
struct oneshot {
	const struct options *options;
	int family;
	struct eloop *loop;    /* the command's, shared by the families */
	struct ledger *ledger; /* what is kept between runs */
	struct output *output;
	struct client client;
	struct patience patience; /* the whole command's */
	int exit_status;	  /* the first failure's, or EXIT_OK */
	/* once the gateway went silent, later requests fail at once */
	bool silenced;
	struct result silence;
	/* SIGINT, SIGTERM or SIGHUP came: no more requests */
	const bool *interrupted;
};

/* The body of a command, run once per address family asked for. */
typedef void (*oneshot_body)(struct oneshot *oneshot);

/* Runs body once per family (IPv4 first); returns the exit status of the
 * first failure, or EXIT_OK. */
int oneshot_run_families(const struct options *options, oneshot_body body);

/* Runs request to its end and fills *result; a mapping's nonce comes from
 * the ledger, and what the gateway did goes back to it. */
void oneshot_request(struct oneshot *oneshot, const struct request *request,
		     struct result *result);
/* Prints a result and records its exit status if it is the first failure. */
void oneshot_report(struct oneshot *oneshot, const struct result *result);
/* A signal asked the command to stop: bodies send nothing more. */
bool oneshot_interrupted(const struct oneshot *oneshot);

#endif
