/* cli.h - the command-line grammar: SPEC, DURATION, gateway ADDR[:PORT],
 * and the option parser shared by every subcommand. Pure: errors come
 * back as one line of text, nothing is printed. */
#ifndef NATPMP_CLI_H
#define NATPMP_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ip_address.h"

#define CLI_ERROR_SIZE 256
#define CLI_DEFAULT_LIFETIME 7200 /* RFC 6886 section 3.3 recommendation */
#define CLI_DEFAULT_HOOK_TIMEOUT_MS 60000

enum protocol_bits {
	PROTOCOL_UDP = 1,
	PROTOCOL_TCP = 2,
	PROTOCOL_BOTH = PROTOCOL_UDP | PROTOCOL_TCP,
};

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
	CLI_OPTION_EXACT = 1 << 7,	/* PCP's PREFER_FAILURE */
	CLI_OPTION_FOR = 1 << 8,	/* PCP's THIRD_PARTY */
	CLI_OPTION_ALLOW_FROM = 1 << 9, /* PCP's FILTER */
	CLI_OPTION_PORT = 1 << 10,	/* doctor's test port */
};

/* Which protocol: NAT-PMP first and PCP when the gateway answers in it,
 * or one forced. */
enum protocol_choice {
	CHOOSE_AUTO,
	CHOOSE_NATPMP,
	CHOOSE_PCP,
};

enum family_bits {
	FAMILY_V4 = 1,
	FAMILY_V6 = 2,
};

#define CLI_FILTER_MAX 8 /* --allow-from, as PCP FILTER options */

/* --allow-from ADDR[/LEN][:PORT]: only that remote peer may come in */
struct cli_filter {
	struct ip_address address;
	unsigned prefix_length; /* of address's own family: 0-32 or 0-128 */
	uint16_t port;		/* 0: any */
};

enum cli_operands {
	CLI_OPERANDS_NONE,
	CLI_OPERANDS_SPECS,   /* one or more SPEC */
	CLI_OPERANDS_COMMAND, /* help: an optional command name */
};

/* most ports one command may name, in all its SPECs (a port with /both
 * counts once, for two mappings) */
#define CLI_PORTS_MAX 1024

/* INTERNAL[-LAST][:EXTERNAL[-LAST]][/PROTO]: count ports from
 * internal_port, each mapped to the port as far from external_port (or
 * each to 0, for the gateway to choose). On the command line every
 * range is expanded into SPECs of one port each. */
struct port_spec {
	uint16_t internal_port;
	uint16_t external_port; /* suggested; defaults to internal_port */
	unsigned count;		/* ports in the range, 1 for one port */
	unsigned protocols;	/* enum protocol_bits */
};

struct command;

struct invocation {
	const struct command *command; /* NULL: no command given */
	bool help;
	bool version;
	const char *help_topic;	    /* `natpmp help NAME` */
	bool gateway_given;	    /* by --gateway or NATPMP_GATEWAY */
	const char *gateway_origin; /* "--gateway" or "NATPMP_GATEWAY" */
	struct ip_endpoint gateway;
	uint32_t lifetime;
	int64_t timeout_ms; /* -1: the RFC schedule alone */
	bool json;
	bool quiet;
	bool verbose;
	bool all;
	unsigned all_protocols;
	const char *on_change;
	int64_t hook_timeout_ms;
	bool keep;
	bool unmap_all_on_exit; /* delete-all for internal port 0 on exit */
	enum protocol_choice protocol_choice;
	unsigned families;	 /* enum family_bits: IPv4, IPv6 or both */
	unsigned families_given; /* what -4 and -6 said, before defaults */
	uint16_t port;		 /* doctor --port, 0 if not given */
	bool exact;
	bool third_party; /* --for */
	struct ip_address third_party_address;
	struct cli_filter filters[CLI_FILTER_MAX];
	size_t filter_count;
	struct port_spec *specs;
	size_t spec_count;
};

int cli_parse_spec(const char *text, struct port_spec *spec, char *error,
		   size_t size);
int cli_parse_protocols(const char *text, unsigned *protocols, char *error,
			size_t size);
int cli_parse_lifetime(const char *text, uint32_t *seconds, char *error,
		       size_t size);
int cli_parse_timeout(const char *text, int64_t *ms, char *error, size_t size);
/* origin names where the text came from in errors ("gateway",
 * "NATPMP_GATEWAY") */
int cli_parse_gateway(const char *text, const char *origin,
		      struct ip_endpoint *gateway, char *error, size_t size);
/* ADDR[/LEN][:PORT], IPv6 as [ADDR[/LEN]]:PORT or bare ADDR[/LEN] */
int cli_parse_filter(const char *text, struct cli_filter *filter, char *error,
		     size_t size);

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
