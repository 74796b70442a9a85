/* exchange.h - the one place natpmp talks to a gateway: a UDP socket
 * connected to it and one request in flight, retransmitted on the
 * protocol's schedule until an answer comes, the gateway's port proves
 * closed (ICMP), or the caller's patience runs out. A non-blocking state
 * machine: the event loop drives it, and it reports through a callback.
 * Protocol-neutral: the caller encodes the request and judges replies. */
#ifndef NATPMP_EXCHANGE_H
#define NATPMP_EXCHANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ip_address.h"
#include "engine/eloop.h"
#include "proto/protocol.h"

#define EXCHANGE_LABEL_SIZE PROTOCOL_DESCRIPTION_MAX

enum exchange_status {
	EXCHANGE_ANSWERED,
	EXCHANGE_TIMEOUT,	   /* no acceptable reply in time */
	EXCHANGE_PORT_UNREACHABLE, /* ICMP: nothing listens on the gateway */
	EXCHANGE_SYSTEM_ERROR,	   /* a local failure; see error_number */
};

/* Judges one datagram from the gateway: true accepts it as the answer.
 * note receives a one-line description for --verbose either way. */
typedef bool (*exchange_match_fn)(void *context, const uint8_t *datagram,
				  size_t length, char *note, size_t note_size);
typedef void (*exchange_done_fn)(void *context, enum exchange_status status);
/* Hears a datagram from the gateway that is not the answer to a request
 * in flight: a late or unsolicited answer to an earlier one. True if it
 * was taken; note receives a line for --verbose either way. It must not
 * start or cancel a request. */
typedef bool (*exchange_stray_fn)(void *context, const uint8_t *datagram,
				  size_t length, char *note, size_t note_size);

struct exchange {
	struct eloop *loop;
	int fd;
	struct ip_endpoint gateway;
	struct ip_endpoint local; /* the address requests go out from */
	char gateway_text[IP_ENDPOINT_TEXT_SIZE]; /* port shown if not 5351 */
	bool progress; /* show a progress line on stderr while waiting */
	struct eloop_timer send_timer;
	struct eloop_timer progress_timer;

	/* the request in flight */
	bool busy;
	uint8_t request[PROTOCOL_DATAGRAM_MAX];
	size_t length;
	char label[EXCHANGE_LABEL_SIZE];
	const struct retry_schedule *schedule;
	int64_t started_ms;
	int64_t deadline_ms;  /* the caller's patience */
	int64_t next_send_ms; /* or, after the last send, the give-up time */
	int64_t last_wait_ms;
	exchange_match_fn match;
	exchange_done_fn done;
	void *context;

	exchange_stray_fn stray; /* for as long as the socket lives */
	void *stray_context;

	/* told when a request has gone unanswered for a second, and when
	 * that wait ends; ex->waiting says which */
	void (*waiting_changed)(void *context);
	void *waiting_context;
	bool waiting;

	/* what the request in flight, or the last one, saw */
	int sends;	 /* in all */
	int round_sends; /* since the schedule last started over */
	bool kicked;	 /* it was kicked: the schedule started over */
	int64_t waited_ms;
	int error_number;      /* system error, or the last ICMP error seen */
	bool deadline_reached; /* the caller's patience, not the schedule,
				  ended it */
};

/* Opens a socket connected to the gateway, bound first to source if it is
 * set, and watches it in loop. On failure returns -1 with the reason in
 * error_number. */
int exchange_open(struct exchange *exchange, struct eloop *loop,
		  const struct ip_endpoint *gateway,
		  const struct ip_address *source);
void exchange_close(struct exchange *exchange);

/* Sends request now and again on schedule until match accepts a reply,
 * the schedule runs out, deadline_ms (absolute, clock_now_ms) passes or
 * the gateway's port is unreachable; then calls done. label names the
 * request in --verbose and progress output. Only when not busy. */
void exchange_start(struct exchange *exchange, const uint8_t *request,
		    size_t length, const char *label,
		    const struct retry_schedule *schedule, int64_t deadline_ms,
		    exchange_match_fn match, exchange_done_fn done,
		    void *context);

/* From now on, datagrams from the gateway that answer no request in
 * flight go to stray. */
void exchange_set_stray(struct exchange *exchange, exchange_stray_fn stray,
			void *context);

/* Abandons the request in flight without calling done. */
void exchange_cancel(struct exchange *exchange);

/* Sends the request in flight again now and restarts its waits from the
 * first, e.g. when the gateway just announced it is back. Once per request:
 * a later kick sends one copy now and leaves the schedule as it was. */
void exchange_kick(struct exchange *exchange);

/* The address the kernel would send from to gateway, found by connecting
 * a socket that sends nothing. Returns 0, or -1 with errno. */
int exchange_probe_source(const struct ip_endpoint *gateway,
			  struct ip_address *source);

/* Milliseconds after the first send at which send number n (1-based) goes
 * out on schedule, and at which a schedule of `sends` sends gives up. */
int64_t exchange_send_offset_ms(const struct retry_schedule *schedule, int n);
int64_t exchange_give_up_offset_ms(const struct retry_schedule *schedule);

#endif
