/* ledger.h - what natpmp remembers between runs, as the engine asks for
 * it: which protocol a gateway speaks, and each mapping it made, with its
 * nonce when made over a protocol that keeps one. One-shot commands,
 * renew-loop and the doctor share it. What changes is known at once and written to the state
 * file together by ledger_save: once at the end of a one-shot run, in
 * bursts by renew-loop, so a run costs one durable write however many
 * mappings it makes. */
#ifndef NATPMP_LEDGER_H
#define NATPMP_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/ip_address.h"
#include "core/port_mapping.h"
#include "state/state.h"

struct ledger {
	const char *directory; /* NULL: nothing is kept between runs */
	struct state state;    /* the file as read, with this run's changes */
	struct state_change *unsaved; /* this run's changes not yet written */
	size_t unsaved_count, unsaved_capacity;
	bool lost; /* a change was dropped for want of memory (warned) */
	/* the child writing, and the changes it writes */
	pid_t writer;
	struct state_change *writing;
	size_t writing_count;
	unsigned write_failures; /* in a row: the next try waits longer */
};

/* A mapping as the gateway knows it: at gateway, for transport, to host
 * (this one, or the one --for names) and internal port. */
struct ledger_key {
	struct ip_endpoint gateway;
	unsigned transport;
	struct ip_address host;
	uint16_t internal_port;
};

/* Reads what the directory holds (NULL: none). Returns 0, or -1 when out
 * of memory (a damaged file is a warning and a fresh start). */
int ledger_open(struct ledger *ledger, const char *directory);
/* Forgets it all; what is unsaved is lost. */
void ledger_close(struct ledger *ledger);

/* The protocol gateway answered in last, or PROTOCOL_NONE. */
enum protocol_id ledger_protocol(const struct ledger *ledger,
				 const struct ip_endpoint *gateway);
/* The gateway answered in protocol, as natpmp chose to speak
 * (followed: the user forced none). Remembered when the next run would
 * otherwise start in another protocol, and kept fresh while in use. */
void ledger_heard(struct ledger *ledger, const struct ip_endpoint *gateway,
		  enum protocol_id protocol, bool followed);

/* The nonce remembered for a mapping; false if none is (also for one
 * made over NAT-PMP). */
bool ledger_nonce(const struct ledger *ledger, const struct ledger_key *key,
		  uint8_t nonce[NONCE_SIZE]);
/* A mapping without a nonce remembered to expire within this many seconds
 * before a new grant's expiry, and not within this many from now, is not
 * written again for that grant. */
#define LEDGER_EXPIRY_SLACK_S 60

/* A mapping made or renewed for lifetime seconds, with nonce, or NULL
 * over a protocol that keeps none. Internal port 0 is not remembered: it
 * names no port of the host. A grant without a nonce that only repeats
 * what is known (LEDGER_EXPIRY_SLACK_S) changes nothing. */
void ledger_granted(struct ledger *ledger, const struct ledger_key *key,
		    const uint8_t nonce[NONCE_SIZE], uint32_t lifetime);
/* A mapping deleted: it is forgotten. Internal port 0: every mapping of
 * the key's gateway, transport and host, as a NAT-PMP deletion of port 0
 * deletes them all (RFC 6886 section 3.4). */
void ledger_deleted(struct ledger *ledger, const struct ledger_key *key);
/* The internal ports of the mappings remembered with a nonce at gateway
 * for host and transport, at most max of them; returns how many. */
size_t ledger_ports(const struct ledger *ledger,
		    const struct ip_endpoint *gateway, unsigned transport,
		    const struct ip_address *host, uint16_t *ports, size_t max);
/* Whether a mapping remembered and not yet expired holds internal_port,
 * at any gateway, for either transport, for a host is_this_host says is
 * this one. */
bool ledger_port_held(const struct ledger *ledger, uint16_t internal_port,
		      bool (*is_this_host)(const struct ip_address *host));

/* Whether changes wait to be written. */
bool ledger_unsaved(const struct ledger *ledger);
/* Writes the changes that wait, with one durable write of the state file
 * (state_commit), and forgets them. Returns 0, or -1 after a warning. */
int ledger_save(struct ledger *ledger);

/* a writer gives up on a lock or a disk that holds it this long */
#define LEDGER_WRITE_PATIENCE_S 10

/* Starts writing the changes that wait in a child process, so that a lock
 * another holds or a slow disk never stalls the caller (the child gives
 * up after LEDGER_WRITE_PATIENCE_S). Returns the child's pid, 0 when there
 * is nothing to write or a writer is at work already, or -1 with errno
 * when fork failed (the changes wait). */
pid_t ledger_write_start(struct ledger *ledger);
/* Collects the writer if it has ended (at SIGCHLD): its changes are in
 * the file, or, if it failed, wait again for the next writer. Returns
 * true once no writer is at work. */
bool ledger_write_reap(struct ledger *ledger);
/* Whether a writer is at work, and how many failed in a row. */
bool ledger_writing(const struct ledger *ledger);
unsigned ledger_write_failures(const struct ledger *ledger);

#endif
