/* main.c - natpmp: a NAT-PMP (RFC 6886) and PCP (RFC 6887) client. Parses
 * the command line and runs one subcommand from the table below. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cmd/command.h"
#include "core/clock.h"
#include "core/diag.h"
#include "core/exit_status.h"
#include "state/state.h"

#ifndef NATPMP_VERSION
#define NATPMP_VERSION "unknown"
#endif

/* help is run by main itself, with the topic from the invocation */
static const struct command command_help = {
	.name = "help",
	.summary = "show help for natpmp or one command",
	.usage = "usage: natpmp help [COMMAND]\n",
	.options = 0,
	.operands = CLI_OPERANDS_COMMAND,
};

static const struct command *const commands[] = {
	&command_address, &command_map,	   &command_unmap, &command_renew_loop,
	&command_status,  &command_doctor, &command_help,
};
#define COMMAND_COUNT (sizeof(commands) / sizeof(commands[0]))

/* One line per command: its name and what it does. */
static void print_commands(FILE *out)
{
	size_t i;

	for (i = 0; i < COMMAND_COUNT; i++)
		fprintf(out, "  %-12s %s\n", commands[i]->name,
			commands[i]->summary);
}

static void print_overview(FILE *out)
{
	fputs("usage: natpmp [options] COMMAND [ARGS]\n"
	      "\n"
	      "Asks the gateway for its external address and for port mappings, over\n"
	      "NAT-PMP (RFC 6886) or PCP (RFC 6887), and opens IPv6 pinholes over PCP.\n"
	      "\n"
	      "commands:\n",
	      out);
	print_commands(out);
	fputs("\n"
	      "options:\n"
	      "  -g, --gateway ADDR[:PORT]  the gateway (default: $NATPMP_GATEWAY, else the\n"
	      "                             default route's gateway)\n"
	      "  -l, --lifetime DURATION    mapping lifetime (default 7200s)\n"
	      "  -t, --timeout DURATION     longest wait for the gateway (default: NAT-PMP's\n"
	      "                             schedule, 127.75s per request; 30s over PCP)\n"
	      "  -4, -6, --ipv4, --ipv6     address family: IPv4 (default), IPv6, or both\n"
	      "      --pcp, --nat-pmp       force a protocol (default: NAT-PMP, switching to\n"
	      "                             PCP when the gateway answers, or answers only,\n"
	      "                             in PCP)\n"
	      "  -j, --json                 JSON Lines on stdout\n"
	      "  -q, --quiet                nothing on stdout on success\n"
	      "  -v, --verbose              trace every datagram on stderr\n"
	      "  -h, --help                 this help, or a command's with COMMAND --help\n"
	      "  -V, --version              print the version\n"
	      "\n"
	      "SPEC is INTERNAL[-LAST][:EXTERNAL[-LAST]][/PROTO], e.g. 8080, 8080:80/tcp,\n"
	      "51413/both, 0/both, 6881-6889/both; a range is a mapping per port.\n"
	      "DURATION is seconds, or a number with s, m, h or d (90m, 2h, 0.5).\n"
	      "See natpmp(1) for output formats and exit statuses.\n"
	      "\n"
	      "examples:\n"
	      "  natpmp address                   the gateway's external address\n"
	      "  natpmp map 8080                  forward TCP 8080 here for 2 hours\n"
	      "  natpmp renew-loop 51413/both     keep a port mapped until stopped\n",
	      out);
}

/* natpmp alone: what it can do, briefly, on stderr (exit 64) */
static void print_short_usage(FILE *out)
{
	fputs("usage: natpmp [options] COMMAND [ARGS]\n", out);
	print_commands(out);
	fputs("More: natpmp help, natpmp help COMMAND, man natpmp.\n", out);
}

static int print_help_for(const struct command *command)
{
	if (!command) {
		print_overview(stdout);
		return EXIT_OK;
	}
	fputs(command->usage, stdout);
	fputs("\nCommon options: -g ADDR[:PORT], -4, -6, --pcp, --nat-pmp, -t DURATION, -j, -q,\n"
	      "-v (see natpmp help).\n",
	      stdout);
	if (command->examples)
		printf("\nexamples:\n%s", command->examples);
	return EXIT_OK;
}

static int run_help(const struct invocation *invocation)
{
	const struct command *command = NULL;

	if (invocation->help_topic) {
		command = cli_find_command(commands, COMMAND_COUNT,
					   invocation->help_topic);
		if (!command) {
			diag_error("unknown command '%s' (try 'natpmp help')",
				   invocation->help_topic);
			return EXIT_USAGE;
		}
	}
	return print_help_for(command);
}

/* A descriptor 0-2 closed by whoever started us would be taken by the
 * first socket opened, and results written "to stdout" would go to the
 * gateway. Fill the holes with /dev/null first: stdout read-only, so that
 * writing results fails (exit 74) instead of vanishing. */
static void fill_standard_descriptors(void)
{
	int fd;

	for (fd = 0; fd <= 2; fd++) {
		int opened;
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		opened = open("/dev/null", fd == 2 ? O_WRONLY : O_RDONLY);
		if (opened >= 0 && opened != fd) {
			dup2(opened, fd);
			close(opened);
		}
	}
}

int main(int argc, char *argv[])
{
	struct invocation invocation;
	char error[CLI_ERROR_SIZE];
	/* the environment's say, read here like the command line */
	char *directory = NULL;
	int64_t start = clock_now_ms();
	int status;

	fill_standard_descriptors();
	/* a reader that went away is an output error, not a silent death */
	signal(SIGPIPE, SIG_IGN);
	if (argc <= 1) {
		print_short_usage(stderr);
		return EXIT_USAGE;
	}
	if (cli_parse(argc, (const char *const *)argv, commands, COMMAND_COUNT,
		      getenv("NATPMP_GATEWAY"), &invocation, error,
		      sizeof(error)) < 0) {
		diag_error("%s", error);
		return EXIT_USAGE;
	}
	if (invocation.version) {
		printf("natpmp %s\n", NATPMP_VERSION);
		status = EXIT_OK;
	} else if (invocation.command == &command_help) {
		status = run_help(&invocation);
	} else if (invocation.help) {
		status = print_help_for(invocation.command);
	} else {
		diag_set_verbose(invocation.options.verbose, start);
		/* the environment's say, read here as the command line is */
		directory = state_directory(
			getenv("NATPMP_STATE_DIR"), getenv("STATE_DIRECTORY"),
			getenv("XDG_STATE_HOME"), getenv("HOME"));
		invocation.options.state_directory = directory;
		status = invocation.command->run(&invocation.options);
	}
	free(directory);
	cli_free(&invocation);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		diag_error("cannot write the results: %s", strerror(errno));
		if (status == EXIT_OK)
			status = EXIT_OUTPUT;
	}
	return status;
}
