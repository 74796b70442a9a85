/* hook.c - `/bin/sh -c CMD` with NATPMP_* variables. Data from the network
 * only ever reaches the hook through its environment, never its command
 * text; its stdout goes to our stderr so the result stream stays clean. */
#include "hook.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "diag.h"

int hook_runner_init(struct hook_runner *runner, const char *command,
		     size_t lane_count)
{
	runner->command = command;
	runner->lane_count = lane_count;
	runner->lanes =
		calloc(lane_count ? lane_count : 1, sizeof(*runner->lanes));
	return runner->lanes ? 0 : -1;
}

void hook_runner_free(struct hook_runner *runner)
{
	free(runner->lanes);
	runner->lanes = NULL;
}

static void set_number(const char *name, unsigned long value)
{
	char text[16];

	snprintf(text, sizeof(text), "%lu", value);
	setenv(name, text, 1);
}

static void set_address(const char *name, bool known, struct in_addr address)
{
	char text[INET_ADDRSTRLEN] = "";

	if (known)
		inet_ntop(AF_INET, &address, text, sizeof(text));
	setenv(name, text, 1);
}

/* In the child: the environment, plain signal handling, then the shell. */
static void exec_hook(const char *command, const struct hook_event *e)
{
	sigset_t none;
	int null_fd;

	signal(SIGPIPE, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setenv("NATPMP_EVENT", e->event, 1);
	setenv("NATPMP_PROTOCOL", e->protocol == PROTOCOL_UDP ? "udp" : "tcp",
	       1);
	set_number("NATPMP_INTERNAL_PORT", e->internal_port);
	set_number("NATPMP_EXTERNAL_PORT", e->external_port);
	set_address("NATPMP_EXTERNAL_ADDRESS", e->external_address_known,
		    e->external_address);
	set_number("NATPMP_LIFETIME", e->lifetime);
	set_address("NATPMP_GATEWAY", true, e->gateway);
	null_fd = open("/dev/null", O_RDONLY);
	if (null_fd >= 0) {
		dup2(null_fd, STDIN_FILENO);
		close(null_fd);
	}
	dup2(STDERR_FILENO, STDOUT_FILENO);
	execl("/bin/sh", "sh", "-c", command, (char *)NULL);
	_exit(127);
}

static void start(struct hook_runner *runner, struct hook_lane *lane)
{
	pid_t pid;

	lane->current = lane->queue[0];
	memmove(lane->queue, lane->queue + 1,
		(lane->queued - 1) * sizeof(lane->queue[0]));
	lane->queued--;
	fflush(NULL);
	pid = fork();
	if (pid == 0)
		exec_hook(runner->command, &lane->current);
	if (pid < 0) {
		diag_error("cannot run the --on-change hook: %s",
			   strerror(errno));
		return;
	}
	lane->running = pid;
	diag_verbose("hook started for %s %u/%s (pid %ld)", lane->current.event,
		     (unsigned)lane->current.internal_port,
		     lane->current.protocol == PROTOCOL_UDP ? "udp" : "tcp",
		     (long)pid);
}

void hook_queue(struct hook_runner *runner, size_t index,
		const struct hook_event *event)
{
	struct hook_lane *lane;

	if (!runner->command || index >= runner->lane_count)
		return;
	lane = &runner->lanes[index];
	if (lane->queued == HOOK_QUEUE_MAX) {
		/* keep the order and the newest fact: drop the oldest waiting */
		diag_warning(
			"--on-change hook is slow: skipping a queued %s event",
			lane->queue[0].event);
		memmove(lane->queue, lane->queue + 1,
			(HOOK_QUEUE_MAX - 1) * sizeof(lane->queue[0]));
		lane->queued--;
	}
	lane->queue[lane->queued++] = *event;
	if (!lane->running)
		start(runner, lane);
}

static void report(const struct hook_lane *lane, int status)
{
	const struct hook_event *e = &lane->current;
	const char *protocol = e->protocol == PROTOCOL_UDP ? "udp" : "tcp";

	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		diag_verbose("hook for %s %u/%s exited with status 0", e->event,
			     (unsigned)e->internal_port, protocol);
	else if (WIFEXITED(status))
		diag_warning(
			"--on-change hook for %s %u/%s exited with status %d",
			e->event, (unsigned)e->internal_port, protocol,
			WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		diag_warning(
			"--on-change hook for %s %u/%s was killed by signal %d",
			e->event, (unsigned)e->internal_port, protocol,
			WTERMSIG(status));
}

void hook_reap(struct hook_runner *runner)
{
	size_t i;

	for (i = 0; i < runner->lane_count; i++) {
		struct hook_lane *lane = &runner->lanes[i];
		int status;
		pid_t pid;

		if (!lane->running)
			continue;
		pid = waitpid(lane->running, &status, WNOHANG);
		if (pid == 0 || (pid < 0 && errno == EINTR))
			continue;
		if (pid > 0)
			report(lane, status);
		lane->running = 0;
		if (lane->queued)
			start(runner, lane);
	}
}
