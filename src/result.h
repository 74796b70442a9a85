/* result.h - the outcome of one operation (address, one mapping, one
 * deletion, or a renew-loop event): what both printers print. */
#ifndef NATPMP_RESULT_H
#define NATPMP_RESULT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

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
	FAILURE_UNSUPPORTED,	  /* result 1 or 5 */
	FAILURE_NOT_AUTHORIZED,	  /* result 2 */
	FAILURE_NETWORK,	  /* result 3 */
	FAILURE_OUT_OF_RESOURCES, /* result 4 */
	FAILURE_BAD_RESULT,	  /* result outside 0-5 */
	FAILURE_NO_GATEWAY,
	FAILURE_SYSTEM,
};

#define RESULT_MESSAGE_SIZE 256

struct result {
	enum result_kind kind;
	bool gateway_known;
	struct sockaddr_in gateway;
	unsigned protocol; /* PROTOCOL_UDP or PROTOCOL_TCP; map and unmap */
	bool all;	   /* unmap of every mapping of the protocol */
	struct in_addr internal_address;
	uint16_t internal_port;
	bool external_address_known;
	struct in_addr external_address;
	uint16_t external_port;
	uint32_t lifetime;
	bool epoch_known;
	uint32_t epoch;

	enum failure failure;
	char message[RESULT_MESSAGE_SIZE]; /* why it failed, for people */

	/* renew-loop events only: NULL for the one-shot commands */
	const char *event;
	time_t time;
};

int failure_exit_status(enum failure failure);
/* Stable short code for JSON "error". */
const char *failure_code(enum failure failure);

#endif
