/* fuzz_arguments.c - libFuzzer target for the command-line grammar: SPEC,
 * DURATION, gateway ADDR[:PORT], and whole argument vectors. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cli/cli.h"
#include "cmd/command.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct command *const commands[] = {
	&command_address,    &command_map,    &command_unmap,
	&command_renew_loop, &command_doctor,
};

/* What a parsed command line hands the commands: SPECs of one port each,
 * at most CLI_PORTS_MAX of them, each protocol and port once. */
static void check_specs(const struct invocation *invocation)
{
	static uint8_t named[2][65536 / 8];
	size_t i;
	unsigned p;

	if (invocation->options.spec_count > CLI_PORTS_MAX)
		__builtin_trap();
	memset(named, 0, sizeof(named));
	for (i = 0; i < invocation->options.spec_count; i++) {
		const struct port_spec *spec = &invocation->options.specs[i];
		unsigned port = spec->internal_port;
		if (spec->count != 1 || spec->transports == 0 ||
		    spec->transports > TRANSPORT_BOTH)
			__builtin_trap();
		for (p = 0; p < 2; p++) {
			if (!(spec->transports &
			      ((unsigned)TRANSPORT_UDP << p)))
				continue;
			if (named[p][port / 8] & (1u << (port % 8)))
				__builtin_trap();
			named[p][port / 8] |= (uint8_t)(1u << (port % 8));
		}
	}
}

/* Splits the input at NUL bytes into an argv. */
static void parse_argv(char *text, size_t size)
{
	const char *argv[64];
	struct invocation invocation;
	char error[CLI_ERROR_SIZE];
	int argc = 0;
	size_t i, start = 0;

	argv[argc++] = "natpmp";
	for (i = 0; i <= size && argc < 63; i++) {
		if (i == size || text[i] == '\0') {
			text[i] = '\0';
			argv[argc++] = text + start;
			start = i + 1;
		}
	}
	argv[argc] = NULL;
	if (cli_parse(argc, argv, commands,
		      sizeof(commands) / sizeof(commands[0]), NULL, &invocation,
		      error, sizeof(error)) == 0) {
		check_specs(&invocation);
		cli_free(&invocation);
	} else if (strlen(error) == 0)
		__builtin_trap(); /* every rejection says why */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	char error[CLI_ERROR_SIZE];
	struct port_spec spec;
	struct ip_endpoint gateway;
	uint32_t lifetime;
	int64_t timeout;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	/* a SPEC's protocols are known, and its ranges stay within 65535 */
	if (cli_parse_spec(text, &spec, error, sizeof(error)) == 0 &&
	    (spec.transports == 0 || spec.transports > TRANSPORT_BOTH ||
	     spec.count == 0 ||
	     (unsigned long)spec.internal_port + spec.count - 1 > 65535 ||
	     (spec.count > 1 && spec.internal_port == 0) ||
	     (spec.external_port != 0 &&
	      (unsigned long)spec.external_port + spec.count - 1 > 65535)))
		__builtin_trap();
	if (cli_parse_lifetime(text, &lifetime, error, sizeof(error)) == 0 &&
	    lifetime == 0)
		__builtin_trap();
	if (cli_parse_timeout(text, &timeout, error, sizeof(error)) == 0 &&
	    timeout <= 0)
		__builtin_trap();
	if (cli_parse_gateway(text, "gateway", &gateway, error,
			      sizeof(error)) == 0 &&
	    ((gateway.address.family != AF_INET &&
	      gateway.address.family != AF_INET6) ||
	     gateway.port == 0))
		__builtin_trap();
	/* whatever parses as an address formats and parses back the same */
	{
		struct ip_address address, again;
		char formatted[IP_ADDRESS_TEXT_SIZE];
		if (ip_address_parse(text, &address) == 0 &&
		    (ip_address_parse(ip_address_format(&address, formatted,
							sizeof(formatted)),
				      &again) != 0 ||
		     !ip_address_equal(&address, &again)))
			__builtin_trap();
	}
	parse_argv(text, size);
	free(text);
	return 0;
}
