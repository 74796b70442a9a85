/* doctor_judge.c - from what the doctor's probes found to a status and a
 * line per check, then one verdict with the fix most likely to help. Pure:
 * no I/O, so every gateway personality is judged in unit tests.
 *
 * The verdict is fail when port forwarding cannot work from here, warn when
 * it works with a catch the user must act on, ok otherwise. A line can warn
 * about something that is no catch for natpmp itself (the gateway does not
 * speak PCP, say) without changing the verdict. */
#include "doctor/doctor.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/address_class.h"
#include "core/exit_status.h"
#include "out/output.h"
#include "wire/wire_natpmp.h"

static const char *const check_names[CHECK_COUNT] = {
	[CHECK_ROUTE] = "route",
	[CHECK_NATPMP] = "nat-pmp",
	[CHECK_PCP] = "pcp",
	[CHECK_EXTERNAL_ADDRESS] = "external-address",
	[CHECK_MAPPING_TCP] = "mapping-tcp",
	[CHECK_MAPPING_UDP] = "mapping-udp",
	[CHECK_PORT_ZERO] = "port-zero",
	[CHECK_IPV6] = "ipv6",
};

const char *check_status_name(enum check_status status)
{
	switch (status) {
	case CHECK_OK: return "ok";
	case CHECK_WARN: return "warn";
	case CHECK_FAIL: return "fail";
	case CHECK_SKIP: break;
	}
	return "skip";
}

const char *probe_outcome_name(enum probe_outcome outcome)
{
	switch (outcome) {
	case PROBE_NOT_RUN: return "not-run";
	case PROBE_ANSWERED: return "answered";
	case PROBE_REFUSED: return "refused";
	case PROBE_OTHER_PROTOCOL: return "other-protocol";
	case PROBE_SILENT: return "silent";
	case PROBE_UNUSABLE: return "unusable";
	case PROBE_CLOSED: return "port-closed";
	case PROBE_FAILED: break;
	}
	return "failed";
}

static void set(struct doctor_report *report, enum doctor_check_id id,
		enum check_status status, const char *format, ...)
	__attribute__((format(printf, 4, 5)));

static void set(struct doctor_report *report, enum doctor_check_id id,
		enum check_status status, const char *format, ...)
{
	struct doctor_check *check = &report->checks[id];
	va_list ap;

	check->status = status;
	va_start(ap, format);
	vsnprintf(check->text, sizeof(check->text), format, ap);
	va_end(ap);
}

static void advise(struct doctor_report *report, enum check_status verdict,
		   int exit_status, const char *format, ...)
	__attribute__((format(printf, 4, 5)));

static void advise(struct doctor_report *report, enum check_status verdict,
		   int exit_status, const char *format, ...)
{
	va_list ap;

	report->verdict = verdict;
	report->exit_status = exit_status;
	va_start(ap, format);
	vsnprintf(report->advice, sizeof(report->advice), format, ap);
	va_end(ap);
}

/* "3 h 12 min", "2 d 4 h", "42 s": the gateway's uptime from its epoch */
static void format_uptime(uint32_t seconds, char *text, size_t size)
{
	if (seconds >= 86400)
		snprintf(text, size, "%lu d %lu h",
			 (unsigned long)(seconds / 86400),
			 (unsigned long)(seconds % 86400 / 3600));
	else if (seconds >= 3600)
		snprintf(text, size, "%lu h %lu min",
			 (unsigned long)(seconds / 3600),
			 (unsigned long)(seconds % 3600 / 60));
	else if (seconds >= 60)
		snprintf(text, size, "%lu min %lu s",
			 (unsigned long)(seconds / 60),
			 (unsigned long)(seconds % 60));
	else
		snprintf(text, size, "%lu s", (unsigned long)seconds);
}

static void format_patience(int64_t ms, char *text, size_t size)
{
	if (ms % 1000 == 0)
		snprintf(text, size, "%lld s", (long long)(ms / 1000));
	else
		snprintf(text, size, "%.1f s", (double)ms / 1000.0);
}

static void gateway_text(const struct doctor_route *route, char *text,
			 size_t size)
{
	ip_endpoint_format(&route->gateway, GATEWAY_PORT, text, size);
}

/* Whether a protocol's probe got an answer in that protocol: it speaks
 * it, even if it refused the probe (NAT-PMP's address request is refused
 * with "network failure" while the gateway has no external address). */
static bool speaks(const struct doctor_probe *probe)
{
	return probe->outcome == PROBE_ANSWERED ||
	       probe->outcome == PROBE_REFUSED;
}

static bool silent(const struct doctor_probe *probe)
{
	return probe->outcome == PROBE_SILENT || probe->outcome == PROBE_CLOSED;
}

bool probe_was_slow(const struct doctor_probe *probe)
{
	return (speaks(probe) || probe->outcome == PROBE_OTHER_PROTOCOL) &&
	       probe->waited_ms >= DOCTOR_SLOW_MS;
}

/* ", after 2.1 s (slow)", or nothing for a prompt answer */
static void slowness(const struct doctor_probe *probe, char *text, size_t size)
{
	if (probe_was_slow(probe))
		snprintf(text, size, ", after %.1f s (slow)",
			 (double)probe->waited_ms / 1000.0);
	else
		snprintf(text, size, "%s", "");
}

/* Why a probe got no usable answer, for a check's line. */
static void describe_failure(const struct doctor_probe *probe,
			     const struct doctor_facts *facts,
			     const struct doctor_route *route, char *text,
			     size_t size)
{
	char patience[32], gw[IP_ENDPOINT_TEXT_SIZE];

	gateway_text(route, gw, sizeof(gw));
	switch (probe->outcome) {
	case PROBE_SILENT:
		format_patience(facts->probe_ms, patience, sizeof(patience));
		snprintf(text, size, "no answer from %s in %s (%d %s)", gw,
			 patience, probe->sends,
			 probe->sends == 1 ? "attempt" : "attempts");
		break;
	case PROBE_CLOSED:
		ip_address_format(&route->gateway.address, gw, sizeof(gw));
		if (route->route.tunnel)
			snprintf(
				text, size,
				"port %u of %s is closed (ICMP port unreachable through the tunnel %s): port forwarding is not enabled for this VPN connection",
				(unsigned)route->gateway.port, gw,
				route->route.interface_name);
		else
			snprintf(
				text, size,
				"port %u of %s is closed (ICMP port unreachable)",
				(unsigned)route->gateway.port, gw);
		break;
	case PROBE_REFUSED:
	case PROBE_OTHER_PROTOCOL:
	case PROBE_UNUSABLE:
	case PROBE_FAILED:
		snprintf(text, size, "%s", probe->result.message);
		break;
	case PROBE_ANSWERED:
	case PROBE_NOT_RUN: snprintf(text, size, "%s", ""); break;
	}
}

/* Why an IPv4 check was not made. */
static const char *no_ipv4(const struct doctor_facts *facts)
{
	return facts->v4.checked ? "no IPv4 gateway to ask"
				 : "IPv4 not checked";
}

static void judge_route(const struct doctor_facts *facts,
			struct doctor_report *report)
{
	const struct doctor_route *v4 = &facts->v4;
	static const char *const finders[] = {
		[FOUND_BY_DEFAULT_ROUTE] = "the default route",
		[FOUND_BY_POLICY_RULE] = "a policy rule's route",
		[FOUND_BY_OPTION] = "--gateway",
		[FOUND_BY_ENVIRONMENT] = "$NATPMP_GATEWAY",
	};
	char gw[IP_ENDPOINT_TEXT_SIZE], source[IP_ADDRESS_TEXT_SIZE];

	if (!v4->checked) {
		set(report, CHECK_ROUTE, CHECK_SKIP, "IPv4 not checked (%s)",
		    facts->v4_skip ? facts->v4_skip : "not asked");
		return;
	}
	if (!v4->found) {
		if (v4->route.tunnel)
			set(report, CHECK_ROUTE, CHECK_FAIL,
			    "the default route goes through %s, a point-to-point link such as a VPN tunnel, with no gateway address: name the gateway with -g",
			    v4->route.interface_name);
		else
			set(report, CHECK_ROUTE, CHECK_FAIL, "%s", v4->error);
		return;
	}
	gateway_text(v4, gw, sizeof(gw));
	if (!v4->reachable) {
		set(report, CHECK_ROUTE, CHECK_WARN, "gateway %s from %s: %s",
		    gw, finders[v4->found_by], v4->error);
		return;
	}
	ip_address_format(&v4->route.source, source, sizeof(source));
	set(report, CHECK_ROUTE, CHECK_OK,
	    "gateway %s from %s, interface %s%s, source %s", gw,
	    finders[v4->found_by], v4->route.interface_name,
	    v4->route.tunnel ? " (a tunnel)" : "", source);
}

static void judge_protocol(const struct doctor_facts *facts,
			   struct doctor_report *report,
			   enum doctor_check_id id)
{
	bool natpmp = id == CHECK_NATPMP;
	const struct doctor_probe *probe =
		natpmp ? &facts->natpmp : &facts->pcp;
	const struct doctor_probe *other =
		natpmp ? &facts->pcp : &facts->natpmp;
	bool forced_other = natpmp ? facts->forced_pcp : facts->forced_natpmp;
	char why[DOCTOR_TEXT_SIZE];
	/* not speaking one protocol is a catch only when neither is spoken */
	enum check_status missing = speaks(other) ? CHECK_WARN : CHECK_FAIL;

	if (!facts->v4.checked || !facts->v4.found) {
		set(report, id, CHECK_SKIP, "%s", no_ipv4(facts));
		return;
	}
	if (probe->outcome == PROBE_NOT_RUN) {
		set(report, id, CHECK_SKIP, "not asked (%s)",
		    !forced_other ? "interrupted"
		    : natpmp	  ? "--pcp given"
				  : "--nat-pmp given");
		return;
	}
	if (speaks(probe)) {
		char uptime[32], slow[48];
		format_uptime(probe->result.epoch, uptime, sizeof(uptime));
		slowness(probe, slow, sizeof(slow));
		if (probe->outcome == PROBE_REFUSED &&
		    probe->result.failure != FAILURE_NETWORK)
			set(report, id, CHECK_WARN,
			    "answers%s, but refused the %s: %s", slow,
			    natpmp ? "address request" : "ANNOUNCE request",
			    probe->result.message);
		else
			/* slow is no catch for natpmp, which waits the
			 * RFC's schedule; other programs may give up */
			set(report, id, slow[0] ? CHECK_WARN : CHECK_OK,
			    "answers (version %d)%s; the gateway has been up %s",
			    natpmp ? 0 : 2, slow, uptime);
		return;
	}
	if (probe->outcome == PROBE_OTHER_PROTOCOL) {
		set(report, id, missing,
		    "not spoken: the gateway answers in %s",
		    natpmp ? "PCP format only" : "NAT-PMP format only");
		return;
	}
	describe_failure(probe, facts, &facts->v4, why, sizeof(why));
	set(report, id, probe->outcome == PROBE_FAILED ? CHECK_FAIL : missing,
	    "%s", why);
}

/* The external address the gateway reported, if any answer carried one. */
static const struct ip_address *external_address(
	const struct doctor_facts *facts)
{
	const struct doctor_probe *carriers[] = {
		&facts->natpmp,
		&facts->tcp.probe,
		&facts->udp.probe,
		&facts->port_zero.probe,
	};
	size_t i;

	for (i = 0; i < sizeof(carriers) / sizeof(carriers[0]); i++)
		if (carriers[i]->outcome == PROBE_ANSWERED &&
		    ip_address_is_set(&carriers[i]->result.external_address))
			return &carriers[i]->result.external_address;
	return NULL;
}

/* The gateway said it has no external address (NAT-PMP's 0.0.0.0, or a
 * network failure to an address request or a mapping). */
static bool no_external_address(const struct doctor_facts *facts)
{
	return facts->natpmp.result.failure == FAILURE_NETWORK ||
	       facts->tcp.probe.result.failure == FAILURE_NETWORK ||
	       facts->udp.probe.result.failure == FAILURE_NETWORK;
}

static void judge_external_address(const struct doctor_facts *facts,
				   struct doctor_report *report)
{
	const struct ip_address *address = external_address(facts);
	char text[IP_ADDRESS_TEXT_SIZE];
	struct address_class class;

	if (!facts->v4.checked || !facts->v4.found) {
		set(report, CHECK_EXTERNAL_ADDRESS, CHECK_SKIP, "%s",
		    no_ipv4(facts));
		return;
	}
	if (!address) {
		if (no_external_address(facts))
			set(report, CHECK_EXTERNAL_ADDRESS, CHECK_FAIL,
			    "0.0.0.0: the gateway has no external address yet");
		else
			set(report, CHECK_EXTERNAL_ADDRESS, CHECK_SKIP,
			    "unknown: no answer carried it");
		return;
	}
	report->external_address = *address;
	ip_address_format(address, text, sizeof(text));
	class = address_classify(ip_address_v4(address));
	if (!class.name) {
		report->address_class = "public";
		set(report, CHECK_EXTERNAL_ADDRESS, CHECK_OK, "%s, public",
		    text);
	} else if (strcmp(class.name, "private") == 0) {
		report->address_class = "private";
		set(report, CHECK_EXTERNAL_ADDRESS, CHECK_FAIL,
		    "%s, private: the gateway is itself behind another NAT",
		    text);
	} else if (strncmp(class.name, "shared", 6) == 0) {
		report->address_class = "shared";
		set(report, CHECK_EXTERNAL_ADDRESS, CHECK_FAIL,
		    "%s, in 100.64.0.0/10: carrier-grade NAT at the ISP", text);
	} else {
		report->address_class = class.name;
		set(report, CHECK_EXTERNAL_ADDRESS, CHECK_FAIL,
		    "%s, %s: not reachable from the internet", text,
		    class.name);
	}
}

static bool granted(const struct doctor_mapping *m)
{
	return m->probe.outcome == PROBE_ANSWERED;
}

/* "; deleted", or why the gateway still holds it */
static void deletion_text(const struct doctor_mapping *m, char *text,
			  size_t size)
{
	if (m->deleted)
		snprintf(text, size, "; deleted");
	else
		snprintf(text, size, "; not deleted: it lapses within %lu s",
			 (unsigned long)(granted(m) ? m->probe.result.lifetime
						    : m->lifetime));
}

static void judge_mapping(const struct doctor_facts *facts,
			  struct doctor_report *report, enum doctor_check_id id,
			  const struct doctor_mapping *m,
			  const struct doctor_route *route, const char *skip)
{
	const struct result *r = &m->probe.result;
	char deletion[64], port[96] = "", lifetime[96] = "", slow[48];
	enum check_status status = CHECK_OK;

	if (skip) {
		set(report, id, CHECK_SKIP, "%s", skip);
		return;
	}
	if (m->probe.outcome == PROBE_NOT_RUN && m->delete_needed) {
		set(report, id, CHECK_SKIP, "interrupted before the answer%s",
		    m->deleted ? "; deleted" : "; not deleted");
		return;
	}
	if (m->probe.outcome == PROBE_NOT_RUN) {
		set(report, id, CHECK_SKIP, "not asked (%s)",
		    facts->interrupted ? "interrupted"
		    : silent(&facts->tcp.probe) || silent(&facts->udp.probe)
			    ? "the gateway went silent before"
			    : "no test mapping was granted");
		return;
	}
	deletion_text(m, deletion, sizeof(deletion));
	if (!granted(m)) {
		char why[DOCTOR_TEXT_SIZE];
		describe_failure(&m->probe, facts, route, why, sizeof(why));
		set(report, id,
		    id == CHECK_PORT_ZERO || id == CHECK_IPV6 ? CHECK_WARN
							      : CHECK_FAIL,
		    "%s%s", why, m->delete_needed ? deletion : "");
		return;
	}
	if (m->suggested_port == 0)
		snprintf(port, sizeof(port),
			 "the gateway chose external port %u",
			 (unsigned)r->external_port);
	else if (r->external_port == m->suggested_port)
		snprintf(port, sizeof(port), "external port %u as asked",
			 (unsigned)r->external_port);
	else {
		snprintf(port, sizeof(port), "external port %u instead of %u",
			 (unsigned)r->external_port,
			 (unsigned)m->suggested_port);
		status = CHECK_WARN;
	}
	if (r->lifetime < m->lifetime) {
		snprintf(lifetime, sizeof(lifetime), "%lu s of %lu s asked",
			 (unsigned long)r->lifetime,
			 (unsigned long)m->lifetime);
		status = CHECK_WARN;
	} else {
		snprintf(lifetime, sizeof(lifetime), "%lu s",
			 (unsigned long)r->lifetime);
	}
	if (!m->deleted)
		status = CHECK_WARN;
	slowness(&m->probe, slow, sizeof(slow));
	set(report, id, status, "granted over %s%s: %s, %s%s",
	    protocol_name(m->via), slow, port, lifetime, deletion);
}

/* Why the mapping checks were not run, or NULL when they were. */
static const char *mapping_skip(const struct doctor_facts *facts)
{
	if (!facts->v4.checked || !facts->v4.found)
		return no_ipv4(facts);
	if (!speaks(&facts->natpmp) && !speaks(&facts->pcp))
		return facts->interrupted && facts->pcp.outcome == PROBE_NOT_RUN
			       ? "not asked (interrupted)"
			       : "neither NAT-PMP nor PCP answered";
	return NULL;
}

static void judge_ipv6(const struct doctor_facts *facts,
		       struct doctor_report *report)
{
	const struct doctor_route *v6 = &facts->v6;
	/* with -6 IPv6 is the point; otherwise a host without IPv6 has
	 * nothing to fix */
	enum check_status missing = facts->v4.checked ? CHECK_SKIP : CHECK_FAIL;
	enum check_status broken = facts->v4.checked ? CHECK_WARN : CHECK_FAIL;
	char gw[IP_ENDPOINT_TEXT_SIZE], source[IP_ADDRESS_TEXT_SIZE],
		why[DOCTOR_TEXT_SIZE], slow[48];

	if (!v6->checked) {
		set(report, CHECK_IPV6, CHECK_SKIP, "IPv6 not checked (%s)",
		    facts->v6_skip ? facts->v6_skip : "not asked");
		return;
	}
	if (!v6->found) {
		set(report, CHECK_IPV6, v6->route.tunnel ? broken : missing,
		    "%s", v6->error);
		return;
	}
	gateway_text(v6, gw, sizeof(gw));
	ip_address_format(&v6->route.source, source, sizeof(source));
	if (facts->v6_pcp.outcome != PROBE_NOT_RUN && !speaks(&facts->v6_pcp)) {
		describe_failure(&facts->v6_pcp, facts, v6, why, sizeof(why));
		set(report, CHECK_IPV6, broken,
		    "router %s, global address %s; PCP: %s", gw, source, why);
		return;
	}
	if (facts->pinhole.probe.outcome == PROBE_NOT_RUN) {
		set(report, CHECK_IPV6, CHECK_SKIP,
		    "router %s, global address %s; no pinhole tried (%s)", gw,
		    source, facts->interrupted ? "interrupted" : "no PCP");
		return;
	}
	if (!granted(&facts->pinhole)) {
		describe_failure(&facts->pinhole.probe, facts, v6, why,
				 sizeof(why));
		set(report, CHECK_IPV6, broken,
		    "router %s, global address %s; a pinhole was not granted: %s",
		    gw, source, why);
		return;
	}
	slowness(&facts->v6_pcp, slow, sizeof(slow));
	/* slowness is no catch here either: the status stays */
	set(report, CHECK_IPV6, facts->pinhole.deleted ? CHECK_OK : CHECK_WARN,
	    "router %s, global address %s%s%s; a TCP pinhole for port %u was granted%s",
	    gw, source, slow[0] ? "; PCP answers" : "", slow,
	    (unsigned)facts->pinhole.internal_port,
	    facts->pinhole.deleted ? " and deleted" : ", not deleted");
}

/* A VPN server closes its port to a connection whose port forwarding is
 * off. */
static void advise_vpn_closed(struct doctor_report *report,
			      const struct doctor_route *v4, const char *port)
{
	char address[IP_ADDRESS_TEXT_SIZE];

	advise(report, CHECK_FAIL, EXIT_UNSUPPORTED,
	       "port forwarding is not enabled for this VPN connection (%s closes %s through the tunnel %s): enable it with the provider (a configuration or login with port forwarding, on a server that offers it), then reconnect",
	       ip_address_format(&v4->gateway.address, address,
				 sizeof(address)),
	       port, v4->route.interface_name);
}

/* The verdict when IPv4 port forwarding cannot work; false if it can. */
static bool ipv4_failure(const struct doctor_facts *facts,
			 struct doctor_report *report)
{
	const struct doctor_route *v4 = &facts->v4;
	const struct doctor_mapping *m = &facts->tcp;
	const char *cls = report->address_class;
	char port[16];

	if (!v4->found) {
		if (v4->route.tunnel)
			advise(report, CHECK_FAIL, EXIT_NO_GATEWAY,
			       "the default route goes through the tunnel %s, which has no gateway address: name your VPN's port-forwarding gateway with -g (e.g. natpmp -g 10.2.0.1 doctor; the provider documents it)",
			       v4->route.interface_name);
		else
			advise(report, CHECK_FAIL, EXIT_NO_GATEWAY,
			       "no IPv4 gateway found (%s): connect to a network, or name the gateway with -g",
			       v4->error);
		return true;
	}
	snprintf(port, sizeof(port), "port %u", (unsigned)v4->gateway.port);
	if (!speaks(&facts->natpmp) && !speaks(&facts->pcp)) {
		const struct doctor_probe *unusable =
			facts->natpmp.outcome == PROBE_UNUSABLE ? &facts->natpmp
			: facts->pcp.outcome == PROBE_UNUSABLE	? &facts->pcp
								: NULL;
		bool closed = facts->natpmp.outcome == PROBE_CLOSED ||
			      facts->pcp.outcome == PROBE_CLOSED;
		if (closed && v4->route.tunnel)
			advise_vpn_closed(report, v4, port);
		else if (closed)
			advise(report, CHECK_FAIL, EXIT_UNSUPPORTED,
			       "the router does not speak NAT-PMP or PCP (%s closed): enable NAT-PMP or PCP in its settings (often next to UPnP)",
			       port);
		else if (unusable)
			advise(report, CHECK_FAIL,
			       failure_exit_status(unusable->result.failure),
			       "something answers on %s, but in neither NAT-PMP nor PCP: %s",
			       port, unusable->result.message);
		else if (silent(&facts->natpmp) || silent(&facts->pcp))
			advise(report, CHECK_FAIL, EXIT_TRY_LATER,
			       "the router does not answer NAT-PMP or PCP on %s: enable NAT-PMP or PCP in its settings, or on a VPN name the provider's port-forwarding gateway with -g",
			       port);
		else
			advise(report, CHECK_FAIL,
			       failure_exit_status(
				       facts->natpmp.result.failure),
			       "the router answers in neither NAT-PMP nor PCP: %s",
			       facts->natpmp.result.message);
		return true;
	}
	if (no_external_address(facts) && !external_address(facts)) {
		advise(report, CHECK_FAIL, EXIT_TRY_LATER,
		       "the router has no external address yet (0.0.0.0): its internet link is down or still connecting; check it, then run natpmp doctor again");
		return true;
	}
	if (m->probe.outcome != PROBE_ANSWERED &&
	    m->probe.outcome != PROBE_NOT_RUN) {
		if (m->probe.result.failure == FAILURE_NOT_AUTHORIZED)
			advise(report, CHECK_FAIL, EXIT_REFUSED,
			       "the router refused this device: allow it to open ports by itself in the router's settings (a permission many routers give per device, often next to UPnP), or turn NAT-PMP or PCP on there");
		else
			advise(report, CHECK_FAIL,
			       failure_exit_status(m->probe.result.failure),
			       "the router answers but did not map a port: %s",
			       m->probe.result.message);
		return true;
	}
	if (cls && strcmp(cls, "public") != 0) {
		char text[IP_ADDRESS_TEXT_SIZE];
		ip_address_format(&report->external_address, text,
				  sizeof(text));
		if (strcmp(cls, "shared") == 0)
			advise(report, CHECK_FAIL, EXIT_UNSUPPORTED,
			       "your ISP shares your address (%s is in 100.64.0.0/10, carrier-grade NAT): mappings here are not reachable from the internet; ask the ISP for a public address or use a VPN with port forwarding",
			       text);
		else if (strcmp(cls, "private") == 0)
			advise(report, CHECK_FAIL, EXIT_UNSUPPORTED,
			       "your router is behind another router (its external address %s is private): forward the ports on the outer router too, or put one of the two in bridge mode",
			       text);
		else
			advise(report, CHECK_FAIL, EXIT_UNSUPPORTED,
			       "the router's external address %s is not reachable from the internet (%s)",
			       text, cls);
		return true;
	}
	if (facts->interrupted || m->probe.outcome == PROBE_NOT_RUN) {
		advise(report, CHECK_FAIL, EXIT_TRY_LATER,
		       "no test mapping was made, so nothing is proven yet");
		return true;
	}
	return false;
}

/* A catch in IPv4 port forwarding that works; false if there is none. */
static bool ipv4_catch(const struct doctor_facts *facts,
		       struct doctor_report *report)
{
	const struct doctor_mapping *maps[] = { &facts->tcp, &facts->udp };
	size_t i;

	for (i = 0; i < 2; i++) {
		const struct result *r = &maps[i]->probe.result;
		if (!granted(maps[i]))
			continue;
		if (r->lifetime < maps[i]->lifetime) {
			advise(report, CHECK_WARN, EXIT_OK,
			       "port forwarding works, but the router grants at most %lu s: keep mappings with natpmp renew-loop, or renew every %lu s",
			       (unsigned long)r->lifetime,
			       (unsigned long)(r->lifetime / 2 ? r->lifetime / 2
							       : 1));
			return true;
		}
		if (r->external_port != maps[i]->suggested_port) {
			advise(report, CHECK_WARN, EXIT_OK,
			       "port forwarding works, but the router picks the external port: tell your application the port it reports (renew-loop's --on-change hook can)");
			return true;
		}
	}
	if (facts->natpmp.outcome == PROBE_OTHER_PROTOCOL ||
	    (!speaks(&facts->natpmp) &&
	     facts->natpmp.outcome != PROBE_NOT_RUN)) {
		advise(report, CHECK_WARN, EXIT_OK,
		       "port forwarding works over PCP, which natpmp uses by itself; programs that speak only NAT-PMP (natpmpc, many torrent clients) cannot map ports here");
		return true;
	}
	if (facts->port_zero.probe.outcome != PROBE_NOT_RUN &&
	    !granted(&facts->port_zero)) {
		advise(report, CHECK_WARN, EXIT_OK,
		       "port forwarding works, but the router refuses external port 0 (any port): name the external port you want");
		return true;
	}
	for (i = 0; i < 2; i++)
		if (maps[i]->delete_needed && !maps[i]->deleted) {
			advise(report, CHECK_WARN, EXIT_OK,
			       "port forwarding works, but a test mapping could not be deleted: it lapses within %d s",
			       DOCTOR_TEST_LIFETIME);
			return true;
		}
	return false;
}

static void verdict_ipv6_only(const struct doctor_facts *facts,
			      struct doctor_report *report)
{
	const struct doctor_check *line = &report->checks[CHECK_IPV6];

	if (line->status == CHECK_OK)
		advise(report, CHECK_OK, EXIT_OK,
		       "IPv6 pinholes work: natpmp -6 map PORT opens one");
	else if (!facts->v6.found)
		advise(report, CHECK_FAIL, EXIT_NO_GATEWAY,
		       "%s: connect to an IPv6 network, or name the router with -g",
		       facts->v6.error);
	else if (facts->v6_pcp.outcome == PROBE_OTHER_PROTOCOL)
		advise(report, CHECK_FAIL, EXIT_UNSUPPORTED,
		       "the router speaks NAT-PMP but not PCP, and only PCP opens IPv6 pinholes: enable PCP in its settings");
	else if (silent(&facts->v6_pcp))
		advise(report, CHECK_FAIL,
		       facts->v6_pcp.outcome == PROBE_CLOSED ? EXIT_UNSUPPORTED
							     : EXIT_TRY_LATER,
		       "the router does not speak PCP over IPv6: enable PCP (or UPnP IPv6 pinholes) in its settings");
	else if (facts->pinhole.probe.outcome == PROBE_ANSWERED)
		advise(report, CHECK_WARN, EXIT_OK,
		       "IPv6 pinholes work, but the test pinhole could not be deleted: it lapses within %d s",
		       DOCTOR_TEST_LIFETIME);
	else
		advise(report, CHECK_FAIL,
		       failure_exit_status(
			       facts->pinhole.probe.result.failure
				       ? facts->pinhole.probe.result.failure
				       : facts->v6_pcp.result.failure),
		       "the router did not open an IPv6 pinhole: %s",
		       facts->pinhole.probe.result.message[0]
			       ? facts->pinhole.probe.result.message
			       : facts->v6_pcp.result.message);
}

static void judge_verdict(const struct doctor_facts *facts,
			  struct doctor_report *report)
{
	const struct doctor_check *v6 = &report->checks[CHECK_IPV6];
	char ipv4[DOCTOR_TEXT_SIZE];

	if (!facts->v4.checked) {
		verdict_ipv6_only(facts, report);
	} else if (ipv4_failure(facts, report)) {
		/* a host with working IPv6 pinholes is not cut off */
		if (v6->status == CHECK_OK && !facts->interrupted) {
			snprintf(ipv4, sizeof(ipv4), "%s", report->advice);
			advise(report, CHECK_WARN, EXIT_OK,
			       "IPv6 pinholes work; IPv4: %.480s", ipv4);
		}
	} else if (!ipv4_catch(facts, report)) {
		if (v6->status == CHECK_WARN || v6->status == CHECK_FAIL)
			advise(report, CHECK_WARN, EXIT_OK,
			       "IPv4 port forwarding works; IPv6 pinholes do not (see the ipv6 line): enable PCP for IPv6 in the router");
		else
			advise(report, CHECK_OK, EXIT_OK,
			       "port forwarding works: natpmp map PORT forwards a port here, natpmp renew-loop keeps it");
	}
	if (facts->interrupted)
		advise(report, CHECK_FAIL, EXIT_INTERRUPTED,
		       "interrupted: the checks above are all that ran; test mappings were deleted where the gateway answered");
}

void doctor_judge(const struct doctor_facts *facts,
		  struct doctor_report *report)
{
	const char *skip = mapping_skip(facts);
	size_t i;

	memset(report, 0, sizeof(*report));
	for (i = 0; i < CHECK_COUNT; i++)
		report->checks[i].name = check_names[i];
	judge_route(facts, report);
	judge_protocol(facts, report, CHECK_NATPMP);
	judge_protocol(facts, report, CHECK_PCP);
	judge_external_address(facts, report);
	judge_mapping(facts, report, CHECK_MAPPING_TCP, &facts->tcp, &facts->v4,
		      skip);
	judge_mapping(facts, report, CHECK_MAPPING_UDP, &facts->udp, &facts->v4,
		      skip);
	judge_mapping(facts, report, CHECK_PORT_ZERO, &facts->port_zero,
		      &facts->v4, skip);
	judge_ipv6(facts, report);
	judge_verdict(facts, report);
}
