/* renew_loop.h - renew-loop: every mapping the options name kept alive,
 * per address family, until a signal or the reader of stdout says stop;
 * then deleted (unless --keep). */
#ifndef NATPMP_RENEW_LOOP_H
#define NATPMP_RENEW_LOOP_H

#include "engine/options.h"

/* Runs until stopped; returns the exit status. */
int renew_loop_run(const struct options *options);

#endif
