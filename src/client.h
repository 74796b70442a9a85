/* client.h - NAT-PMP operations on one gateway: ask the external address,
 * create, renew or delete a mapping. Each fills a struct result, and every
 * reply feeds the gateway's epoch to the restart detector. */
#ifndef NATPMP_CLIENT_H
#define NATPMP_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "epoch.h"
#include "exchange.h"
#include "result.h"

struct client {
	struct exchange exchange;
	struct epoch_tracker epoch;
	bool gateway_reset; /* an epoch showed a restart; the caller clears it */
	bool external_address_known;
	struct in_addr external_address; /* from the last address reply */
	int64_t timeout_ms;		 /* --timeout, for messages; -1 none */
	/* why the gateway went silent, repeated for requests not sent after */
	struct result silence;
};

/* Opens the exchange; on failure fills *failure and returns -1. */
int client_open(struct client *client, const struct sockaddr_in *gateway,
		struct result *failure);
void client_close(struct client *client);

void client_get_address(struct client *client, struct result *result);

/* Creates or renews a mapping (lifetime > 0) or deletes it (lifetime 0;
 * internal_port 0 as well deletes all of this host's mappings).
 * protocol is PROTOCOL_UDP or PROTOCOL_TCP. */
void client_map(struct client *client, unsigned protocol,
		uint16_t internal_port, uint16_t suggested_external_port,
		uint32_t lifetime, struct result *result);

#endif
