/* output.c - sends each result to the printer of the chosen format, and
 * failures to stderr; warns about external addresses the internet cannot
 * reach. */
#include "output.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "address_class.h"
#include "cli.h"
#include "diag.h"

const char *protocol_name(unsigned protocol)
{
	return protocol == PROTOCOL_UDP ? "udp" : "tcp";
}

void format_time(time_t t, char *text, size_t size)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) ||
	    !strftime(text, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
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

int output_result(struct output *output, const struct result *r)
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
	else
		return 0;
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (!output->failed)
			output->error_number = errno;
		output->failed = true;
		clearerr(stdout);
		return -1;
	}
	return 0;
}

void output_address_warning(const struct result *r)
{
	char text[IP_ADDRESS_TEXT_SIZE];
	struct address_class class;

	if (r->external_address.family != AF_INET ||
	    ip_address_is_unspecified(&r->external_address))
		return;
	class = address_classify(ip_address_v4(&r->external_address));
	if (!class.name)
		return;
	ip_address_format(&r->external_address, text, sizeof(text));
	if (class.behind_nat)
		diag_warning(
			"external address %s is %s: the gateway is itself behind NAT (double NAT), so mappings will not be reachable from the internet",
			text, class.name);
	else
		diag_warning(
			"external address %s is not publicly routable (%s): mappings will not be reachable from the internet",
			text, class.name);
}
