/* fallback.c - the other protocol's presence request, on a socket of its
 * own, beside a request left unanswered. */
#include "engine/fallback.h"

#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/diag.h"

static void ask(void *context);

void fallback_init(struct fallback *f, struct eloop *loop,
		   const struct ip_endpoint *gateway,
		   const struct ip_address *source,
		   fallback_answered_fn answered, exchange_stray_fn stray,
		   void *context)
{
	memset(f, 0, sizeof(*f));
	f->loop = loop;
	f->gateway = *gateway;
	if (source)
		f->source = *source;
	f->answered = answered;
	f->stray = stray;
	f->context = context;
	eloop_timer_init(&f->timer, ask, f);
}

void fallback_arm(struct fallback *f, const struct protocol *spoken,
		  int64_t started_ms, int64_t deadline_ms)
{
	int64_t at;

	f->asked = false;
	if (!spoken->other_asked_at_send)
		return;
	f->spoken = spoken;
	f->other = protocol_backend(spoken->other);
	f->deadline_ms = deadline_ms;
	/* a schedule that gives up by itself ends the other's asking too */
	if (deadline_ms == CLOCK_NEVER && spoken->schedule->max_sends)
		f->deadline_ms = started_ms +
				 exchange_give_up_offset_ms(spoken->schedule);
	at = started_ms + exchange_send_offset_ms(spoken->schedule,
						  spoken->other_asked_at_send);
	if (at < f->deadline_ms)
		eloop_timer_at(f->loop, &f->timer, at);
}

void fallback_stop(struct fallback *f)
{
	if (!f->loop)
		return; /* never initialised: the client never opened */
	eloop_timer_stop(f->loop, &f->timer);
	if (f->open)
		exchange_cancel(&f->exchange);
}

void fallback_close(struct fallback *f)
{
	fallback_stop(f);
	if (f->open)
		exchange_close(&f->exchange);
	f->open = false;
}

int fallback_sends(const struct fallback *f)
{
	return f->asked ? f->exchange.sends : 0;
}

const struct protocol *fallback_other(const struct fallback *f)
{
	return f->other;
}

const struct reply *fallback_reply(const struct fallback *f)
{
	return &f->reply;
}

static bool match(void *context, const uint8_t *datagram, size_t length,
		  char *note, size_t note_size)
{
	struct fallback *f = context;

	f->verdict = f->other->decode(&f->sent, datagram, length, &f->reply,
				      note, note_size);
	return f->verdict != REPLY_IGNORED;
}

/* An answer in the other protocol's own format, and not "I do not speak
 * it" (UNSUPP_VERSION and the like), is one to switch to; anything else
 * leaves the request waiting in the protocol spoken. */
static void on_done(void *context, enum exchange_status status)
{
	struct fallback *f = context;

	if (status == EXCHANGE_ANSWERED && f->verdict == REPLY_ANSWER &&
	    f->reply.failure != FAILURE_UNSUPPORTED) {
		f->answered(f->context);
		return;
	}
	diag_verbose("staying with %s: gateway %s %s %s",
		     protocol_name(f->spoken->id), f->exchange.gateway_text,
		     status == EXCHANGE_ANSWERED ? "does not speak"
						 : "did not answer in",
		     protocol_name(f->other->id));
}

static int open_socket(struct fallback *f)
{
	if (f->open)
		return 0;
	if (exchange_open(&f->exchange, f->loop, &f->gateway,
			  ip_address_is_set(&f->source) ? &f->source : NULL) <
	    0) {
		diag_verbose("cannot ask gateway %s in %s: %s",
			     f->exchange.gateway_text,
			     protocol_name(f->other->id),
			     strerror(f->exchange.error_number));
		return -1;
	}
	exchange_set_stray(&f->exchange, f->stray, f->context);
	f->open = true;
	return 0;
}

static void ask(void *context)
{
	struct fallback *f = context;
	uint8_t datagram[PROTOCOL_DATAGRAM_MAX];
	char label[EXCHANGE_LABEL_SIZE];
	size_t length;

	if (open_socket(f) < 0)
		return;
	memset(&f->sent, 0, sizeof(f->sent));
	f->sent.kind = f->other->presence_request;
	f->sent.client_address = f->exchange.local.address;
	length = f->other->encode(&f->sent, datagram, sizeof(datagram));
	if (length == 0)
		return;
	f->other->describe(&f->sent, label, sizeof(label));
	diag_verbose("no answer in %s yet: asking gateway %s in %s too",
		     protocol_name(f->spoken->id), f->exchange.gateway_text,
		     protocol_name(f->other->id));
	f->asked = true;
	exchange_start(&f->exchange, datagram, length, label,
		       f->other->schedule, f->deadline_ms, match, on_done, f);
}
