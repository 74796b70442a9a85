/* cli.h - the command-line grammar: SPEC, DURATION, gateway ADDR[:PORT],
 * and the option parser shared by every subcommand. Pure: errors come
 * back as one line of text, nothing is printed. */
#ifndef NATPMP_CLI_H
#define NATPMP_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ip_address.h"
#include "core/port_mapping.h"
#include "engine/options.h"

#define CLI_ERROR_SIZE 512

/* options beyond the common ones (-g -l -t -j -q -v -h -V -4 -6 --pcp
 * --nat-pmp); -l is common so that one alias serves every command: those
 * that make no mapping ignore it */
enum cli_option_bits {
	CLI_OPTION_ALL = 1 << 1,
	CLI_OPTION_PROTO = 1 << 2,
	CLI_OPTION_ON_CHANGE = 1 << 3,
	CLI_OPTION_KEEP = 1 << 4,
	CLI_OPTION_HOOK_TIMEOUT = 1 << 5,
	CLI_OPTION_UNMAP_ALL_ON_EXIT = 1 << 6,
	CLI_OPTION_EXACT = 1 << 7,	    /* PCP's PREFER_FAILURE */
	CLI_OPTION_FOR = 1 << 8,	    /* PCP's THIRD_PARTY */
	CLI_OPTION_ALLOW_FROM = 1 << 9,	    /* PCP's FILTER */
	CLI_OPTION_PORT = 1 << 10,	    /* doctor's test port */
	CLI_OPTION_PORT_FILE = 1 << 11,	    /* renew-loop's ports, for others */
	CLI_OPTION_HOOK_RENEWALS = 1 << 12, /* the hook at each renewal */
};

enum cli_operands {
	CLI_OPERANDS_NONE,
	CLI_OPERANDS_SPECS,   /* one or more SPEC */
	CLI_OPERANDS_COMMAND, /* help: an optional command name */
};

/* most ports one command may name, in all its SPECs (a port with /both
 * counts once, for two mappings) */
#define CLI_PORTS_MAX 1024

/* A subcommand, as the parser and main see it: the table in main.c lists
 * one per command file. */
struct command {
	const char *name;
	int (*run)(const struct options *options);
	const char *summary;  /* one line for `natpmp help` */
	const char *usage;    /* synopsis and options for `natpmp help NAME` */
	const char *examples; /* two or three, each a line, after the usage */
	unsigned
		options; /* CLI_OPTION_* bits it takes beyond the common ones */
	enum cli_operands operands;
};

/* The command line parsed: a command and the options it runs with. */
struct invocation {
	const struct command *command; /* NULL: no command given */
	bool help;
	bool version;
	const char *help_topic; /* `natpmp help NAME` */
	struct options options;
};

/* --- the values' grammar (cli_values.c) --- */

/* Writes one line to error and returns -1. */
int cli_fail(char *error, size_t size, const char *format, ...)
	__attribute__((format(printf, 3, 4)));

int cli_parse_spec(const char *text, struct port_spec *spec, char *error,
		   size_t size);
int cli_parse_transports(const char *text, unsigned *transports, char *error,
			 size_t size);
int cli_parse_lifetime(const char *text, uint32_t *seconds, char *error,
		       size_t size);
int cli_parse_timeout(const char *text, int64_t *ms, char *error, size_t size);
/* origin names where the text came from in errors ("gateway",
 * "NATPMP_GATEWAY") */
int cli_parse_gateway(const char *text, const char *origin,
		      struct ip_endpoint *gateway, char *error, size_t size);
/* ADDR[/LEN][:PORT], IPv6 as [ADDR[/LEN]]:PORT or bare ADDR[/LEN] */
int cli_parse_filter(const char *text, struct port_filter *filter, char *error,
		     size_t size);

/* A duration of at least 1 ms; what names it in errors. */
int cli_parse_duration_ms(const char *text, const char *what, int64_t *ms,
			  char *error, size_t size);
/* 1-65535 in decimal */
bool cli_parse_port_number(const char *text, uint16_t *port);
/* Neither unspecified, multicast, nor broadcast. */
bool cli_is_unicast(const struct ip_address *address);

/* --- the scanner (cli.c) --- */

/* Parses argv against the command table. env_gateway is $NATPMP_GATEWAY
 * (or NULL). Returns 0, or -1 with one line in error. On success the
 * caller frees with cli_free. */
int cli_parse(int argc, const char *const argv[],
	      const struct command *const commands[], size_t command_count,
	      const char *env_gateway, struct invocation *invocation,
	      char *error, size_t size);
void cli_free(struct invocation *invocation);

const struct command *cli_find_command(const struct command *const commands[],
				       size_t command_count, const char *name);

#endif
