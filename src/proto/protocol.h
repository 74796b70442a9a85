/* protocol.h - the seam between the engine and a port-mapping protocol.
 * The engine asks for an address, a mapping or a deletion in neutral
 * terms; a backend (protocol_natpmp.c, protocol_pcp.c) turns that into a
 * datagram, judges what comes back, says how long to wait between
 * retransmissions, and states as properties what else differs between
 * the protocols, so that no caller compares protocols. Announcements are
 * heard in every format whatever the protocol spoken, so they are decoded
 * in announce.c. */
#ifndef NATPMP_PROTOCOL_H
#define NATPMP_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ip_address.h"
#include "core/port_mapping.h"
#include "core/result.h"
#include "proto/epoch.h"

#define PROTOCOL_DATAGRAM_MAX 1100
/* room for the description of any request or reply, every option of a
 * request included (-v never cuts one short) */
#define PROTOCOL_DESCRIPTION_MAX 1024

enum request_kind {
	REQUEST_ADDRESS, /* the gateway's external address */
	REQUEST_MAP,	 /* create or renew a mapping */
	REQUEST_DELETE,	 /* delete one, or with internal port 0 all */
	/* PCP's ANNOUNCE (RFC 6887 section 14.1): does the gateway speak
	 * PCP, and since when; NAT-PMP has no such request */
	REQUEST_ANNOUNCE,
};

struct request {
	enum request_kind kind;
	unsigned transport;	 /* TRANSPORT_UDP or TRANSPORT_TCP */
	uint16_t internal_port;	 /* map and delete */
	uint16_t suggested_port; /* map: the external port to ask for */
	/* map: the external address to ask for, unset for none (PCP; a
	 * renewal asks again for the one granted, RFC 6887 section 11.2.1) */
	struct ip_address suggested_address;
	uint32_t lifetime; /* map: seconds */
	/* address: only wanted if the protocol's grants do not carry the
	 * external address anyway (map and renew-loop ask it this way) */
	bool address_optional;

	/* PCP only */
	uint8_t nonce[NONCE_SIZE];	  /* the mapping's, for its life */
	struct ip_address client_address; /* set by the client: the source */
	bool exact;			  /* PREFER_FAILURE */
	bool third_party;		  /* THIRD_PARTY */
	struct ip_address third_party_address;
	struct port_filter filters[FILTER_MAX];
	size_t filter_count;
};

/* What the gateway answered, in neutral terms. */
struct reply {
	enum failure failure; /* FAILURE_NONE: it granted the request */
	unsigned code;	      /* the protocol's own result code */
	unsigned version;     /* the version the gateway answered in */
	bool has_epoch;
	uint32_t epoch;
	struct ip_address external_address; /* address replies */
	uint16_t external_port;		    /* map replies */
	uint32_t lifetime;
};

enum reply_verdict {
	REPLY_IGNORED,	      /* not the answer: keep waiting */
	REPLY_ANSWER,	      /* the answer to the request in flight */
	REPLY_OTHER_PROTOCOL, /* the gateway answered in another protocol */
};

/* How long to wait for a reply before sending again. */
struct retry_schedule {
	int max_sends; /* after the last, wait once more, then give up; 0:
			  send until the caller's patience runs out */
	/* the wait after a send, given the wait after the previous one (0
	 * for the first send) and a random number for schedules that jitter */
	int64_t (*next_wait_ms)(int64_t previous_wait_ms, uint32_t random);
};

struct protocol {
	enum protocol_id id;
	enum protocol_id other; /* the protocol REPLY_OTHER_PROTOCOL means */
	/* map replies carry the external address: no address request */
	bool grants_carry_address;
	/* the gateway knows a mapping by a nonce that must come again to
	 * renew or delete it, so it is kept between runs (PCP, RFC 6887
	 * section 11.1) */
	bool keeps_nonce;
	/* a deletion of internal port 0 deletes every mapping of the host
	 * for the transport (NAT-PMP, RFC 6886 section 3.4) */
	bool deletes_all;
	/* an error's lifetime says how long it holds (PCP, RFC 6887 section
	 * 7.2); NAT-PMP gives that field no meaning in an error, and
	 * miniupnpd fills it with the lifetime asked for */
	bool errors_hold_for_lifetime;
	/* its answers carry the request's nonce back: one only the gateway
	 * that saw the request could send (PCP, RFC 6887 section 11.1), so
	 * a single answer in another format does not outweigh them */
	bool answers_echo_nonce;
	/* the gateway may answer about a mapping again, late or on its own
	 * (PCP, RFC 6887 sections 8 and 14.2): such answers are applied */
	bool answers_again;
	/* the patience of a one-shot request when --timeout is not given,
	 * for schedules that never give up by themselves */
	int64_t default_patience_ms;
	/* the request that shows a gateway speaks this protocol and changes
	 * nothing there: NAT-PMP's address request, PCP's ANNOUNCE */
	enum request_kind presence_request;
	/* following the gateway (auto mode), a request still unanswered when
	 * this send of it is due is asked in the other protocol too, with
	 * that protocol's presence request: a gateway may drop what it does
	 * not speak; 0: never */
	int other_asked_at_send;
	const struct retry_schedule *schedule;
	/* Returns the datagram's length, or 0 if size is too small. */
	size_t (*encode)(const struct request *request, uint8_t *buffer,
			 size_t size);
	/* Judges a datagram from the gateway; note gets one line for -v. */
	enum reply_verdict (*decode)(const struct request *request,
				     const uint8_t *datagram, size_t length,
				     struct reply *reply, char *note,
				     size_t note_size);
	/* Whether a datagram has the form of this protocol's answers at all
	 * (its version and length), whatever request it answers. */
	bool (*has_form)(const uint8_t *datagram, size_t length);
	/* One line for -v and the progress line: "map tcp request: ..." */
	void (*describe)(const struct request *request, char *text,
			 size_t size);
	/* Why a reply that is not a success failed, for people, naming the
	 * gateway (gateway_text). */
	void (*explain)(const struct request *request,
			const struct reply *reply, const char *gateway_text,
			char *message, size_t size);
	/* The restart test this protocol's epochs are judged by. */
	epoch_rule observe_epoch;
	/* How long past half of a grant of lifetime seconds its renewal
	 * waits, for a random number: NAT-PMP renews at half (RFC 6886
	 * section 3.3), PCP at a random point up to 5/8 (RFC 6887 section
	 * 11.2.1). */
	int64_t (*renewal_spread_ms)(uint32_t lifetime, uint32_t random);
};

extern const struct protocol protocol_natpmp;
extern const struct protocol protocol_pcp;

/* The backend of a protocol; NAT-PMP's for PROTOCOL_NONE. */
const struct protocol *protocol_backend(enum protocol_id protocol);

/* What a gateway means by a result code that needs nothing but its name
 * to explain: "gateway GW " and then these words. */
struct result_words {
	unsigned code;
	const char *says;
};

/* "gateway GW " and then these words, into message. */
void protocol_say(char *message, size_t size, const char *gateway_text,
		  const char *says);

/* The backends' explain for such codes: the words of code from a table,
 * or, for a code not in it, that it is unknown. */
void protocol_explain_code(const struct result_words *words, size_t count,
			   unsigned code, const char *gateway_text,
			   char *message, size_t size);

#endif
