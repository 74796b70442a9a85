/* epoch.c - gateway restart detection (RFC 6886 section 3.6, RFC 6887
 * section 8.5). Pure arithmetic on the caller's clock readings. */
#include "proto/epoch.h"

/* RFC 6886: the new SSSoE may lag previous + 7/8 of our elapsed time by
 * at most 2 s; more than that and the gateway's epoch started again */
#define EPOCH_TOLERANCE_MS 2000
/* RFC 6887: time may seem to go back 1 s through reordering, no more */
#define PCP_BACKWARD_SLACK_MS 1000
#define PCP_DRIFT_SLACK_MS 2000

static int64_t elapsed_since(const struct epoch_tracker *tracker,
			     int64_t now_ms)
{
	int64_t elapsed_ms = now_ms - tracker->local_ms;

	return elapsed_ms < 0 ? 0 : elapsed_ms;
}

bool epoch_is_reset(const struct epoch_tracker *tracker, uint32_t sssoe,
		    int64_t now_ms)
{
	int64_t expected_ms;

	if (!tracker->known)
		return false;
	expected_ms = (int64_t)tracker->sssoe * 1000 +
		      elapsed_since(tracker, now_ms) * 7 / 8;
	return (int64_t)sssoe * 1000 < expected_ms - EPOCH_TOLERANCE_MS;
}

static void record(struct epoch_tracker *tracker, uint32_t sssoe,
		   int64_t now_ms)
{
	tracker->known = true;
	tracker->sssoe = sssoe;
	tracker->local_ms = now_ms;
}

bool epoch_observe(struct epoch_tracker *tracker, uint32_t sssoe,
		   int64_t now_ms)
{
	bool reset = epoch_is_reset(tracker, sssoe, now_ms);

	record(tracker, sssoe, now_ms);
	return reset;
}

bool epoch_observe_pcp(struct epoch_tracker *tracker, uint32_t epoch,
		       int64_t now_ms)
{
	bool reset = false;

	if (tracker->known) {
		int64_t client_ms = elapsed_since(tracker, now_ms);
		int64_t server_ms = ((int64_t)epoch - tracker->sssoe) * 1000;
		bool back = server_ms < -PCP_BACKWARD_SLACK_MS;
		bool fast = client_ms + PCP_DRIFT_SLACK_MS <
			    server_ms - server_ms / 16;
		bool slow = server_ms + PCP_DRIFT_SLACK_MS <
			    client_ms - client_ms / 16;
		reset = back || fast || slow;
	}
	record(tracker, epoch, now_ms);
	return reset;
}

bool epoch_observe_strictly(struct epoch_tracker *tracker, uint32_t epoch,
			    int64_t now_ms, epoch_rule rule)
{
	bool known = tracker->known;
	uint32_t previous = tracker->sssoe;
	bool reset = rule(tracker, epoch, now_ms);

	return reset || (known && (epoch == 0 || epoch < previous));
}

void epoch_forget(struct epoch_tracker *tracker)
{
	tracker->known = false;
	tracker->sssoe = 0;
	tracker->local_ms = 0;
}
