/* scheduler.h - renew-loop's decisions, as pure bookkeeping on the
 * caller's clock: which request goes next (one in flight per gateway),
 * how long it may wait, when a grant runs out, when to try again after a
 * failure, and what each grant changed (RFC 6886 sections 3.3, 3.6, 3.7;
 * RFC 6887 sections 11.2.1 and 14.1.3). */
#ifndef NATPMP_SCHEDULER_H
#define NATPMP_SCHEDULER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/clock.h"
#include "core/ip_address.h"
#include "core/port_mapping.h"
#include "core/result.h"
#include "engine/options.h"
#include "engine/patience.h"

#define SCHEDULER_RETRY_FIRST_MS 1000
#define SCHEDULER_RETRY_MAX_MS 64000
/* an error's lifetime is believed up to this (RFC 6887 section 7.2
 * suggests 30 minutes for the long-lasting ones) */
#define SCHEDULER_ERROR_HOLD_MAX_MS ((int64_t)30 * 60 * 1000)
#define SCHEDULER_RESET_SPREAD_MS 5000
/* a request that mappings never tried yet wait behind gives way after */
#define SCHEDULER_TURN_MS 4000
/* but never before it had this long to be answered */
#define SCHEDULER_MIN_WAIT_MS 1000
/* unless another mapping is close to expiry; even then it has this long */
#define SCHEDULER_LEAST_WAIT_MS 250
/* an address asked this recently is not asked again for another renewal */
#define SCHEDULER_ADDRESS_FRESH_MS 5000

enum mapping_event {
	MAPPING_MAPPED,		  /* established (again) */
	MAPPING_RENEWED,	  /* nothing changed */
	MAPPING_CHANGED,	  /* another external port or address, or
				     another internal address */
	MAPPING_LIFETIME_CHANGED, /* only the lifetime differs */
};

struct mapping {
	unsigned transport;
	uint16_t internal_port;
	uint16_t suggested_port; /* what to ask for next */
	/* and the external address: the one granted last, at this gateway
	 * (RFC 6887 section 11.2.1); unset at first */
	struct ip_address suggested_address;
	uint32_t requested_lifetime;

	bool established;
	uint16_t external_port;
	struct ip_address external_address; /* unset while unknown */
	struct ip_address internal_address;
	uint32_t lifetime;	   /* granted */
	int64_t granted_ms;	   /* when */
	int64_t expires_at_ms;	   /* when the grant runs out */
	int64_t due_ms;		   /* when to send its next request */
	unsigned failures;	   /* in a row */
	bool tried;		   /* has had an answer or a failure */
	uint8_t nonce[NONCE_SIZE]; /* PCP: the mapping's for its life */
	/* being re-created after a restart or a network change: what its
	 * grant brings is compared with what it had, in one event */
	bool recreating;
	/* its renewal was refused for want of resources although it was
	 * granted before (miniupnpd on pf cannot renew an IPv6 pinhole, only
	 * make a new one): the next request deletes it, the one after makes
	 * it again; remade says that was tried since its last grant, so a
	 * refusal of that is not answered by another deletion */
	bool delete_first;
	bool remade;
};

struct scheduler {
	struct mapping *mappings;
	size_t count;
	/* the external address: asked first when unknown, and after
	 * renewals to notice a change no announcement told of */
	bool address_known;
	bool address_wanted;
	int64_t address_due_ms;
	int64_t address_asked_ms; /* last successful answer */
	unsigned address_failures;
};

enum action_kind {
	ACTION_NONE,
	ACTION_ADDRESS,
	ACTION_MAP,
	ACTION_DELETE, /* a mapping's, to make it again at once */
};

struct action {
	enum action_kind kind;
	size_t index; /* ACTION_MAP and ACTION_DELETE: which mapping */
	struct patience patience;
};

/* mappings has count entries, set up with mapping_init. */
void scheduler_init(struct scheduler *s, struct mapping *mappings,
		    size_t count);
void mapping_init(struct mapping *m, unsigned transport, uint16_t internal_port,
		  uint16_t suggested_port, uint32_t requested_lifetime,
		  int64_t now_ms);

/* The request to send now, if any: the address while unknown (so events
 * can show it), then renewals of established mappings (the soonest to run
 * out first), then new mappings in order, then an address refresh. Its deadline never
 * passes the mapping's expiry, nor now + timeout_ms (--timeout, or
 * OPTIONS_NO_TIMEOUT), nor the
 * point where another mapping must have its turn: an established one's
 * when its renewal comes due, or, if it is already due, once half of what
 * is left of its grant has passed; one never tried yet after
 * SCHEDULER_TURN_MS. */
struct action scheduler_next(const struct scheduler *s, int64_t now_ms,
			     int64_t timeout_ms);

/* The next moment a grant runs out, and with sending (the loop is idle
 * and has a gateway) also the next moment a request is due; INT64_MAX if
 * never. */
int64_t scheduler_wake_ms(const struct scheduler *s, bool sending);

/* Records a grant and says what it changed. The renewal is due at half
 * the granted lifetime plus spread_ms (PCP spreads it up to 5/8, RFC 6887
 * section 11.2.1), asking for the granted port and address again. */
enum mapping_event scheduler_granted(struct scheduler *s, size_t index,
				     const struct result *result,
				     int64_t now_ms, int64_t spread_ms);
/* The gateway refused to renew an established mapping for want of
 * resources: true if it is to be deleted and made again now, once since
 * its last grant; false if that was tried already (a plain failure). */
bool scheduler_renewal_refused(struct scheduler *s, size_t index,
			       int64_t now_ms);
/* Its deletion is done (or failed): make it again now, as a re-creation. */
void scheduler_deleted(struct scheduler *s, size_t index, int64_t now_ms);
/* The gateway cannot give what the mapping suggests (--exact): the next
 * request suggests no address, only the port. */
void scheduler_suggestion_refused(struct scheduler *s, size_t index);
/* Records a failed request: retry after 1 s, doubling to 64 s, and not
 * before at_least_ms (how long the gateway said the error holds, believed
 * up to SCHEDULER_ERROR_HOLD_MAX_MS); a mapping still granted is retried
 * halfway to its expiry at the latest. */
void scheduler_failed(struct scheduler *s, size_t index, int64_t now_ms,
		      int64_t at_least_ms);

/* The gateway's port is closed (an ICMP port unreachable): every other
 * request would get the same answer at once, so none is sent before
 * until_ms (the failed one's retry); those that come due earlier wait,
 * and count as tried. */
void scheduler_hold(struct scheduler *s, int64_t until_ms);

void scheduler_address_learned(struct scheduler *s, int64_t now_ms);
void scheduler_address_failed(struct scheduler *s, int64_t now_ms);

/* True once per mapping whose grant has run out by now; call until it
 * returns false, reporting each *index as lost. */
bool scheduler_expire_next(struct scheduler *s, int64_t now_ms, size_t *index);

/* A new external address for an established mapping; true if it changed
 * (an unknown address becoming known counts). A mapping being re-created
 * waits for its grant instead. */
bool mapping_address_changed(struct mapping *m,
			     const struct ip_address *address);

/* The gateway lost its state: recreate every mapping after a random
 * 0-5 s spread (random: any random number per mapping), in the first half
 * of what is left of its grant so a short-lived one is back before it
 * would run out. */
void scheduler_gateway_reset(struct scheduler *s, int64_t now_ms,
			     unsigned (*random_fn)(void));

/* Everything due now, failures forgotten: SIGHUP, a new network, a
 * resume from suspend. new_network also forgets the external address. */
void scheduler_renew_all(struct scheduler *s, int64_t now_ms, bool new_network);

/* The gateway showed it is alive: failing items are tried again now. */
void scheduler_gateway_alive(struct scheduler *s, int64_t now_ms);

/* The gateway said something unasked (an announcement): ask it, with one
 * request whose answer carries its epoch and external address: an address
 * request, or where grants carry the address, the renewal due first.
 * False if there is nothing to ask (no mapping established yet: those are
 * being asked for anyway). */
bool scheduler_confirm(struct scheduler *s, int64_t now_ms,
		       bool grants_carry_address);

/* The mapping no longer forwards to us (the gateway restarted): not
 * established any more, but its re-creation still suggests what the same
 * gateway granted (RFC 6887 section 11.2.1). True if it was. */
bool scheduler_lose(struct scheduler *s, size_t index);
/* The mapping was made at another gateway or for another address of this
 * host: lost, and what was granted there is suggested nowhere. True if it
 * was established. */
bool scheduler_moved(struct scheduler *s, size_t index);
/* The gateway ended the mapping before its time: lost, and asked for
 * again now. True if it was established. */
bool scheduler_ended(struct scheduler *s, size_t index, int64_t now_ms);

size_t scheduler_established(const struct scheduler *s);
/* Every mapping has had one answer or one failure. */
bool scheduler_all_tried(const struct scheduler *s);

/* How long to wait after the n-th failure in a row (n >= 1). */
int64_t scheduler_retry_ms(unsigned failures);

#endif
