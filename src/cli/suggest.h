/* suggest.h - did-you-mean for misspelt names, and natpmpc's -a spelled
 * the natpmp way; pure, for the argument parser's error messages. */
#ifndef NATPMP_SUGGEST_H
#define NATPMP_SUGGEST_H

#include <stddef.h>

/* The name among names[] closest to word[0..length), or NULL when none is
 * within one slip (a typo, a letter missing or extra, two letters swapped)
 * for a word under six letters, two for a longer one. */
const char *suggest_closest(const char *word, size_t length,
			    const char *const names[], size_t count);

/* room for the commands suggest_natpmpc writes */
#define SUGGEST_SIZE 400

/* When argv[at] starts natpmpc's "-a PUBLIC PRIVATE PROTO [LIFETIME]",
 * writes into out the natpmp command that does the same, with every other
 * word of argv kept as the user gave it (a gateway, natpmp's options), and
 * for a mapping also the renew-loop that keeps it, as a natpmpc loop does
 * (for internal port 0, a VPN's, 0/both); returns 0. Else -1. */
int suggest_natpmpc(int argc, const char *const argv[], int at, char *out,
		    size_t size);

#endif
