/* supervisor.h - renew-loop's hold on the gateway and the network: finds
 * the gateway (or the way to the one named), connects the client and the
 * announcement listener, watches routes, rules, addresses and links, and
 * reconnects when the gateway, the interface, the source address or the
 * link changes, or when a route appears where there was none.
 *
 * A named gateway once reached directly (a neighbour, or the far end of a
 * tunnel) is never followed through a router: when its route moves to a
 * next hop, the tunnel it lived in is down and that router is the wrong
 * place to ask, so it is lost, and nothing is sent, until its direct route
 * is back. One reached through a router from the start (a PCP server
 * beyond the first hop) is followed wherever its route goes. */
#ifndef NATPMP_SUPERVISOR_H
#define NATPMP_SUPERVISOR_H

#include <stdbool.h>

#include "engine/client.h"
#include "engine/eloop.h"
#include "engine/listener.h"
#include "engine/options.h"
#include "os/os.h"
#include "state/ledger.h"

/* a burst of route and address messages has settled after this much
 * quiet, or this long after its first message at the latest */
#define SUPERVISOR_SETTLE_MS 200
#define SUPERVISOR_SETTLE_MAX_MS 1000
/* announcement datagrams read per wake-up at most */
#define SUPERVISOR_ANNOUNCE_BATCH 8

enum network_change {
	NETWORK_FIRST,	     /* the first gateway since start */
	NETWORK_NEW_GATEWAY, /* another gateway address */
	NETWORK_NEW_SOURCE,  /* the same gateway, from another address */
	NETWORK_MOVED,	     /* the same gateway and address, through another
			  interface or after the link went down */
};

struct supervisor_events {
	/* connected (again): client is open to the gateway */
	void (*connected)(void *context, enum network_change change);
	/* no gateway can be reached now; failure says why (the first time
	 * a given reason is seen, else NULL) */
	void (*lost)(void *context, const struct result *failure);
	/* an announcement that came from the gateway's address and port,
	 * on its link: a hint to ask the gateway, never the answer */
	void (*announced)(void *context, const struct announcement *a);
};

struct supervisor {
	struct eloop *loop;
	const struct options *options;
	int family;
	const struct ledger *ledger; /* which protocol each gateway speaks */
	const struct supervisor_events *events;
	void *context;

	bool connected;
	bool ever_connected;
	struct client client;
	struct gateway_route route;
	struct ip_endpoint last_gateway; /* kept while disconnected */
	struct ip_address last_source;
	int watch_fd;
	int announce_fd;
	bool link_went_down; /* seen down since the last check */
	/* the named gateway has been reached with no router in between, on
	 * this interface: a route through a router is not the way to it */
	bool was_neighbour;
	char neighbour_interface[IF_NAMESIZE];
	struct eloop_timer settle_timer;
	int64_t settle_started_ms;
	struct eloop_timer retry_timer;
	unsigned failures; /* checks in a row that found no gateway */
	char last_failure[RESULT_MESSAGE_SIZE];
};

/* Opens the network watch and makes the first check (synchronously: the
 * events may fire before it returns). Returns 0, or -1 with errno. */
int supervisor_start(struct supervisor *s, struct eloop *loop,
		     const struct options *options, int family,
		     const struct ledger *ledger,
		     const struct supervisor_events *events, void *context);
void supervisor_stop(struct supervisor *s);

/* Checks the network again after the settle time (e.g. the gateway went
 * silent: the host may have moved), or at once. */
void supervisor_check_soon(struct supervisor *s);
void supervisor_check_now(struct supervisor *s);

/* The client open to the gateway, or NULL while there is none. */
struct client *supervisor_client(struct supervisor *s);
/* The name of the interface toward it. */
const char *supervisor_interface(const struct supervisor *s);
/* Why there is no gateway now (the last reason seen). */
const char *supervisor_last_failure(const struct supervisor *s);

/* Stops watching and checking, keeping the client open: for the way out,
 * when the connection must not change under the last requests. */
void supervisor_freeze(struct supervisor *s);

#endif
