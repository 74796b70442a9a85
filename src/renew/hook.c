/* hook.c - `/bin/sh -c CMD` with NATPMP_* variables, in a process group
 * of its own. Data from the network only ever reaches the hook through its
 * environment, never its command text; its stdout goes to our stderr so
 * the result stream stays clean. */
#include "renew/hook.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/diag.h"

/* room for a path as hooks are named */
#define PATH_MAX_TEXT 4096

static void on_timer(void *context);
static void on_fork_timer(void *context);
static bool reap_lane(struct hook_lane *lane);
static void end_lane(struct hook_lane *lane);

/* where the shipped hooks are: the package's prefix, and cmake's default */
#define HOOKS_PACKAGED "/usr/share/natpmp/hooks/"
#define HOOKS_LOCAL "/usr/local/share/natpmp/hooks/"

/* sh's reserved words and builtins (POSIX, and dash's): no file to find */
static const char *const shell_words[] = {
	"!",	    "{",     "}",      "case",	  "do",	     "done",
	"elif",	    "else",  "esac",   "fi",	  "for",     "if",
	"in",	    "then",  "until",  "while",	  ".",	     ":",
	"[",	    "alias", "bg",     "break",	  "cd",	     "command",
	"continue", "echo",  "eval",   "exec",	  "exit",    "export",
	"false",    "fc",    "fg",     "getopts", "hash",    "jobs",
	"kill",	    "local", "printf", "pwd",	  "read",    "readonly",
	"return",   "set",   "shift",  "test",	  "times",   "trap",
	"true",	    "type",  "ulimit", "umask",	  "unalias", "unset",
	"wait",
};

static bool is_shell_word(const char *word)
{
	size_t i;

	for (i = 0; i < sizeof(shell_words) / sizeof(shell_words[0]); i++)
		if (strcmp(word, shell_words[i]) == 0)
			return true;
	return false;
}

/* Why path cannot be run, or NULL when it can. */
static const char *not_runnable(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return strerror(errno);
	if (S_ISDIR(st.st_mode))
		return "it is a directory";
	if (!S_ISREG(st.st_mode))
		return "it is not a file";
	if (access(path, X_OK) < 0)
		return "it is not executable (chmod +x it, or run it with sh PATH)";
	return NULL;
}

/* The shipped hook of the other install, when path names one that is not
 * here but is there. */
static const char *other_install(const char *path, char *other, size_t size)
{
	const char *name = NULL, *there = NULL;

	if (strncmp(path, HOOKS_PACKAGED, strlen(HOOKS_PACKAGED)) == 0) {
		name = path + strlen(HOOKS_PACKAGED);
		there = HOOKS_LOCAL;
	} else if (strncmp(path, HOOKS_LOCAL, strlen(HOOKS_LOCAL)) == 0) {
		name = path + strlen(HOOKS_LOCAL);
		there = HOOKS_PACKAGED;
	}
	if (!name || snprintf(other, size, "%s%s", there, name) >= (int)size)
		return NULL;
	return not_runnable(other) ? NULL : other;
}

static int check_path(const char *path, char *error, size_t size)
{
	const char *why = not_runnable(path);
	char other[PATH_MAX_TEXT];

	if (!why)
		return 0;
	if (other_install(path, other, sizeof(other)))
		snprintf(error, size,
			 "--on-change %s: %s; this natpmp's hooks are in %.*s",
			 path, why, (int)(strrchr(other, '/') - other), other);
	else if (strncmp(path, HOOKS_PACKAGED, strlen(HOOKS_PACKAGED)) == 0 ||
		 strncmp(path, HOOKS_LOCAL, strlen(HOOKS_LOCAL)) == 0)
		snprintf(
			error, size,
			"--on-change %s: %s (natpmp's hooks are in /usr/share/natpmp/hooks from a package, /usr/local/share/natpmp/hooks from cmake --install)",
			path, why);
	else
		snprintf(error, size, "--on-change %s: %s", path, why);
	return -1;
}

/* A name without '/', looked up in PATH as sh looks it up (an empty
 * entry is the current directory). */
static int check_name(const char *name, char *error, size_t size)
{
	const char *dir = getenv("PATH");
	char path[PATH_MAX_TEXT];

	if (!dir || !*dir)
		dir = "/usr/bin:/bin";
	for (;;) {
		size_t length = strcspn(dir, ":");
		int n = snprintf(path, sizeof(path), "%.*s/%s", (int)length,
				 length ? dir : ".", name);
		if (n > 0 && (size_t)n < sizeof(path) && !not_runnable(path))
			return 0;
		if (dir[length] == '\0')
			break;
		dir += length + 1;
	}
	snprintf(error, size, "--on-change %s: no such program in PATH", name);
	return -1;
}

int hook_check(const char *command, char *error, size_t size)
{
	char word[PATH_MAX_TEXT];
	size_t length;

	if (!command)
		return 0;
	command += strspn(command, " \t\n");
	length = strcspn(command, " \t\n;&|<>()");
	/* quotes, expansions, globs, assignments: only sh can tell */
	if (length == 0 || length >= sizeof(word) ||
	    strcspn(command, "'\"$`\\*?[~=#") < length)
		return 0;
	memcpy(word, command, length);
	word[length] = '\0';
	if (is_shell_word(word))
		return 0;
	return strchr(word, '/') ? check_path(word, error, size)
				 : check_name(word, error, size);
}

int hook_runner_init(struct hook_runner *runner, struct eloop *loop,
		     const char *command, int64_t timeout_ms, size_t lane_count)
{
	size_t i;

	memset(runner, 0, sizeof(*runner));
	runner->loop = loop;
	runner->command = command;
	runner->timeout_ms = timeout_ms;
	runner->lane_count = lane_count;
	runner->lanes =
		calloc(lane_count ? lane_count : 1, sizeof(*runner->lanes));
	runner->queue =
		calloc(lane_count ? lane_count : 1, sizeof(*runner->queue));
	if (!runner->lanes || !runner->queue)
		return -1;
	eloop_timer_init(&runner->fork_timer, on_fork_timer, runner);
	for (i = 0; i < lane_count; i++) {
		runner->lanes[i].runner = runner;
		eloop_timer_init(&runner->lanes[i].timer, on_timer,
				 &runner->lanes[i]);
	}
	return 0;
}

void hook_runner_free(struct hook_runner *runner)
{
	eloop_timer_stop(runner->loop, &runner->fork_timer);
	free(runner->lanes);
	free(runner->queue);
	runner->lanes = NULL;
	runner->queue = NULL;
	runner->lane_count = 0;
}

static void set_number(const char *name, unsigned long value)
{
	char text[16];

	snprintf(text, sizeof(text), "%lu", value);
	setenv(name, text, 1);
}

static void set_address(const char *name, const struct ip_address *address)
{
	char text[IP_ADDRESS_TEXT_SIZE] = "";

	if (ip_address_is_set(address))
		ip_address_format(address, text, sizeof(text));
	setenv(name, text, 1);
}

/* In the child: its own process group, plain signal handling, the
 * environment, then the shell. */
static void exec_hook(const char *command, const struct hook_event *e)
{
	sigset_t none;
	int null_fd;

	setpgid(0, 0);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* the hook is not the service: it must not speak for it */
	unsetenv("NOTIFY_SOCKET");
	setenv("NATPMP_EVENT", e->event, 1);
	setenv("NATPMP_PROTOCOL", transport_name(e->transport), 1);
	set_number("NATPMP_INTERNAL_PORT", e->internal_port);
	set_address("NATPMP_INTERNAL_ADDRESS", &e->internal_address);
	set_number("NATPMP_EXTERNAL_PORT", e->external_port);
	set_address("NATPMP_EXTERNAL_ADDRESS", &e->external_address);
	set_number("NATPMP_LIFETIME", e->lifetime);
	set_address("NATPMP_GATEWAY", &e->gateway.address);
	set_number("NATPMP_GATEWAY_PORT", e->gateway.port);
	setenv("NATPMP_VIA", e->via ? protocol_key(e->via) : "", 1);
	setenv("NATPMP_FAMILY",
	       e->gateway.address.family == AF_INET6 ? "inet6" : "inet", 1);
	null_fd = open("/dev/null", O_RDONLY);
	if (null_fd >= 0) {
		dup2(null_fd, STDIN_FILENO);
		close(null_fd);
	}
	dup2(STDERR_FILENO, STDOUT_FILENO);
	execl("/bin/sh", "sh", "-c", command, (char *)NULL);
	_exit(127);
}

/* Starts lane's waiting event; false if fork failed (the event stays
 * waiting). */
static bool start(struct hook_lane *lane)
{
	struct hook_runner *runner = lane->runner;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0)
		exec_hook(runner->command, &lane->next);
	if (pid < 0) {
		/* said once: under a task limit it may fail often */
		if (!runner->fork_warned)
			diag_warning(
				"cannot start the --on-change hook (%s): its events wait and run when it can",
				strerror(errno));
		else
			diag_verbose("cannot start the --on-change hook: %s",
				     strerror(errno));
		runner->fork_warned = true;
		return false;
	}
	setpgid(pid, pid); /* also in the child: whichever runs first */
	lane->current = lane->next;
	lane->waiting = false;
	lane->terminated = false;
	lane->retrying = lane->next_is_retry;
	lane->retry_due = false;
	lane->running = pid;
	runner->running++;
	eloop_timer_at(runner->loop, &lane->timer,
		       clock_now_ms() + runner->timeout_ms);
	diag_verbose("hook started for %s %u/%s (pid %ld)", lane->current.event,
		     (unsigned)lane->current.internal_port,
		     transport_name(lane->current.transport), (long)pid);
	return true;
}

/* Starts the waiting lanes in the order they came, HOOK_RUNNING_MAX at a
 * time; when fork fails, they wait for the next try. */
static void dispatch(struct hook_runner *runner)
{
	if (runner->lane_count == 0)
		return;
	while (runner->queued && runner->running < HOOK_RUNNING_MAX) {
		struct hook_lane *lane =
			&runner->lanes[runner->queue[runner->queue_first]];
		if (lane->waiting && !lane->running && !start(lane)) {
			eloop_timer_at(runner->loop, &runner->fork_timer,
				       clock_now_ms() + HOOK_FORK_RETRY_MS);
			return;
		}
		lane->queued = false;
		runner->queue_first =
			(runner->queue_first + 1) % runner->lane_count;
		runner->queued--;
	}
}

static void on_fork_timer(void *context)
{
	dispatch(context);
}

/* lane has an event to run: in line behind the others. */
static void want(struct hook_lane *lane)
{
	struct hook_runner *runner = lane->runner;

	if (!lane->queued && !lane->running) {
		size_t index = (size_t)(lane - runner->lanes);
		runner->queue[(runner->queue_first + runner->queued) %
			      runner->lane_count] = index;
		runner->queued++;
		lane->queued = true;
	}
	dispatch(runner);
}

void hook_queue(struct hook_runner *runner, size_t index,
		const struct hook_event *event)
{
	struct hook_lane *lane;

	if (!runner->command || index >= runner->lane_count)
		return;
	lane = &runner->lanes[index];
	if (lane->waiting)
		diag_verbose("hook for %s %u/%s replaced by a newer event",
			     lane->next.event,
			     (unsigned)lane->next.internal_port,
			     transport_name(lane->next.transport));
	lane->next = *event;
	lane->next_is_retry = false;
	lane->waiting = true;
	want(lane);
}

void hook_retry(struct hook_runner *runner, size_t index,
		const struct hook_event *renewal)
{
	struct hook_lane *lane;

	if (!runner->command || index >= runner->lane_count)
		return;
	lane = &runner->lanes[index];
	if (!lane->retry_due || lane->running || lane->waiting)
		return;
	lane->next = *renewal;
	lane->next.event = lane->current.event;
	lane->next_is_retry = true;
	lane->waiting = true;
	diag_verbose("running the failed hook for %s %u/%s again",
		     lane->next.event, (unsigned)lane->next.internal_port,
		     transport_name(lane->next.transport));
	want(lane);
}

void hook_renewed(struct hook_runner *runner, size_t index,
		  const struct hook_event *renewal)
{
	if (!runner->command || index >= runner->lane_count)
		return;
	if (runner->lanes[index].retry_due) {
		hook_retry(runner, index, renewal);
		return;
	}
	if (!runner->lanes[index].waiting)
		hook_queue(runner, index, renewal);
}

/* Tells lane's hook to end: TERM to its group now, KILL at kill_at_ms. */
static void terminate(struct hook_lane *lane, int64_t grace_ms)
{
	int64_t kill_at = clock_now_ms() + grace_ms;

	if (!lane->terminated || kill_at < lane->kill_at_ms)
		lane->kill_at_ms = kill_at;
	lane->terminated = true;
	kill(-lane->running, SIGTERM);
	eloop_timer_at(lane->runner->loop, &lane->timer, lane->kill_at_ms);
}

/* The hook outlived its time: TERM its group now, KILL after a grace; or
 * the grace is over; or a look at a group whose shell is gone. */
static void on_timer(void *context)
{
	struct hook_lane *lane = context;
	const struct hook_event *e = &lane->current;

	if (lane->running && lane->terminated &&
	    clock_now_ms() >= lane->kill_at_ms) {
		kill(-lane->running, SIGKILL);
		/* what is left of the group cannot outlive KILL: done (its
		 * shell's end, when still to come, arrives as SIGCHLD) */
		if (lane->leader_gone) {
			end_lane(lane);
			if (lane->waiting)
				want(lane);
		}
		return;
	}
	/* it may have ended with its SIGCHLD not taken yet: then its group
	 * id may be another's by now */
	if (!lane->running || reap_lane(lane)) {
		if (!lane->running && lane->waiting)
			want(lane);
		return;
	}
	if (lane->terminated)
		return;
	diag_warning(
		"--on-change hook for %s %u/%s still running after %llds: ending it",
		e->event, (unsigned)e->internal_port,
		transport_name(e->transport),
		(long long)(lane->runner->timeout_ms / 1000));
	terminate(lane, HOOK_KILL_GRACE_MS);
}

/* A hook that exits non-zero is run again at the next renewal; one killed
 * (by --hook-timeout, say) is not, lest a hung hook hang every renewal. */
static void report(struct hook_lane *lane, int status)
{
	const struct hook_event *e = &lane->current;
	const char *protocol = transport_name(e->transport);

	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		diag_verbose("hook for %s %u/%s exited with status 0%s",
			     e->event, (unsigned)e->internal_port, protocol,
			     lane->retrying ? " when run again" : "");
	else if (WIFEXITED(status) && lane->retrying) {
		diag_verbose("hook for %s %u/%s run again: status %d", e->event,
			     (unsigned)e->internal_port, protocol,
			     WEXITSTATUS(status));
		lane->retry_due = !lane->terminated;
	} else if (WIFEXITED(status)) {
		diag_warning(
			"--on-change hook for %s %u/%s exited with status %d; it runs again at each renewal until it succeeds",
			e->event, (unsigned)e->internal_port, protocol,
			WEXITSTATUS(status));
		lane->retry_due = !lane->terminated;
	} else if (WIFSIGNALED(status))
		diag_warning(
			"--on-change hook for %s %u/%s was killed by signal %d",
			e->event, (unsigned)e->internal_port, protocol,
			WTERMSIG(status));
}

static void end_lane(struct hook_lane *lane)
{
	lane->running = 0;
	lane->leader_gone = false;
	lane->runner->running--;
	eloop_timer_stop(lane->runner->loop, &lane->timer);
}

/* Reaps lane's hook if it ended; true if it did. A hook told to end has
 * ended when its whole process group has: the shell `sh -c` started (a
 * script with a trap that tidies up, say) gets the same grace as `sh`. */
static bool reap_lane(struct hook_lane *lane)
{
	int status;
	pid_t pid;

	if (!lane->running)
		return false;
	if (!lane->leader_gone) {
		do
			pid = waitpid(lane->running, &status, WNOHANG);
		while (pid < 0 && errno == EINTR);
		if (pid == 0)
			return false;
		if (pid > 0)
			report(lane, status);
		lane->leader_gone = true;
	}
	/* a group id is not handed out again while a member is left in it */
	if (lane->terminated && kill(-lane->running, 0) == 0) {
		/* no SIGCHLD tells when the rest are gone: look again soon */
		int64_t next = clock_now_ms() + HOOK_GROUP_POLL_MS;
		eloop_timer_at(lane->runner->loop, &lane->timer,
			       next < lane->kill_at_ms ? next
						       : lane->kill_at_ms);
		return false;
	}
	end_lane(lane);
	return true;
}

void hook_reap(struct hook_runner *runner)
{
	size_t i;

	for (i = 0; i < runner->lane_count; i++) {
		struct hook_lane *lane = &runner->lanes[i];
		if (reap_lane(lane) && lane->waiting)
			want(lane);
	}
	dispatch(runner);
}

size_t hook_running(const struct hook_runner *runner)
{
	return runner->running;
}

static void signal_all(struct hook_runner *runner, int number)
{
	size_t i;

	for (i = 0; i < runner->lane_count; i++)
		if (runner->lanes[i].running)
			kill(-runner->lanes[i].running, number);
}

/* Reaps what ended (the loop wakes for each SIGCHLD); true once none
 * runs. */
static bool all_ended(void *context)
{
	struct hook_runner *runner = context;
	size_t i;

	for (i = 0; i < runner->lane_count; i++)
		reap_lane(&runner->lanes[i]);
	return hook_running(runner) == 0;
}

void hook_end_all(struct hook_runner *runner, int64_t grace_ms)
{
	size_t i;

	eloop_timer_stop(runner->loop, &runner->fork_timer);
	runner->queued = 0;
	for (i = 0; i < runner->lane_count; i++) {
		struct hook_lane *lane = &runner->lanes[i];
		lane->waiting = false;
		lane->queued = false;
		if (lane->running) {
			diag_verbose("ending the hook for %s %u/%s",
				     lane->current.event,
				     (unsigned)lane->current.internal_port,
				     transport_name(lane->current.transport));
			terminate(lane, grace_ms);
		}
	}
	if (eloop_run_until(runner->loop, all_ended, runner,
			    clock_now_ms() + grace_ms) != 1)
		return;
	signal_all(runner, SIGKILL);
	eloop_run_until(runner->loop, all_ended, runner,
			clock_now_ms() + grace_ms);
}
