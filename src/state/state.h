/* state.h - what natpmp remembers between runs, in one small text file in
 * the state directory: which protocol each gateway speaks, and each
 * mapping it made with its PCP nonce, so that a later run can renew or
 * delete it (a PCP server refuses a deletion with another nonce) and the
 * doctor never deletes it. The file is
 * 0600, replaced atomically, and read-modify-written under a lock so that
 * concurrent runs merge; a missing, corrupt or suspicious file is a
 * warning and a fresh start, never a crash. */
#ifndef NATPMP_STATE_H
#define NATPMP_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ip_address.h"
#include "core/port_mapping.h"

#define STATE_ENTRIES_MAX 4096 /* of each kind; more is a corrupt file */
/* bytes; more is a corrupt file. Room for STATE_ENTRIES_MAX entries of
 * each kind at their longest (about 1.2 MB). */
#define STATE_FILE_MAX 2097152
#define STATE_FILE_NAME "state"
/* beside it: writers hold flock(2) on it; never replaced nor removed */
#define STATE_LOCK_FILE_NAME "state.lock"
/* a gateway entry last seen longer ago is dropped: its network has
 * probably changed since */
#define STATE_GATEWAY_MAX_AGE ((int64_t)30 * 24 * 60 * 60)
/* how old a gateway's entry may grow before a run that used it renews it */
#define STATE_GATEWAY_REFRESH_AGE ((int64_t)24 * 60 * 60)

/* Which protocol a gateway answered in, as of when. */
struct state_gateway {
	struct ip_endpoint gateway;
	enum protocol_id protocol;
	int64_t seen; /* Unix time */
};

/* A mapping natpmp made: over PCP with its nonce, over NAT-PMP without
 * one. The key is (gateway, transport, internal address, internal port). */
struct state_mapping {
	struct ip_endpoint gateway;
	unsigned transport;		    /* TRANSPORT_UDP or TRANSPORT_TCP */
	struct ip_address internal_address; /* this host's, or a third
					       party's (--for) */
	uint16_t internal_port;
	bool has_nonce; /* false: made over NAT-PMP, nonce is all zero */
	uint8_t nonce[NONCE_SIZE];
	int64_t expires; /* Unix time; dropped once past */
};

struct state {
	struct state_gateway *gateways;
	size_t gateway_count;
	struct state_mapping *mappings;
	size_t mapping_count;
};

/* One change, applied under the lock on top of what the file holds then. */
enum state_change_kind {
	STATE_REMEMBER_GATEWAY, /* add or replace (by gateway) */
	STATE_REMEMBER_MAPPING, /* add or replace (by key) */
	/* by key; absent is fine. Internal port 0: every mapping of the
	 * key's gateway, transport and internal address, as NAT-PMP deletes
	 * them all (RFC 6886 section 3.4) */
	STATE_FORGET_MAPPING,
};

struct state_change {
	enum state_change_kind kind;
	struct state_gateway gateway;
	struct state_mapping mapping;
};

/* --- the state in memory (state.c): pure, unit-tested and fuzzed --- */

/* The directory: natpmp_state_dir ($NATPMP_STATE_DIR), else the first
 * path of systemd_state_directory ($STATE_DIRECTORY, systemd's, a
 * colon-separated list), else xdg_state_home/natpmp ($XDG_STATE_HOME),
 * else home/.local/state/natpmp ($HOME); empty values count as unset, and a
 * relative path is refused (skipped). Returns a malloc'ed path, or NULL
 * when none applies. */
char *state_directory(const char *natpmp_state_dir,
		      const char *systemd_state_directory,
		      const char *xdg_state_home, const char *home);

/* Applies changes in order; addresses are stored normalised (no scope
 * outside link-local IPv6). Returns 0, or -1 when out of memory, past
 * STATE_ENTRIES_MAX, or a change is invalid: an unset address, a port 0
 * (but a forgotten mapping's internal port), a protocol other than UDP or TCP (NAT-PMP or PCP for a gateway), or a
 * negative time (state unchanged then). */
int state_apply(struct state *state, const struct state_change *changes,
		size_t count);

/* Whether changes must reach the disk before the command that made them
 * ends (fsync): a nonce, without which a PCP mapping cannot be deleted,
 * and a gateway's protocol do; a mapping made or deleted over NAT-PMP
 * (no nonce), and a forgotten mapping, lost in a crash, cost nothing a
 * later run cannot make good, and are written without waiting for the
 * disk. */
bool state_changes_durable(const struct state_change *changes, size_t count);

/* Whether STATE_FORGET_MAPPING of change would forget any entry of
 * state (internal port 0: any port of its gateway, transport and internal
 * address). */
bool state_forgets_any(const struct state *state,
		       const struct state_mapping *change);

/* Drops what is stale by now (see state_parse), keeping the order. */
void state_drop_stale(struct state *state, int64_t now);

enum protocol_id state_gateway_protocol(const struct state *state,
					const struct ip_endpoint *gateway);
/* What the state knows of gateway, or NULL. */
const struct state_gateway *state_find_gateway(
	const struct state *state, const struct ip_endpoint *gateway);
const struct state_mapping *state_find_mapping(
	const struct state *state, const struct ip_endpoint *gateway,
	unsigned transport, const struct ip_address *internal_address,
	uint16_t internal_port);

void state_free(struct state *state);

/* --- the text (state_text.c): pure, unit-tested and fuzzed --- */

/* Parses the file's text into *state (overwritten, not freed; release it
 * with state_free). Stale entries are dropped: mappings expired by now,
 * gateways older than STATE_GATEWAY_MAX_AGE, entries on a link-local
 * address whose interface no longer exists. Returns 0; -1 with one line
 * in error naming the line number and what is wrong with it; or -2 when
 * out of memory (the text may be fine). *state is empty on failure. */
int state_parse(const char *text, size_t length, int64_t now,
		struct state *state, char *error, size_t size);

/* Whether the text starts with the header of a format newer than this
 * natpmp's (such a file is kept for the natpmp that wrote it). */
bool state_text_is_newer(const char *text, size_t length);

/* The file's text for state (malloc'ed, NUL-terminated), or NULL when out
 * of memory. For a state that state_parse or state_apply made,
 * state_parse(state_format(s)) with the same now gives s back. */
char *state_format(const struct state *state);

/* --- the file (state_file.c) --- */

/* Reads the state of directory. No lock: the file is only ever replaced
 * whole, by rename. A missing directory or file is an empty state; a file
 * that is corrupt, too big, not a regular file, not ours, readable by
 * others, or in a directory others can write is a warning on stderr (via
 * diag_warning, naming the file and the problem) and an empty state.
 * Always returns 0 unless out of memory (-1). */
int state_load(const char *directory, int64_t now, struct state *state);

/* Locks STATE_LOCK_FILE_NAME, reads the file (as state_load does),
 * applies changes, drops stale entries, writes it to a temporary file 0600
 * in the same directory, syncs that file (one fsync: the name never points
 * at a file half written, whatever the filesystem), renames it over the
 * old one and unlocks. The rename reaches the disk with the filesystem's
 * next commit: a crash just after it may leave the state before, never a
 * damaged one. Creates the
 * directory (0700, parents as needed) if missing. A corrupt file is
 * warned about and replaced; one that is not ours (symbolic link, another
 * owner, not a regular file, a newer format) or a directory others can
 * write is never written over. Returns 0, or -1 after a warning on stderr
 * naming the directory or file and why (state not saved; nothing
 * half-written is left behind). */
int state_commit(const char *directory, int64_t now,
		 const struct state_change *changes, size_t count);

/* The directory opened (a descriptor, O_CLOEXEC) for other files natpmp
 * keeps beside the state, made and checked as state_commit does. Returns
 * -1 after a warning on stderr. */
int state_directory_open(const char *directory);

#endif
