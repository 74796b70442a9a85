/* client.h - requests to one gateway in neutral terms: its external
 * address, a mapping, a deletion. Each runs through the exchange on the
 * event loop, in the gateway's protocol, and ends with a struct result;
 * every reply's epoch feeds the restart detector. The client tells its
 * owner what happens through callbacks (a request's end, a restart, a
 * wait, an answer outside any request); its fields are its own, read
 * through the functions below. */
#ifndef NATPMP_CLIENT_H
#define NATPMP_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/result.h"
#include "engine/eloop.h"
#include "engine/exchange.h"
#include "engine/fallback.h"
#include "engine/patience.h"
#include "proto/epoch.h"
#include "proto/protocol.h"
#include "proto/stray_tally.h"

typedef void (*client_done_fn)(void *context, struct result *result);

/* How an address is learned over a protocol without an address request:
 * map the UDP port of our own socket (ours while we run, above 1024 where
 * gateways allow mappings) for a moment, read the address, delete it. */
#define CLIENT_PROBE_LIFETIME 120
/* requests in a row answered in the other protocol's format before a
 * client whose protocol the gateway proved (answers_echo_nonce) follows */
#define CLIENT_SWITCH_EVIDENCE 3

/* an interface's name, as IF_NAMESIZE holds it */
#define CLIENT_TUNNEL_NAME_SIZE 16

/* What the gateway makes known beyond a request's own end. */
struct client_events {
	/* an epoch showed that the gateway lost its mappings (a restart);
	 * told before the result or update that carried it */
	void (*gateway_reset)(void *context);
	/* a request has gone unanswered for a second, or that wait ended
	 * (client_waiting says which) */
	void (*waiting_changed)(void *context);
	/* a datagram from the gateway outside any request: a late or
	 * unsolicited answer (client_take_update judges it). True if taken;
	 * note gets a line for -v. It must not start or cancel a request. */
	bool (*stray)(void *context, const uint8_t *datagram, size_t length,
		      char *note, size_t note_size);
};

enum client_step {
	STEP_REQUEST,	   /* the request itself */
	STEP_PROBE_MAP,	   /* an address over PCP: the mapping */
	STEP_PROBE_DELETE, /* and its deletion */
};

struct client {
	bool open;
	struct exchange exchange;
	const struct protocol *protocol; /* the one spoken now */
	/* the user forced no protocol: follow the gateway's answers, and ask
	 * in the other protocol too when it leaves one unanswered */
	bool follow_gateway;
	/* the next answer's epoch is judged as an announcement's */
	bool confirming;
	/* the gateway answered in the protocol spoken now; and how many
	 * requests in a row it answered in the other's format since */
	bool proven;
	unsigned contrary;
	struct fallback fallback;
	struct epoch_tracker epoch;
	/* the last external address the gateway reported, unset if none */
	struct ip_address external_address;
	const struct client_events *events;
	void *events_context;
	/* the gateway is the far end of this tunnel ("" if not): a closed
	 * port is a VPN connection without port forwarding; known once the
	 * owner said so or the route was asked (client_tunnel) */
	char tunnel[CLIENT_TUNNEL_NAME_SIZE];
	bool tunnel_known;

	/* the request in flight, or the last one */
	bool running;		/* from client_start to its end or cancel */
	bool cancelled;		/* it was cut short */
	struct request request; /* as asked */
	struct request sent;	/* as sent now */
	enum client_step step;
	bool switched_now; /* the gateway made it change protocol */
	/* what the gateway sent meanwhile that answered nothing */
	struct stray_tally strays;
	struct patience patience;
	struct reply reply;
	enum reply_verdict verdict;
	struct result result;
	client_done_fn done;
	void *done_context;
};

/* Opens the exchange to gateway, from source if set (an IPv6 global
 * address toward a link-local gateway), speaking protocol, and following
 * the gateway's answers to the other protocol when follow_gateway; a
 * wait shows progress on a terminal. On failure fills *failure and
 * returns -1. A zeroed client that failed to open may be closed. */
int client_open(struct client *client, struct eloop *loop,
		const struct protocol *protocol, bool follow_gateway,
		const struct ip_endpoint *gateway,
		const struct ip_address *source, struct result *failure);
void client_close(struct client *client);
/* The gateway is the far end of the tunnel interface (NULL: it is not):
 * an ICMP port unreachable from it then says that port forwarding is not
 * enabled for the VPN connection. Without this call, the client asks the
 * routing table when it first needs to know. */
void client_set_tunnel(struct client *client, const char *interface);
/* From now on, events go to these callbacks (any may be NULL). */
void client_listen(struct client *client, const struct client_events *events,
		   void *context);

/* Fills nonce with bytes from the kernel's random source. Returns 0, or
 * -1 with errno. */
int client_new_nonce(uint8_t nonce[NONCE_SIZE]);

/* Starts request, to end by its patience at the latest; done gets the
 * result. Only when not running. */
void client_start(struct client *client, const struct request *request,
		  const struct patience *patience, client_done_fn done,
		  void *context);
/* Abandons the request in flight; done is not called. */
void client_cancel(struct client *client);
/* Runs request on the client's loop until it ends: answered, given up, or
 * cut short by client_cancel (from a signal's callback, say). *result
 * gets what came of it. Returns 0 when it ended by itself, 1 when it was
 * cancelled, -1 when the loop could not wait (*result says why). */
int client_run(struct client *client, const struct request *request,
	       const struct patience *patience, struct result *result);
/* Sends the request in flight again now and restarts its waits, if it
 * went out at least after_sends times since they last started: the
 * gateway just announced it is back, or the user asked (SIGHUP). */
void client_kick(struct client *client, int after_sends);
/* The gateway announced itself: its next answer, which is its own word,
 * confirms or denies a restart, judged by the stricter rule of
 * announcements (an epoch that went back at all). The announcement itself
 * is never taken for the answer: anyone on the link can send one. */
void client_confirm_announcement(struct client *client);

/* What the client knows. */
bool client_running(const struct client *client);
const struct protocol *client_protocol(const struct client *client);
bool client_follows_gateway(const struct client *client);
const struct ip_endpoint *client_gateway(const struct client *client);
/* the gateway as natpmp writes it: its port shown only if not 5351 */
const char *client_gateway_text(const struct client *client);
/* the tunnel the gateway is the far end of, or NULL; asks the routing
 * table the first time if the owner did not say */
const char *client_tunnel(struct client *client);
/* the address requests go out from */
const struct ip_address *client_source(const struct client *client);
const struct epoch_tracker *client_epoch(const struct client *client);
/* a request has gone unanswered for a second or more */
bool client_waiting(const struct client *client);
/* the last request: how many sends, how long it waited, and whether the
 * gateway answered it in the other protocol's format */
int client_sends(const struct client *client);
int64_t client_waited_ms(const struct client *client);
bool client_answered_in_other_protocol(const struct client *client);
/* the request in flight as -v names it ("map tcp 8080 request: ..."),
 * and when it first went out */
const char *client_request_label(const struct client *client);
int64_t client_started_ms(const struct client *client);
/* the last request ended at its patience's deadline, not the schedule's
 * end */
bool client_deadline_reached(const struct client *client);
/* what the gateway sent during the last request that answered nothing */
const struct stray_tally *client_strays(const struct client *client);

/* An external address learned outside a reply (later grants in a protocol
 * that carries none show it). */
void client_learned_address(struct client *client,
			    const struct ip_address *address);
/* A gateway that will be spoken to in protocol from the next request on
 * (the doctor probes each protocol in turn). */
void client_speak(struct client *client, const struct protocol *protocol);

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

/* Judges a datagram that came outside any request as a late answer to
 * request in protocol, one that already ran out of patience (the doctor
 * moves on after a probe's time, and counts what comes later): the
 * verdict, and for REPLY_ANSWER *result as the answer would have made it
 * (the epoch observed as for any answer). note gets a line for -v. */
enum reply_verdict client_take_late(struct client *client,
				    const struct protocol *protocol,
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
