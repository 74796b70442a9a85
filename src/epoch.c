/* epoch.c - gateway restart detection (RFC 6886 section 3.6).
 * Pure arithmetic on the caller's clock readings. */
#include "epoch.h"

/* section 3.6: the new SSSoE may lag previous + 7/8 of our elapsed time by
 * at most 2 s; more than that and the gateway's epoch started again */
#define EPOCH_TOLERANCE_MS 2000

bool epoch_is_reset(const struct epoch_tracker *tracker, uint32_t sssoe,
		    int64_t now_ms)
{
	int64_t elapsed_ms, expected_ms;

	if (!tracker->known)
		return false;
	elapsed_ms = now_ms - tracker->local_ms;
	if (elapsed_ms < 0)
		elapsed_ms = 0;
	expected_ms = (int64_t)tracker->sssoe * 1000 + elapsed_ms * 7 / 8;
	return (int64_t)sssoe * 1000 < expected_ms - EPOCH_TOLERANCE_MS;
}

bool epoch_observe(struct epoch_tracker *tracker, uint32_t sssoe,
		   int64_t now_ms)
{
	bool reset = epoch_is_reset(tracker, sssoe, now_ms);

	tracker->known = true;
	tracker->sssoe = sssoe;
	tracker->local_ms = now_ms;
	return reset;
}
