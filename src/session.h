/* session.h - what the one-shot commands share: finding the gateway,
 * running each request on the event loop to completion within the
 * command's timeout, printing each result and keeping the first failure's
 * exit status. */
#ifndef NATPMP_SESSION_H
#define NATPMP_SESSION_H

#include "cli.h"
#include "client.h"
#include "eloop.h"
#include "gateway.h"
#include "output.h"

struct session {
	struct eloop loop;
	struct client client;
	struct output output;
	int64_t deadline_ms; /* --timeout for the whole command */
	int exit_status;     /* the first failure's, or EXIT_OK */
	/* once the gateway went silent, later requests fail at once */
	bool silenced;
	struct result silence;
	bool done;
};

/* Returns 0, or an exit status after reporting why it could not start. */
int session_open(struct session *session, const struct invocation *invocation);
/* Runs request to completion and fills *result. */
void session_run(struct session *session, const struct request *request,
		 struct result *result);
/* Prints a result and records its exit status if it is the first failure. */
void session_report(struct session *session, const struct result *result);
void session_close(struct session *session);

/* The gateway named by the user, or else found from the routing table,
 * with the way to it. Returns 0, or -1 with *failure filled. */
int session_find_gateway(const struct invocation *invocation,
			 struct ip_endpoint *gateway,
			 struct gateway_route *route, struct result *failure);

#endif
