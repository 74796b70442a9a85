/* save.h - the ledger's changes written to the state file through a child
 * process while the event loop turns: a lock another program holds, or a
 * disk that stalls, never stalls natpmp. */
#ifndef NATPMP_SAVE_H
#define NATPMP_SAVE_H

#include <stdint.h>

#include "engine/eloop.h"
#include "state/ledger.h"

/* how long a command waits, on its way out, for its changes to be written
 * (the writer then finishes, or gives up, on its own) */
#define SAVE_PATIENCE_MS 3000

/* Writes what waits, after any writer already at work, turning loop until
 * it is written or patience_ms passed. SIGCHLD must be registered on the
 * loop, to wake it when the writer ends. When fork fails, writes in this
 * process. */
void save_and_wait(struct eloop *loop, struct ledger *ledger,
		   int64_t patience_ms);

#endif
