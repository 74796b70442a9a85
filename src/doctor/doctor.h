/* doctor.h - `natpmp doctor`: what its probes found (doctor_probe.c fills
 * struct doctor_facts on the event loop), and the judgement of those facts
 * (doctor_judge.c, pure): a status and a line per check, then a verdict,
 * the advice most likely to help and the exit status. The printers are in
 * doctor_print.c; the random test port is doctor_port.c's. */
#ifndef NATPMP_DOCTOR_H
#define NATPMP_DOCTOR_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/result.h"
#include "os/os.h"

/* test mappings ask for this long: short, and no shorter than the 120 s
 * PCP servers commonly hold as their least */
#define DOCTOR_TEST_LIFETIME 120
/* test mappings use an internal port from this range when --port is not
 * given (the dynamic ports, RFC 6335) */
#define DOCTOR_PORT_FIRST 49152

enum probe_outcome {
	PROBE_NOT_RUN,	      /* skipped, see the check's reason */
	PROBE_ANSWERED,	      /* a success */
	PROBE_REFUSED,	      /* an error result: result.failure says which */
	PROBE_OTHER_PROTOCOL, /* answered in the other protocol's format */
	PROBE_SILENT,	      /* no answer within the probe's time */
	/* datagrams came back, none the answer: in neither protocol, or
	 * answers to something else (result.message says which) */
	PROBE_UNUSABLE,
	PROBE_CLOSED, /* ICMP port unreachable */
	PROBE_FAILED, /* a local error: result.message */
};

/* an answer this long after the probe's first send is slow: a gateway on
 * the LAN answers in milliseconds */
#define DOCTOR_SLOW_MS 1000

struct doctor_probe {
	enum probe_outcome outcome;
	struct result result; /* failure, message, epoch, address, port... */
	int64_t waited_ms;    /* until the answer, or until it gave up */
	int sends;
	bool late; /* answered after the doctor had moved on */
};

/* A test mapping: made, judged, then deleted. */
struct doctor_mapping {
	struct doctor_probe probe;
	unsigned transport;	 /* TRANSPORT_TCP or TRANSPORT_UDP */
	uint16_t internal_port;	 /* also the external port asked for, */
	uint16_t suggested_port; /* or 0 for the port-zero check */
	uint32_t lifetime;	 /* asked */
	enum protocol_id via;	 /* the protocol it went over */
	bool delete_needed;	 /* granted, or maybe made (no answer) */
	bool deleted;		 /* the gateway confirmed the deletion */
};

enum route_finder {
	FOUND_BY_DEFAULT_ROUTE,
	FOUND_BY_POLICY_RULE,
	FOUND_BY_OPTION,      /* --gateway */
	FOUND_BY_ENVIRONMENT, /* $NATPMP_GATEWAY */
};

/* The route toward one family's gateway. */
struct doctor_route {
	bool checked;	/* this family is checked */
	bool found;	/* a gateway to talk to */
	bool reachable; /* a named gateway: the kernel has a route */
	enum route_finder found_by;
	struct ip_endpoint gateway;
	struct gateway_route route; /* tunnel set when that is why not */
	char error[RESULT_MESSAGE_SIZE];
};

struct doctor_facts {
	/* why a family is not checked ("-4 given"), NULL when it is */
	const char *v4_skip, *v6_skip;
	bool forced_natpmp, forced_pcp;
	bool interrupted;  /* SIGINT, SIGTERM or SIGHUP */
	int64_t probe_ms;  /* each probe's patience */
	int64_t budget_ms; /* how late an answer to a probe still counts */

	struct doctor_route v4;
	struct doctor_probe natpmp; /* an address request */
	struct doctor_probe pcp;    /* an ANNOUNCE request */
	struct doctor_mapping tcp, udp, port_zero;

	struct doctor_route v6;
	struct doctor_probe v6_pcp;    /* ANNOUNCE toward the IPv6 gateway */
	struct doctor_mapping pinhole; /* a TCP pinhole */
};

enum check_status {
	CHECK_OK,
	CHECK_WARN,
	CHECK_FAIL,
	CHECK_SKIP,
};

enum doctor_check_id {
	CHECK_ROUTE,
	CHECK_NATPMP,
	CHECK_PCP,
	CHECK_EXTERNAL_ADDRESS,
	CHECK_MAPPING_TCP,
	CHECK_MAPPING_UDP,
	CHECK_PORT_ZERO,
	CHECK_IPV6,
	CHECK_COUNT,
};

#define DOCTOR_TEXT_SIZE 512

struct doctor_check {
	const char *name; /* "route", "nat-pmp"... */
	enum check_status status;
	char text[DOCTOR_TEXT_SIZE]; /* the finding, for people */
};

struct doctor_report {
	struct doctor_check checks[CHECK_COUNT];
	enum check_status verdict; /* CHECK_OK, CHECK_WARN or CHECK_FAIL */
	char advice[DOCTOR_TEXT_SIZE];
	int exit_status;
	/* the external IPv4 address and its class, when one was learned */
	struct ip_address external_address;
	const char *address_class; /* "public", "private", "shared"... */
};

/* Judges the facts: fills every check, the verdict and the advice. */
void doctor_judge(const struct doctor_facts *facts,
		  struct doctor_report *report);

const char *check_status_name(enum check_status status);
const char *probe_outcome_name(enum probe_outcome outcome);
/* The probe got its answer (a success, a refusal or one in the other
 * protocol's format) after DOCTOR_SLOW_MS or more. */
bool probe_was_slow(const struct doctor_probe *probe);

/* The printers: a line per check and the verdict, aligned, the status
 * word coloured when colour is set; or a JSON object per check and one
 * for the verdict. quiet: the verdict alone. */
void print_text_doctor(FILE *out, const struct doctor_report *report,
		       bool colour, bool quiet);
void print_json_doctor(FILE *out, const struct doctor_facts *facts,
		       const struct doctor_report *report, bool quiet);

/* A random number, and whether natpmp holds port (a mapping it made). */
typedef uint32_t doctor_port_draw(void *context);
typedef bool doctor_port_held(void *context, uint16_t port);
/* The test port without --port: drawn from DOCTOR_PORT_FIRST-65535 again
 * while held says so or it is Transmission's default (51413), and after
 * many draws the next port on that is neither (doctor_port.c, pure). */
uint16_t doctor_random_port(doctor_port_draw *draw, doctor_port_held *held,
			    void *context);

/* Runs the probes for the command line and fills *facts. Returns 0, the
 * exit status of a failure to start (out of memory, no event loop), or
 * EXIT_USAGE after one line on stderr when --port names a port that a
 * mapping natpmp made holds (nothing is sent then). */
struct options;
int doctor_probe(const struct options *options, struct doctor_facts *facts);

#endif
