/* state.c - the state in memory: where it is kept, its lookups, and the
 * changes applied to it (the text is state_text.c's, the file
 * state_file.c's). */
#include "state/state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- the directory --- */

static bool is_set(const char *value)
{
	return value && *value;
}

/* base + suffix without the base's trailing slashes (but "/" stays). */
static char *directory_path(const char *base, size_t base_length,
			    const char *suffix)
{
	size_t size;
	char *path;

	while (base_length > 1 && base[base_length - 1] == '/')
		base_length--;
	if (base_length == 1 && *suffix == '/')
		base_length = 0;
	size = base_length + strlen(suffix) + 1;
	path = malloc(size);
	if (path)
		snprintf(path, size, "%.*s%s", (int)base_length, base, suffix);
	return path;
}

char *state_directory(const char *natpmp_state_dir,
		      const char *systemd_state_directory,
		      const char *xdg_state_home, const char *home)
{
	if (is_set(natpmp_state_dir) && natpmp_state_dir[0] == '/')
		return directory_path(natpmp_state_dir,
				      strlen(natpmp_state_dir), "");
	if (is_set(systemd_state_directory) &&
	    systemd_state_directory[0] == '/')
		return directory_path(systemd_state_directory,
				      strcspn(systemd_state_directory, ":"),
				      "");
	if (is_set(xdg_state_home) && xdg_state_home[0] == '/')
		return directory_path(xdg_state_home, strlen(xdg_state_home),
				      "/natpmp");
	if (is_set(home) && home[0] == '/')
		return directory_path(home, strlen(home),
				      "/.local/state/natpmp");
	return NULL;
}

/* --- keys and lookups --- */

static bool mapping_key_equal(const struct state_mapping *m,
			      const struct ip_endpoint *gateway,
			      unsigned transport,
			      const struct ip_address *internal_address,
			      uint16_t internal_port)
{
	return m->transport == transport && m->internal_port == internal_port &&
	       ip_endpoint_equal(&m->gateway, gateway) &&
	       ip_address_equal(&m->internal_address, internal_address);
}

static struct state_gateway *find_gateway(const struct state *state,
					  const struct ip_endpoint *gateway)
{
	size_t i;

	for (i = 0; i < state->gateway_count; i++)
		if (ip_endpoint_equal(&state->gateways[i].gateway, gateway))
			return &state->gateways[i];
	return NULL;
}

static struct state_mapping *find_mapping(const struct state *state,
					  const struct state_mapping *key)
{
	size_t i;

	for (i = 0; i < state->mapping_count; i++)
		if (mapping_key_equal(&state->mappings[i], &key->gateway,
				      key->transport, &key->internal_address,
				      key->internal_port))
			return &state->mappings[i];
	return NULL;
}

enum protocol_id state_gateway_protocol(const struct state *state,
					const struct ip_endpoint *gateway)
{
	const struct state_gateway *g = find_gateway(state, gateway);

	return g ? g->protocol : PROTOCOL_NONE;
}

const struct state_gateway *state_find_gateway(
	const struct state *state, const struct ip_endpoint *gateway)
{
	return find_gateway(state, gateway);
}

const struct state_mapping *state_find_mapping(
	const struct state *state, const struct ip_endpoint *gateway,
	unsigned transport, const struct ip_address *internal_address,
	uint16_t internal_port)
{
	size_t i;

	for (i = 0; i < state->mapping_count; i++)
		if (mapping_key_equal(&state->mappings[i], gateway, transport,
				      internal_address, internal_port))
			return &state->mappings[i];
	return NULL;
}

void state_free(struct state *state)
{
	free(state->gateways);
	free(state->mappings);
	memset(state, 0, sizeof(*state));
}

static bool gateway_is_stale(const struct state_gateway *g, int64_t now)
{
	/* seen >= 0, so now - seen cannot overflow */
	return g->seen >= 0 && now > g->seen &&
	       now - g->seen > STATE_GATEWAY_MAX_AGE;
}

/* Keeps the order of what remains, so that the file stays stable. */
void state_drop_stale(struct state *state, int64_t now)
{
	size_t i, kept = 0;

	for (i = 0; i < state->gateway_count; i++)
		if (!gateway_is_stale(&state->gateways[i], now))
			state->gateways[kept++] = state->gateways[i];
	state->gateway_count = kept;
	kept = 0;
	for (i = 0; i < state->mapping_count; i++)
		if (state->mappings[i].expires > now)
			state->mappings[kept++] = state->mappings[i];
	state->mapping_count = kept;
}

/* --- changes --- */

/* The address as parsing it back would give: no stray scope or bytes. */
static bool normalise_address(const struct ip_address *in,
			      struct ip_address *out)
{
	if (in->family == AF_INET)
		ip_address_set_v4(out, ip_address_v4(in));
	else if (in->family == AF_INET6)
		ip_address_set_v6(out, in->bytes, in->scope);
	else
		return false;
	return true;
}

static bool normalise_gateway(const struct state_gateway *in,
			      struct state_gateway *out)
{
	memset(out, 0, sizeof(*out));
	out->gateway.port = in->gateway.port;
	out->protocol = in->protocol;
	out->seen = in->seen;
	return normalise_address(&in->gateway.address, &out->gateway.address) &&
	       in->gateway.port != 0 && in->seen >= 0 &&
	       (in->protocol == PROTOCOL_NATPMP ||
		in->protocol == PROTOCOL_PCP);
}

/* Only the key is checked when key_only (for forgetting, where internal
 * port 0 stands for every port). */
static bool normalise_mapping(const struct state_mapping *in,
			      struct state_mapping *out, bool key_only)
{
	memset(out, 0, sizeof(*out));
	out->gateway.port = in->gateway.port;
	out->transport = in->transport;
	out->internal_port = in->internal_port;
	out->has_nonce = in->has_nonce;
	/* no nonce is all zero, so that equal entries compare equal */
	if (in->has_nonce)
		memcpy(out->nonce, in->nonce, sizeof(out->nonce));
	out->expires = in->expires;
	return normalise_address(&in->gateway.address, &out->gateway.address) &&
	       normalise_address(&in->internal_address,
				 &out->internal_address) &&
	       in->gateway.port != 0 && (key_only || in->internal_port != 0) &&
	       (in->transport == TRANSPORT_UDP ||
		in->transport == TRANSPORT_TCP) &&
	       (key_only || in->expires >= 0);
}

/* The arrays state_apply works on: a copy, with room for every entry
 * the changes could add. */
struct workspace {
	struct state state;
	size_t gateway_room, mapping_room;
};

static int copy_entries(void **copy, const void *entries, size_t count,
			size_t room, size_t entry_size)
{
	/* never NULL, even with no room: fewer cases to think about */
	*copy = malloc((room ? room : 1) * entry_size);
	if (!*copy)
		return -1;
	if (count)
		memcpy(*copy, entries, count * entry_size);
	return 0;
}

static size_t room_for(size_t count, size_t additions)
{
	if (count >= STATE_ENTRIES_MAX)
		return count;
	return additions > STATE_ENTRIES_MAX - count ? STATE_ENTRIES_MAX
						     : count + additions;
}

static int workspace_init(struct workspace *w, const struct state *state,
			  const struct state_change *changes, size_t count)
{
	size_t gateways = 0, mappings = 0, i;

	for (i = 0; i < count; i++) {
		gateways += changes[i].kind == STATE_REMEMBER_GATEWAY;
		mappings += changes[i].kind == STATE_REMEMBER_MAPPING;
	}
	memset(w, 0, sizeof(*w));
	w->gateway_room = room_for(state->gateway_count, gateways);
	w->mapping_room = room_for(state->mapping_count, mappings);
	w->state.gateway_count = state->gateway_count;
	w->state.mapping_count = state->mapping_count;
	if (copy_entries((void **)&w->state.gateways, state->gateways,
			 state->gateway_count, w->gateway_room,
			 sizeof(*state->gateways)) < 0 ||
	    copy_entries((void **)&w->state.mappings, state->mappings,
			 state->mapping_count, w->mapping_room,
			 sizeof(*state->mappings)) < 0) {
		state_free(&w->state);
		return -1;
	}
	return 0;
}

static int remember_gateway(struct workspace *w,
			    const struct state_gateway *change)
{
	struct state *s = &w->state;
	struct state_gateway g, *old;

	if (!normalise_gateway(change, &g))
		return -1;
	old = find_gateway(s, &g.gateway);
	if (old)
		*old = g;
	else if (s->gateway_count < w->gateway_room)
		s->gateways[s->gateway_count++] = g;
	else
		return -1;
	return 0;
}

static int remember_mapping(struct workspace *w,
			    const struct state_mapping *change)
{
	struct state *s = &w->state;
	struct state_mapping m, *old;

	if (!normalise_mapping(change, &m, false))
		return -1;
	old = find_mapping(s, &m);
	if (old)
		*old = m;
	else if (s->mapping_count < w->mapping_room)
		s->mappings[s->mapping_count++] = m;
	else
		return -1;
	return 0;
}

/* Whether forgetting key forgets m: its own entry, or with internal port
 * 0 every port of its gateway, transport and internal address. */
static bool forgets(const struct state_mapping *key,
		    const struct state_mapping *m)
{
	return mapping_key_equal(
		m, &key->gateway, key->transport, &key->internal_address,
		key->internal_port ? key->internal_port : m->internal_port);
}

bool state_forgets_any(const struct state *state,
		       const struct state_mapping *change)
{
	struct state_mapping key;
	size_t i;

	if (!normalise_mapping(change, &key, true))
		return false;
	for (i = 0; i < state->mapping_count; i++)
		if (forgets(&key, &state->mappings[i]))
			return true;
	return false;
}

/* Keeps the order of what remains, so that the file stays stable. */
static int forget_mapping(struct workspace *w,
			  const struct state_mapping *change)
{
	struct state *s = &w->state;
	struct state_mapping key;
	size_t i, kept = 0;

	if (!normalise_mapping(change, &key, true))
		return -1;
	for (i = 0; i < s->mapping_count; i++)
		if (!forgets(&key, &s->mappings[i]))
			s->mappings[kept++] = s->mappings[i];
	s->mapping_count = kept;
	return 0;
}

static int apply_change(struct workspace *w, const struct state_change *c)
{
	switch (c->kind) {
	case STATE_REMEMBER_GATEWAY: return remember_gateway(w, &c->gateway);
	case STATE_REMEMBER_MAPPING: return remember_mapping(w, &c->mapping);
	case STATE_FORGET_MAPPING: return forget_mapping(w, &c->mapping);
	}
	return -1;
}

int state_apply(struct state *state, const struct state_change *changes,
		size_t count)
{
	struct workspace w;
	size_t i;

	if (workspace_init(&w, state, changes, count) < 0)
		return -1;
	for (i = 0; i < count; i++) {
		if (apply_change(&w, &changes[i]) < 0) {
			state_free(&w.state);
			return -1;
		}
	}
	state_free(state);
	*state = w.state;
	return 0;
}

bool state_changes_durable(const struct state_change *changes, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		if (changes[i].kind == STATE_REMEMBER_GATEWAY ||
		    (changes[i].kind == STATE_REMEMBER_MAPPING &&
		     changes[i].mapping.has_nonce))
			return true;
	return false;
}
