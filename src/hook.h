/* hook.h - run the user's --on-change command when a mapping changes, with
 * the facts in the environment only. Hooks never block the caller; those
 * of one mapping run one at a time, in order. */
#ifndef NATPMP_HOOK_H
#define NATPMP_HOOK_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define HOOK_QUEUE_MAX 8

struct hook_event {
	const char *event; /* "mapped", "changed", "lost" */
	unsigned protocol;
	uint16_t internal_port;
	uint16_t external_port;
	bool external_address_known;
	struct in_addr external_address;
	uint32_t lifetime;
	struct in_addr gateway;
};

/* One per mapping: the hook running now and those waiting behind it. */
struct hook_lane {
	pid_t running; /* 0: none */
	struct hook_event current;
	struct hook_event queue[HOOK_QUEUE_MAX];
	size_t queued;
};

struct hook_runner {
	const char *command; /* NULL: no hook */
	struct hook_lane *lanes;
	size_t lane_count;
};

int hook_runner_init(struct hook_runner *runner, const char *command,
		     size_t lane_count);
void hook_runner_free(struct hook_runner *runner);

/* Runs the hook for lane's mapping now, or after the ones before it. */
void hook_queue(struct hook_runner *runner, size_t lane,
		const struct hook_event *event);

/* Collects finished hooks, reports their exit status, starts the next. */
void hook_reap(struct hook_runner *runner);

#endif
