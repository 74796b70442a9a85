/* output.c - text and JSON Lines printers for struct result, and the
 * warning for external addresses the internet cannot reach. */
#include "output.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "address_class.h"
#include "cli.h"
#include "diag.h"
#include "wire.h"

static const char *protocol_name(unsigned protocol)
{
	return protocol == PROTOCOL_UDP ? "udp" : "tcp";
}

static void format_address(struct in_addr address, char *text, size_t size)
{
	if (!inet_ntop(AF_INET, &address, text, (socklen_t)size))
		snprintf(text, size, "?");
}

void result_label(const struct result *r, char *text, size_t size)
{
	switch (r->kind) {
	case RESULT_SETUP: text[0] = '\0'; break;
	case RESULT_ADDRESS: snprintf(text, size, "address"); break;
	case RESULT_MAP:
		snprintf(text, size, "map %u/%s", (unsigned)r->internal_port,
			 protocol_name(r->protocol));
		break;
	case RESULT_GATEWAY: snprintf(text, size, "gateway"); break;
	case RESULT_UNMAP:
		if (r->all)
			snprintf(text, size, "unmap all/%s",
				 protocol_name(r->protocol));
		else
			snprintf(text, size, "unmap %u/%s",
				 (unsigned)r->internal_port,
				 protocol_name(r->protocol));
		break;
	}
}

/* --- text --- */

static void print_text_body(FILE *out, const struct result *r)
{
	char external[INET_ADDRSTRLEN] = "?", internal[INET_ADDRSTRLEN];

	if (r->external_address_known)
		format_address(r->external_address, external, sizeof(external));
	switch (r->kind) {
	case RESULT_SETUP: break;
	case RESULT_ADDRESS: fputs(external, out); break;
	case RESULT_MAP:
		format_address(r->internal_address, internal, sizeof(internal));
		fprintf(out, "%s %s:%u -> %s:%u lifetime %lus",
			protocol_name(r->protocol), external,
			(unsigned)r->external_port, internal,
			(unsigned)r->internal_port, (unsigned long)r->lifetime);
		break;
	case RESULT_GATEWAY:
		format_address(r->gateway.sin_addr, internal, sizeof(internal));
		fprintf(out, "%s", internal);
		if (ntohs(r->gateway.sin_port) != NATPMP_SERVER_PORT)
			fprintf(out, ":%u",
				(unsigned)ntohs(r->gateway.sin_port));
		if (r->epoch_known)
			fprintf(out, " epoch %lu", (unsigned long)r->epoch);
		break;
	case RESULT_UNMAP:
		if (r->all)
			fprintf(out, "%s all", protocol_name(r->protocol));
		else
			fprintf(out, "%s %u", protocol_name(r->protocol),
				(unsigned)r->internal_port);
		break;
	}
}

static void format_time(time_t t, char *text, size_t size)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) ||
	    !strftime(text, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(text, size, "?");
}

static void print_text(FILE *out, const struct result *r)
{
	if (r->event) {
		char when[32];
		format_time(r->time, when, sizeof(when));
		fprintf(out, "%s %s ", when, r->event);
		print_text_body(out, r);
	} else {
		print_text_body(out, r);
		if (r->kind == RESULT_UNMAP)
			fputs(" unmapped", out);
	}
	fputc('\n', out);
}

/* --- JSON --- */

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

static void json_address(FILE *out, bool *first, const char *key, bool known,
			 struct in_addr address)
{
	char text[INET_ADDRSTRLEN];

	json_key(out, first, key);
	if (!known) {
		fputs("null", out);
		return;
	}
	format_address(address, text, sizeof(text));
	json_string(out, text);
}

static void json_number(FILE *out, bool *first, const char *key,
			unsigned long value)
{
	json_key(out, first, key);
	fprintf(out, "%lu", value);
}

static void print_json(FILE *out, const struct result *r)
{
	bool first = true;

	if (r->event) {
		char when[32];
		format_time(r->time, when, sizeof(when));
		json_key(out, &first, "time");
		json_string(out, when);
		json_key(out, &first, "event");
		json_string(out, r->event);
	}
	json_address(out, &first, "gateway", r->gateway_known,
		     r->gateway.sin_addr);
	if (r->gateway_known)
		json_number(out, &first, "gateway_port",
			    ntohs(r->gateway.sin_port));
	if (r->kind == RESULT_MAP || r->kind == RESULT_UNMAP) {
		json_key(out, &first, "protocol");
		json_string(out, protocol_name(r->protocol));
	}
	if (r->kind == RESULT_MAP && r->failure == FAILURE_NONE)
		json_address(out, &first, "internal_address", true,
			     r->internal_address);
	if (r->kind == RESULT_MAP || r->kind == RESULT_UNMAP)
		json_number(out, &first, "internal_port", r->internal_port);
	if (r->failure != FAILURE_NONE) {
		json_key(out, &first, "error");
		json_string(out, failure_code(r->failure));
		json_key(out, &first, "message");
		json_string(out, r->message);
	} else if (r->kind == RESULT_ADDRESS || r->kind == RESULT_MAP) {
		json_address(out, &first, "external_address",
			     r->external_address_known, r->external_address);
	}
	if (r->kind == RESULT_MAP && r->failure == FAILURE_NONE) {
		json_number(out, &first, "external_port", r->external_port);
		json_number(out, &first, "lifetime", r->lifetime);
	}
	if (r->kind != RESULT_SETUP &&
	    (r->failure == FAILURE_NONE || r->epoch_known)) {
		json_key(out, &first, "epoch");
		if (r->epoch_known)
			fprintf(out, "%lu", (unsigned long)r->epoch);
		else
			fputs("null", out);
	}
	fputs("}\n", out);
}

void output_result(const struct output *output, const struct result *r)
{
	if (r->failure != FAILURE_NONE) {
		char label[64];
		result_label(r, label, sizeof(label));
		if (label[0])
			diag_error("%s: %s", label, r->message);
		else
			diag_error("%s", r->message);
	}
	if (output->json && (r->failure != FAILURE_NONE || !output->quiet))
		print_json(stdout, r);
	else if (!output->json && r->failure == FAILURE_NONE && !output->quiet)
		print_text(stdout, r);
	fflush(stdout);
}

void output_address_warning(const struct result *r)
{
	char text[INET_ADDRSTRLEN];
	struct address_class class;

	if (!r->external_address_known || r->external_address.s_addr == 0)
		return;
	class = address_classify(ntohl(r->external_address.s_addr));
	if (!class.name)
		return;
	format_address(r->external_address, text, sizeof(text));
	if (class.behind_nat)
		diag_warning(
			"external address %s is %s: the gateway is itself behind NAT (double NAT), so mappings will not be reachable from the internet",
			text, class.name);
	else
		diag_warning(
			"external address %s is not publicly routable (%s): mappings will not be reachable from the internet",
			text, class.name);
}
