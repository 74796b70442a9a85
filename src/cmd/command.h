/* command.h - the subcommands, one file each, for the table in main.c
 * (struct command is the parser's, in cli.h). */
#ifndef NATPMP_COMMAND_H
#define NATPMP_COMMAND_H

#include "cli/cli.h"

extern const struct command command_address;
extern const struct command command_map;
extern const struct command command_unmap;
extern const struct command command_renew_loop;
extern const struct command command_doctor;
extern const struct command command_status;

#endif
