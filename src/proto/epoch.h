/* epoch.h - detect a gateway's loss of mapping state from the epoch it
 * reports with every message: NAT-PMP's seconds since start of epoch
 * (RFC 6886 section 3.6) and PCP's Epoch Time (RFC 6887 section 8.5). One
 * tracker per gateway hears both, so a restart announced in either format
 * is judged against everything heard before it. */
#ifndef NATPMP_EPOCH_H
#define NATPMP_EPOCH_H

#include <stdbool.h>
#include <stdint.h>

struct epoch_tracker {
	bool known;
	uint32_t sssoe;	  /* last epoch the gateway reported */
	int64_t local_ms; /* our clock when it arrived */
};

/* Records an epoch from a NAT-PMP message received at now_ms; returns true
 * if it shows the gateway restarted (or otherwise lost its mappings) since
 * the previous message. */
bool epoch_observe(struct epoch_tracker *tracker, uint32_t sssoe,
		   int64_t now_ms);

/* The same test without recording: would sssoe at now_ms be a reset? */
bool epoch_is_reset(const struct epoch_tracker *tracker, uint32_t sssoe,
		    int64_t now_ms);

/* Records an epoch from a PCP message, judged by RFC 6887's rule: going
 * back more than 1 s, or the two clocks' progress differing by more than
 * 2 s plus 1/16, is a loss of state. */
bool epoch_observe_pcp(struct epoch_tracker *tracker, uint32_t epoch,
		       int64_t now_ms);

/* A protocol's rule: records epoch at now_ms, true if it shows a restart. */
typedef bool (*epoch_rule)(struct epoch_tracker *tracker, uint32_t epoch,
			   int64_t now_ms);

/* Records the epoch of the gateway's first answer after it announced
 * itself. Besides the protocol's rule, an epoch of 0 or one lower than the
 * last seen is a restart: a gateway announces when it starts, and the
 * slack the rules leave for reordered responses would hide a daemon
 * restarted within seconds of its previous start. */
bool epoch_observe_strictly(struct epoch_tracker *tracker, uint32_t epoch,
			    int64_t now_ms, epoch_rule rule);

/* Forgets the gateway's epoch, e.g. when talking to another gateway. */
void epoch_forget(struct epoch_tracker *tracker);

#endif
