/* patience.h - how long natpmp waits for a gateway, decided here and
 * nowhere else. --timeout is a duration in milliseconds (OPTIONS_NO_TIMEOUT
 * when not given); a request waits until a deadline on clock_now_ms() and
 * knows what set it, so that running out of it is explained truthfully.
 * Without --timeout, a one-shot command waits as its protocol says
 * (NAT-PMP's schedule gives up by itself after 127.75 s; PCP's never does,
 * so its backend's default_patience_ms), each of the doctor's probes
 * 1.5 s, and a renew-loop request as long as its schedule lets it. */
#ifndef NATPMP_PATIENCE_H
#define NATPMP_PATIENCE_H

#include <stdint.h>

#include "proto/protocol.h"

/* the doctor's probes without --timeout: three NAT-PMP sends, one PCP
 * send; then the next probe goes */
#define PATIENCE_PROBE_MS 1500
/* but an answer up to this long after a probe's first send still counts:
 * a busy gateway is slow, not silent (miniupnpd holding 200 mappings
 * answers in about 2 s). The doctor waits that long only while no
 * protocol has answered, or for a gateway that answered slowly; the
 * probes of a gateway that answers nothing add up to this. */
#define PATIENCE_PROBE_BUDGET_MS 4500

/* What set a request's deadline. */
enum patience_reason {
	PATIENCE_SCHEDULE, /* the protocol's own schedule alone */
	PATIENCE_TIMEOUT,  /* --timeout, or a probe's time */
	PATIENCE_EXPIRY,   /* the mapping it renews runs out */
	PATIENCE_YIELD,	   /* another mapping's renewal comes due */
};

struct patience {
	int64_t deadline_ms; /* CLOCK_NEVER: none but the schedule's */
	enum patience_reason reason;
	int64_t timeout_ms; /* PATIENCE_TIMEOUT: the duration, for messages */
};

/* A whole one-shot command, started at now_ms: --timeout from then, or
 * the protocol's own. */
struct patience patience_for_command(int64_t timeout_ms, int64_t now_ms);
/* One of the doctor's probes: --timeout, else PATIENCE_PROBE_MS. */
int64_t patience_probe_ms(int64_t timeout_ms);
/* How long after a probe's first send its answer still counts: --timeout
 * (the user's limit on each probe), else PATIENCE_PROBE_BUDGET_MS. */
int64_t patience_probe_budget_ms(int64_t timeout_ms);
/* A wait of duration_ms from now_ms, explained as a timeout. */
struct patience patience_within(int64_t duration_ms, int64_t now_ms);
/* The deadline of a request sent now in protocol: its own, or, for a
 * schedule that never gives up, the protocol's default patience. */
int64_t patience_deadline(const struct patience *patience,
			  const struct protocol *protocol, int64_t now_ms);

#endif
