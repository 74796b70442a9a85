/* state_equal.h - whether two parsed states hold the same entries, field
 * by field and in order (scopes and nonces included): for the state file's
 * unit tests and its fuzz target. */
#ifndef NATPMP_TEST_STATE_EQUAL_H
#define NATPMP_TEST_STATE_EQUAL_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "state/state.h"

static inline bool gateways_equal(const struct state_gateway *a,
				  const struct state_gateway *b)
{
	return ip_endpoint_equal(&a->gateway, &b->gateway) &&
	       a->gateway.address.scope == b->gateway.address.scope &&
	       a->protocol == b->protocol && a->seen == b->seen;
}

static inline bool mappings_equal(const struct state_mapping *a,
				  const struct state_mapping *b)
{
	return ip_endpoint_equal(&a->gateway, &b->gateway) &&
	       a->gateway.address.scope == b->gateway.address.scope &&
	       a->transport == b->transport &&
	       ip_address_equal(&a->internal_address, &b->internal_address) &&
	       a->internal_address.scope == b->internal_address.scope &&
	       a->internal_port == b->internal_port &&
	       a->has_nonce == b->has_nonce &&
	       memcmp(a->nonce, b->nonce, NONCE_SIZE) == 0 &&
	       a->expires == b->expires;
}

static inline bool states_equal(const struct state *a, const struct state *b)
{
	size_t i;

	if (a->gateway_count != b->gateway_count ||
	    a->mapping_count != b->mapping_count)
		return false;
	for (i = 0; i < a->gateway_count; i++)
		if (!gateways_equal(&a->gateways[i], &b->gateways[i]))
			return false;
	for (i = 0; i < a->mapping_count; i++)
		if (!mappings_equal(&a->mappings[i], &b->mappings[i]))
			return false;
	return true;
}

#endif
