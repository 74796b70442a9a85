/* result.h - the outcome of one operation (address, one mapping, one
 * deletion, or a renew-loop event) in protocol- and family-neutral terms:
 * what both printers print and what decides the exit status. */
#ifndef NATPMP_RESULT_H
#define NATPMP_RESULT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "core/ip_address.h"
#include "core/port_mapping.h"

enum result_kind {
	RESULT_SETUP, /* finding or reaching the gateway, before any request */
	RESULT_ADDRESS,
	RESULT_MAP,
	RESULT_UNMAP,
	RESULT_GATEWAY, /* renew-loop: the gateway restarted or changed */
};

enum failure {
	FAILURE_NONE,
	FAILURE_TIMEOUT,	  /* no reply in time */
	FAILURE_PORT_UNREACHABLE, /* ICMP port unreachable */
	FAILURE_UNSUPPORTED,	  /* the gateway does not speak this protocol or
				this request */
	FAILURE_NOT_AUTHORIZED,	  /* refused */
	FAILURE_NETWORK,	  /* the gateway has no working uplink yet */
	FAILURE_OUT_OF_RESOURCES, /* no more mappings for now */
	FAILURE_BAD_RESULT,	  /* an unknown result, or nothing granted */
	FAILURE_NO_GATEWAY,
	FAILURE_SYSTEM,
	/* PCP's own (RFC 6887 section 7.4) */
	FAILURE_UNSUPPORTED_OPTION, /* UNSUPP_OPTION */
	FAILURE_MALFORMED,	    /* MALFORMED_REQUEST, MALFORMED_OPTION */
	FAILURE_QUOTA,		    /* USER_EX_QUOTA */
	FAILURE_PORT_UNAVAILABLE,   /* CANNOT_PROVIDE_EXTERNAL */
	FAILURE_ADDRESS_MISMATCH,   /* a NAT between us and the gateway */
	FAILURE_TOO_MANY_PEERS,	    /* EXCESSIVE_REMOTE_PEERS */
	FAILURE_INTERRUPTED,	    /* a signal stopped the command */
};

#define RESULT_MESSAGE_SIZE 384

struct result {
	enum result_kind kind;
	bool gateway_known;
	struct ip_endpoint gateway;
	unsigned transport; /* TRANSPORT_UDP or TRANSPORT_TCP; map and unmap */
	bool all;	    /* unmap of every mapping of the protocol */
	/* all: how many mappings were deleted, -1 if the gateway does not
	 * say (NAT-PMP deletes them with one request) */
	int deleted;
	struct ip_address internal_address;
	uint16_t internal_port;
	/* unset (AF_UNSPEC) while unknown; never 0.0.0.0 */
	struct ip_address external_address;
	uint16_t external_port;
	uint32_t lifetime;
	bool epoch_known;
	uint32_t epoch;

	enum failure failure;
	char message[RESULT_MESSAGE_SIZE]; /* why it failed, for people */

	/* renew-loop events only: NULL for the one-shot commands */
	const char *event;
	time_t time;
	const char *interface; /* gateway-changed: the interface's name */

	/* the protocol that answered, PROTOCOL_NONE if none did */
	enum protocol_id via;
	/* a failure that holds for this long, per the gateway (PCP) */
	uint32_t error_lifetime;
};

int failure_exit_status(enum failure failure);
/* Stable short code for JSON "error". */
const char *failure_code(enum failure failure);
/* Whether the gateway said nothing useful (silence, ICMP), as opposed to
 * an answer that refused. */
bool failure_is_silence(enum failure failure);

#endif
