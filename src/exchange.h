/* exchange.h - the one place natpmp talks to the gateway: a UDP socket,
 * one request in flight, the RFC 6886 section 3.1 retransmission schedule
 * on the monotonic clock, reply matching and ICMP errors. Protocol-neutral:
 * the caller encodes the request and judges each datagram that arrives. */
#ifndef NATPMP_EXCHANGE_H
#define NATPMP_EXCHANGE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EXCHANGE_NO_DEADLINE INT64_MAX
#define EXCHANGE_RFC_SENDS 9 /* RFC 6886 section 3.1 */
#define EXCHANGE_FIRST_WAIT_MS 250
#define EXCHANGE_DATAGRAM_MAX 1100

enum exchange_status {
	EXCHANGE_ANSWERED,
	EXCHANGE_TIMEOUT,	   /* no acceptable reply in time */
	EXCHANGE_PORT_UNREACHABLE, /* ICMP: nothing listens on the gateway */
	EXCHANGE_SYSTEM_ERROR,	   /* a local failure; see error_number */
	EXCHANGE_INTERRUPTED,	   /* on_signal asked to stop waiting */
};

/* Judges one datagram from the gateway: true accepts it as the answer.
 * note receives a one-line description for --verbose either way. */
typedef bool (*exchange_match_fn)(const uint8_t *datagram, size_t length,
				  void *context, char *note, size_t note_size);

struct exchange {
	int fd;
	struct sockaddr_in gateway;
	struct sockaddr_in local; /* the address requests go out from */
	char gateway_text[32];	  /* "a.b.c.d", or "a.b.c.d:port" off 5351 */

	/* settings, changeable between runs */
	int64_t deadline_ms; /* absolute monotonic time to give up by */
	int max_sends;	     /* EXCHANGE_RFC_SENDS unless cut short */
	bool progress;	     /* show a progress line on stderr */
	/* after a request goes unanswered, later runs fail at once with the
	 * same status (a one-shot command should not wait twice) */
	bool remember_silence;
	/* called when a signal interrupts the wait; true stops the run */
	bool (*on_signal)(void *context);
	void *on_signal_context;

	/* what the last run saw */
	enum exchange_status silence; /* remembered failure, or ANSWERED */
	bool skipped;		      /* failed from memory, nothing sent */
	int sends;
	int64_t waited_ms;
	int error_number; /* system error, or the last ICMP error seen */
	unsigned ignored; /* datagrams that were not the answer */
};

/* Opens a socket connected to the gateway. On failure returns -1 with the
 * reason in error_number. */
int exchange_open(struct exchange *exchange, const struct sockaddr_in *gateway);
void exchange_close(struct exchange *exchange);

/* Sends request on the RFC schedule until match accepts a reply, the
 * schedule or deadline runs out, or the gateway's port is unreachable.
 * label names the request in --verbose and progress output. The
 * accepted datagram is left for match to decode. */
enum exchange_status exchange_run(struct exchange *exchange,
				  const uint8_t *request, size_t length,
				  const char *label, exchange_match_fn match,
				  void *context);

/* Forget a remembered silence, e.g. once the gateway may be back. */
void exchange_forget_silence(struct exchange *exchange);

/* Milliseconds after the first send at which send number n (1-based) goes
 * out, and after which the whole schedule of `sends` sends gives up. */
int64_t exchange_send_offset_ms(int n);
int64_t exchange_give_up_offset_ms(int sends);

#endif
