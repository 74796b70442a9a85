/* print_json.c - a result as one JSON object on one line (JSON Lines):
 * every key a script may rely on, null where a value is unknown. */
#include <stdio.h>

#include "output.h"

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
	json_key(out, first, "gateway_port");
	if (r->gateway_known)
		fprintf(out, "%u", (unsigned)r->gateway.port);
	else
		fputs("null", out);
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
	if (r->kind != RESULT_SETUP && (ok || r->epoch_known)) {
		json_key(out, &first, "epoch");
		if (r->epoch_known)
			fprintf(out, "%lu", (unsigned long)r->epoch);
		else
			fputs("null", out);
	}
	fputs("}\n", out);
}
