/* announce.h - hear the gateway's announcements: address replies it
 * multicasts to 224.0.0.1:5350 after a restart or an address change
 * (RFC 6886 section 3.2.1). */
#ifndef NATPMP_ANNOUNCE_H
#define NATPMP_ANNOUNCE_H

#include <netinet/in.h>

#include "wire.h"

enum announce_status {
	ANNOUNCE_NONE,	  /* nothing more queued */
	ANNOUNCE_IGNORED, /* not from our gateway, or not an announcement */
	ANNOUNCE_HEARD,
};

/* Binds 224.0.0.1:5350, shared with other listeners on the host, and joins
 * the group on the interface that owns local. Returns the fd, or -1. */
int announce_open(struct in_addr local);

/* Reads one queued datagram; HEARD fills reply when it is an announcement
 * from gateway. */
enum announce_status announce_receive(int fd, struct in_addr gateway,
				      struct natpmp_reply *reply);

#endif
