/* client.h - requests to one gateway in neutral terms: its external
 * address, a mapping, a deletion. Each runs through the exchange on the
 * event loop, in the gateway's protocol, and ends with a struct result
 * handed to a callback; every reply's epoch feeds the restart detector. */
#ifndef NATPMP_CLIENT_H
#define NATPMP_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "eloop.h"
#include "epoch.h"
#include "exchange.h"
#include "protocol.h"
#include "result.h"

/* What set a request's deadline, so that running out of it is explained
 * truthfully. */
enum patience {
	PATIENCE_SCHEDULE, /* the protocol's own schedule alone */
	PATIENCE_TIMEOUT,  /* --timeout */
	PATIENCE_EXPIRY,   /* the mapping it renews runs out */
	PATIENCE_YIELD,	   /* another mapping's renewal comes due */
};

typedef void (*client_done_fn)(void *context, struct result *result);

struct client {
	struct exchange exchange;
	const struct protocol *protocol;
	struct epoch_tracker epoch;
	bool gateway_reset; /* an epoch showed a restart; the caller clears */
	/* the last external address the gateway reported, unset if none */
	struct ip_address external_address;
	int64_t timeout_ms; /* --timeout, for messages; -1 none */

	/* the request in flight */
	struct request request;
	struct reply reply;
	enum reply_verdict verdict;
	enum patience patience;
	struct result result;
	client_done_fn done;
	void *done_context;
};

/* Opens the exchange to gateway; on failure fills *failure and returns -1. */
int client_open(struct client *client, struct eloop *loop,
		const struct protocol *protocol,
		const struct ip_endpoint *gateway, struct result *failure);
void client_close(struct client *client);

/* Starts request, to give up by deadline_ms at the latest (absolute, on
 * clock_now_ms; EXCHANGE_NO_DEADLINE for the schedule alone); done gets
 * the result. Only when not busy. */
void client_start(struct client *client, const struct request *request,
		  int64_t deadline_ms, enum patience patience,
		  client_done_fn done, void *context);
/* Abandons the request in flight; done is not called. */
void client_cancel(struct client *client);
bool client_busy(const struct client *client);

/* Fills the parts of a result every operation on this gateway shares. */
void client_result_init(const struct client *client, struct result *result,
			enum result_kind kind);
/* The result a request would get, before any answer. */
void client_result_for(const struct client *client,
		       const struct request *request, struct result *result);

#endif
