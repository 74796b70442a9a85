/* signals.h - the signals a long-running natpmp acts on, delivered through
 * a self-pipe so the main loop sleeps in poll() and wakes for them. */
#ifndef NATPMP_SIGNALS_H
#define NATPMP_SIGNALS_H

enum signal_bits {
	SIGNAL_STOP = 1 << 0,  /* SIGINT, SIGTERM */
	SIGNAL_RENEW = 1 << 1, /* SIGHUP */
	SIGNAL_STATE = 1 << 2, /* SIGUSR1 */
	SIGNAL_CHILD = 1 << 3, /* SIGCHLD */
};

/* Installs the handlers; returns the pipe's read end to poll, or -1. */
int signals_open(void);
/* Returns the signals received since the last call, and empties the pipe. */
unsigned signals_take(void);

#endif
