/* options.h - what the user asked of natpmp, in the engine's terms: the
 * command line (cli.c) fills one in, and every floor below the commands
 * reads this and nothing else of the command line or the environment. */
#ifndef NATPMP_OPTIONS_H
#define NATPMP_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ip_address.h"
#include "core/port_mapping.h"

#define OPTIONS_DEFAULT_LIFETIME 7200 /* RFC 6886 section 3.3 */
#define OPTIONS_DEFAULT_HOOK_TIMEOUT_MS 60000
/* timeout_ms when --timeout was not given: each protocol's own patience */
#define OPTIONS_NO_TIMEOUT (-1)

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

/* INTERNAL[-LAST][:EXTERNAL[-LAST]][/PROTO]: count ports from
 * internal_port, each mapped to the port as far from external_port (or
 * each to 0, for the gateway to choose). On the command line every
 * range is expanded into SPECs of one port each. */
struct port_spec {
	uint16_t internal_port;
	uint16_t external_port; /* suggested; defaults to internal_port */
	unsigned count;		/* ports in the range, 1 for one port */
	unsigned transports;	/* enum transport */
};

struct options {
	/* the gateway: named (by --gateway or NATPMP_GATEWAY), else found */
	bool gateway_given;
	const char *gateway_origin; /* "--gateway" or "NATPMP_GATEWAY" */
	struct ip_endpoint gateway;
	unsigned families;	 /* enum family_bits: IPv4, IPv6 or both */
	unsigned families_given; /* what -4 and -6 said, before defaults */
	enum protocol_choice protocol_choice;
	/* the whole command's patience, or renew-loop's per request */
	int64_t timeout_ms; /* OPTIONS_NO_TIMEOUT: the protocol's own */

	/* what a mapping request carries */
	uint32_t lifetime;
	bool exact;	  /* PCP's PREFER_FAILURE */
	bool third_party; /* --for: PCP's THIRD_PARTY */
	struct ip_address third_party_address;
	struct port_filter filters[FILTER_MAX];
	size_t filter_count;

	bool json;
	bool quiet;
	bool verbose;
	/* where what natpmp remembers between runs is kept; NULL: nowhere */
	const char *state_directory;

	/* map, unmap and renew-loop: one port each, ranges expanded */
	struct port_spec *specs;
	size_t spec_count;
	bool all;		 /* unmap --all */
	unsigned all_transports; /* its --proto */

	/* renew-loop */
	const char *on_change;
	int64_t hook_timeout_ms;
	bool keep;
	bool unmap_all_on_exit; /* delete-all for internal port 0 on exit */
	const char *port_file;	/* the active mappings' external ports */
	bool hook_renewals;	/* the hook runs at each renewal too */

	/* doctor: the test mappings' internal port, 0 if not given */
	uint16_t port;
};

#endif
