/* gateway.h - find the gateway to talk to when the user names none: the
 * next hop of the route the kernel would use for internet traffic. One
 * implementation per OS family (gateway_linux.c, gateway_other.c). */
#ifndef NATPMP_GATEWAY_H
#define NATPMP_GATEWAY_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

/* Fills gateway (port 5351). Returns 0, or -1 with one line in error. */
int gateway_discover(struct sockaddr_in *gateway, char *error, size_t size);

/* A descriptor that becomes readable when the routing table changes, so a
 * long-running client notices a new gateway; -1 where not supported. */
int gateway_watch_open(void);
/* Empties the descriptor after it became readable. */
void gateway_watch_drain(int fd);

#endif
