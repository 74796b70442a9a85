/* silence.c - the words of a request that got no answer. */
#include "engine/silence.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static void format_seconds(int64_t ms, char *text, size_t size)
{
	if (ms % 1000 == 0)
		snprintf(text, size, "%lld s", (long long)(ms / 1000));
	else
		snprintf(text, size, "%.3g s", (double)ms / 1000.0);
}

static const char *plural(int n)
{
	return n == 1 ? "attempt" : "attempts";
}

/* "3 attempts", or with the other protocol asked too "3 attempts, and 1
 * in PCP" (bracketed: "9 attempts (and 5 in PCP)") */
static void count_attempts(const struct silence *s, bool bracketed, char *text,
			   size_t size)
{
	if (!s->other_sends)
		snprintf(text, size, "%d %s", s->sends, plural(s->sends));
	else
		snprintf(text, size,
			 bracketed ? "%d %s (and %d in %s)"
				   : "%d %s, and %d in %s",
			 s->sends, plural(s->sends), s->other_sends, s->other);
}

/* Nothing came back. */
static void describe_no_reply(const struct silence *s, const char *why,
			      char *message, size_t size)
{
	char waited[32], attempts[64], when[160] = "";

	format_seconds(s->waited_ms, waited, sizeof(waited));
	count_attempts(s, s->reason == PATIENCE_SCHEDULE, attempts,
		       sizeof(attempts));
	switch (s->reason) {
	case PATIENCE_TIMEOUT:
		format_seconds(s->timeout_ms, waited, sizeof(waited));
		snprintf(when, sizeof(when), "within the %s timeout (%s)",
			 waited, attempts);
		break;
	case PATIENCE_EXPIRY:
		snprintf(when, sizeof(when),
			 "before the mapping ran out (%s over %s)", attempts,
			 waited);
		break;
	case PATIENCE_YIELD:
		snprintf(when, sizeof(when),
			 "in %s (%s), giving way to other requests", waited,
			 attempts);
		break;
	case PATIENCE_SCHEDULE:
		snprintf(when, sizeof(when), "after %s over %s", attempts,
			 waited);
		break;
	}
	snprintf(message, size, "no reply from gateway %s %s%s",
		 s->gateway_text, when, why);
}

/* "within the 1 s timeout", "over 127.75 s" */
static void describe_wait(const struct silence *s, char *text, size_t size)
{
	char waited[32];

	format_seconds(s->reason == PATIENCE_TIMEOUT ? s->timeout_ms
						     : s->waited_ms,
		       waited, sizeof(waited));
	switch (s->reason) {
	case PATIENCE_TIMEOUT:
		snprintf(text, size, "within the %s timeout", waited);
		break;
	case PATIENCE_EXPIRY:
		snprintf(text, size, "over %s, before the mapping ran out",
			 waited);
		break;
	case PATIENCE_YIELD:
		snprintf(text, size,
			 "in %s, before giving way to other requests", waited);
		break;
	case PATIENCE_SCHEDULE: snprintf(text, size, "over %s", waited); break;
	}
}

/* Datagrams came back, none the answer (RFC 6886 section 3.1 and RFC 6887
 * section 8.3 have them ignored): what they were, so that a gateway that
 * answers in neither protocol is not called silent. */
static void describe_strays(const struct silence *s, const char *why,
			    char *message, size_t size)
{
	const struct stray_tally *t = s->strays;
	char attempts[64], when[96], what[STRAY_NOTE_SIZE + 96], times[24];

	count_attempts(s, true, attempts, sizeof(attempts));
	describe_wait(s, when, sizeof(when));
	if (t->formless == t->count) {
		char formless[96];
		stray_tally_describe(t, formless, sizeof(formless));
		snprintf(what, sizeof(what), "never in %s or %s: %s", s->spoken,
			 s->other, formless);
	} else {
		snprintf(what, sizeof(what),
			 "never to this request (the last: %s)", t->note);
	}
	if (t->count <= 2)
		snprintf(times, sizeof(times), "%s",
			 t->count == 1 ? "once" : "twice");
	else
		snprintf(times, sizeof(times), "%u times", t->count);
	snprintf(message, size, "gateway %s answered %s to %s %s, %s%s",
		 s->gateway_text, times, attempts, when, what, why);
}

void silence_describe(const struct silence *s, char *message, size_t size)
{
	char why[96] = "";

	if (s->error_number)
		snprintf(why, sizeof(why), " (%s)", strerror(s->error_number));
	if (s->strays && s->strays->count)
		describe_strays(s, why, message, size);
	else
		describe_no_reply(s, why, message, size);
}
