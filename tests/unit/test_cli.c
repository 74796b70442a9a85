/* test_cli.c - the command-line grammar: every SPEC, DURATION and gateway
 * form the man page promises, and a clear error naming each bad value. */
#include <arpa/inet.h>

#include "check.h"
#include "cli/cli.h"
#include "cmd/command.h"

static char error[CLI_ERROR_SIZE];

static void spec_ok(const char *text, unsigned internal, unsigned external,
		    unsigned protocols)
{
	struct port_spec spec;
	int rc = cli_parse_spec(text, &spec, error, sizeof(error));

	CHECK_EQ(rc, 0);
	if (rc == 0) {
		CHECK_EQ(spec.internal_port, internal);
		CHECK_EQ(spec.external_port, external);
		CHECK_EQ(spec.transports, protocols);
	} else {
		fprintf(stderr, "  '%s': %s\n", text, error);
	}
}

static void spec_bad(const char *text, const char *why)
{
	struct port_spec spec;

	error[0] = '\0';
	CHECK_EQ(cli_parse_spec(text, &spec, error, sizeof(error)), -1);
	CHECK_STR_CONTAINS(error, why);
}

static void test_specs(void)
{
	spec_ok("8080", 8080, 8080, TRANSPORT_TCP);
	spec_ok("8080:80/tcp", 8080, 80, TRANSPORT_TCP);
	spec_ok("51413/both", 51413, 51413, TRANSPORT_BOTH);
	spec_ok("0/both", 0, 0, TRANSPORT_BOTH);
	spec_ok("5353/UDP", 5353, 5353, TRANSPORT_UDP);
	spec_ok("65535:0", 65535, 0, TRANSPORT_TCP);
	spec_ok("0080", 80, 80, TRANSPORT_TCP);
	spec_bad("65536", "invalid SPEC '65536': port 65536 is out of range");
	spec_bad("99999999999999999999", "out of range");
	spec_bad("-1", "invalid SPEC '-1': '-1' is not a port number");
	spec_bad("80/sctp", "invalid SPEC '80/sctp': unknown protocol 'sctp'");
	spec_bad("8080:", "invalid SPEC '8080:': missing external port");
	spec_bad("8080:/udp", "missing external port");
	spec_bad(":80", "missing internal port");
	spec_bad("/tcp", "missing internal port");
	spec_bad("80/", "missing protocol");
	spec_bad("", "empty");
	spec_bad("http", "'http' is not a port number");
	spec_bad("80:90:100", "'90:100' is not a port number");
	spec_bad(" 80", "is not a port number");
}

static void range_ok(const char *text, unsigned internal, unsigned external,
		     unsigned count, unsigned protocols)
{
	struct port_spec spec;
	int rc = cli_parse_spec(text, &spec, error, sizeof(error));

	CHECK_EQ(rc, 0);
	if (rc != 0) {
		fprintf(stderr, "  '%s': %s\n", text, error);
		return;
	}
	CHECK_EQ(spec.internal_port, internal);
	CHECK_EQ(spec.external_port, external);
	CHECK_EQ(spec.count, count);
	CHECK_EQ(spec.transports, protocols);
}

static void test_ranges(void)
{
	range_ok("8080", 8080, 8080, 1, TRANSPORT_TCP);
	range_ok("6881-6889", 6881, 6881, 9, TRANSPORT_TCP);
	range_ok("10000-10099/udp", 10000, 10000, 100, TRANSPORT_UDP);
	range_ok("27015-27030:37015-37030/both", 27015, 37015, 16,
		 TRANSPORT_BOTH);
	range_ok("6881-6889:0", 6881, 0, 9, TRANSPORT_TCP);
	range_ok("8080-8080", 8080, 8080, 1, TRANSPORT_TCP);
	range_ok("1-65535", 1, 1, 65535, TRANSPORT_TCP);
	range_ok("8080:9000-9000", 8080, 9000, 1, TRANSPORT_TCP);
	spec_bad("6889-6881",
		 "invalid SPEC '6889-6881': the range 6889-6881 is reversed");
	spec_bad(
		"6881-6889:7000",
		"9 internal ports need an external range of 9 too (7000-7008), or 0");
	spec_bad("1-9:65530", /* no hint past 65535 */
		 "9 internal ports need an external range of 9 too, or 0");
	spec_bad("6881-6883:7000-7001",
		 "the internal range has 3 ports and the external range 2");
	spec_bad("8080:7000-7001",
		 "one internal port takes one external port, not a range");
	spec_bad("65530-65540", "port 65540 is out of range");
	spec_bad("0-5", "a port range starts at port 1 or above");
	spec_bad("8080-", "missing last port after '-'");
	spec_bad("8080--8090", "'-8090' is not a port number");
	spec_bad("-8080", "'-8080' is not a port number");
	spec_bad("6881-6889:", "missing external port");
}

static void test_durations(void)
{
	uint32_t seconds = 0;
	int64_t ms = 0;

	CHECK_EQ(cli_parse_lifetime("7200", &seconds, error, sizeof(error)), 0);
	CHECK_EQ(seconds, 7200);
	CHECK_EQ(cli_parse_lifetime("90m", &seconds, error, sizeof(error)), 0);
	CHECK_EQ(seconds, 5400);
	CHECK_EQ(cli_parse_lifetime("2h", &seconds, error, sizeof(error)), 0);
	CHECK_EQ(seconds, 7200);
	CHECK_EQ(cli_parse_lifetime("1d", &seconds, error, sizeof(error)), 0);
	CHECK_EQ(seconds, 86400);
	CHECK_EQ(cli_parse_lifetime("0.5h", &seconds, error, sizeof(error)), 0);
	CHECK_EQ(seconds, 1800);
	CHECK_EQ(cli_parse_lifetime("4294967295", &seconds, error,
				    sizeof(error)),
		 0);
	CHECK_EQ(seconds, 4294967295u);
	CHECK_EQ(cli_parse_lifetime("4294967296", &seconds, error,
				    sizeof(error)),
		 -1);
	CHECK_STR_CONTAINS(error, "too long");
	CHECK_EQ(cli_parse_lifetime("49711d", &seconds, error, sizeof(error)),
		 -1);
	CHECK_EQ(cli_parse_lifetime("0", &seconds, error, sizeof(error)), -1);
	CHECK_STR_CONTAINS(error,
			   "invalid lifetime '0': must be at least 1 second");
	CHECK_EQ(cli_parse_lifetime("5x", &seconds, error, sizeof(error)), -1);
	CHECK_STR_CONTAINS(error, "invalid lifetime '5x': unknown unit 'x'");
	CHECK_EQ(cli_parse_lifetime("5ms", &seconds, error, sizeof(error)), -1);
	CHECK_EQ(cli_parse_lifetime("1.5", &seconds, error, sizeof(error)), -1);
	CHECK_STR_CONTAINS(error, "whole number of seconds");
	CHECK_EQ(cli_parse_lifetime("", &seconds, error, sizeof(error)), -1);
	CHECK_EQ(cli_parse_lifetime("-5", &seconds, error, sizeof(error)), -1);
	CHECK_EQ(cli_parse_lifetime("s", &seconds, error, sizeof(error)), -1);

	CHECK_EQ(cli_parse_timeout("0.5", &ms, error, sizeof(error)), 0);
	CHECK_EQ(ms, 500);
	CHECK_EQ(cli_parse_timeout(".25", &ms, error, sizeof(error)), 0);
	CHECK_EQ(ms, 250);
	CHECK_EQ(cli_parse_timeout("2m", &ms, error, sizeof(error)), 0);
	CHECK_EQ(ms, 120000);
	CHECK_EQ(cli_parse_timeout("1.0001", &ms, error, sizeof(error)), 0);
	CHECK_EQ(ms, 1000);
	CHECK_EQ(cli_parse_timeout("0", &ms, error, sizeof(error)), -1);
	CHECK_STR_CONTAINS(error, "invalid timeout '0'");
	CHECK_EQ(cli_parse_timeout("0.0001", &ms, error, sizeof(error)), -1);
	CHECK_EQ(cli_parse_timeout("1..5", &ms, error, sizeof(error)), -1);
}

static void test_gateways(void)
{
	struct ip_endpoint gw;

	CHECK_EQ(cli_parse_gateway("10.2.0.1", "gateway", &gw, error,
				   sizeof(error)),
		 0);
	CHECK_EQ(ip_address_v4(&gw.address), 0x0a020001);
	CHECK_EQ(gw.port, 5351);
	CHECK_EQ(cli_parse_gateway("127.0.0.1:40000", "gateway", &gw, error,
				   sizeof(error)),
		 0);
	CHECK_EQ(gw.port, 40000);
	CHECK_EQ(cli_parse_gateway("foo", "gateway", &gw, error, sizeof(error)),
		 -1);
	CHECK_STR_CONTAINS(error, "invalid gateway 'foo': not an address");
	CHECK_EQ(cli_parse_gateway("1.2.3", "gateway", &gw, error,
				   sizeof(error)),
		 -1);
	CHECK_EQ(cli_parse_gateway("1.2.3.4:", "gateway", &gw, error,
				   sizeof(error)),
		 -1);
	CHECK_EQ(cli_parse_gateway("1.2.3.4:0", "gateway", &gw, error,
				   sizeof(error)),
		 -1);
	CHECK_EQ(cli_parse_gateway("1.2.3.4:65536", "gateway", &gw, error,
				   sizeof(error)),
		 -1);
	CHECK_EQ(cli_parse_gateway("1.2.3.4:12x", "gateway", &gw, error,
				   sizeof(error)),
		 -1);
	CHECK_EQ(cli_parse_gateway("0.0.0.0", "gateway", &gw, error,
				   sizeof(error)),
		 -1);
	CHECK_EQ(cli_parse_gateway("224.0.0.1", "gateway", &gw, error,
				   sizeof(error)),
		 -1);
	CHECK_STR_CONTAINS(error, "not a unicast address");
	/* IPv6: bare, in brackets, with a port, link-local with its scope */
	CHECK_EQ(cli_parse_gateway("::1", "NATPMP_GATEWAY", &gw, error,
				   sizeof(error)),
		 0);
	CHECK_EQ(gw.address.family, AF_INET6);
	CHECK_EQ(gw.port, 5351);
	CHECK_EQ(cli_parse_gateway("[2001:db8::1]:5352", "gateway", &gw, error,
				   sizeof(error)),
		 0);
	CHECK_EQ(gw.port, 5352);
	CHECK_EQ(cli_parse_gateway("[::1]", "gateway", &gw, error,
				   sizeof(error)),
		 0);
	CHECK_EQ(cli_parse_gateway("fe80::1%1", "gateway", &gw, error,
				   sizeof(error)),
		 0);
	CHECK_EQ(gw.address.scope, 1);
	CHECK_EQ(
		cli_parse_gateway("[::1", "gateway", &gw, error, sizeof(error)),
		-1);
	CHECK_EQ(cli_parse_gateway("[::1]x", "gateway", &gw, error,
				   sizeof(error)),
		 -1);
	CHECK_EQ(cli_parse_gateway("::", "NATPMP_GATEWAY", &gw, error,
				   sizeof(error)),
		 -1);
	CHECK_STR_CONTAINS(error, "invalid NATPMP_GATEWAY '::': not a unicast");
	CHECK_EQ(cli_parse_gateway("ff02::1", "gateway", &gw, error,
				   sizeof(error)),
		 -1);
}

static void test_filters(void)
{
	struct port_filter f;

	CHECK_EQ(cli_parse_filter("198.51.100.7", &f, error, sizeof(error)), 0);
	CHECK_EQ(f.prefix_length, 32);
	CHECK_EQ(f.port, 0);
	CHECK_EQ(cli_parse_filter("198.51.100.0/24:443", &f, error,
				  sizeof(error)),
		 0);
	CHECK_EQ(ip_address_v4(&f.address), 0xc6336400);
	CHECK_EQ(f.prefix_length, 24);
	CHECK_EQ(f.port, 443);
	CHECK_EQ(cli_parse_filter("2001:db8::/32", &f, error, sizeof(error)),
		 0);
	CHECK_EQ(f.prefix_length, 32);
	CHECK_EQ(f.address.family, AF_INET6);
	CHECK_EQ(cli_parse_filter("[2001:db8::7/128]:22", &f, error,
				  sizeof(error)),
		 0);
	CHECK_EQ(f.port, 22);
	CHECK_EQ(cli_parse_filter("198.51.100.0/33", &f, error, sizeof(error)),
		 -1);
	CHECK_STR_CONTAINS(error, "prefix length must be 0-32");
	CHECK_EQ(cli_parse_filter("198.51.100.0/", &f, error, sizeof(error)),
		 -1);
	CHECK_EQ(cli_parse_filter("198.51.100.7:0", &f, error, sizeof(error)),
		 -1);
	CHECK_STR_CONTAINS(error, "port must be 1-65535");
	CHECK_EQ(cli_parse_filter("example.com", &f, error, sizeof(error)), -1);
	CHECK_STR_CONTAINS(error, "'example.com' is not an address");
	CHECK_EQ(cli_parse_filter("fe80::1%1", &f, error, sizeof(error)), -1);
}

static const struct command *const commands[] = {
	&command_address,
	&command_map,
	&command_unmap,
	&command_renew_loop,
};

static int parse(const char *env, struct invocation *inv, int argc,
		 const char *const argv[])
{
	error[0] = '\0';
	return cli_parse(argc, argv, commands,
			 sizeof(commands) / sizeof(commands[0]), env, inv,
			 error, sizeof(error));
}

#define ARGV(...) ((const char *const[]){ "natpmp", __VA_ARGS__ })
#define ARGC(...)                                                              \
	((int)(sizeof((const char *[]){ "natpmp", __VA_ARGS__ }) /             \
	       sizeof(char *)))
#define PARSE(env, inv, ...)                                                   \
	parse(env, inv, ARGC(__VA_ARGS__), ARGV(__VA_ARGS__))

/* Ranges become one SPEC per port, in order; a command names at most
 * CLI_PORTS_MAX ports. */
static void test_ranges_expand(void)
{
	struct invocation inv;

	CHECK_EQ(PARSE(NULL, &inv, "map", "6881-6883/both", "80",
		       "27015-27016:37015-37016/udp", "5000-5001:0"),
		 0);
	CHECK_EQ(inv.options.spec_count, 8);
	CHECK_EQ(inv.options.specs[0].internal_port, 6881);
	CHECK_EQ(inv.options.specs[2].internal_port, 6883);
	CHECK_EQ(inv.options.specs[2].external_port, 6883);
	CHECK_EQ(inv.options.specs[2].transports, TRANSPORT_BOTH);
	CHECK_EQ(inv.options.specs[3].internal_port, 80);
	CHECK_EQ(inv.options.specs[5].internal_port, 27016);
	CHECK_EQ(inv.options.specs[5].external_port, 37016);
	CHECK_EQ(inv.options.specs[5].transports, TRANSPORT_UDP);
	CHECK_EQ(inv.options.specs[7].internal_port, 5001);
	CHECK_EQ(inv.options.specs[7].external_port, 0);
	CHECK_EQ(inv.options.specs[7].count, 1);
	cli_free(&inv);

	CHECK_EQ(PARSE(NULL, &inv, "renew-loop", "1-1024/both"), 0);
	CHECK_EQ(inv.options.spec_count, 1024);
	CHECK_EQ(inv.options.specs[1023].internal_port, 1024);
	cli_free(&inv);
	CHECK_EQ(PARSE(NULL, &inv, "unmap", "1-1000", "2000-2024"), -1);
	CHECK_STR_CONTAINS(
		error,
		"too many ports: unmap names more than 1024 in all; split them across commands");
	CHECK_EQ(PARSE(NULL, &inv, "map", "6881-6889", "tcp"), -1);
	CHECK_STR_CONTAINS(error, "did you mean 6881-6889/tcp?");
}

/* A gateway keeps one mapping per protocol and internal port: each is
 * named once, whatever the external ports. */
static void test_ports_named_once(void)
{
	struct invocation inv;

	CHECK_EQ(PARSE(NULL, &inv, "map", "8080/udp", "8080/tcp", "6881-6889",
		       "6890-6899/both"),
		 0);
	CHECK_EQ(inv.options.spec_count, 21);
	cli_free(&inv);
	CHECK_EQ(PARSE(NULL, &inv, "map", "80", "6881-6889", "6885-6890"), -1);
	CHECK_STR_CONTAINS(
		error,
		"invalid SPEC '6885-6890': port 6885/tcp is also in '6881-6889'; name each port once");
	CHECK_EQ(PARSE(NULL, &inv, "renew-loop", "6885-6890/udp",
		       "6881-6889:0/both"),
		 -1);
	CHECK_STR_CONTAINS(error, "port 6885/udp is also in '6885-6890/udp'");
	CHECK_EQ(PARSE(NULL, &inv, "unmap", "8080:80", "8080:81"), -1);
	CHECK_STR_CONTAINS(error, "port 8080/tcp is also in '8080:80'");
	CHECK_EQ(PARSE(NULL, &inv, "map", "0/both", "0/udp"), -1);
	CHECK_STR_CONTAINS(error, "port 0/udp is also in '0/both'");
}

static void test_options_anywhere(void)
{
	struct invocation inv;

	CHECK_EQ(PARSE(NULL, &inv, "map", "8080", "-l", "60", "-qj",
		       "--gateway=127.0.0.1:5000", "51413/both"),
		 0);
	CHECK(inv.command == &command_map);
	CHECK_EQ(inv.options.lifetime, 60);
	CHECK(inv.options.quiet && inv.options.json && !inv.options.verbose);
	CHECK_EQ(inv.options.gateway.port, 5000);
	CHECK_EQ(inv.options.spec_count, 2);
	CHECK_EQ(inv.options.specs[1].transports, TRANSPORT_BOTH);
	cli_free(&inv);

	CHECK_EQ(PARSE(NULL, &inv, "-t0.5", "-g", "10.2.0.1", "unmap", "--all",
		       "--proto", "udp"),
		 0);
	CHECK_EQ(inv.options.timeout_ms, 500);
	CHECK(inv.options.all);
	CHECK_EQ(inv.options.all_transports, TRANSPORT_UDP);
	CHECK_EQ(inv.options.lifetime, OPTIONS_DEFAULT_LIFETIME);
	cli_free(&inv);

	CHECK_EQ(PARSE(NULL, &inv, "renew-loop", "0/both"), 0);
	CHECK_EQ(inv.options.hook_timeout_ms, 60000);
	CHECK(!inv.options.unmap_all_on_exit);
	cli_free(&inv);
	CHECK_EQ(PARSE(NULL, &inv, "renew-loop", "0/both", "--hook-timeout",
		       "1.5", "--unmap-all-on-exit"),
		 0);
	CHECK_EQ(inv.options.hook_timeout_ms, 1500);
	CHECK(inv.options.unmap_all_on_exit);
	cli_free(&inv);

	/* the protocol and family choices */
	CHECK_EQ(PARSE(NULL, &inv, "map", "80"), 0);
	CHECK_EQ(inv.options.protocol_choice, CHOOSE_AUTO);
	CHECK_EQ(inv.options.families, FAMILY_V4);
	cli_free(&inv);
	CHECK_EQ(PARSE(NULL, &inv, "-4", "-6", "--pcp", "map", "80", "--exact"),
		 0);
	CHECK_EQ(inv.options.protocol_choice, CHOOSE_PCP);
	CHECK_EQ(inv.options.families, FAMILY_V4 | FAMILY_V6);
	CHECK(inv.options.exact);
	cli_free(&inv);
	/* the synopsis's bundle: families first, then flags */
	CHECK_EQ(PARSE(NULL, &inv, "-46jqv", "map", "80"), 0);
	CHECK_EQ(inv.options.families, FAMILY_V4 | FAMILY_V6);
	CHECK(inv.options.json && inv.options.quiet && inv.options.verbose);
	cli_free(&inv);
	CHECK_EQ(PARSE(NULL, &inv, "-g", "[::1]:5000", "map", "80", "--for",
		       "2001:db8::9", "--allow-from", "2001:db8::/48",
		       "--allow-from", "[2001:db8:1::1]:443"),
		 0);
	CHECK_EQ(inv.options.families, FAMILY_V6); /* the gateway's family */
	CHECK(inv.options.third_party);
	CHECK_EQ(inv.options.filter_count, 2);
	CHECK_EQ(inv.options.filters[1].port, 443);
	cli_free(&inv);
	CHECK_EQ(PARSE(NULL, &inv, "--nat-pmp", "unmap", "80"), 0);
	CHECK_EQ(inv.options.protocol_choice, CHOOSE_NATPMP);
	cli_free(&inv);

	CHECK_EQ(PARSE(NULL, &inv, "map", "--", "8080"), 0);
	CHECK_EQ(inv.options.spec_count, 1);
	cli_free(&inv);

	/* -l is everybody's, so that one alias serves every command */
	CHECK_EQ(PARSE(NULL, &inv, "-g", "10.2.0.1", "-l", "60", "address"), 0);
	cli_free(&inv);
	CHECK_EQ(PARSE(NULL, &inv, "-g", "10.2.0.1", "-l", "60", "unmap", "80"),
		 0);
	cli_free(&inv);
}

static void test_gateway_sources(void)
{
	struct invocation inv;

	CHECK_EQ(PARSE("10.0.0.1", &inv, "address"), 0);
	CHECK(inv.options.gateway_given);
	CHECK_EQ(ip_address_v4(&inv.options.gateway.address), 0x0a000001);
	cli_free(&inv);
	CHECK_EQ(PARSE("garbage", &inv, "-g", "10.0.0.2", "address"), 0);
	CHECK_EQ(ip_address_v4(&inv.options.gateway.address), 0x0a000002);
	cli_free(&inv);
	CHECK_EQ(PARSE("garbage", &inv, "address"), -1);
	CHECK_STR_CONTAINS(error, "invalid NATPMP_GATEWAY 'garbage'");
	CHECK_EQ(PARSE(NULL, &inv, "address"), 0);
	CHECK(!inv.options.gateway_given);
	cli_free(&inv);
}

static void bad(const char *why, int argc, const char *const argv[])
{
	struct invocation inv;

	CHECK_EQ(parse(NULL, &inv, argc, argv), -1);
	CHECK_STR_CONTAINS(error, why);
}

#define BAD(why, ...) bad(why, ARGC(__VA_ARGS__), ARGV(__VA_ARGS__))

/* Slips get a did-you-mean; natpmpc's grammar gets its natpmp spelling. */
static void test_suggestions(void)
{
	BAD("unknown command 'adress' (did you mean 'address'? try 'natpmp help')",
	    "adress");
	BAD("unknown command 'mpa' (did you mean 'map'?", "mpa", "80");
	BAD("unknown command 'renewloop' (did you mean 'renew-loop'?",
	    "renewloop", "80");
	BAD("unknown command 'frobnicate' (try 'natpmp help')", "frobnicate");
	BAD("unknown option '--gatway' (did you mean '--gateway'?)", "--gatway",
	    "10.0.0.1", "address");
	BAD("unknown option '--verbosity'", "--verbosity", "address");
	CHECK(strstr(error, "did you mean") == NULL); /* three slips away */
	BAD("invalid SPEC 'tcp': the protocol goes after the port, did you mean 8080/tcp?",
	    "map", "8080", "tcp");
	BAD("invalid SPEC 'UDP': the protocol goes after the port, did you mean 5353:53/UDP?",
	    "map", "5353:53", "UDP");
	BAD("invalid SPEC 'all': did you mean --all?", "unmap", "all");
	BAD("'-a PUBLIC PRIVATE PROTO [LIFETIME]' is natpmpc's; natpmp says it as: natpmp -l 60 map 8080/tcp; to keep it mapped, as a natpmpc loop does: natpmp -l 60 renew-loop 8080/tcp",
	    "-a", "8080", "8080", "tcp", "60");
	/* every other word the user gave is kept, before or after */
	BAD("natpmp says it as: natpmp -g 10.0.0.1 -l 3600 map 8080:80/udp; to keep it mapped, as a natpmpc loop does: natpmp -g 10.0.0.1 -l 3600 renew-loop 8080:80/udp",
	    "-g", "10.0.0.1", "-a", "80", "8080", "UDP");
	/* ProtonVPN's own loop: its renew-loop is a VPN's 0/both */
	BAD("natpmp says it as: natpmp -g 10.2.0.1 -l 60 map 0:1/udp; to keep it mapped, as a natpmpc loop does: natpmp -g 10.2.0.1 -l 60 renew-loop 0/both",
	    "-a", "1", "0", "udp", "60", "-g", "10.2.0.1");
	BAD("natpmp says it as: natpmp -v -g 'fe80::1%wg 0' -l 60 map 0:1/tcp;",
	    "-v", "-a", "1", "0", "tcp", "60", "-g", "fe80::1%wg 0");
	BAD("natpmp says it as: natpmp -g 'it'\\''s' -l 3600 map 22/tcp;", "-a",
	    "22", "22", "tcp", "-g", "it's");
	BAD("natpmp says it as: natpmp unmap 8080/tcp", "-a", "8080", "8080",
	    "tcp", "0");
	BAD("natpmp says it as: natpmp unmap --all --proto udp", "-a", "0", "0",
	    "udp", "0");
}

static void test_usage_errors(void)
{
	struct invocation inv;

	BAD("no command given", "-q");
	BAD("unknown command 'frob'", "frob");
	BAD("unknown option '--frob'", "map", "80", "--frob");
	BAD("unknown option '-x'", "map", "80", "-x");
	BAD("option --lifetime needs a value", "map", "80", "--lifetime");
	BAD("option -g needs a value", "address", "-g");
	BAD("option --json takes no value", "address", "--json=yes");
	BAD("map needs at least one SPEC", "map");
	BAD("invalid SPEC '-1'", "map", "-1");
	BAD("invalid SPEC '-4000'", "map", "-4000");
	BAD("invalid SPEC '65536'", "map", "80", "65536");
	BAD("unmap --all takes no SPEC (got '8080')", "unmap", "--all", "8080");
	BAD("option --proto needs --all", "unmap", "80", "--proto", "tcp");
	BAD("invalid --proto: unknown protocol 'icmp'", "unmap", "--all", "-p",
	    "icmp");
	BAD("option --keep does not apply to address", "address", "--keep");
	BAD("option --all does not apply to map", "map", "80", "--all");
	BAD("address takes no arguments (got 'x')", "address", "x");
	BAD("invalid gateway 'foo'", "address", "-g", "foo");
	BAD("invalid lifetime '0'", "map", "80", "-l", "0");
	/* protocols and families */
	BAD("options --pcp and --nat-pmp contradict each other", "--pcp",
	    "--nat-pmp", "address");
	BAD("IPv6 (-6) needs PCP: it cannot be used with --nat-pmp", "-6",
	    "--nat-pmp", "map", "80");
	BAD("option --exact needs PCP: it cannot be used with --nat-pmp",
	    "--exact", "--nat-pmp", "map", "80");
	BAD("option --for needs PCP", "--for", "10.0.0.9", "--nat-pmp", "map",
	    "80");
	BAD("option --allow-from needs PCP", "--allow-from", "198.51.100.1",
	    "--nat-pmp", "map", "80");
	BAD("option --exact does not apply to address", "--exact", "address");
	BAD("option --allow-from does not apply to unmap", "--allow-from",
	    "198.51.100.1", "unmap", "80");
	BAD("--gateway names one gateway, but both -4 and -6 were given", "-4",
	    "-6", "-g", "10.0.0.1", "address");
	BAD("--gateway 10.0.0.1 is an IPv4 address, but -6 was given", "-6",
	    "-g", "10.0.0.1", "address");
	BAD("--for 2001:db8::5 is not an IPv4 address (give -6)", "--for",
	    "2001:db8::5", "map", "80");
	BAD("options --for and --allow-from apply to one address family", "-4",
	    "-6", "--for", "10.0.0.9", "map", "80");
	BAD("--allow-from 2001:db8:: is not an IPv4 address (give -6)",
	    "--allow-from", "2001:db8::/32", "map", "80");
	BAD("invalid --for 'nobody': not a unicast address", "--for", "nobody",
	    "map", "80");
	BAD("invalid hook timeout 'soon'", "renew-loop", "80", "--hook-timeout",
	    "soon");
	BAD("invalid hook timeout '0'", "renew-loop", "80", "--hook-timeout",
	    "0");
	BAD("option --hook-timeout does not apply to map", "map", "80",
	    "--hook-timeout", "5");
	BAD("options --keep and --unmap-all-on-exit contradict each other",
	    "renew-loop", "0/udp", "--keep", "--unmap-all-on-exit");
	BAD("option --unmap-all-on-exit does not apply to map", "map", "80",
	    "--unmap-all-on-exit");
	/* --help wins over missing operands, and names the command */
	CHECK_EQ(PARSE(NULL, &inv, "map", "--help"), 0);
	CHECK(inv.help && inv.command == &command_map);
	cli_free(&inv);
}

int main(void)
{
	test_specs();
	test_ranges();
	test_suggestions();
	test_durations();
	test_gateways();
	test_filters();
	test_options_anywhere();
	test_ranges_expand();
	test_ports_named_once();
	test_gateway_sources();
	test_usage_errors();
	return check_report("test_cli");
}
