/* print_json.c - a result as one JSON object on one line (JSON Lines):
 * every key a script may rely on, null where a value is unknown. */
#include <stdio.h>

#include "out/json.h"
#include "out/output.h"

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
		json_string(out, protocol_key(r->via));
	}
	if (is_mapping) {
		json_key(out, &first, "protocol");
		json_string(out, transport_name(r->transport));
	}
	if (r->kind == RESULT_MAP && ok)
		json_address(out, &first, "internal_address",
			     &r->internal_address);
	if (is_mapping)
		json_number(out, &first, "internal_port", r->internal_port);
	if (r->kind == RESULT_UNMAP && r->all) {
		json_bool(out, &first, "all", true);
		json_known_number(out, &first, "deleted", r->deleted >= 0,
				  r->deleted >= 0 ? (unsigned long)r->deleted
						  : 0);
	}
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
