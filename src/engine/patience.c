/* patience.c - every default for how long to wait, in one place. */
#include "engine/patience.h"

#include "core/clock.h"
#include "core/diag.h"
#include "engine/options.h"

struct patience patience_for_command(int64_t timeout_ms, int64_t now_ms)
{
	struct patience p = { .deadline_ms = CLOCK_NEVER,
			      .reason = PATIENCE_SCHEDULE };

	if (timeout_ms != OPTIONS_NO_TIMEOUT)
		p = patience_within(timeout_ms, now_ms);
	return p;
}

int64_t patience_probe_ms(int64_t timeout_ms)
{
	return timeout_ms != OPTIONS_NO_TIMEOUT ? timeout_ms
						: PATIENCE_PROBE_MS;
}

int64_t patience_probe_budget_ms(int64_t timeout_ms)
{
	return timeout_ms != OPTIONS_NO_TIMEOUT ? timeout_ms
						: PATIENCE_PROBE_BUDGET_MS;
}

struct patience patience_within(int64_t duration_ms, int64_t now_ms)
{
	struct patience p = { .deadline_ms = now_ms + duration_ms,
			      .reason = PATIENCE_TIMEOUT,
			      .timeout_ms = duration_ms };

	return p;
}

int64_t patience_deadline(const struct patience *p,
			  const struct protocol *protocol, int64_t now_ms)
{
	if (p->deadline_ms != CLOCK_NEVER || protocol->schedule->max_sends)
		return p->deadline_ms;
	diag_verbose(
		"%s retransmits without end: this request gives up after %lld s (-t sets another limit)",
		protocol_name(protocol->id),
		(long long)(protocol->default_patience_ms / 1000));
	return now_ms + protocol->default_patience_ms;
}
