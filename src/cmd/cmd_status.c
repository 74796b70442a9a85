/* cmd_status.c - `natpmp status`: every mapping of the renew-loops that
 * run with this state directory, as each publishes it; a health check
 * (exit 0 all active, 75 some not, 69 no loop runs). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/command.h"
#include "core/clock.h"
#include "core/diag.h"
#include "core/exit_status.h"
#include "renew/live_state.h"

static int by_pid(const void *a, const void *b)
{
	const struct mapping_status *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

/* Each loop's mappings together, the loops in the order they started
 * (near enough: by pid), each loop's in its own order. */
static void sort_by_loop(struct mapping_status *all, size_t count)
{
	size_t i, j;

	/* insertion sort keeps each loop's order; loops are few */
	for (i = 1; i < count; i++)
		for (j = i; j > 0 && by_pid(&all[j - 1], &all[j]) > 0; j--) {
			struct mapping_status swap = all[j];
			all[j] = all[j - 1];
			all[j - 1] = swap;
		}
}

static int run_status(const struct options *options)
{
	const char *directory = options->state_directory;
	struct mapping_status *all;
	size_t count, loops, i;
	int64_t now = clock_now_ms();
	int status = EXIT_OK;

	if (!directory) {
		diag_error(
			"status: no state directory (set NATPMP_STATE_DIR, or HOME)");
		return EXIT_UNSUPPORTED;
	}
	if (live_state_read(directory, &all, &count, &loops) < 0) {
		diag_error("status: cannot read the state directory %s: %s",
			   directory, strerror(errno));
		return EXIT_SYSTEM;
	}
	if (loops == 0) {
		if (!options->quiet)
			diag_error(
				"status: no renew-loop runs with the state directory %s",
				directory);
		free(all);
		return EXIT_UNSUPPORTED;
	}
	sort_by_loop(all, count);
	for (i = 0; i < count; i++) {
		if (all[i].condition != CONDITION_ACTIVE)
			status = EXIT_TRY_LATER;
		if (options->quiet)
			continue;
		if (options->json)
			print_status_json(stdout, &all[i], now);
		else
			print_status_text(stdout, &all[i], now);
	}
	free(all);
	return status;
}

const struct command command_status = {
	.name = "status",
	.run = run_status,
	.summary = "show the mappings renew-loop keeps (a health check)",
	.examples =
		"  natpmp status                              every mapping, a line each\n"
		"  natpmp -q status || echo unhealthy         a container's HEALTHCHECK\n"
		"  sudo NATPMP_STATE_DIR=/var/lib/natpmp/vpn natpmp status\n"
		"                                             natpmp-renew@vpn's mappings\n",
	.usage =
		"usage: natpmp [options] status\n"
		"\n"
		"Prints each mapping of every renew-loop running with this state directory\n"
		"($NATPMP_STATE_DIR, $STATE_DIRECTORY, ~/.local/state/natpmp), a line each:\n"
		"  udp 45.77.71.2:51413 -> 10.2.0.2:0 active, renewal in 23s, gateway 10.2.0.1 (nat-pmp)\n"
		"Its state is active, waiting (not granted yet) or lost (granted once, no\n"
		"more, or the gateway is out of reach). Sends nothing to any gateway.\n"
		"Exit status: 0 every mapping is active, 75 one is not, 69 no renew-loop\n"
		"runs. -q prints nothing, -j a JSON object per mapping.\n",
	.options = 0,
	.operands = CLI_OPERANDS_NONE,
};
