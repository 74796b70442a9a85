/* live_state.h - what a running renew-loop publishes for `natpmp status`:
 * a file per loop in the state directory, renew-loop.PID, rewritten whole
 * (a temporary file renamed over it) when its mappings change, and removed
 * at exit. Beside it, renew-loop.PID.lock, which the loop holds locked
 * (flock) for as long as it runs: a loop that died leaves files whose lock
 * anyone can take, so readers ignore them and the next loop removes them.
 *
 * The file's text, one line each:
 *   natpmp-live 1
 *   pid 1234
 *   mapping family=inet protocol=udp internal_address=10.2.0.2
 *     internal_port=0 external_address=45.77.71.2 external_port=51413
 *     state=active lifetime=60 next_ms=... expires_ms=... gateway=10.2.0.1
 *     gateway_port=5351 via=nat-pmp problem=TEXT TO THE END OF THE LINE
 * (a mapping is one line; empty values are unknowns; times are on the
 * loop's clock, CLOCK_BOOTTIME, which every process of the host shares). */
#ifndef NATPMP_LIVE_STATE_H
#define NATPMP_LIVE_STATE_H

#include <stdbool.h>
#include <stddef.h>

#include "out/mapping_status.h"

#define LIVE_STATE_PREFIX "renew-loop."
#define LIVE_STATE_LOCK_SUFFIX ".lock"

/* --- the text: pure --- */

/* The file's text for pid's mappings (malloc'ed), or NULL when out of
 * memory. */
char *live_state_format(long pid, const struct mapping_status *mappings,
			size_t count);
/* Parses text into *mappings (malloc'ed; free it) and *count. Returns 0,
 * or -1 when it is not a live state this natpmp reads (errno EINVAL) or
 * memory ran out (ENOMEM). */
int live_state_parse(const char *text, size_t length,
		     struct mapping_status **mappings, size_t *count);

/* --- the loop's side --- */

struct live_publisher {
	char *directory;
	int directory_fd; /* -1: nothing is published */
	int lock_fd;
	char name[48]; /* renew-loop.PID */
	char *last;    /* the text written last */
	bool warned;
};

/* Opens the state directory (NULL: publishes nothing), removes what dead
 * loops left there, and takes this loop's lock. A directory that cannot be
 * used is a warning, and nothing is published. */
void live_publisher_open(struct live_publisher *p, const char *directory);
/* Replaces the file with text, unless it says that already. */
void live_publisher_write(struct live_publisher *p, const char *text);
/* Removes the file and the lock. */
void live_publisher_close(struct live_publisher *p);

/* --- the readers' side --- */

/* The mappings of every renew-loop running with directory as its state
 * directory, in *mappings (malloc'ed; free it), *count of them, and how
 * many loops in *loops. A missing directory is no loop. Returns 0, or -1
 * with errno when the directory cannot be read. */
int live_state_read(const char *directory, struct mapping_status **mappings,
		    size_t *count, size_t *loops);

#endif
