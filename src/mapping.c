/* mapping.c - renew-loop's per-mapping schedule and change detection. */
#include "mapping.h"

#include <string.h>

void mapping_init(struct mapping *m, unsigned protocol, uint16_t internal_port,
		  uint16_t suggested_port, uint32_t requested_lifetime,
		  int64_t now_ms)
{
	memset(m, 0, sizeof(*m));
	m->protocol = protocol;
	m->internal_port = internal_port;
	m->suggested_port = suggested_port;
	m->requested_lifetime = requested_lifetime;
	m->renew_at_ms = now_ms;
}

enum mapping_event mapping_granted(struct mapping *m, uint16_t external_port,
				   uint32_t lifetime, bool address_known,
				   struct in_addr address, int64_t now_ms)
{
	enum mapping_event event = MAPPING_RENEWED;

	if (!m->established)
		event = MAPPING_MAPPED;
	else if (external_port != m->external_port ||
		 address_known != m->external_address_known ||
		 (address_known &&
		  address.s_addr != m->external_address.s_addr))
		event = MAPPING_CHANGED;
	else if (lifetime != m->lifetime)
		event = MAPPING_LIFETIME_CHANGED;

	m->established = true;
	m->external_port = external_port;
	m->suggested_port = external_port;
	m->external_address_known = address_known;
	m->external_address = address;
	m->lifetime = lifetime;
	m->failures = 0;
	m->expires_at_ms = now_ms + (int64_t)lifetime * 1000;
	m->renew_at_ms = now_ms + (int64_t)lifetime * 500;
	return event;
}

int64_t mapping_retry_ms(const struct mapping *m)
{
	uint32_t lifetime =
		m->established && m->lifetime < m->requested_lifetime
			? m->lifetime
			: m->requested_lifetime;
	int64_t half = (int64_t)lifetime * 500;

	if (half > MAPPING_RETRY_MAX_MS)
		return MAPPING_RETRY_MAX_MS;
	if (half < MAPPING_RETRY_MIN_MS)
		return MAPPING_RETRY_MIN_MS;
	return half;
}

void mapping_gateway_reset(struct mapping *m, int64_t now_ms, unsigned random)
{
	int64_t window = MAPPING_RESET_SPREAD_MS;

	if (m->established && (m->expires_at_ms - now_ms) / 2 < window)
		window = (m->expires_at_ms - now_ms) / 2;
	if (window < 0)
		window = 0;
	m->renew_at_ms = now_ms + (int64_t)(random % (unsigned)(window + 1));
}

void mapping_failed(struct mapping *m, int64_t now_ms)
{
	m->failures++;
	m->renew_at_ms = now_ms + mapping_retry_ms(m);
}

bool mapping_expire(struct mapping *m, int64_t now_ms)
{
	if (!m->established || now_ms < m->expires_at_ms)
		return false;
	m->established = false;
	return true;
}

bool mapping_address_changed(struct mapping *m, struct in_addr address)
{
	if (!m->established || (m->external_address_known &&
				m->external_address.s_addr == address.s_addr))
		return false;
	m->external_address_known = true;
	m->external_address = address;
	return true;
}

int64_t mapping_next_ms(const struct mapping *m)
{
	if (m->established && m->expires_at_ms < m->renew_at_ms)
		return m->expires_at_ms;
	return m->renew_at_ms;
}
