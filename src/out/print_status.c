/* print_status.c - a running renew-loop's mapping as `natpmp status` shows
 * it: a line for people, or a JSON object. */
#include <stdio.h>

#include "out/json.h"
#include "out/mapping_status.h"

const char *mapping_condition_name(enum mapping_condition condition)
{
	switch (condition) {
	case CONDITION_ACTIVE: return "active";
	case CONDITION_LOST: return "lost";
	case CONDITION_WAITING: break;
	}
	return "waiting";
}

/* Whole seconds from now to at, rounded up, never below 0. */
static long seconds_until(int64_t at_ms, int64_t now_ms)
{
	int64_t ms = at_ms - now_ms;

	return ms <= 0 ? 0 : (long)((ms + 999) / 1000);
}

/* "45.77.71.2:51413", "[2001:db8::1]:443", "?" when never known */
static void print_place(FILE *out, const struct ip_address *address,
			uint16_t port)
{
	char text[IP_ADDRESS_TEXT_SIZE];

	if (!ip_address_is_set(address) && port == 0) {
		fputc('?', out);
		return;
	}
	ip_address_format(address, text, sizeof(text));
	fprintf(out, address->family == AF_INET6 ? "[%s]:%u" : "%s:%u", text,
		(unsigned)port);
}

void print_status_text(FILE *out, const struct mapping_status *s,
		       int64_t now_ms)
{
	fprintf(out, "%s ", transport_name(s->transport));
	print_place(out, &s->external_address, s->external_port);
	fputs(" -> ", out);
	if (ip_address_is_set(&s->internal_address))
		print_place(out, &s->internal_address, s->internal_port);
	else
		fprintf(out, "?:%u", (unsigned)s->internal_port);
	fprintf(out, " %s", mapping_condition_name(s->condition));
	if (s->problem[0]) {
		fprintf(out, ", no gateway: %s\n", s->problem);
		return;
	}
	if (s->next_ms)
		fprintf(out, ", %s in %lds",
			s->condition == CONDITION_ACTIVE ? "renewal"
							 : "next attempt",
			seconds_until(s->next_ms, now_ms));
	if (s->gateway_known) {
		char gateway[IP_ENDPOINT_TEXT_SIZE];
		fprintf(out, ", gateway %s",
			ip_endpoint_format(&s->gateway, GATEWAY_PORT, gateway,
					   sizeof(gateway)));
	}
	if (s->via)
		fprintf(out, " (%s)", protocol_key(s->via));
	fputc('\n', out);
}

void print_status_json(FILE *out, const struct mapping_status *s,
		       int64_t now_ms)
{
	static const struct ip_address none;
	bool first = true;

	json_number(out, &first, "pid", (unsigned long)s->pid);
	json_text(out, &first, "family",
		  s->family == AF_INET6 ? "inet6" : "inet");
	json_text(out, &first, "protocol", transport_name(s->transport));
	json_address(out, &first, "internal_address", &s->internal_address);
	json_number(out, &first, "internal_port", s->internal_port);
	json_address(out, &first, "external_address", &s->external_address);
	json_known_number(out, &first, "external_port", s->external_port != 0,
			  s->external_port);
	json_text(out, &first, "state", mapping_condition_name(s->condition));
	json_known_number(out, &first, "lifetime", s->lifetime != 0,
			  s->lifetime);
	json_known_number(out, &first, "next_request_in", s->next_ms != 0,
			  (unsigned long)seconds_until(s->next_ms, now_ms));
	json_known_number(out, &first, "expires_in", s->expires_ms != 0,
			  (unsigned long)seconds_until(s->expires_ms, now_ms));
	json_address(out, &first, "gateway",
		     s->gateway_known ? &s->gateway.address : &none);
	json_known_number(out, &first, "gateway_port", s->gateway_known,
			  s->gateway.port);
	json_text(out, &first, "via", s->via ? protocol_key(s->via) : NULL);
	json_text(out, &first, "problem", s->problem[0] ? s->problem : NULL);
	fputs("}\n", out);
}
