/* diag.c - stderr output: one line per message, prefixed "natpmp: ".
 * stdout is left to results alone. */
#include "core/diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"

static bool verbose_enabled;
static int64_t verbose_start_ms;
static bool progress_shown;

void diag_set_verbose(bool verbose, int64_t start_ms)
{
	verbose_enabled = verbose;
	verbose_start_ms = start_ms;
}

bool diag_verbose_enabled(void)
{
	return verbose_enabled;
}

static void vline(const char *prefix, const char *format, va_list ap)
	__attribute__((format(printf, 2, 0)));

static void vline(const char *prefix, const char *format, va_list ap)
{
	diag_progress_clear();
	fprintf(stderr, "natpmp: %s", prefix);
	vfprintf(stderr, format, ap);
	fputc('\n', stderr);
}

void diag_error(const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	vline("", format, ap);
	va_end(ap);
}

void diag_warning(const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	vline("warning: ", format, ap);
	va_end(ap);
}

void diag_event(const char *when, const char *format, ...)
{
	va_list ap;

	diag_progress_clear();
	fprintf(stderr, "%s ", when);
	va_start(ap, format);
	vfprintf(stderr, format, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void diag_note(const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	vline("note: ", format, ap);
	va_end(ap);
}

void diag_verbose(const char *format, ...)
{
	char prefix[32];
	va_list ap;

	if (!verbose_enabled)
		return;
	snprintf(prefix, sizeof(prefix), "[%6lld ms] ",
		 (long long)(clock_now_ms() - verbose_start_ms));
	va_start(ap, format);
	vline(prefix, format, ap);
	va_end(ap);
}

/* A line redrawn in place needs a terminal that can go back and erase:
 * not a file or pipe, and not TERM=dumb (Emacs shells, some consoles). */
bool diag_progress_possible(void)
{
	const char *term = getenv("TERM");

	if (term && strcmp(term, "dumb") == 0)
		return false;
	return !verbose_enabled && isatty(STDERR_FILENO);
}

void diag_progress(const char *format, ...)
{
	va_list ap;

	fputs("\rnatpmp: ", stderr);
	va_start(ap, format);
	vfprintf(stderr, format, ap);
	va_end(ap);
	fputs("\033[K", stderr);
	fflush(stderr);
	progress_shown = true;
}

void diag_progress_clear(void)
{
	if (!progress_shown)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	progress_shown = false;
}
