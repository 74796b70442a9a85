/* session.h - what the one-shot commands share: finding the gateway,
 * opening the client with the command's timeout, printing each result and
 * keeping the first failure's exit status. */
#ifndef NATPMP_SESSION_H
#define NATPMP_SESSION_H

#include "cli.h"
#include "client.h"
#include "output.h"

struct session {
	struct client client;
	struct output output;
	int exit_status; /* the first failure's, or EXIT_OK */
};

/* Returns 0, or an exit status after reporting why it could not start. */
int session_open(struct session *session, const struct invocation *invocation);
/* Prints a result and records its exit status if it is the first failure. */
void session_report(struct session *session, const struct result *result);
void session_close(struct session *session);

/* The gateway named by the user, or else found from the routing table.
 * Returns 0, or -1 with *failure filled. */
int session_find_gateway(const struct invocation *invocation,
			 struct sockaddr_in *gateway, struct result *failure);

#endif
