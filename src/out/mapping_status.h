/* mapping_status.h - one mapping of a running renew-loop as `natpmp
 * status` shows it: what renew-loop publishes in its live-state file, and
 * the two printers of a status line (print_status.c). */
#ifndef NATPMP_MAPPING_STATUS_H
#define NATPMP_MAPPING_STATUS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/ip_address.h"
#include "core/port_mapping.h"
#include "core/result.h"

enum mapping_condition {
	CONDITION_WAITING, /* never granted yet: being asked for */
	CONDITION_ACTIVE,  /* granted, and the gateway is in reach */
	CONDITION_LOST,	   /* granted once, no more (ran out, ended, the
			      network moved, or the gateway is out of reach) */
};

struct mapping_status {
	long pid; /* of the renew-loop */
	int family;
	unsigned transport;
	struct ip_address internal_address; /* unset while unknown */
	uint16_t internal_port;
	struct ip_address external_address; /* unset while unknown */
	uint16_t external_port;		    /* 0 while unknown */
	enum mapping_condition condition;
	uint32_t lifetime; /* the last grant's, 0 if none */
	/* on the loop's clock (clock_now_ms), 0 when not known: the next
	 * request (renewal or attempt) and the grant's end */
	int64_t next_ms;
	int64_t expires_ms;
	bool gateway_known;
	struct ip_endpoint gateway;
	enum protocol_id via;
	/* why the gateway is out of reach, "" while it is not */
	char problem[RESULT_MESSAGE_SIZE];
};

const char *mapping_condition_name(enum mapping_condition condition);

/* A line for people, times counted from now_ms:
 * "udp 45.77.71.2:51413 -> 10.2.0.2:0 active, renewal in 23s, gateway
 * 10.2.0.1 (nat-pmp)". */
void print_status_text(FILE *out, const struct mapping_status *s,
		       int64_t now_ms);
/* One JSON object on one line, with every key, null where unknown. */
void print_status_json(FILE *out, const struct mapping_status *s,
		       int64_t now_ms);

#endif
