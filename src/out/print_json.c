/* print_json.c - a result as one JSON object on one line (JSON Lines):
 * every key a script may rely on, null where a value is unknown; the
 * doctor's checks an object each, then its verdict. */
#include <stdio.h>

#include "doctor/doctor.h"
#include "out/output.h"

static void json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", out);
		else if (c < 0x20 || c == 0x7f)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

static void json_key(FILE *out, bool *first, const char *key)
{
	fputs(*first ? "{" : ",", out);
	*first = false;
	json_string(out, key);
	fputc(':', out);
}

static void json_address(FILE *out, bool *first, const char *key,
			 const struct ip_address *address)
{
	char text[IP_ADDRESS_TEXT_SIZE];

	json_key(out, first, key);
	if (!ip_address_is_set(address)) {
		fputs("null", out);
		return;
	}
	json_string(out, ip_address_format(address, text, sizeof(text)));
}

static void json_number(FILE *out, bool *first, const char *key,
			unsigned long value)
{
	json_key(out, first, key);
	fprintf(out, "%lu", value);
}

/* a number, or null when it is not known */
static void json_known_number(FILE *out, bool *first, const char *key,
			      bool known, unsigned long value)
{
	json_key(out, first, key);
	if (known)
		fprintf(out, "%lu", value);
	else
		fputs("null", out);
}

static void json_event(FILE *out, bool *first, const struct result *r)
{
	char when[32];

	format_time(r->time, when, sizeof(when));
	json_key(out, first, "time");
	json_string(out, when);
	json_key(out, first, "event");
	json_string(out, r->event);
}

static void json_gateway(FILE *out, bool *first, const struct result *r)
{
	static const struct ip_address none;

	json_address(out, first, "gateway",
		     r->gateway_known ? &r->gateway.address : &none);
	json_known_number(out, first, "gateway_port", r->gateway_known,
			  r->gateway.port);
	if (r->kind == RESULT_GATEWAY && r->interface) {
		json_key(out, first, "interface");
		json_string(out, r->interface);
		json_address(out, first, "internal_address",
			     &r->internal_address);
	}
}

void print_json(FILE *out, const struct result *r)
{
	bool first = true;
	bool is_mapping = r->kind == RESULT_MAP || r->kind == RESULT_UNMAP;
	bool ok = r->failure == FAILURE_NONE;

	if (r->event)
		json_event(out, &first, r);
	json_gateway(out, &first, r);
	if (r->via) {
		json_key(out, &first, "via");
		json_string(out, r->via);
	}
	if (is_mapping) {
		json_key(out, &first, "protocol");
		json_string(out, protocol_name(r->protocol));
	}
	if (r->kind == RESULT_MAP && ok)
		json_address(out, &first, "internal_address",
			     &r->internal_address);
	if (is_mapping)
		json_number(out, &first, "internal_port", r->internal_port);
	if (!ok) {
		json_key(out, &first, "error");
		json_string(out, failure_code(r->failure));
		json_key(out, &first, "message");
		json_string(out, r->message);
	} else if (r->kind == RESULT_ADDRESS || r->kind == RESULT_MAP) {
		json_address(out, &first, "external_address",
			     &r->external_address);
	}
	if (r->kind == RESULT_MAP && ok) {
		json_number(out, &first, "external_port", r->external_port);
		json_number(out, &first, "lifetime", r->lifetime);
	}
	if (r->kind != RESULT_SETUP && (ok || r->epoch_known))
		json_known_number(out, &first, "epoch", r->epoch_known,
				  r->epoch);
	fputs("}\n", out);
}

static void json_text(FILE *out, bool *first, const char *key, const char *s)
{
	json_key(out, first, key);
	if (s)
		json_string(out, s);
	else
		fputs("null", out);
}

static void json_bool(FILE *out, bool *first, const char *key, bool value)
{
	json_key(out, first, key);
	fputs(value ? "true" : "false", out);
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
	json_text(out, first, "outcome", probe_outcome_name(p->outcome));
	json_text(out, first, "via", p->result.via);
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
	json_text(out, first, "protocol", protocol_name(m->protocol));
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
