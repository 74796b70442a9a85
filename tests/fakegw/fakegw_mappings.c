/* fakegw_mappings.c - the fake gateway's mapping table, shared by NAT-PMP
 * and PCP: keyed by client address, protocol and internal port. */
#include "fakegw.h"

#include <string.h>

const char *protocol_name(uint8_t protocol)
{
	static char text[8];

	if (protocol == PROTOCOL_TCP)
		return "tcp";
	if (protocol == PROTOCOL_UDP)
		return "udp";
	snprintf(text, sizeof(text), "%u", (unsigned)protocol);
	return text;
}

/* Expired mappings are let go on the way. */
struct mapping *mapping_find(const uint8_t client[16], uint8_t protocol,
			     uint16_t internal)
{
	int64_t now = now_ms();
	size_t i;

	for (i = 0; i < MAX_MAPPINGS; i++) {
		struct mapping *m = &gw.mappings[i];
		if (m->used && m->expires_ms <= now)
			m->used = false;
		if (m->used && memcmp(m->client, client, 16) == 0 &&
		    m->protocol == protocol && m->internal == internal)
			return m;
	}
	return NULL;
}

/* A new mapping in the first free slot, or NULL when the table is full. */
struct mapping *mapping_new(const uint8_t client[16], uint8_t protocol,
			    uint16_t internal, enum made_by made_by)
{
	struct mapping *m;
	size_t i;

	for (i = 0; i < MAX_MAPPINGS && gw.mappings[i].used; i++)
		;
	if (i == MAX_MAPPINGS)
		return NULL;
	m = &gw.mappings[i];
	memset(m, 0, sizeof(*m));
	m->used = true;
	memcpy(m->client, client, 16);
	m->protocol = protocol;
	m->internal = internal;
	m->made_by = made_by;
	return m;
}

void mapping_delete(struct mapping *m)
{
	m->used = false;
	log_event("deleted proto=%s client=%s internal=%u",
		  protocol_name(m->protocol), address_text(m->client),
		  (unsigned)m->internal);
}

/* Every mapping of a client for a protocol, or only those holding nonce
 * when it is not NULL; returns how many went. */
unsigned mappings_delete_all(const uint8_t client[16], uint8_t protocol,
			     const uint8_t *nonce)
{
	unsigned count = 0;
	size_t i;

	for (i = 0; i < MAX_MAPPINGS; i++) {
		struct mapping *m = &gw.mappings[i];
		if (!m->used || memcmp(m->client, client, 16) != 0 ||
		    m->protocol != protocol)
			continue;
		if (nonce &&
		    (!m->has_nonce || memcmp(m->nonce, nonce, NONCE_SIZE) != 0))
			continue;
		m->used = false;
		count++;
	}
	return count;
}

/* Pinholes translate nothing, so they never hold an external port. */
bool port_taken(uint8_t protocol, uint16_t port)
{
	int64_t now = now_ms();
	size_t i;

	for (i = 0; i < MAX_MAPPINGS; i++) {
		const struct mapping *m = &gw.mappings[i];
		if (m->used && !m->pinhole && m->protocol == protocol &&
		    m->external == port && m->expires_ms > now)
			return true;
	}
	return false;
}

uint16_t random_free_port(uint8_t protocol)
{
	uint16_t port;

	do
		port = (uint16_t)(1024 + rng_below(65536 - 1024));
	while (port_taken(protocol, port));
	return port;
}

static void log_mapping(const struct mapping *m, int64_t now)
{
	char nonce[2 * NONCE_SIZE + 1] = "";
	size_t i;

	for (i = 0; m->has_nonce && i < NONCE_SIZE; i++)
		snprintf(nonce + 2 * i, 3, "%02x", (unsigned)m->nonce[i]);
	log_event(
		"mapping proto=%s client=%s internal=%u external=%u expires_in=%lld by=%s%s%s",
		protocol_name(m->protocol), address_text(m->client),
		(unsigned)m->internal, (unsigned)m->external,
		(long long)((m->expires_ms - now) / 1000),
		m->made_by == MADE_BY_PCP ? "pcp" : "nat-pmp",
		m->has_nonce ? " nonce=" : "", nonce);
}

/* Counts the live mappings (made_by -1: of either protocol), logging
 * each if asked. */
unsigned mappings_list(bool log_them, int made_by)
{
	int64_t now = now_ms();
	unsigned count = 0;
	size_t i;

	for (i = 0; i < MAX_MAPPINGS; i++) {
		const struct mapping *m = &gw.mappings[i];
		if (!m->used || m->expires_ms <= now ||
		    (made_by >= 0 && (int)m->made_by != made_by))
			continue;
		count++;
		if (log_them)
			log_mapping(m, now);
	}
	return count;
}
