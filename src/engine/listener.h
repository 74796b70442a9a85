/* listener.h - where a long-running natpmp hears its gateway announce a
 * restart or a new address: port 5350 of the all-hosts group, shared with
 * the host's other clients. */
#ifndef NATPMP_LISTENER_H
#define NATPMP_LISTENER_H

#include "core/ip_address.h"
#include "proto/announce.h"

enum announce_status {
	ANNOUNCE_NONE,	  /* nothing more queued */
	ANNOUNCE_IGNORED, /* not from our gateway, or not an announcement */
	ANNOUNCE_HEARD,
};

/* Binds the all-hosts group of family on port 5350, shared with other
 * listeners on the host, and joins it on the interface (index) requests go
 * out on. Returns the descriptor (non-blocking), or -1 with errno. */
int announce_open(int family, unsigned interface);

/* Reads one queued datagram; HEARD fills *announcement when it is one
 * from the gateway's address (over IPv6, or a link-local address on its
 * link) and port, that came in on interface (its index, 0 if unknown):
 * only a reason to ask the gateway itself. */
enum announce_status announce_receive(int fd, const struct ip_endpoint *gateway,
				      unsigned interface,
				      struct announcement *announcement);

#endif
