/* output.h - where a struct result goes: one line of text or one JSON
 * object on stdout (print_text.c, print_json.c), a failure also as one
 * line on stderr. */
#ifndef NATPMP_OUTPUT_H
#define NATPMP_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "result.h"

struct output {
	bool json;
	bool quiet;  /* nothing on stdout for successes */
	bool failed; /* writing to stdout failed */
	int error_number;
};

/* Prints a result; a failure goes to stderr as "natpmp: LABEL: MESSAGE"
 * and, with --json, to stdout as an object with "error". Returns 0, or -1
 * when stdout could not be written (output->error_number says why). */
int output_result(struct output *output, const struct result *result);

/* Warns on stderr when an external address is not publicly routable. */
void output_address_warning(const struct result *result);

/* "address", "map 8080/tcp", "unmap all/udp": names an item in errors. */
void result_label(const struct result *result, char *text, size_t size);

/* The printers, one per format. */
void print_text(FILE *out, const struct result *result);
void print_json(FILE *out, const struct result *result);

/* Shared by the printers. */
const char *protocol_name(unsigned protocol);
void format_time(time_t t, char *text, size_t size);

#endif
