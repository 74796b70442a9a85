/* mapping.h - one mapping kept alive by renew-loop: what the gateway last
 * granted and when to act next. Pure bookkeeping on the caller's clock;
 * the decisions RFC 6886 sections 3.3 and 3.7 ask for live here. */
#ifndef NATPMP_MAPPING_H
#define NATPMP_MAPPING_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

/* A failing gateway is retried at most this far apart. */
#define MAPPING_RETRY_MAX_MS 64000
#define MAPPING_RETRY_MIN_MS 1000
#define MAPPING_RESET_SPREAD_MS 5000

enum mapping_event {
	MAPPING_MAPPED,		  /* established (again) */
	MAPPING_RENEWED,	  /* same port, address and lifetime */
	MAPPING_CHANGED,	  /* another external port or address */
	MAPPING_LIFETIME_CHANGED, /* same port and address, other lifetime */
};

struct mapping {
	unsigned protocol;
	uint16_t internal_port;
	uint16_t suggested_port; /* what to ask for next */
	uint32_t requested_lifetime;

	bool established;
	uint16_t external_port;
	bool external_address_known;
	struct in_addr external_address;
	uint32_t lifetime;     /* granted */
	int64_t renew_at_ms;   /* next request */
	int64_t expires_at_ms; /* when the grant runs out */
	unsigned failures;     /* in a row */
};

void mapping_init(struct mapping *m, unsigned protocol, uint16_t internal_port,
		  uint16_t suggested_port, uint32_t requested_lifetime,
		  int64_t now_ms);

/* Records a grant; renewal is due at half the granted lifetime, asking for
 * the granted port again (section 3.3). */
enum mapping_event mapping_granted(struct mapping *m, uint16_t external_port,
				   uint32_t lifetime, bool address_known,
				   struct in_addr address, int64_t now_ms);

/* After a gateway restart: schedule the recreation within the RFC 6886
 * section 3.7 spread of 0-5 s (random is any random number), but in the
 * first half of what is left of the grant, so a short-lived mapping is
 * recreated before it would run out. */
void mapping_gateway_reset(struct mapping *m, int64_t now_ms, unsigned random);

/* Records a failed request: try again after the retry interval. */
void mapping_failed(struct mapping *m, int64_t now_ms);

/* True once, when an established mapping's grant has run out. */
bool mapping_expire(struct mapping *m, int64_t now_ms);

/* A new external address for an established mapping; true if it changed. */
bool mapping_address_changed(struct mapping *m, struct in_addr address);

/* How long to wait after a failure: half the lifetime (the granted one
 * once established, if shorter), kept between 1 s and 64 s, the longest
 * wait of the RFC schedule. */
int64_t mapping_retry_ms(const struct mapping *m);

/* The next moment this mapping needs attention. */
int64_t mapping_next_ms(const struct mapping *m);

#endif
