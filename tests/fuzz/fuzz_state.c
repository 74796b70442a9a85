/* fuzz_state.c - libFuzzer target for the state file's parser: whatever it
 * accepts must format back to a text that parses to the same state, with
 * no stale or repeated entry, and whatever it refuses must say why on one
 * line with its line number. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/port_mapping.h"
#include "state/state.h"

#include "../unit/state_equal.h"

#define NOW INT64_C(1767225600) /* the seed corpus is dated around it */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Each entry is fresh, and the first found under its own key. */
static void check_entries(const struct state *s)
{
	size_t i;

	if (s->gateway_count > STATE_ENTRIES_MAX ||
	    s->mapping_count > STATE_ENTRIES_MAX)
		__builtin_trap();
	for (i = 0; i < s->gateway_count; i++) {
		const struct state_gateway *g = &s->gateways[i];
		if (NOW - g->seen > STATE_GATEWAY_MAX_AGE ||
		    state_gateway_protocol(s, &g->gateway) != g->protocol ||
		    (g->protocol != PROTOCOL_NATPMP &&
		     g->protocol != PROTOCOL_PCP))
			__builtin_trap();
	}
	for (i = 0; i < s->mapping_count; i++) {
		const struct state_mapping *m = &s->mappings[i];
		if (m->expires <= NOW ||
		    state_find_mapping(s, &m->gateway, m->transport,
				       &m->internal_address,
				       m->internal_port) != m)
			__builtin_trap();
	}
}

/* A refusal is one line naming the line. */
static void check_refusal(int status, const char *error, const struct state *s)
{
	if (status != -1 && status != -2)
		__builtin_trap();
	if (s->gateways || s->mappings || s->gateway_count || s->mapping_count)
		__builtin_trap();
	if (status == -1 &&
	    (strncmp(error, "line ", 5) != 0 || strchr(error, '\n')))
		__builtin_trap();
}

/* Forgetting every mapping leaves none. */
static void check_forget_all(struct state *s)
{
	struct state_change change;
	size_t count = s->mapping_count;

	memset(&change, 0, sizeof(change));
	change.kind = STATE_FORGET_MAPPING;
	while (count--) {
		change.mapping = s->mappings[0];
		if (state_apply(s, &change, 1) < 0)
			return; /* out of memory */
		if (s->mapping_count != count)
			__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state first, second;
	char error[256] = "";
	char *text, *again;
	int status;

	status = state_parse((const char *)data, size, NOW, &first, error,
			     sizeof(error));
	if (status != 0) {
		check_refusal(status, error, &first);
		return 0;
	}
	check_entries(&first);
	text = state_format(&first);
	if (!text) {
		state_free(&first);
		return 0;
	}
	if (strlen(text) > STATE_FILE_MAX ||
	    state_parse(text, strlen(text), NOW, &second, error,
			sizeof(error)) != 0 ||
	    !states_equal(&first, &second))
		__builtin_trap();
	again = state_format(&second);
	if (again && strcmp(again, text) != 0)
		__builtin_trap();
	free(again);
	free(text);
	check_forget_all(&first);
	state_free(&first);
	state_free(&second);
	return 0;
}
