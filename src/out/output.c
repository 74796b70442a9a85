/* output.c - sends each result to the printer of the chosen format, and
 * failures to stderr; warns about external addresses the internet cannot
 * reach. */
#include "out/output.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/address_class.h"
#include "core/diag.h"
#include "core/port_mapping.h"

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
			 transport_name(r->transport));
		break;
	case RESULT_GATEWAY: snprintf(text, size, "gateway"); break;
	case RESULT_UNMAP:
		if (r->all)
			snprintf(text, size, "unmap all/%s",
				 transport_name(r->transport));
		else
			snprintf(text, size, "unmap %u/%s",
				 (unsigned)r->internal_port,
				 transport_name(r->transport));
		break;
	}
}

void output_queue_start(struct output *output)
{
	output->queued = true;
	output->queue = malloc(OUTPUT_QUEUE_MAX);
}

void output_queue_free(struct output *output)
{
	free(output->queue);
	output->queue = NULL;
	output->queue_length = 0;
}

bool output_pending(const struct output *output)
{
	return output->queue_length > 0;
}

static void print(FILE *out, const struct output *output,
		  const struct result *r)
{
	if (output->json)
		print_json(out, r);
	else
		print_text(out, r);
}

/* Formats the line in memory and appends it, whole, if it fits. */
static void enqueue(struct output *output, const struct result *r)
{
	char *line = NULL;
	size_t length = 0;
	FILE *memory = open_memstream(&line, &length);

	if (!memory)
		return;
	print(memory, output, r);
	if (fclose(memory) != 0 || !output->queue ||
	    output->queue_length + length > OUTPUT_QUEUE_MAX) {
		if (!output->dropped++)
			diag_warning(
				"stdout is not being read: dropping events");
	} else {
		memcpy(output->queue + output->queue_length, line, length);
		output->queue_length += length;
	}
	free(line);
}

int output_flush(struct output *output, int fd)
{
	/* at most PIPE_BUF bytes: a pipe that polled writable takes them
	 * without blocking */
	size_t n = output->queue_length < PIPE_BUF ? output->queue_length
						   : PIPE_BUF;
	struct stat st;
	ssize_t written;

	if (n == 0)
		return 0;
	if (fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode))
		written =
			send(fd, output->queue, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	else
		written = write(fd, output->queue, n);
	if (written < 0) {
		if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		if (!output->failed)
			output->error_number = errno;
		output->failed = true;
		output->queue_length = 0;
		return -1;
	}
	memmove(output->queue, output->queue + written,
		output->queue_length - (size_t)written);
	output->queue_length -= (size_t)written;
	if (output->queue_length == 0 && output->dropped) {
		diag_warning("%u events were dropped while stdout was not read",
			     output->dropped);
		output->dropped = 0;
	}
	return 0;
}

/* A failure, one line on stderr. */
static void say_failure(const struct output *output, const struct result *r)
{
	char label[64];

	result_label(r, label, sizeof(label));
	if (output->timed_failures) {
		char when[32];
		format_time(r->time, when, sizeof(when));
		diag_event(when, "error %s%s%s", label, label[0] ? ": " : "",
			   r->message);
	} else if (label[0]) {
		diag_error("%s: %s", label, r->message);
	} else {
		diag_error("%s", r->message);
	}
}

int output_result(struct output *output, const struct result *r)
{
	if (r->failure != FAILURE_NONE)
		say_failure(output, r);
	if (output->quiet && r->failure == FAILURE_NONE)
		return 0;
	if (!output->json && r->failure != FAILURE_NONE)
		return 0;
	if (output->queued) {
		if (!output->failed)
			enqueue(output, r);
		return 0;
	}
	print(stdout, output, r);
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
