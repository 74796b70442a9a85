/* command.h - what every subcommand exports to the table in main.c, and
 * the parsed command line it runs with. */
#ifndef NATPMP_COMMAND_H
#define NATPMP_COMMAND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli/cli.h"

struct command {
	const char *name;
	int (*run)(const struct invocation *invocation);
	const char *summary;  /* one line for `natpmp help` */
	const char *usage;    /* synopsis and options for `natpmp help NAME` */
	const char *examples; /* two or three, each a line, after the usage */
	unsigned
		options; /* CLI_OPTION_* bits it accepts beyond the common ones */
	enum cli_operands operands;
};

extern const struct command command_address;
extern const struct command command_map;
extern const struct command command_unmap;
extern const struct command command_renew_loop;
extern const struct command command_doctor;

#endif
