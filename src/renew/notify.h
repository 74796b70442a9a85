/* notify.h - tell systemd how the service is doing (sd_notify protocol:
 * one datagram to the unix socket named by $NOTIFY_SOCKET), libc only. */
#ifndef NATPMP_NOTIFY_H
#define NATPMP_NOTIFY_H

/* Sends "READY=1", "STATUS=...", "STOPPING=1" and the like; does nothing
 * when not run by systemd. */
void notify_send(const char *message);

#endif
