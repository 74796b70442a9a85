/* output.h - the two printers of a struct result: a line of text for
 * people, or one JSON object per line for programs. Results go to stdout,
 * failures also get one line on stderr. */
#ifndef NATPMP_OUTPUT_H
#define NATPMP_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>

#include "result.h"

struct output {
	bool json;
	bool quiet; /* nothing on stdout for successes */
};

/* Prints a result; a failure goes to stderr as "natpmp: LABEL: MESSAGE"
 * and, with --json, to stdout as an object with "error". */
void output_result(const struct output *output, const struct result *result);

/* Warns on stderr when an external address is not publicly routable. */
void output_address_warning(const struct result *result);

/* "address", "map 8080/tcp", "unmap all/udp": names an item in errors. */
void result_label(const struct result *result, char *text, size_t size);

#endif
