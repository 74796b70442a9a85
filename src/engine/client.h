/* client.h - requests to one gateway in neutral terms: its external
 * address, a mapping, a deletion. Each runs through the exchange on the
 * event loop, in the gateway's protocol, and ends with a struct result
 * handed to a callback; every reply's epoch feeds the restart detector. */
#ifndef NATPMP_CLIENT_H
#define NATPMP_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/result.h"
#include "engine/eloop.h"
#include "engine/exchange.h"
#include "proto/epoch.h"
#include "proto/protocol.h"

/* What set a request's deadline, so that running out of it is explained
 * truthfully. */
enum patience {
	PATIENCE_SCHEDULE, /* the protocol's own schedule alone */
	PATIENCE_TIMEOUT,  /* --timeout */
	PATIENCE_EXPIRY,   /* the mapping it renews runs out */
	PATIENCE_YIELD,	   /* another mapping's renewal comes due */
};

typedef void (*client_done_fn)(void *context, struct result *result);

/* How an address is learned over a protocol without an address request:
 * map the UDP port of our own socket (ours while we run, above 1024 where
 * gateways allow mappings) for a moment, read the address, delete it. */
#define CLIENT_PROBE_LIFETIME 120

enum client_step {
	STEP_REQUEST,	   /* the request itself */
	STEP_PROBE_MAP,	   /* an address over PCP: the mapping */
	STEP_PROBE_DELETE, /* and its deletion */
};

struct client {
	struct exchange exchange;
	const struct protocol *protocol; /* the one spoken now */
	/* the user forced no protocol: follow the gateway's answers */
	bool follow_gateway;
	/* the gateway's answer changed the protocol (the caller may
	 * remember that); the caller clears it */
	bool switched;
	struct epoch_tracker epoch;
	bool gateway_reset; /* an epoch showed a restart; the caller clears */
	/* the last external address the gateway reported, unset if none */
	struct ip_address external_address;
	int64_t timeout_ms; /* --timeout, for messages; -1 none */

	/* the request in flight */
	bool running;		/* from client_start to its end or cancel */
	bool cancelled;		/* the last one was cut short */
	struct request request; /* as asked */
	struct request sent;	/* as sent now */
	enum client_step step;
	bool switched_now; /* during this request */
	int64_t deadline_ms;
	struct reply reply;
	enum reply_verdict verdict;
	enum patience patience;
	struct result result;
	client_done_fn done;
	void *done_context;
};

/* Opens the exchange to gateway, from source if set (an IPv6 global
 * address toward a link-local gateway); on failure fills *failure and
 * returns -1. follow_gateway: switch protocols as the gateway answers. */
int client_open(struct client *client, struct eloop *loop,
		const struct protocol *protocol, bool follow_gateway,
		const struct ip_endpoint *gateway,
		const struct ip_address *source, struct result *failure);

/* Fills nonce with bytes from the kernel's random source. Returns 0, or
 * -1 with errno. */
int client_new_nonce(uint8_t nonce[NONCE_SIZE]);
void client_close(struct client *client);

/* Starts request, to give up by deadline_ms at the latest (absolute, on
 * clock_now_ms; EXCHANGE_NO_DEADLINE for the schedule alone); done gets
 * the result. Only when not busy. */
void client_start(struct client *client, const struct request *request,
		  int64_t deadline_ms, enum patience patience,
		  client_done_fn done, void *context);
/* Abandons the request in flight; done is not called. */
void client_cancel(struct client *client);
/* Runs request on the client's loop until it ends: answered, given up, or
 * cut short by client_cancel (from a signal's callback, say). *result
 * gets what came of it. Returns 0 when it ended by itself, 1 when it was
 * cancelled, -1 when the loop could not wait (*result says why). */
int client_run(struct client *client, const struct request *request,
	       int64_t deadline_ms, enum patience patience,
	       struct result *result);
bool client_busy(const struct client *client);

enum client_update {
	CLIENT_UPDATE_NONE,  /* not an answer about this mapping */
	CLIENT_UPDATE_GRANT, /* a grant: the mapping as it is now */
	CLIENT_UPDATE_ENDED, /* success with lifetime 0: the gateway ended it */
	CLIENT_UPDATE_FAILURE, /* an error answer, late or unsolicited */
};

/* Judges a datagram that came outside any request as the gateway's answer,
 * again or on its own, about the mapping request asks for (RFC 6887
 * section 8: a client must take updated answers; 14.2: a gateway tells
 * of changed mappings unasked). Only for
 * protocols that answer again; the epoch is observed as for any answer.
 * The result goes to *result; note gets a line for -v. */
enum client_update client_take_update(struct client *client,
				      const struct request *request,
				      const uint8_t *datagram, size_t length,
				      struct result *result, char *note,
				      size_t note_size);

/* Fills the parts of a result every operation on this gateway shares. */
void client_result_init(const struct client *client, struct result *result,
			enum result_kind kind);
/* The result a request would get, before any answer. */
void client_result_for(const struct client *client,
		       const struct request *request, struct result *result);

#endif
