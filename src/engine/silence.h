/* silence.h - what a request that ran out of patience says: "no reply"
 * only when nothing came back, else what the gateway sent instead; how
 * long it waited, as its patience ran out (--timeout, the mapping's
 * expiry, another mapping's turn, or the protocol's own schedule); how
 * many times it asked, in each protocol. Pure wording, unit-tested. */
#ifndef NATPMP_SILENCE_H
#define NATPMP_SILENCE_H

#include <stddef.h>
#include <stdint.h>

#include "engine/patience.h"
#include "proto/stray_tally.h"

struct silence {
	const char *gateway_text;
	enum patience_reason reason; /* what ended the wait */
	int64_t waited_ms;
	int64_t timeout_ms; /* PATIENCE_TIMEOUT: --timeout */
	int sends;
	const char *spoken; /* the protocol asked, "NAT-PMP" */
	const char *other;  /* the other one, "PCP" */
	int other_sends;    /* how often that was asked too; 0: never */
	const struct stray_tally *strays;
	int error_number; /* the last error seen, 0 if none */
};

void silence_describe(const struct silence *silence, char *message,
		      size_t size);

#endif
