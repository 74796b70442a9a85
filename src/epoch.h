/* epoch.h - detect a gateway's loss of mapping state from the seconds
 * since start of epoch (SSSoE) it reports (RFC 6886 section 3.6). */
#ifndef NATPMP_EPOCH_H
#define NATPMP_EPOCH_H

#include <stdbool.h>
#include <stdint.h>

struct epoch_tracker {
	bool known;
	uint32_t sssoe;	  /* last SSSoE the gateway reported */
	int64_t local_ms; /* our monotonic clock when it arrived */
};

/* Records an SSSoE received at now_ms; returns true if it shows the gateway
 * restarted (or otherwise lost its mappings) since the previous one. */
bool epoch_observe(struct epoch_tracker *tracker, uint32_t sssoe,
		   int64_t now_ms);

/* The same test without recording: would sssoe at now_ms be a reset? */
bool epoch_is_reset(const struct epoch_tracker *tracker, uint32_t sssoe,
		    int64_t now_ms);

#endif
