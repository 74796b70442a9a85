/* save.c - the last write of a run, with the loop turning meanwhile. */
#include "engine/save.h"

#include "core/clock.h"

static bool writer_done(void *context)
{
	return ledger_write_reap(context);
}

void save_and_wait(struct eloop *loop, struct ledger *ledger,
		   int64_t patience_ms)
{
	int64_t deadline = clock_now_ms() + patience_ms;

	if (eloop_run_until(loop, writer_done, ledger, deadline) != 0)
		return; /* the writer at work holds on: it finishes alone */
	if (ledger_write_start(ledger) < 0) {
		ledger_save(ledger);
		return;
	}
	eloop_run_until(loop, writer_done, ledger, deadline);
}
