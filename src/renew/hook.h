/* hook.h - run the user's --on-change command when a mapping changes,
 * with the facts in the environment only. A hook never blocks the loop;
 * those of one mapping run one at a time, and while one runs, later
 * events wait with the newest state winning; at most HOOK_RUNNING_MAX run
 * at once, the rest in line in the order their events came, and an event
 * whose fork failed waits for the next try, never dropped. Each runs in its own process
 * group, ended (TERM, then KILL) when it outlives --hook-timeout or when
 * natpmp exits. */
#ifndef NATPMP_HOOK_H
#define NATPMP_HOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/ip_address.h"
#include "core/port_mapping.h"
#include "engine/eloop.h"

/* after TERM, a hook has this long before KILL */
#define HOOK_KILL_GRACE_MS 2000
/* how often a told-to-end group whose shell is gone is looked at */
#define HOOK_GROUP_POLL_MS 20
/* hooks running at once at most; the others wait their turn, in order */
#define HOOK_RUNNING_MAX 8
/* when fork fails (a task limit), the hooks waiting are tried again
 * after this */
#define HOOK_FORK_RETRY_MS 1000

struct hook_event {
	const char *event; /* "mapped", "changed", "lost", "renewed" */
	unsigned transport;
	uint16_t internal_port;
	uint16_t external_port;
	struct ip_address external_address; /* unset: unknown */
	struct ip_address internal_address;
	uint32_t lifetime;
	struct ip_endpoint gateway;
	enum protocol_id via;
};

struct hook_runner;

/* One per mapping: the hook running now and the event waiting for it. */
struct hook_lane {
	struct hook_runner *runner;
	pid_t running;	  /* 0: none; also its process group */
	bool leader_gone; /* the shell is reaped; others of its group live */
	bool terminated;  /* TERM sent, KILL due at kill_at_ms */
	int64_t kill_at_ms;
	struct hook_event current;
	bool waiting; /* next is an event still to run */
	struct hook_event next;
	bool next_is_retry; /* it runs a failed hook again */
	bool queued;	    /* in the runner's line */
	struct eloop_timer timer;
	bool retrying;	/* the running hook is a retry of a failed one */
	bool retry_due; /* the last hook exited non-zero: run it again at
			    the next renewal */
};

struct hook_runner {
	struct eloop *loop;
	const char *command; /* NULL: no hook */
	int64_t timeout_ms;
	struct hook_lane *lanes;
	size_t lane_count;
	size_t running; /* hooks running now */
	/* the lanes waiting for a turn, in order: a ring of indices */
	size_t *queue;
	size_t queue_first, queued;
	struct eloop_timer fork_timer; /* the next try after fork failed */
	bool fork_warned;	       /* fork failed before: said so */
};

/* Whether command can run at all, checked before the loop starts: when
 * its first word is a plain word (no quotes, variables or other shell
 * syntax) naming no shell builtin, the program it names must exist, be a
 * file and be executable (a path, or a name found in PATH). Returns 0, or
 * -1 with one line in error. What the shell alone can tell is left to
 * it. */
int hook_check(const char *command, char *error, size_t size);

int hook_runner_init(struct hook_runner *runner, struct eloop *loop,
		     const char *command, int64_t timeout_ms,
		     size_t lane_count);
void hook_runner_free(struct hook_runner *runner);

/* Runs the hook for lane's mapping now, or once the running one is done. */
void hook_queue(struct hook_runner *runner, size_t lane,
		const struct hook_event *event);

/* At a renewal: when lane's last hook exited non-zero (the program it
 * tells may not have been running yet), runs it again with the same event
 * name and the renewal's facts. A failure is warned about once, not at
 * every retry. */
void hook_retry(struct hook_runner *runner, size_t lane,
		const struct hook_event *renewal);

/* At a renewal, with --hook-renewals: runs the hook with the renewal's
 * facts (event "renewed"), unless another event of lane's waits (it says
 * more), or a failed hook is due again (then that runs, as hook_retry). */
void hook_renewed(struct hook_runner *runner, size_t lane,
		  const struct hook_event *renewal);

/* Collects finished hooks, reports their exit status, starts the next. */
void hook_reap(struct hook_runner *runner);

/* How many hooks are running. */
size_t hook_running(const struct hook_runner *runner);

/* At exit: forgets waiting events, ends every running hook's process
 * group with TERM, and with KILL after grace_ms, and waits until each
 * group is empty (a script's trap may still tidy up after its shell
 * ended), turning the loop meanwhile (SIGCHLD must be registered on it)
 * for at most twice grace_ms. */
void hook_end_all(struct hook_runner *runner, int64_t grace_ms);

#endif
