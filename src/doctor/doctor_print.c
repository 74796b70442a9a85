/* doctor_print.c - the doctor's report for people, a line per check with
 * its status word aligned (coloured on a terminal), and for programs, a
 * JSON object per check with the facts behind it, then the verdict. */
#include <stdio.h>
#include <string.h>

#include "doctor/doctor.h"
#include "out/json.h"

/* ANSI colours for the doctor's status words */
static const char *status_colour(enum check_status status)
{
	switch (status) {
	case CHECK_OK: return "\033[32m";
	case CHECK_WARN: return "\033[33m";
	case CHECK_FAIL: return "\033[31m";
	case CHECK_SKIP: break;
	}
	return "\033[2m";
}

static void print_check_line(FILE *out, const char *name,
			     enum check_status status, const char *text,
			     bool colour)
{
	const char *word = check_status_name(status);

	if (colour)
		fprintf(out, "%-17s %s%s\033[0m%*s %s\n", name,
			status_colour(status), word, (int)(5 - strlen(word)),
			"", text);
	else
		fprintf(out, "%-17s %-5s %s\n", name, word, text);
}

void print_text_doctor(FILE *out, const struct doctor_report *report,
		       bool colour, bool quiet)
{
	size_t i;

	for (i = 0; i < CHECK_COUNT && !quiet; i++)
		print_check_line(out, report->checks[i].name,
				 report->checks[i].status,
				 report->checks[i].text, colour);
	print_check_line(out, "verdict", report->verdict, report->advice,
			 colour);
}

static void json_route(FILE *out, bool *first, const struct doctor_route *r)
{
	static const char *const finders[] = {
		[FOUND_BY_DEFAULT_ROUTE] = "default-route",
		[FOUND_BY_POLICY_RULE] = "policy-rule",
		[FOUND_BY_OPTION] = "option",
		[FOUND_BY_ENVIRONMENT] = "environment",
	};
	static const struct ip_address none;

	json_address(out, first, "gateway",
		     r->found ? &r->gateway.address : &none);
	json_known_number(out, first, "gateway_port", r->found,
			  r->gateway.port);
	json_text(out, first, "found_by",
		  r->found ? finders[r->found_by] : NULL);
	json_text(out, first, "interface",
		  r->route.interface_name[0] ? r->route.interface_name : NULL);
	json_address(out, first, "source", &r->route.source);
	json_bool(out, first, "tunnel", r->route.tunnel);
}

static void json_probe(FILE *out, bool *first, const struct doctor_probe *p)
{
	bool answered = p->outcome == PROBE_ANSWERED ||
			p->outcome == PROBE_REFUSED ||
			p->outcome == PROBE_OTHER_PROTOCOL;

	json_text(out, first, "outcome", probe_outcome_name(p->outcome));
	/* how long the answer took, and whether that was slow */
	json_known_number(out, first, "answer_ms", answered,
			  answered ? (unsigned long)p->waited_ms : 0);
	json_bool(out, first, "slow", probe_was_slow(p));
	json_text(out, first, "via", protocol_key(p->result.via));
	json_known_number(out, first, "epoch", p->result.epoch_known,
			  p->result.epoch);
	json_text(out, first, "error",
		  p->outcome == PROBE_ANSWERED || p->outcome == PROBE_NOT_RUN
			  ? NULL
			  : failure_code(p->result.failure));
}

static void json_mapping(FILE *out, bool *first, const struct doctor_mapping *m)
{
	bool granted = m->probe.outcome == PROBE_ANSWERED;

	json_probe(out, first, &m->probe);
	json_text(out, first, "protocol", transport_name(m->transport));
	json_number(out, first, "internal_port", m->internal_port);
	json_number(out, first, "requested_port", m->suggested_port);
	json_known_number(out, first, "external_port", granted,
			  m->probe.result.external_port);
	json_number(out, first, "requested_lifetime", m->lifetime);
	json_known_number(out, first, "lifetime", granted,
			  m->probe.result.lifetime);
	json_bool(out, first, "deleted", m->deleted);
}

static void json_check_facts(FILE *out, bool *first, enum doctor_check_id id,
			     const struct doctor_facts *f,
			     const struct doctor_report *report)
{
	switch (id) {
	case CHECK_ROUTE: json_route(out, first, &f->v4); break;
	case CHECK_NATPMP: json_probe(out, first, &f->natpmp); break;
	case CHECK_PCP: json_probe(out, first, &f->pcp); break;
	case CHECK_EXTERNAL_ADDRESS:
		json_address(out, first, "address", &report->external_address);
		json_text(out, first, "class", report->address_class);
		break;
	case CHECK_MAPPING_TCP: json_mapping(out, first, &f->tcp); break;
	case CHECK_MAPPING_UDP: json_mapping(out, first, &f->udp); break;
	case CHECK_PORT_ZERO: json_mapping(out, first, &f->port_zero); break;
	case CHECK_IPV6:
		json_address(out, first, "router",
			     f->v6.found ? &f->v6.gateway.address
					 : &(struct ip_address){ 0 });
		json_address(out, first, "source", &f->v6.route.source);
		json_text(out, first, "pcp",
			  probe_outcome_name(f->v6_pcp.outcome));
		json_mapping(out, first, &f->pinhole);
		break;
	case CHECK_COUNT: break;
	}
}

void print_json_doctor(FILE *out, const struct doctor_facts *facts,
		       const struct doctor_report *report, bool quiet)
{
	size_t i;
	bool first;

	for (i = 0; i < CHECK_COUNT && !quiet; i++) {
		const struct doctor_check *c = &report->checks[i];
		first = true;
		json_text(out, &first, "check", c->name);
		json_text(out, &first, "status", check_status_name(c->status));
		json_text(out, &first, "text", c->text);
		json_check_facts(out, &first, (enum doctor_check_id)i, facts,
				 report);
		fputs("}\n", out);
	}
	first = true;
	json_text(out, &first, "verdict", check_status_name(report->verdict));
	json_text(out, &first, "advice", report->advice);
	json_number(out, &first, "exit_status",
		    (unsigned long)report->exit_status);
	fputs("}\n", out);
}
