/* print_text.c - a result as one line for people: the address alone, a
 * mapping as "tcp EXTERNAL -> INTERNAL lifetime Ns", events prefixed with
 * their UTC time and name. */
#include <stdio.h>
#include <string.h>

#include "out/output.h"
#include "wire/wire_natpmp.h"

/* "203.0.113.7:8080", "[2001:db8::1]:8080", "?:8080" */
static void print_address_port(FILE *out, const struct ip_address *address,
			       uint16_t port)
{
	char text[IP_ADDRESS_TEXT_SIZE];

	ip_address_format(address, text, sizeof(text));
	if (address->family == AF_INET6)
		fprintf(out, "[%s]:%u", text, (unsigned)port);
	else
		fprintf(out, "%s:%u", text, (unsigned)port);
}

static void print_gateway(FILE *out, const struct result *r)
{
	char text[IP_ENDPOINT_TEXT_SIZE];

	fputs(ip_endpoint_format(&r->gateway, GATEWAY_PORT, text, sizeof(text)),
	      out);
	if (r->interface) {
		char source[IP_ADDRESS_TEXT_SIZE];
		fprintf(out, " interface %s source %s", r->interface,
			ip_address_format(&r->internal_address, source,
					  sizeof(source)));
	}
	if (r->epoch_known)
		fprintf(out, " epoch %lu", (unsigned long)r->epoch);
}

static void print_body(FILE *out, const struct result *r)
{
	char text[IP_ADDRESS_TEXT_SIZE];

	switch (r->kind) {
	case RESULT_SETUP: break;
	case RESULT_ADDRESS:
		fputs(ip_address_format(&r->external_address, text,
					sizeof(text)),
		      out);
		break;
	case RESULT_MAP:
		fprintf(out, "%s ", transport_name(r->transport));
		print_address_port(out, &r->external_address, r->external_port);
		fputs(" -> ", out);
		print_address_port(out, &r->internal_address, r->internal_port);
		fprintf(out, " lifetime %lus", (unsigned long)r->lifetime);
		break;
	case RESULT_GATEWAY: print_gateway(out, r); break;
	case RESULT_UNMAP:
		if (r->all)
			fprintf(out, "%s all", transport_name(r->transport));
		else
			fprintf(out, "%s %u", transport_name(r->transport),
				(unsigned)r->internal_port);
		break;
	}
}

void print_text(FILE *out, const struct result *r)
{
	if (r->event) {
		char when[32];
		format_time(r->time, when, sizeof(when));
		fprintf(out, "%s %s ", when, r->event);
		print_body(out, r);
	} else {
		print_body(out, r);
		if (r->kind == RESULT_UNMAP)
			fputs(" unmapped", out);
	}
	fputc('\n', out);
}
