/* state_batch.c - state changes kept in a growing array, then written to
 * the state file in one state_commit. */
#include "state/state_batch.h"

#include <stdlib.h>
#include <time.h>

#include "core/diag.h"

void state_batch_add(struct state_batch *batch,
		     const struct state_change *change)
{
	if (batch->count == batch->capacity) {
		size_t capacity = batch->capacity ? 2 * batch->capacity : 8;
		struct state_change *grown = realloc(
			batch->changes, capacity * sizeof(*batch->changes));
		if (!grown) {
			if (!batch->lost)
				diag_warning(
					"out of memory: the state directory will not learn of every mapping");
			batch->lost = true;
			return;
		}
		batch->changes = grown;
		batch->capacity = capacity;
	}
	batch->changes[batch->count++] = *change;
}

void state_batch_commit(struct state_batch *batch, const char *directory)
{
	if (directory && batch->count)
		state_commit(directory, time(NULL), batch->changes,
			     batch->count);
	batch->count = 0;
}

void state_batch_free(struct state_batch *batch)
{
	free(batch->changes);
	batch->changes = NULL;
	batch->count = batch->capacity = 0;
}
