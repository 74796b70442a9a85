/* supervisor.h - renew-loop's hold on the gateway and the network: finds
 * the gateway (or the way to the one named), connects the client and the
 * announcement listener, watches routes, rules, addresses and links, and
 * reconnects when the gateway, the interface, the source address or the
 * link changes, or when a route appears where there was none. */
#ifndef NATPMP_SUPERVISOR_H
#define NATPMP_SUPERVISOR_H

#include <stdbool.h>

#include "announce.h"
#include "cli.h"
#include "client.h"
#include "eloop.h"
#include "gateway.h"

/* a burst of route and address messages settles within this */
#define SUPERVISOR_SETTLE_MS 200

enum network_change {
	NETWORK_FIRST,	     /* the first gateway since start */
	NETWORK_NEW_GATEWAY, /* another gateway address */
	NETWORK_MOVED,	     /* the same gateway, through another interface or
			  source address, or after the link went down */
};

struct supervisor_events {
	/* connected (again): client is open to the gateway */
	void (*connected)(void *context, enum network_change change);
	/* no gateway can be reached now; failure says why (the first time
	 * a given reason is seen, else NULL) */
	void (*lost)(void *context, const struct result *failure);
	/* an announcement from the gateway */
	void (*announced)(void *context, const struct announcement *a);
};

struct supervisor {
	struct eloop *loop;
	const struct invocation *inv;
	const struct supervisor_events *events;
	void *context;

	bool connected;
	bool ever_connected;
	struct client client;
	struct gateway_route route;
	struct ip_endpoint last_gateway; /* kept while disconnected */
	int watch_fd;
	int announce_fd;
	bool link_went_down; /* seen down since the last check */
	struct eloop_timer settle_timer;
	struct eloop_timer retry_timer;
	unsigned failures; /* checks in a row that found no gateway */
	char last_failure[RESULT_MESSAGE_SIZE];
};

/* Opens the network watch and makes the first check (synchronously: the
 * events may fire before it returns). Returns 0, or -1 with errno. */
int supervisor_start(struct supervisor *s, struct eloop *loop,
		     const struct invocation *inv,
		     const struct supervisor_events *events, void *context);
void supervisor_stop(struct supervisor *s);

/* Checks the network again after the settle time (e.g. the gateway went
 * silent: the host may have moved), or at once. */
void supervisor_check_soon(struct supervisor *s);
void supervisor_check_now(struct supervisor *s);

#endif
