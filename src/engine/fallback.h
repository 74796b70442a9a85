/* fallback.h - auto mode's other protocol. A gateway may drop what it does
 * not speak (a PCP-only router behind a filter never answers NAT-PMP), so
 * a request the gateway leaves unanswered in the protocol spoken is also
 * asked, from a socket of its own, in the other protocol's presence
 * request (PCP's ANNOUNCE, NAT-PMP's address request): at the send of the
 * request the protocol names (struct protocol's other_asked_at_send), and
 * from then on on the other protocol's schedule. A gateway that answers
 * the protocol spoken in time never hears the other one. The owner (the
 * client) is told when the gateway answered in the other protocol, and
 * hears what came back that answered nothing. */
#ifndef NATPMP_FALLBACK_H
#define NATPMP_FALLBACK_H

#include <stdbool.h>
#include <stdint.h>

#include "core/ip_address.h"
#include "engine/eloop.h"
#include "engine/exchange.h"
#include "proto/protocol.h"

/* The gateway answered the other protocol's presence request: it speaks
 * that protocol. */
typedef void (*fallback_answered_fn)(void *context);

struct fallback {
	struct eloop *loop;
	struct ip_endpoint gateway;
	struct ip_address source;
	bool open; /* its socket */
	struct exchange exchange;
	struct eloop_timer timer; /* when to ask */
	const struct protocol *spoken;
	const struct protocol *other; /* the one asked */
	int64_t deadline_ms;	      /* the request's */
	bool asked;		      /* during the request */
	struct request sent;
	struct reply reply;
	enum reply_verdict verdict;
	fallback_answered_fn answered;
	exchange_stray_fn stray; /* what came back that answered nothing */
	void *context;
};

/* For a client of gateway, sending from source (unset: any). */
void fallback_init(struct fallback *fallback, struct eloop *loop,
		   const struct ip_endpoint *gateway,
		   const struct ip_address *source,
		   fallback_answered_fn answered, exchange_stray_fn stray,
		   void *context);
/* A request in spoken went out at started_ms and waits until deadline_ms
 * (CLOCK_NEVER: its schedule's end): the other protocol is asked at the
 * send spoken names, unless fallback_stop comes first. */
void fallback_arm(struct fallback *fallback, const struct protocol *spoken,
		  int64_t started_ms, int64_t deadline_ms);
/* The request is over: nothing more is asked. */
void fallback_stop(struct fallback *fallback);
void fallback_close(struct fallback *fallback);

/* How many times the other protocol was asked during the last request (0:
 * not at all), and which protocol that is. */
int fallback_sends(const struct fallback *fallback);
const struct protocol *fallback_other(const struct fallback *fallback);
/* The other protocol's answer, once it came (NAT-PMP's carries the
 * external address). */
const struct reply *fallback_reply(const struct fallback *fallback);

#endif
