/* print_text.c - a result as one line for people: the address alone, a
 * mapping as "tcp EXTERNAL -> INTERNAL lifetime Ns", events prefixed with
 * their UTC time and name; the doctor's checks as aligned lines. */
#include <stdio.h>
#include <string.h>

#include "doctor/doctor.h"
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

	fputs(ip_endpoint_format(&r->gateway, NATPMP_SERVER_PORT, text,
				 sizeof(text)),
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
		fprintf(out, "%s ", protocol_name(r->protocol));
		print_address_port(out, &r->external_address, r->external_port);
		fputs(" -> ", out);
		print_address_port(out, &r->internal_address, r->internal_port);
		fprintf(out, " lifetime %lus", (unsigned long)r->lifetime);
		break;
	case RESULT_GATEWAY: print_gateway(out, r); break;
	case RESULT_UNMAP:
		if (r->all)
			fprintf(out, "%s all", protocol_name(r->protocol));
		else
			fprintf(out, "%s %u", protocol_name(r->protocol),
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
