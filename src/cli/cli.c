/* cli.c - the command line's scanner: argv into a struct invocation, its
 * options checked against the command, its operands into SPECs, the
 * families and protocol settled (the values' grammar is cli_values.c).
 * Every malformed value yields one line naming it; nothing is printed here. */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/suggest.h"

#define CLI_COMMANDS_MAX 16 /* for suggestions among their names */

const struct command *cli_find_command(const struct command *const commands[],
				       size_t command_count, const char *name)
{
	size_t i;

	for (i = 0; i < command_count; i++)
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
	return NULL;
}

/* The options table. `bit` is 0 for the common options every command takes. */
enum option_id {
	OPTION_GATEWAY,
	OPTION_LIFETIME,
	OPTION_TIMEOUT,
	OPTION_JSON,
	OPTION_QUIET,
	OPTION_VERBOSE,
	OPTION_HELP,
	OPTION_VERSION,
	OPTION_ALL,
	OPTION_PROTO,
	OPTION_ON_CHANGE,
	OPTION_KEEP,
	OPTION_HOOK_TIMEOUT,
	OPTION_UNMAP_ALL_ON_EXIT,
	OPTION_PCP,
	OPTION_NATPMP,
	OPTION_IPV4,
	OPTION_IPV6,
	OPTION_EXACT,
	OPTION_FOR,
	OPTION_ALLOW_FROM,
	OPTION_PORT,
	OPTION_PORT_FILE,
	OPTION_HOOK_RENEWALS,
};

struct option_spec {
	enum option_id id;
	const char *long_name;
	char short_name; /* 0: long only */
	bool takes_value;
	unsigned bit;
};

static const struct option_spec option_specs[] = {
	{ OPTION_GATEWAY, "gateway", 'g', true, 0 },
	{ OPTION_LIFETIME, "lifetime", 'l', true, 0 },
	{ OPTION_TIMEOUT, "timeout", 't', true, 0 },
	{ OPTION_JSON, "json", 'j', false, 0 },
	{ OPTION_QUIET, "quiet", 'q', false, 0 },
	{ OPTION_VERBOSE, "verbose", 'v', false, 0 },
	{ OPTION_HELP, "help", 'h', false, 0 },
	{ OPTION_VERSION, "version", 'V', false, 0 },
	{ OPTION_ALL, "all", 'a', false, CLI_OPTION_ALL },
	{ OPTION_PROTO, "proto", 'p', true, CLI_OPTION_PROTO },
	{ OPTION_ON_CHANGE, "on-change", 0, true, CLI_OPTION_ON_CHANGE },
	{ OPTION_KEEP, "keep", 0, false, CLI_OPTION_KEEP },
	{ OPTION_HOOK_TIMEOUT, "hook-timeout", 0, true,
	  CLI_OPTION_HOOK_TIMEOUT },
	{ OPTION_UNMAP_ALL_ON_EXIT, "unmap-all-on-exit", 0, false,
	  CLI_OPTION_UNMAP_ALL_ON_EXIT },
	{ OPTION_PCP, "pcp", 0, false, 0 },
	{ OPTION_NATPMP, "nat-pmp", 0, false, 0 },
	{ OPTION_IPV4, "ipv4", '4', false, 0 },
	{ OPTION_IPV6, "ipv6", '6', false, 0 },
	{ OPTION_EXACT, "exact", 0, false, CLI_OPTION_EXACT },
	{ OPTION_FOR, "for", 0, true, CLI_OPTION_FOR },
	{ OPTION_ALLOW_FROM, "allow-from", 0, true, CLI_OPTION_ALLOW_FROM },
	{ OPTION_PORT, "port", 0, true, CLI_OPTION_PORT },
	{ OPTION_PORT_FILE, "port-file", 0, true, CLI_OPTION_PORT_FILE },
	{ OPTION_HOOK_RENEWALS, "hook-renewals", 0, false,
	  CLI_OPTION_HOOK_RENEWALS },
};
#define OPTION_COUNT (sizeof(option_specs) / sizeof(option_specs[0]))

struct parse_state {
	struct invocation *inv;
	unsigned used_bits;	   /* command-specific options seen */
	const char *used_name[16]; /* how each was spelled, by bit index */
	const char *proto_text;
	bool pcp, natpmp; /* --pcp, --nat-pmp */
	const char **operands;
	size_t operand_count;
	char *error;
	size_t size;
};

static const struct option_spec *find_long(const char *name, size_t length)
{
	size_t i;

	for (i = 0; i < OPTION_COUNT; i++)
		if (strlen(option_specs[i].long_name) == length &&
		    strncmp(option_specs[i].long_name, name, length) == 0)
			return &option_specs[i];
	return NULL;
}

static const struct option_spec *find_short(char name)
{
	size_t i;

	for (i = 0; i < OPTION_COUNT; i++)
		if (option_specs[i].short_name == name)
			return &option_specs[i];
	return NULL;
}

static int bit_index(unsigned bit)
{
	int i = 0;

	while (bit > 1) {
		bit >>= 1;
		i++;
	}
	return i;
}

/* Remembers a command-specific option, to check later it applies. */
static void note_used(struct parse_state *st, const struct option_spec *o)
{
	if (o->bit) {
		st->used_bits |= o->bit;
		st->used_name[bit_index(o->bit)] = o->long_name;
	}
}

static int apply_flag(struct parse_state *st, const struct option_spec *o)
{
	struct invocation *inv = st->inv;

	note_used(st, o);
	switch (o->id) {
	case OPTION_JSON: inv->options.json = true; break;
	case OPTION_QUIET: inv->options.quiet = true; break;
	case OPTION_VERBOSE: inv->options.verbose = true; break;
	case OPTION_HELP: inv->help = true; break;
	case OPTION_VERSION: inv->version = true; break;
	case OPTION_ALL: inv->options.all = true; break;
	case OPTION_KEEP: inv->options.keep = true; break;
	case OPTION_UNMAP_ALL_ON_EXIT:
		inv->options.unmap_all_on_exit = true;
		break;
	case OPTION_PCP: st->pcp = true; break;
	case OPTION_NATPMP: st->natpmp = true; break;
	case OPTION_IPV4: inv->options.families |= FAMILY_V4; break;
	case OPTION_IPV6: inv->options.families |= FAMILY_V6; break;
	case OPTION_EXACT: inv->options.exact = true; break;
	case OPTION_HOOK_RENEWALS: inv->options.hook_renewals = true; break;
	default: break;
	}
	return 0;
}

static int apply_value(struct parse_state *st, const struct option_spec *o,
		       const char *value)
{
	struct invocation *inv = st->inv;
	char why[CLI_ERROR_SIZE];

	note_used(st, o);
	switch (o->id) {
	case OPTION_GATEWAY:
		inv->options.gateway_given = true;
		return cli_parse_gateway(value, "gateway",
					 &inv->options.gateway, st->error,
					 st->size);
	case OPTION_LIFETIME:
		return cli_parse_lifetime(value, &inv->options.lifetime,
					  st->error, st->size);
	case OPTION_TIMEOUT:
		return cli_parse_timeout(value, &inv->options.timeout_ms,
					 st->error, st->size);
	case OPTION_HOOK_TIMEOUT:
		return cli_parse_duration_ms(value, "hook timeout",
					     &inv->options.hook_timeout_ms,
					     st->error, st->size);
	case OPTION_PROTO:
		st->proto_text = value;
		if (cli_parse_transports(value, &inv->options.all_transports,
					 why, sizeof(why)) < 0)
			return cli_fail(st->error, st->size,
					"invalid --proto: %s", why);
		return 0;
	case OPTION_FOR:
		if (ip_address_parse(value, &inv->options.third_party_address) <
			    0 ||
		    inv->options.third_party_address.scope ||
		    !cli_is_unicast(&inv->options.third_party_address))
			return cli_fail(
				st->error, st->size,
				"invalid --for '%s': not a unicast address",
				value);
		inv->options.third_party = true;
		return 0;
	case OPTION_ALLOW_FROM:
		if (inv->options.filter_count == FILTER_MAX)
			return cli_fail(st->error, st->size,
					"too many --allow-from (at most %d)",
					FILTER_MAX);
		return cli_parse_filter(
			value,
			&inv->options.filters[inv->options.filter_count++],
			st->error, st->size);
	case OPTION_ON_CHANGE:
		if (*value == '\0')
			return cli_fail(st->error, st->size,
					"option --on-change needs a command");
		inv->options.on_change = value;
		return 0;
	case OPTION_PORT_FILE:
		if (*value == '\0')
			return cli_fail(st->error, st->size,
					"option --port-file needs a path");
		inv->options.port_file = value;
		return 0;
	case OPTION_PORT:
		if (!cli_parse_port_number(value, &inv->options.port))
			return cli_fail(
				st->error, st->size,
				"invalid --port '%s': not a port (1-65535)",
				value);
		return 0;
	default: return 0;
	}
}

static int unknown_long(struct parse_state *st, const char *name, size_t length)
{
	const char *names[OPTION_COUNT];
	const char *close;
	size_t i;

	for (i = 0; i < OPTION_COUNT; i++)
		names[i] = option_specs[i].long_name;
	close = suggest_closest(name, length, names, OPTION_COUNT);
	if (close)
		return cli_fail(
			st->error, st->size,
			"unknown option '--%.*s' (did you mean '--%s'?)",
			(int)length, name, close);
	return cli_fail(st->error, st->size, "unknown option '--%.*s'",
			(int)length, name);
}

/* "--name", "--name=value" or "--name value"; *i is advanced past a value. */
static int parse_long(struct parse_state *st, int argc,
		      const char *const argv[], int *i)
{
	const char *arg = argv[*i];
	const char *name = arg + 2;
	const char *equals = strchr(name, '=');
	size_t length = equals ? (size_t)(equals - name) : strlen(name);
	const struct option_spec *o = find_long(name, length);
	const char *value = NULL;

	if (!o)
		return unknown_long(st, name, length);
	if (!o->takes_value) {
		if (equals)
			return cli_fail(st->error, st->size,
					"option --%s takes no value",
					o->long_name);
		return apply_flag(st, o);
	}
	if (equals)
		value = equals + 1;
	else if (*i + 1 < argc)
		value = argv[++*i];
	else
		return cli_fail(st->error, st->size,
				"option --%s needs a value", o->long_name);
	return apply_value(st, o, value);
}

/* "-qj", "-g ADDR", "-gADDR", "-qg ADDR" */
static int parse_short(struct parse_state *st, int argc,
		       const char *const argv[], int *i)
{
	const char *arg = argv[*i];
	const char *p;

	for (p = arg + 1; *p; p++) {
		const struct option_spec *o = find_short(*p);
		const char *value;

		if (!o)
			return cli_fail(st->error, st->size,
					"unknown option '-%c'", *p);
		if (!o->takes_value) {
			apply_flag(st, o);
			continue;
		}
		if (p[1] != '\0')
			value = p + 1;
		else if (*i + 1 < argc)
			value = argv[++*i];
		else
			return cli_fail(st->error, st->size,
					"option -%c needs a value", *p);
		return apply_value(st, o, value);
	}
	return 0;
}

/* A negative number is an operand (a bad port, reported as such), not an
 * option, so "map -1" and "map -4000" say what is wrong with the number;
 * but -4, -6, -46 and bundles that start with them, such as -46jq, are
 * options. */
static bool is_option(const char *arg)
{
	size_t families;

	if (arg[0] != '-' || arg[1] == '\0')
		return false;
	if (arg[1] < '0' || arg[1] > '9')
		return true;
	families = strspn(arg + 1, "46");
	return families > 0 &&
	       (arg[1 + families] < '0' || arg[1 + families] > '9');
}

static int check_options_apply(struct parse_state *st)
{
	const struct command *cmd = st->inv->command;
	unsigned stray = st->used_bits & ~cmd->options;

	if (stray)
		return cli_fail(st->error, st->size,
				"option --%s does not apply to %s",
				st->used_name[bit_index(stray & (~stray + 1u))],
				cmd->name);
	if (st->inv->options.keep && st->inv->options.unmap_all_on_exit)
		return cli_fail(
			st->error, st->size,
			"options --keep and --unmap-all-on-exit contradict each other");
	if (st->proto_text && !st->inv->options.all)
		return cli_fail(
			st->error, st->size,
			"option --proto needs --all (a SPEC carries its own protocol)");
	if (st->inv->options.hook_renewals && !st->inv->options.on_change)
		return cli_fail(
			st->error, st->size,
			"option --hook-renewals needs --on-change (the hook to run)");
	return 0;
}

/* Words that look like natpmpc's or plain English, not a SPEC: "8080 tcp"
 * and "unmap all". */
static int misplaced_word(struct parse_state *st, size_t i)
{
	const char *word = st->operands[i];
	const char *before = i > 0 ? st->operands[i - 1] : NULL;
	size_t digits = before ? strspn(before, "0123456789:-") : 0;
	unsigned transports;
	char scratch[CLI_ERROR_SIZE];

	if ((st->inv->command->options & CLI_OPTION_ALL) &&
	    strcasecmp(word, "all") == 0)
		return cli_fail(st->error, st->size,
				"invalid SPEC '%s': did you mean --all?", word);
	if (before &&
	    cli_parse_transports(word, &transports, scratch, sizeof(scratch)) ==
		    0 &&
	    digits > 0 && before[digits] == '\0')
		return cli_fail(
			st->error, st->size,
			"invalid SPEC '%s': the protocol goes after the port, did you mean %s/%s?",
			word, before, word);
	return 0;
}

/* A gateway keeps one mapping per transport and internal port: a port named
 * twice would be requested, printed and renewed twice as if it were two. */
static int check_named_once(struct parse_state *st, size_t index)
{
	const struct port_spec *spec = &st->inv->options.specs[index];
	unsigned last = (unsigned)spec->internal_port + spec->count - 1;
	size_t i;

	for (i = 0; i < index; i++) {
		const struct port_spec *earlier = &st->inv->options.specs[i];
		unsigned earlier_last =
			(unsigned)earlier->internal_port + earlier->count - 1;
		unsigned common = spec->transports & earlier->transports;
		unsigned port = spec->internal_port > earlier->internal_port
					? spec->internal_port
					: earlier->internal_port;
		if (common && port <= last && port <= earlier_last)
			return cli_fail(
				st->error, st->size,
				"invalid SPEC '%s': port %u/%s is also in '%s'; name each port once",
				st->operands[index], port,
				transport_name(common & TRANSPORT_TCP
						       ? TRANSPORT_TCP
						       : TRANSPORT_UDP),
				st->operands[i]);
	}
	return 0;
}

/* Every range becomes SPECs of one port each, in order: one mapping per
 * port, requested and printed one at a time. */
static int expand_ranges(struct parse_state *st, size_t ports)
{
	struct invocation *inv = st->inv;
	struct port_spec *single = calloc(ports ? ports : 1, sizeof(*single));
	size_t i, n = 0;
	unsigned k;

	if (!single)
		return cli_fail(st->error, st->size, "out of memory");
	for (i = 0; i < st->operand_count; i++) {
		const struct port_spec *range = &inv->options.specs[i];
		for (k = 0; k < range->count; k++) {
			single[n].internal_port =
				(uint16_t)(range->internal_port + k);
			single[n].external_port =
				range->external_port
					? (uint16_t)(range->external_port + k)
					: 0;
			single[n].count = 1;
			single[n].transports = range->transports;
			n++;
		}
	}
	free(inv->options.specs);
	inv->options.specs = single;
	inv->options.spec_count = n;
	return 0;
}

static int parse_operands(struct parse_state *st)
{
	struct invocation *inv = st->inv;
	const struct command *cmd = inv->command;
	size_t i, ports = 0;

	switch (cmd->operands) {
	case CLI_OPERANDS_NONE:
		if (st->operand_count > 0)
			return cli_fail(st->error, st->size,
					"%s takes no arguments (got '%s')",
					cmd->name, st->operands[0]);
		return 0;
	case CLI_OPERANDS_COMMAND:
		if (st->operand_count > 1)
			return cli_fail(
				st->error, st->size,
				"%s takes at most one command name (got '%s')",
				cmd->name, st->operands[1]);
		inv->help_topic = st->operand_count ? st->operands[0] : NULL;
		return 0;
	case CLI_OPERANDS_SPECS: break;
	}
	if (inv->options.all && st->operand_count > 0)
		return cli_fail(st->error, st->size,
				"%s --all takes no SPEC (got '%s')", cmd->name,
				st->operands[0]);
	if (!inv->options.all && st->operand_count == 0)
		return cli_fail(
			st->error, st->size,
			"%s needs at least one SPEC (INTERNAL[-LAST][:EXTERNAL[-LAST]][/PROTO])",
			cmd->name);
	for (i = 0; i < st->operand_count; i++) {
		if (misplaced_word(st, i) < 0 ||
		    cli_parse_spec(st->operands[i], &inv->options.specs[i],
				   st->error, st->size) < 0)
			return -1;
		ports += inv->options.specs[i].count;
		if (ports > CLI_PORTS_MAX)
			return cli_fail(
				st->error, st->size,
				"too many ports: %s names more than %d in all; split them across commands",
				cmd->name, CLI_PORTS_MAX);
		if (check_named_once(st, i) < 0)
			return -1;
	}
	return expand_ranges(st, ports);
}

static unsigned family_of(const struct ip_address *address)
{
	return address->family == AF_INET6 ? FAMILY_V6 : FAMILY_V4;
}

static const char *family_option(unsigned family)
{
	return family == FAMILY_V6 ? "-6" : "-4";
}

/* The address families asked for: -4, -6, or the named gateway's, or
 * IPv4; --gateway, --for and --allow-from must agree with them. */
static int settle_families(struct parse_state *st, const char *origin)
{
	struct invocation *inv = st->inv;
	char text[IP_ADDRESS_TEXT_SIZE];
	size_t i;

	inv->options.families_given = inv->options.families;
	inv->options.gateway_origin =
		inv->options.gateway_given ? origin : NULL;
	if (inv->options.gateway_given) {
		unsigned named = family_of(&inv->options.gateway.address);
		if (inv->options.families == (FAMILY_V4 | FAMILY_V6))
			return cli_fail(
				st->error, st->size,
				"%s names one gateway, but both -4 and -6 were given (without it, natpmp finds each)",
				origin);
		if (inv->options.families && inv->options.families != named)
			return cli_fail(
				st->error, st->size,
				"%s %s is an IPv%c address, but %s was given",
				origin,
				ip_address_format(&inv->options.gateway.address,
						  text, sizeof(text)),
				named == FAMILY_V6 ? '6' : '4',
				family_option(inv->options.families));
		inv->options.families = named;
	}
	if (!inv->options.families)
		inv->options.families = FAMILY_V4;
	if ((inv->options.third_party || inv->options.filter_count) &&
	    inv->options.families == (FAMILY_V4 | FAMILY_V6))
		return cli_fail(
			st->error, st->size,
			"options --for and --allow-from apply to one address family: give -4 or -6 alone");
	if (inv->options.third_party &&
	    family_of(&inv->options.third_party_address) !=
		    inv->options.families)
		return cli_fail(
			st->error, st->size,
			"--for %s is not an IPv%c address (give %s)",
			ip_address_format(&inv->options.third_party_address,
					  text, sizeof(text)),
			inv->options.families == FAMILY_V6 ? '6' : '4',
			family_option(
				family_of(&inv->options.third_party_address)));
	for (i = 0; i < inv->options.filter_count; i++)
		if (family_of(&inv->options.filters[i].address) !=
		    inv->options.families)
			return cli_fail(
				st->error, st->size,
				"--allow-from %s is not an IPv%c address (give %s)",
				ip_address_format(
					&inv->options.filters[i].address, text,
					sizeof(text)),
				inv->options.families == FAMILY_V6 ? '6' : '4',
				family_option(family_of(
					&inv->options.filters[i].address)));
	return 0;
}

/* --pcp, --nat-pmp or the choice between them; what only PCP can do is
 * refused with NAT-PMP. */
static int settle_protocol(struct parse_state *st)
{
	struct invocation *inv = st->inv;
	const char *needs = NULL;

	if (st->pcp && st->natpmp)
		return cli_fail(
			st->error, st->size,
			"options --pcp and --nat-pmp contradict each other");
	inv->options.protocol_choice = st->pcp	    ? CHOOSE_PCP
				       : st->natpmp ? CHOOSE_NATPMP
						    : CHOOSE_AUTO;
	if (inv->options.protocol_choice != CHOOSE_NATPMP)
		return 0;
	if (inv->options.families & FAMILY_V6)
		needs = "IPv6 (-6)";
	else if (inv->options.exact)
		needs = "option --exact";
	else if (inv->options.third_party)
		needs = "option --for";
	else if (inv->options.filter_count)
		needs = "option --allow-from";
	if (needs)
		return cli_fail(
			st->error, st->size,
			"%s needs PCP: it cannot be used with --nat-pmp",
			needs);
	return 0;
}

static void invocation_init(struct invocation *inv)
{
	memset(inv, 0, sizeof(*inv));
	inv->options.lifetime = OPTIONS_DEFAULT_LIFETIME;
	inv->options.timeout_ms = OPTIONS_NO_TIMEOUT;
	inv->options.hook_timeout_ms = OPTIONS_DEFAULT_HOOK_TIMEOUT_MS;
	inv->options.all_transports = TRANSPORT_BOTH;
}

static int unknown_command(struct parse_state *st,
			   const struct command *const commands[],
			   size_t command_count, const char *word)
{
	const char *names[CLI_COMMANDS_MAX];
	const char *close;
	size_t i, n = 0;

	for (i = 0; i < command_count && n < CLI_COMMANDS_MAX; i++)
		names[n++] = commands[i]->name;
	close = suggest_closest(word, strlen(word), names, n);
	if (close)
		return cli_fail(
			st->error, st->size,
			"unknown command '%s' (did you mean '%s'? try 'natpmp help')",
			word, close);
	return cli_fail(st->error, st->size,
			"unknown command '%s' (try 'natpmp help')", word);
}

static int scan_arguments(struct parse_state *st, int argc,
			  const char *const argv[],
			  const struct command *const commands[],
			  size_t command_count)
{
	bool options_done = false;
	char natpmpc[SUGGEST_SIZE];
	int i;

	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];
		int rc = 0;

		if (!options_done && strcmp(arg, "--") == 0)
			options_done = true;
		else if (!options_done && strncmp(arg, "--", 2) == 0)
			rc = parse_long(st, argc, argv, &i);
		else if (!options_done && !st->inv->command &&
			 suggest_natpmpc(argc, argv, i, natpmpc,
					 sizeof(natpmpc)) == 0)
			return cli_fail(
				st->error, st->size,
				"'-a PUBLIC PRIVATE PROTO [LIFETIME]' is natpmpc's; natpmp says it as: %s",
				natpmpc);
		else if (!options_done && is_option(arg))
			rc = parse_short(st, argc, argv, &i);
		else if (!st->inv->command) {
			st->inv->command =
				cli_find_command(commands, command_count, arg);
			if (!st->inv->command)
				return unknown_command(st, commands,
						       command_count, arg);
		} else
			st->operands[st->operand_count++] = arg;
		if (rc < 0)
			return -1;
	}
	return 0;
}

int cli_parse(int argc, const char *const argv[],
	      const struct command *const commands[], size_t command_count,
	      const char *env_gateway, struct invocation *inv, char *error,
	      size_t size)
{
	struct parse_state st;
	const char *origin = "--gateway";
	int rc = -1;

	invocation_init(inv);
	memset(&st, 0, sizeof(st));
	st.inv = inv;
	st.error = error;
	st.size = size;
	st.operands = calloc((size_t)(argc > 0 ? argc : 1), sizeof(char *));
	inv->options.specs = calloc((size_t)(argc > 0 ? argc : 1),
				    sizeof(*inv->options.specs));
	if (!st.operands || !inv->options.specs) {
		cli_fail(error, size, "out of memory");
		goto out;
	}
	if (scan_arguments(&st, argc, argv, commands, command_count) < 0)
		goto out;
	if (inv->help || inv->version) {
		rc = 0;
		goto out;
	}
	if (!inv->command) {
		cli_fail(error, size, "no command given (try 'natpmp help')");
		goto out;
	}
	if (check_options_apply(&st) < 0 || parse_operands(&st) < 0)
		goto out;
	if (!inv->options.gateway_given && env_gateway && *env_gateway) {
		if (cli_parse_gateway(env_gateway, "NATPMP_GATEWAY",
				      &inv->options.gateway, error, size) < 0)
			goto out;
		inv->options.gateway_given = true;
		origin = "NATPMP_GATEWAY";
	}
	if (settle_families(&st, origin) < 0 || settle_protocol(&st) < 0)
		goto out;
	rc = 0;
out:
	free(st.operands);
	if (rc < 0)
		cli_free(inv);
	return rc;
}

void cli_free(struct invocation *inv)
{
	free(inv->options.specs);
	inv->options.specs = NULL;
	inv->options.spec_count = 0;
}
