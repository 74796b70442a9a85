/* alternate.c - time two workloads fairly: run A, B, A, B ... RUNS times
 * each, straight through posix_spawn (no shell), and print the median wall
 * time of each in milliseconds and their ratio A/B. B may be a sequence of
 * commands separated by --, timed together, as a script would run them. */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static int compare(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Runs argv once; returns its wall time, or -1 if it could not start. */
static double run_once(char **argv, int *status)
{
	posix_spawn_file_actions_t actions;
	double start;
	pid_t pid;

	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", 1, 0);
	posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", 1, 0);
	start = now_ms();
	if (posix_spawn(&pid, argv[0], &actions, NULL, argv, environ) != 0)
		return -1;
	waitpid(pid, status, 0);
	posix_spawn_file_actions_destroy(&actions);
	return now_ms() - start;
}

static double median(double *values, int n)
{
	qsort(values, (size_t)n, sizeof(*values), compare);
	return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

static int strlen_vector(char **vector)
{
	int n = 0;

	while (vector[n])
		n++;
	return n;
}

/* Runs every command of a NULL-separated sequence; returns the total time. */
static double run_sequence(char **commands, int count, int *status)
{
	double total = 0, t;
	int i;

	for (i = 0; i < count; i++) {
		t = run_once(commands, status);
		if (t < 0)
			return -1;
		total += t;
		while (*commands)
			commands++;
		commands++;
	}
	return total;
}

int main(int argc, char **argv)
{
	int runs, i, b_count = 0, status_a = 0, status_b = 0;
	double *a, *b, ma, mb;

	if (argc < 5 || (runs = atoi(argv[1])) < 1) {
		fprintf(stderr,
			"usage: alternate RUNS COMMAND-A... -- COMMAND-B... [-- COMMAND-B2...]\n");
		return 64;
	}
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			argv[i] = NULL;
			b_count++;
		}
	}
	if (b_count == 0 || argv[argc - 1] == NULL) {
		fprintf(stderr, "alternate: missing -- between the commands\n");
		return 64;
	}
	a = calloc((size_t)runs, sizeof(*a));
	b = calloc((size_t)runs, sizeof(*b));
	if (!a || !b)
		return 71;
	for (i = 0; i < runs; i++) {
		a[i] = run_sequence(argv + 2, 1, &status_a);
		b[i] = run_sequence(argv + 2 + strlen_vector(argv + 2) + 1,
				    b_count, &status_b);
		if (a[i] < 0 || b[i] < 0) {
			fprintf(stderr, "alternate: cannot run a command\n");
			return 71;
		}
	}
	ma = median(a, runs);
	mb = median(b, runs);
	/* median A, median B, ratio, and the last exit statuses */
	printf("%.3f %.3f %.3f %d %d\n", ma, mb, ma / mb,
	       WIFEXITED(status_a) ? WEXITSTATUS(status_a) : 128,
	       WIFEXITED(status_b) ? WEXITSTATUS(status_b) : 128);
	free(a);
	free(b);
	return 0;
}
