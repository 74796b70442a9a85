/* stray_tally.h - what a gateway sent during a request that answered
 * nothing, summed up, so that a request that runs out of patience says
 * what came back instead of "no reply". RFC 6886 section 3.1 and RFC 6887
 * section 8.3 have such datagrams ignored; this only counts them: how
 * many, why the last one in a protocol's form was not the answer, and of
 * those in no protocol's form their lengths and first bytes (where both
 * protocols put their version). Pure: no I/O. */
#ifndef NATPMP_STRAY_TALLY_H
#define NATPMP_STRAY_TALLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STRAY_VERSIONS_KEPT 4
#define STRAY_NOTE_SIZE 160

struct stray_tally {
	unsigned count;		  /* datagrams that answered nothing */
	unsigned formless;	  /* of those, in no protocol's form */
	size_t shortest, longest; /* of the formless */
	uint8_t versions[STRAY_VERSIONS_KEPT]; /* their first bytes, sorted */
	unsigned version_count;
	bool more_versions; /* more first bytes than were kept */
	bool empty;	    /* a datagram of 0 bytes, which has none */
	/* why the last one in a protocol's form was not the answer */
	char note[STRAY_NOTE_SIZE];
};

void stray_tally_clear(struct stray_tally *tally);
/* One more datagram that answered nothing; has_form: it is in the form
 * of one of the protocols, and note says why it was not the answer. */
void stray_tally_add(struct stray_tally *tally, const uint8_t *datagram,
		     size_t length, bool has_form, const char *note);
/* The formless ones, e.g. "12-byte datagrams of version 2", "a 2-byte
 * datagram of version 0", "datagrams of 2 to 12 bytes, of versions 0 and
 * 2". */
void stray_tally_describe(const struct stray_tally *tally, char *text,
			  size_t size);

#endif
