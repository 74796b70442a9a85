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
static bool reap_lane(struct hook_lane *lane);

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
	if (!runner->lanes)
		return -1;
	for (i = 0; i < lane_count; i++) {
		runner->lanes[i].runner = runner;
		eloop_timer_init(&runner->lanes[i].timer, on_timer,
				 &runner->lanes[i]);
	}
	return 0;
}

void hook_runner_free(struct hook_runner *runner)
{
	free(runner->lanes);
	runner->lanes = NULL;
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

static void start(struct hook_lane *lane, bool retrying)
{
	struct hook_runner *runner = lane->runner;
	pid_t pid;

	lane->current = lane->next;
	lane->waiting = false;
	lane->terminated = false;
	lane->retrying = retrying;
	lane->retry_due = false;
	fflush(NULL);
	pid = fork();
	if (pid == 0)
		exec_hook(runner->command, &lane->current);
	if (pid < 0) {
		diag_error("cannot run the --on-change hook: %s",
			   strerror(errno));
		return;
	}
	setpgid(pid, pid); /* also in the child: whichever runs first */
	lane->running = pid;
	eloop_timer_at(runner->loop, &lane->timer,
		       clock_now_ms() + runner->timeout_ms);
	diag_verbose("hook started for %s %u/%s (pid %ld)", lane->current.event,
		     (unsigned)lane->current.internal_port,
		     transport_name(lane->current.transport), (long)pid);
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
	lane->waiting = true;
	if (!lane->running)
		start(lane, false);
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
	diag_verbose("running the failed hook for %s %u/%s again",
		     lane->next.event, (unsigned)lane->next.internal_port,
		     transport_name(lane->next.transport));
	start(lane, true);
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

/* The hook outlived its time: TERM its group now, KILL after a grace. */
static void on_timer(void *context)
{
	struct hook_lane *lane = context;
	const struct hook_event *e = &lane->current;

	/* it may have ended with its SIGCHLD not taken yet: then its group
	 * id may be another's by now */
	if (!lane->running || reap_lane(lane)) {
		if (!lane->running && lane->waiting)
			start(lane, false);
		return;
	}
	if (lane->terminated) {
		kill(-lane->running, SIGKILL);
		return;
	}
	diag_warning(
		"--on-change hook for %s %u/%s still running after %llds: ending it",
		e->event, (unsigned)e->internal_port,
		transport_name(e->transport),
		(long long)(lane->runner->timeout_ms / 1000));
	kill(-lane->running, SIGTERM);
	lane->terminated = true;
	eloop_timer_at(lane->runner->loop, &lane->timer,
		       clock_now_ms() + HOOK_KILL_GRACE_MS);
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

/* Reaps lane's hook if it ended; true if it did. */
static bool reap_lane(struct hook_lane *lane)
{
	int status;
	pid_t pid;

	if (!lane->running)
		return false;
	do
		pid = waitpid(lane->running, &status, WNOHANG);
	while (pid < 0 && errno == EINTR);
	if (pid == 0)
		return false;
	if (pid > 0)
		report(lane, status);
	/* the group may outlive its leader: its members get the same end */
	if (lane->terminated)
		kill(-lane->running, SIGKILL);
	lane->running = 0;
	eloop_timer_stop(lane->runner->loop, &lane->timer);
	return true;
}

void hook_reap(struct hook_runner *runner)
{
	size_t i;

	for (i = 0; i < runner->lane_count; i++) {
		struct hook_lane *lane = &runner->lanes[i];
		if (reap_lane(lane) && lane->waiting)
			start(lane, false);
	}
}

size_t hook_running(const struct hook_runner *runner)
{
	size_t i, n = 0;

	for (i = 0; i < runner->lane_count; i++)
		n += runner->lanes[i].running != 0;
	return n;
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

	for (i = 0; i < runner->lane_count; i++) {
		struct hook_lane *lane = &runner->lanes[i];
		lane->waiting = false;
		if (lane->running) {
			lane->terminated = true;
			diag_verbose("ending the hook for %s %u/%s",
				     lane->current.event,
				     (unsigned)lane->current.internal_port,
				     transport_name(lane->current.transport));
		}
	}
	signal_all(runner, SIGTERM);
	if (eloop_run_until(runner->loop, all_ended, runner,
			    clock_now_ms() + grace_ms) != 1)
		return;
	signal_all(runner, SIGKILL);
	eloop_run_until(runner->loop, all_ended, runner,
			clock_now_ms() + grace_ms);
}
