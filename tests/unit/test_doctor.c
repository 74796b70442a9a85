/* test_doctor.c - the doctor's judgement: from what the probes found to
 * each check's status, the verdict, the advice and the exit status, for
 * the cases the fake gateway cannot play (a tunnel, an IPv6-only host,
 * an interrupted run, a deletion that failed). */
#include <string.h>

#include "check.h"
#include "core/exit_status.h"
#include "core/port_mapping.h"
#include "doctor/doctor.h"
#include "engine/patience.h"

static void answered(struct doctor_probe *p, enum protocol_id via)
{
	p->outcome = PROBE_ANSWERED;
	p->result.via = via;
	p->result.epoch_known = true;
	p->result.epoch = 7300;
}

static void granted(struct doctor_mapping *m, unsigned transport,
		    uint16_t suggested, uint16_t port, uint32_t lifetime)
{
	m->transport = transport;
	m->internal_port = 50000;
	m->suggested_port = suggested;
	m->lifetime = DOCTOR_TEST_LIFETIME;
	m->via = PROTOCOL_NATPMP;
	answered(&m->probe, PROTOCOL_NATPMP);
	ip_address_set_v4(&m->probe.result.external_address, 0x2c010203);
	m->probe.result.external_port = port;
	m->probe.result.lifetime = lifetime;
	m->delete_needed = m->deleted = true;
}

/* A home router where everything works, IPv4 only. */
static void working(struct doctor_facts *f)
{
	memset(f, 0, sizeof(*f));
	f->probe_ms = PATIENCE_PROBE_MS;
	f->v4.checked = f->v4.found = f->v4.reachable = true;
	f->v4.gateway.port = 5351;
	ip_address_set_v4(&f->v4.gateway.address, 0xc0a80101);
	strcpy(f->v4.route.interface_name, "eth0");
	answered(&f->natpmp, PROTOCOL_NATPMP);
	ip_address_set_v4(&f->natpmp.result.external_address, 0x2c010203);
	answered(&f->pcp, PROTOCOL_PCP);
	granted(&f->tcp, TRANSPORT_TCP, 50000, 50000, 120);
	granted(&f->udp, TRANSPORT_UDP, 50000, 50000, 120);
	granted(&f->port_zero, TRANSPORT_TCP, 0, 61000, 120);
	f->v6_skip = "-4 given";
}

static void test_working(void)
{
	struct doctor_facts f;
	struct doctor_report r;
	size_t i;

	working(&f);
	doctor_judge(&f, &r);
	for (i = 0; i < CHECK_IPV6; i++)
		CHECK_EQ(r.checks[i].status, CHECK_OK);
	CHECK_EQ(r.checks[CHECK_IPV6].status, CHECK_SKIP);
	CHECK_EQ(r.verdict, CHECK_OK);
	CHECK_EQ(r.exit_status, EXIT_OK);
	CHECK_STR_CONTAINS(r.checks[CHECK_NATPMP].text, "2 h 1 min");
	CHECK_STR_CONTAINS(r.checks[CHECK_ROUTE].text, "default route");
	CHECK_STR_CONTAINS(r.checks[CHECK_EXTERNAL_ADDRESS].text,
			   "44.1.2.3, public");
	CHECK(strcmp(r.checks[CHECK_PORT_ZERO].name, "port-zero") == 0);
}

static void test_tunnel(void)
{
	struct doctor_facts f;
	struct doctor_report r;

	working(&f);
	memset(&f.v4, 0, sizeof(f.v4));
	f.v4.checked = true;
	f.v4.route.tunnel = true;
	strcpy(f.v4.route.interface_name, "wg0");
	memset(&f.natpmp, 0, sizeof(f.natpmp));
	memset(&f.pcp, 0, sizeof(f.pcp));
	memset(&f.tcp, 0, sizeof(f.tcp));
	memset(&f.udp, 0, sizeof(f.udp));
	memset(&f.port_zero, 0, sizeof(f.port_zero));
	doctor_judge(&f, &r);
	CHECK_EQ(r.checks[CHECK_ROUTE].status, CHECK_FAIL);
	CHECK_STR_CONTAINS(r.checks[CHECK_ROUTE].text, "wg0");
	CHECK_EQ(r.checks[CHECK_NATPMP].status, CHECK_SKIP);
	CHECK_EQ(r.checks[CHECK_MAPPING_TCP].status, CHECK_SKIP);
	CHECK_EQ(r.verdict, CHECK_FAIL);
	CHECK_EQ(r.exit_status, EXIT_NO_GATEWAY);
	CHECK_STR_CONTAINS(r.advice, "-g");
	CHECK_STR_CONTAINS(r.advice, "tunnel wg0");
}

/* No IPv4 route, but IPv6 pinholes work: not cut off, exit 0. */
static void test_ipv6_only_host(void)
{
	struct doctor_facts f;
	struct doctor_report r;

	working(&f);
	f.v6_skip = NULL;
	memset(&f.v4, 0, sizeof(f.v4));
	f.v4.checked = true;
	strcpy(f.v4.error, "there is no IPv4 default route");
	f.v6.checked = f.v6.found = f.v6.reachable = true;
	answered(&f.v6_pcp, PROTOCOL_PCP);
	granted(&f.pinhole, TRANSPORT_TCP, 50000, 50000, 120);
	doctor_judge(&f, &r);
	CHECK_EQ(r.checks[CHECK_ROUTE].status, CHECK_FAIL);
	CHECK_EQ(r.checks[CHECK_IPV6].status, CHECK_OK);
	CHECK_EQ(r.verdict, CHECK_WARN);
	CHECK_EQ(r.exit_status, EXIT_OK);
	CHECK_STR_CONTAINS(r.advice, "IPv6 pinholes work");
}

/* IPv4 works, the host has IPv6, the router opens no pinholes. */
static void test_ipv6_refused_beside_working_ipv4(void)
{
	struct doctor_facts f;
	struct doctor_report r;

	working(&f);
	f.v6_skip = NULL;
	f.v6.checked = f.v6.found = f.v6.reachable = true;
	answered(&f.v6_pcp, PROTOCOL_PCP);
	f.pinhole.probe.outcome = PROBE_REFUSED;
	f.pinhole.probe.result.failure = FAILURE_NOT_AUTHORIZED;
	doctor_judge(&f, &r);
	CHECK_EQ(r.checks[CHECK_IPV6].status, CHECK_WARN);
	CHECK_EQ(r.verdict, CHECK_WARN);
	CHECK_EQ(r.exit_status, EXIT_OK);
	CHECK_STR_CONTAINS(r.advice, "IPv6 pinholes do not");

	/* a host without IPv6 has nothing to fix there */
	memset(&f.v6, 0, sizeof(f.v6));
	f.v6.checked = true;
	strcpy(f.v6.error, "there is no IPv6 default route");
	memset(&f.pinhole, 0, sizeof(f.pinhole));
	memset(&f.v6_pcp, 0, sizeof(f.v6_pcp));
	doctor_judge(&f, &r);
	CHECK_EQ(r.checks[CHECK_IPV6].status, CHECK_SKIP);
	CHECK_EQ(r.verdict, CHECK_OK);
}

static void test_interrupted(void)
{
	struct doctor_facts f;
	struct doctor_report r;

	working(&f);
	f.interrupted = true;
	memset(&f.udp, 0, sizeof(f.udp));
	memset(&f.port_zero, 0, sizeof(f.port_zero));
	f.tcp.probe.outcome = PROBE_NOT_RUN; /* cut short in flight */
	doctor_judge(&f, &r);
	CHECK_EQ(r.checks[CHECK_MAPPING_TCP].status, CHECK_SKIP);
	CHECK_STR_CONTAINS(r.checks[CHECK_MAPPING_TCP].text, "deleted");
	CHECK_STR_CONTAINS(r.checks[CHECK_MAPPING_UDP].text, "interrupted");
	CHECK_EQ(r.verdict, CHECK_FAIL);
	CHECK_EQ(r.exit_status, 130);
}

static void test_catches(void)
{
	struct doctor_facts f;
	struct doctor_report r;

	/* another external port than asked */
	working(&f);
	f.tcp.probe.result.external_port = 40001;
	doctor_judge(&f, &r);
	CHECK_EQ(r.checks[CHECK_MAPPING_TCP].status, CHECK_WARN);
	CHECK_STR_CONTAINS(r.checks[CHECK_MAPPING_TCP].text,
			   "40001 instead of 50000");
	CHECK_EQ(r.verdict, CHECK_WARN);
	CHECK_EQ(r.exit_status, EXIT_OK);
	CHECK_STR_CONTAINS(r.advice, "picks the external port");

	/* a deletion the gateway never confirmed */
	working(&f);
	f.udp.deleted = false;
	doctor_judge(&f, &r);
	CHECK_EQ(r.checks[CHECK_MAPPING_UDP].status, CHECK_WARN);
	CHECK_STR_CONTAINS(r.checks[CHECK_MAPPING_UDP].text, "lapses");
	CHECK_EQ(r.verdict, CHECK_WARN);
	CHECK_STR_CONTAINS(r.advice, "could not be deleted");

	/* NAT-PMP silent, PCP speaks: works, with a word on NAT-PMP tools */
	working(&f);
	memset(&f.natpmp, 0, sizeof(f.natpmp));
	f.natpmp.outcome = PROBE_SILENT;
	f.natpmp.sends = 3;
	doctor_judge(&f, &r);
	CHECK_EQ(r.checks[CHECK_NATPMP].status, CHECK_WARN);
	CHECK_STR_CONTAINS(r.checks[CHECK_NATPMP].text, "3 attempts");
	CHECK_EQ(r.verdict, CHECK_WARN);
	CHECK_STR_CONTAINS(r.advice, "natpmpc");
}

static void test_silence_and_closed(void)
{
	struct doctor_facts f;
	struct doctor_report r;

	working(&f);
	memset(&f.natpmp, 0, sizeof(f.natpmp));
	memset(&f.pcp, 0, sizeof(f.pcp));
	memset(&f.tcp, 0, sizeof(f.tcp));
	memset(&f.udp, 0, sizeof(f.udp));
	memset(&f.port_zero, 0, sizeof(f.port_zero));
	f.natpmp.outcome = PROBE_SILENT;
	f.pcp.outcome = PROBE_SILENT;
	doctor_judge(&f, &r);
	CHECK_EQ(r.checks[CHECK_NATPMP].status, CHECK_FAIL);
	CHECK_EQ(r.checks[CHECK_PCP].status, CHECK_FAIL);
	CHECK_EQ(r.checks[CHECK_MAPPING_TCP].status, CHECK_SKIP);
	CHECK_EQ(r.exit_status, EXIT_TRY_LATER);
	CHECK_STR_CONTAINS(r.advice, "does not answer");

	f.pcp.outcome = PROBE_CLOSED;
	doctor_judge(&f, &r);
	CHECK_EQ(r.exit_status, EXIT_UNSUPPORTED);
	CHECK_STR_CONTAINS(r.advice, "port 5351 closed");
	CHECK_STR_CONTAINS(r.checks[CHECK_PCP].text, "port 5351");
}

/* A slow gateway is not a silent one: lines warn with the time, the
 * verdict follows the answers. */
static void test_slow(void)
{
	struct doctor_facts f;
	struct doctor_report r;

	working(&f);
	f.natpmp.waited_ms = 2100;
	f.natpmp.late = true;
	f.tcp.probe.waited_ms = 1900;
	doctor_judge(&f, &r);
	CHECK_EQ(r.checks[CHECK_NATPMP].status, CHECK_WARN);
	CHECK_STR_CONTAINS(r.checks[CHECK_NATPMP].text,
			   "answers (version 0), after 2.1 s (slow);");
	CHECK_STR_CONTAINS(r.checks[CHECK_MAPPING_TCP].text,
			   "granted over NAT-PMP, after 1.9 s (slow): ");
	CHECK_EQ(r.checks[CHECK_MAPPING_TCP].status, CHECK_OK);
	CHECK_EQ(r.verdict, CHECK_OK);
	CHECK(probe_was_slow(&f.natpmp));
	f.natpmp.waited_ms = 900;
	CHECK(!probe_was_slow(&f.natpmp));
}

/* Datagrams in neither protocol are named, not called silence. */
static void test_unusable(void)
{
	struct doctor_facts f;
	struct doctor_report r;
	const char *what =
		"gateway 192.168.1.1 answered 3 times to 3 attempts within the 1.5 s timeout, never in NAT-PMP or PCP: 12-byte datagrams of version 2";

	working(&f);
	memset(&f.natpmp, 0, sizeof(f.natpmp));
	f.natpmp.outcome = PROBE_UNUSABLE;
	f.natpmp.result.failure = FAILURE_TIMEOUT;
	strcpy(f.natpmp.result.message, what);
	doctor_judge(&f, &r);
	CHECK_EQ(r.checks[CHECK_NATPMP].status, CHECK_WARN);
	CHECK(strcmp(r.checks[CHECK_NATPMP].text, what) == 0);
	CHECK_STR_CONTAINS(r.advice, "port forwarding works over PCP");
	memset(&f.pcp, 0, sizeof(f.pcp));
	memset(&f.tcp, 0, sizeof(f.tcp));
	memset(&f.udp, 0, sizeof(f.udp));
	memset(&f.port_zero, 0, sizeof(f.port_zero));
	f.pcp.outcome = PROBE_SILENT;
	doctor_judge(&f, &r);
	CHECK_EQ(r.verdict, CHECK_FAIL);
	CHECK_EQ(r.exit_status, EXIT_TRY_LATER);
	CHECK_STR_CONTAINS(
		r.advice,
		"something answers on port 5351, but in neither NAT-PMP nor PCP: gateway");
	CHECK(strcmp(probe_outcome_name(PROBE_UNUSABLE), "unusable") == 0);
}

/* A VPN server whose port forwarding is off for this connection closes
 * port 5351 to it: said in those words, and on no other route. */
static void test_closed_through_a_tunnel(void)
{
	struct doctor_facts f;
	struct doctor_report r;

	working(&f);
	memset(&f.natpmp, 0, sizeof(f.natpmp));
	memset(&f.pcp, 0, sizeof(f.pcp));
	memset(&f.tcp, 0, sizeof(f.tcp));
	memset(&f.udp, 0, sizeof(f.udp));
	memset(&f.port_zero, 0, sizeof(f.port_zero));
	f.v4.found_by = FOUND_BY_OPTION;
	ip_address_set_v4(&f.v4.gateway.address, 0x0a020001);
	strcpy(f.v4.route.interface_name, "wg0");
	f.v4.route.tunnel = true;
	f.natpmp.outcome = PROBE_CLOSED;
	f.pcp.outcome = PROBE_CLOSED;
	doctor_judge(&f, &r);
	CHECK_STR_CONTAINS(r.checks[CHECK_ROUTE].text,
			   "interface wg0 (a tunnel)");
	CHECK_EQ(r.checks[CHECK_NATPMP].status, CHECK_FAIL);
	CHECK_STR_CONTAINS(
		r.checks[CHECK_NATPMP].text,
		"port 5351 of 10.2.0.1 is closed (ICMP port unreachable through the tunnel wg0): port forwarding is not enabled for this VPN connection");
	CHECK_EQ(r.verdict, CHECK_FAIL);
	CHECK_EQ(r.exit_status, EXIT_UNSUPPORTED);
	CHECK_STR_CONTAINS(
		r.advice,
		"port forwarding is not enabled for this VPN connection (10.2.0.1 closes port 5351 through the tunnel wg0): enable it with the provider");

	f.v4.route.tunnel = false;
	doctor_judge(&f, &r);
	CHECK(strstr(r.advice, "VPN connection") == NULL);
	CHECK(strstr(r.checks[CHECK_NATPMP].text, "VPN") == NULL);
	CHECK(strstr(r.checks[CHECK_ROUTE].text, "tunnel") == NULL);
}

/* Draws played back in order, and the ports a fake ledger holds. */
struct port_script {
	const uint32_t *draws;
	size_t count, next;
	const uint16_t *held;
	size_t held_count;
};

static uint32_t scripted_draw(void *context)
{
	struct port_script *s = context;

	return s->next < s->count ? s->draws[s->next++] : s->draws[0];
}

static bool scripted_held(void *context, uint16_t port)
{
	const struct port_script *s = context;
	size_t i;

	for (i = 0; i < s->held_count; i++)
		if (s->held[i] == port)
			return true;
	return false;
}

/* The random test port is a dynamic port, never one a mapping natpmp made
 * holds nor Transmission's default: those are drawn again. */
static void test_random_port(void)
{
	/* 51413, then 60000 and 49152 (held), then 65535 */
	static const uint32_t draws[] = { 51413 - DOCTOR_PORT_FIRST,
					  60000 - DOCTOR_PORT_FIRST,
					  16384, /* wraps to 49152 */
					  65535 - DOCTOR_PORT_FIRST };
	static const uint16_t held[] = { 60000, 49152 };
	static const uint32_t always_held[] = { 60000 - DOCTOR_PORT_FIRST };
	struct port_script s = {
		.draws = draws, .count = 4, .held = held, .held_count = 2
	};

	CHECK_EQ(doctor_random_port(scripted_draw, scripted_held, &s), 65535);
	CHECK_EQ(s.next, 4);
	/* nothing held: the first draw, whatever its size */
	s.next = 0;
	s.held_count = 0;
	s.draws = (const uint32_t[]){ 0xffffffffu };
	s.count = 1;
	CHECK_EQ(doctor_random_port(scripted_draw, scripted_held, &s),
		 DOCTOR_PORT_FIRST + 0xffffffffu % (65536 - DOCTOR_PORT_FIRST));
	/* the same held port drawn every time: the next one free after it */
	s.next = 0;
	s.draws = always_held;
	s.held = held;
	s.held_count = 1;
	CHECK_EQ(doctor_random_port(scripted_draw, scripted_held, &s), 60001);
}

static void test_names(void)
{
	CHECK(strcmp(check_status_name(CHECK_WARN), "warn") == 0);
	CHECK(strcmp(check_status_name(CHECK_SKIP), "skip") == 0);
	CHECK(strcmp(probe_outcome_name(PROBE_CLOSED), "port-closed") == 0);
	CHECK(strcmp(probe_outcome_name(PROBE_OTHER_PROTOCOL),
		     "other-protocol") == 0);
}

int main(void)
{
	test_working();
	test_tunnel();
	test_ipv6_only_host();
	test_ipv6_refused_beside_working_ipv4();
	test_interrupted();
	test_catches();
	test_silence_and_closed();
	test_slow();
	test_unusable();
	test_closed_through_a_tunnel();
	test_random_port();
	test_names();
	return check_report("test_doctor");
}
