/* state_batch.h - state changes gathered to be written to the state file
 * together: one read-modify-write of the file for many mappings, where one
 * per mapping would rewrite the whole file each time. */
#ifndef NATPMP_STATE_BATCH_H
#define NATPMP_STATE_BATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "state/state.h"

struct state_batch {
	struct state_change *changes;
	size_t count;
	size_t capacity;
	bool lost; /* a change was dropped for want of memory (warned) */
};

/* Keeps change for the next state_batch_commit. Out of memory, drops it
 * with a warning, once. */
void state_batch_add(struct state_batch *batch,
		     const struct state_change *change);
/* Writes the changes kept, if any, to the state file in directory
 * (state_commit), and empties the batch. */
void state_batch_commit(struct state_batch *batch, const char *directory);
void state_batch_free(struct state_batch *batch);

#endif
