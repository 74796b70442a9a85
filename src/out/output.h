/* output.h - where a struct result goes: one line of text or one JSON
 * object on stdout (print_text.c, print_json.c), a failure also as one
 * line on stderr. The one-shot commands write stdout directly; renew-loop
 * queues its lines and lets the event loop write them when stdout can take
 * them, so a reader that stalls never stalls the loop. */
#ifndef NATPMP_OUTPUT_H
#define NATPMP_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "core/result.h"

/* lines waiting for a stalled reader beyond this are dropped */
#define OUTPUT_QUEUE_MAX 65536

struct output {
	bool json;
	bool quiet; /* nothing on stdout for successes */
	/* a failure on stderr in the shape of renew-loop's events: "TIME
	 * error LABEL: MESSAGE" */
	bool timed_failures;
	bool failed; /* writing to stdout failed */
	int error_number;

	/* queued mode: what stdout has not taken yet */
	bool queued;
	char *queue;
	size_t queue_length;
	unsigned dropped; /* lines lost to a full queue */
};

/* Prints a result; a failure goes to stderr as "natpmp: LABEL: MESSAGE"
 * and, with --json, to stdout as an object with "error". Returns 0, or -1
 * when stdout could not be written (output->error_number says why). */
int output_result(struct output *output, const struct result *result);

/* Queued mode: lines wait to be written by output_flush. */
void output_queue_start(struct output *output);
void output_queue_free(struct output *output);
bool output_pending(const struct output *output);
/* Writes once, as much of the queue as fd takes without blocking (call
 * when poll says it can take some). Returns 0, or -1 with error_number. */
int output_flush(struct output *output, int fd);

/* Warns on stderr when an external address is not publicly routable. */
void output_address_warning(const struct result *result);

/* "address", "map 8080/tcp", "unmap all/udp": names an item in errors. */
void result_label(const struct result *result, char *text, size_t size);

/* The printers, one per format. */
void print_text(FILE *out, const struct result *result);
void print_json(FILE *out, const struct result *result);

/* Shared by the printers. */
void format_time(time_t t, char *text, size_t size);

#endif
