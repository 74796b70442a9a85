/* ledger.c - the state in memory for this run's questions, and its
 * changes kept for one write. */
#include "state/ledger.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/diag.h"

int ledger_open(struct ledger *ledger, const char *directory)
{
	memset(ledger, 0, sizeof(*ledger));
	ledger->directory = directory;
	if (!directory)
		return 0;
	return state_load(directory, time(NULL), &ledger->state);
}

void ledger_close(struct ledger *ledger)
{
	/* a writer still at work finishes on its own */
	state_free(&ledger->state);
	free(ledger->unsaved);
	free(ledger->writing);
	memset(ledger, 0, sizeof(*ledger));
}

/* Applies change in memory now, and keeps it for the next save. What has
 * run out is let go first, as loading the file would: a renew-loop leaves
 * a mapping behind at each move to another network or gateway, and over
 * months those would fill the state to STATE_ENTRIES_MAX, each change
 * copying them all. */
static void change(struct ledger *ledger, const struct state_change *change)
{
	state_drop_stale(&ledger->state, (int64_t)time(NULL));
	if (state_apply(&ledger->state, change, 1) < 0)
		diag_verbose("out of memory: the state forgets a change");
	if (!ledger->directory)
		return;
	if (ledger->unsaved_count == ledger->unsaved_capacity) {
		size_t capacity = ledger->unsaved_capacity
					  ? 2 * ledger->unsaved_capacity
					  : 8;
		struct state_change *grown = realloc(
			ledger->unsaved, capacity * sizeof(*ledger->unsaved));
		if (!grown) {
			if (!ledger->lost)
				diag_warning(
					"out of memory: the state directory will not learn of every mapping");
			ledger->lost = true;
			return;
		}
		ledger->unsaved = grown;
		ledger->unsaved_capacity = capacity;
	}
	ledger->unsaved[ledger->unsaved_count++] = *change;
}

enum protocol_id ledger_protocol(const struct ledger *ledger,
				 const struct ip_endpoint *gateway)
{
	return state_gateway_protocol(&ledger->state, gateway);
}

/* Auto mode starts in NAT-PMP when it knows nothing of a gateway: a
 * NAT-PMP gateway needs no entry (its mappings are remembered all the
 * same). Another protocol is remembered, and its entry refreshed once it
 * grows old; what the gateway answered when the user forced a protocol
 * is remembered only if it is one auto mode would not start in. */
void ledger_heard(struct ledger *ledger, const struct ip_endpoint *gateway,
		  enum protocol_id protocol, bool followed)
{
	const struct state_gateway *known =
		state_find_gateway(&ledger->state, gateway);
	enum protocol_id remembered = known ? known->protocol : PROTOCOL_NONE;
	int64_t now = time(NULL);
	struct state_change c;

	if (protocol == PROTOCOL_NONE)
		return;
	if (protocol == PROTOCOL_NATPMP &&
	    (!followed || remembered == PROTOCOL_NONE ||
	     remembered == PROTOCOL_NATPMP))
		return;
	if (protocol != PROTOCOL_NATPMP && remembered == protocol &&
	    now - known->seen < STATE_GATEWAY_REFRESH_AGE)
		return;
	memset(&c, 0, sizeof(c));
	c.kind = STATE_REMEMBER_GATEWAY;
	c.gateway.gateway = *gateway;
	c.gateway.protocol = protocol;
	c.gateway.seen = now;
	change(ledger, &c);
}

static void key_into(const struct ledger_key *key, struct state_mapping *m)
{
	m->gateway = key->gateway;
	m->transport = key->transport;
	m->internal_address = key->host;
	m->internal_port = key->internal_port;
}

bool ledger_nonce(const struct ledger *ledger, const struct ledger_key *key,
		  uint8_t nonce[NONCE_SIZE])
{
	const struct state_mapping *known = state_find_mapping(
		&ledger->state, &key->gateway, key->transport, &key->host,
		key->internal_port);

	if (!known || !known->has_nonce)
		return false;
	memcpy(nonce, known->nonce, NONCE_SIZE);
	return true;
}

/* Whether a mapping without a nonce is remembered to last until within
 * LEDGER_EXPIRY_SLACK_S before expires already, and for more than that
 * from now: then a grant that only repeats it (map run again) is not
 * worth a write. One that ends it sooner, or a renewal of a short
 * lifetime, whose record would otherwise run out first, always is. */
static bool known_until(const struct ledger *ledger,
			const struct ledger_key *key, int64_t now,
			int64_t expires)
{
	const struct state_mapping *known = state_find_mapping(
		&ledger->state, &key->gateway, key->transport, &key->host,
		key->internal_port);

	return known && !known->has_nonce && known->expires <= expires &&
	       known->expires >= expires - LEDGER_EXPIRY_SLACK_S &&
	       known->expires > now + LEDGER_EXPIRY_SLACK_S;
}

void ledger_granted(struct ledger *ledger, const struct ledger_key *key,
		    const uint8_t nonce[NONCE_SIZE], uint32_t lifetime)
{
	struct state_change c;
	int64_t now;

	if (key->internal_port == 0)
		return;
	memset(&c, 0, sizeof(c));
	c.kind = STATE_REMEMBER_MAPPING;
	key_into(key, &c.mapping);
	c.mapping.has_nonce = nonce != NULL;
	if (nonce)
		memcpy(c.mapping.nonce, nonce, NONCE_SIZE);
	now = (int64_t)time(NULL);
	c.mapping.expires = now + lifetime;
	if (!nonce && known_until(ledger, key, now, c.mapping.expires))
		return;
	change(ledger, &c);
}

void ledger_deleted(struct ledger *ledger, const struct ledger_key *key)
{
	struct state_change c;

	memset(&c, 0, sizeof(c));
	c.kind = STATE_FORGET_MAPPING;
	key_into(key, &c.mapping);
	/* nothing to forget is nothing to write */
	if (state_forgets_any(&ledger->state, &c.mapping))
		change(ledger, &c);
}

size_t ledger_ports(const struct ledger *ledger,
		    const struct ip_endpoint *gateway, unsigned transport,
		    const struct ip_address *host, uint16_t *ports, size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < ledger->state.mapping_count && n < max; i++) {
		const struct state_mapping *m = &ledger->state.mappings[i];
		if (m->has_nonce && m->transport == transport &&
		    ip_endpoint_equal(&m->gateway, gateway) &&
		    ip_address_equal(&m->internal_address, host))
			ports[n++] = m->internal_port;
	}
	return n;
}

bool ledger_port_held(const struct ledger *ledger, uint16_t internal_port,
		      bool (*is_this_host)(const struct ip_address *host))
{
	int64_t now = time(NULL);
	size_t i;

	for (i = 0; i < ledger->state.mapping_count; i++) {
		const struct state_mapping *m = &ledger->state.mappings[i];
		if (m->internal_port == internal_port && m->expires > now &&
		    is_this_host(&m->internal_address))
			return true;
	}
	return false;
}

bool ledger_unsaved(const struct ledger *ledger)
{
	return ledger->unsaved_count > 0;
}

int ledger_save(struct ledger *ledger)
{
	int status = 0;

	if (ledger->directory && ledger->unsaved_count)
		status = state_commit(ledger->directory, time(NULL),
				      ledger->unsaved, ledger->unsaved_count);
	ledger->unsaved_count = 0;
	return status;
}

/* The writer's changes are written, or go back in front of those that
 * came since. */
static void write_ended(struct ledger *ledger, bool written)
{
	struct state_change *joined;
	size_t total = ledger->writing_count + ledger->unsaved_count;

	ledger->writer = 0;
	ledger->write_failures = written ? 0 : ledger->write_failures + 1;
	if (written || !ledger->writing_count) {
		free(ledger->writing);
		ledger->writing = NULL;
		ledger->writing_count = 0;
		return;
	}
	joined = realloc(ledger->writing, total * sizeof(*joined));
	if (!joined) {
		/* they stay where they are, for the next try */
		return;
	}
	if (ledger->unsaved_count)
		memcpy(joined + ledger->writing_count, ledger->unsaved,
		       ledger->unsaved_count * sizeof(*joined));
	free(ledger->unsaved);
	ledger->unsaved = joined;
	ledger->unsaved_count = ledger->unsaved_capacity = total;
	ledger->writing = NULL;
	ledger->writing_count = 0;
}

/* In the child: the parent's signal handlers speak for the parent's loop,
 * and its buffers are not this process's to flush. */
static void write_in_child(struct ledger *ledger)
{
	static const int reset[] = { SIGINT,  SIGTERM, SIGHUP,
				     SIGUSR1, SIGCHLD, SIGPIPE };
	size_t i;

	for (i = 0; i < sizeof(reset) / sizeof(reset[0]); i++)
		signal(reset[i], SIG_DFL);
	signal(SIGALRM, SIG_DFL);
	alarm(LEDGER_WRITE_PATIENCE_S);
	_exit(state_commit(ledger->directory, time(NULL), ledger->writing,
			   ledger->writing_count) == 0
		      ? 0
		      : 1);
}

pid_t ledger_write_start(struct ledger *ledger)
{
	pid_t pid;

	if (!ledger->directory || !ledger->unsaved_count || ledger->writer)
		return 0;
	/* what the child writes is held until it says it did */
	ledger->writing = ledger->unsaved;
	ledger->writing_count = ledger->unsaved_count;
	ledger->unsaved = NULL;
	ledger->unsaved_count = ledger->unsaved_capacity = 0;
	pid = fork();
	if (pid == 0)
		write_in_child(ledger);
	if (pid < 0) {
		int saved = errno;
		write_ended(ledger, false);
		errno = saved;
		return -1;
	}
	ledger->writer = pid;
	return pid;
}

bool ledger_write_reap(struct ledger *ledger)
{
	int status;
	pid_t pid;

	if (!ledger->writer)
		return true;
	do
		pid = waitpid(ledger->writer, &status, WNOHANG);
	while (pid < 0 && errno == EINTR);
	if (pid == 0)
		return false;
	write_ended(ledger,
		    pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (pid > 0 && WIFSIGNALED(status))
		diag_warning(
			"the state was not saved in %d s: the next write tries again",
			LEDGER_WRITE_PATIENCE_S);
	return true;
}

bool ledger_writing(const struct ledger *ledger)
{
	return ledger->writer != 0;
}

unsigned ledger_write_failures(const struct ledger *ledger)
{
	return ledger->write_failures;
}
