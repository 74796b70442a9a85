/* diag.h - everything natpmp says on stderr: errors, warnings, --verbose
 * traces and the progress line shown while a gateway is slow to answer. */
#ifndef NATPMP_DIAG_H
#define NATPMP_DIAG_H

#include <stdbool.h>
#include <stdint.h>

/* Enables --verbose traces, timed from start_ms (monotonic). */
void diag_set_verbose(bool verbose, int64_t start_ms);

void diag_error(const char *format, ...) __attribute__((format(printf, 1, 2)));
/* something the user may not expect, though nothing failed */
void diag_note(const char *format, ...) __attribute__((format(printf, 1, 2)));
void diag_warning(const char *format, ...)
	__attribute__((format(printf, 1, 2)));
/* Whether --verbose is on: a caller skips costly formatting without it. */
bool diag_verbose_enabled(void);
/* A line of a long-running command's log in the shape of its events: the
 * time when (as the events write it), then the text; no prefix. */
void diag_event(const char *when, const char *format, ...)
	__attribute__((format(printf, 2, 3)));
/* Only with --verbose: one line prefixed with the elapsed milliseconds. */
void diag_verbose(const char *format, ...)
	__attribute__((format(printf, 1, 2)));

/* A progress line that rewrites itself in place; only on a terminal. */
bool diag_progress_possible(void);
void diag_progress(const char *format, ...)
	__attribute__((format(printf, 1, 2)));
void diag_progress_clear(void);

#endif
