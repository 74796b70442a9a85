/* suggest.c - did-you-mean for misspelt names, and natpmpc's -a spelled
 * the natpmp way; pure, for the argument parser's error messages. */
#include "cli/suggest.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/port_mapping.h"

#define NAME_MAX_LENGTH 32

/* Optimal string alignment distance: insertions, deletions, substitutions
 * and swaps of neighbours each cost one. Longer names are never close. */
static size_t distance(const char *a, size_t la, const char *b)
{
	size_t lb = strlen(b);
	size_t d[NAME_MAX_LENGTH + 1][NAME_MAX_LENGTH + 1];
	size_t i, j;

	if (la > NAME_MAX_LENGTH || lb > NAME_MAX_LENGTH)
		return SIZE_MAX;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++)
		for (j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t best = d[i - 1][j - 1] + cost;
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	return d[la][lb];
}

const char *suggest_closest(const char *word, size_t length,
			    const char *const names[], size_t count)
{
	/* one slip in a short word, two in a longer one */
	size_t allowed = length < 6 ? 1 : 2;
	const char *best = NULL;
	size_t best_distance = allowed + 1, i;

	if (length < 2)
		return NULL;
	for (i = 0; i < count; i++) {
		size_t d = distance(word, length, names[i]);
		if (d < best_distance) {
			best_distance = d;
			best = names[i];
		}
	}
	return best;
}

static bool is_number(const char *text, unsigned long max, unsigned long *value)
{
	char *end;

	if (!text || *text < '0' || *text > '9' || strlen(text) > 10)
		return false;
	*value = strtoul(text, &end, 10);
	return *end == '\0' && *value <= max;
}

/* Appends a character to out (at *used); false when out is full. */
static bool put(char *out, size_t size, size_t *used, char c)
{
	if (*used + 1 >= size)
		return false;
	out[(*used)++] = c;
	out[*used] = '\0';
	return true;
}

/* Appends a blank and word, quoted for sh when it needs it (a ' inside
 * as '\''); false when out is full. */
static bool append_word(char *out, size_t size, size_t *used, const char *word)
{
	bool plain =
		*word && strspn(word, "abcdefghijklmnopqrstuvwxyz"
				      "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				      "0123456789-_./:=@%+,[]") == strlen(word);
	const char *c;

	if (!put(out, size, used, ' ') ||
	    (!plain && !put(out, size, used, '\'')))
		return false;
	for (c = word; *c; c++) {
		if (!plain && *c == '\'') {
			if (!put(out, size, used, '\'') ||
			    !put(out, size, used, '\\') ||
			    !put(out, size, used, '\'') ||
			    !put(out, size, used, '\''))
				return false;
		} else if (!put(out, size, used, *c)) {
			return false;
		}
	}
	return plain || put(out, size, used, '\'');
}

/* "natpmp" and the words of argv outside the -a group [from, to): the
 * user's own options, kept as given. */
static bool user_options(int argc, const char *const argv[], int from, int to,
			 char *out, size_t size)
{
	size_t used = 0;
	int i;

	if (snprintf(out, size, "natpmp") >= (int)size)
		return false;
	used = strlen(out);
	for (i = 1; i < argc; i++)
		if ((i < from || i >= to) &&
		    !append_word(out, size, &used, argv[i]))
			return false;
	return true;
}

int suggest_natpmpc(int argc, const char *const argv[], int at, char *out,
		    size_t size)
{
	/* natpmpc asks for 3600 s when no lifetime is given */
	unsigned long public_port, private_port, lifetime = 3600;
	char options[SUGGEST_SIZE], external[16] = "";
	const char *proto;
	bool has_lifetime;
	int n;

	if (at + 3 >= argc || strcmp(argv[at], "-a") != 0 ||
	    !is_number(argv[at + 1], 65535, &public_port) ||
	    !is_number(argv[at + 2], 65535, &private_port))
		return -1;
	proto = argv[at + 3];
	if (strcasecmp(proto, transport_name(TRANSPORT_TCP)) == 0)
		proto = transport_name(TRANSPORT_TCP);
	else if (strcasecmp(proto, transport_name(TRANSPORT_UDP)) == 0)
		proto = transport_name(TRANSPORT_UDP);
	else
		return -1;
	has_lifetime = at + 4 < argc &&
		       is_number(argv[at + 4], 0xffffffffUL, &lifetime);
	if (!user_options(argc, argv, at, at + (has_lifetime ? 5 : 4), options,
			  sizeof(options)))
		return -1;
	if (has_lifetime && lifetime == 0 && private_port == 0)
		n = snprintf(out, size, "%s unmap --all --proto %s", options,
			     proto);
	else if (has_lifetime && lifetime == 0)
		n = snprintf(out, size, "%s unmap %lu/%s", options,
			     private_port, proto);
	else {
		if (public_port != private_port)
			snprintf(external, sizeof(external), ":%lu",
				 public_port);
		/* what natpmpc's users loop for; a VPN's port 0 for both
		 * protocols, as VPN users ask for it */
		n = snprintf(
			out, size,
			"%s -l %lu map %lu%s/%s; to keep it mapped, as a natpmpc loop does: %s -l %lu renew-loop %s",
			options, lifetime, private_port, external, proto,
			options, lifetime, private_port == 0 ? "0/both" : "");
		if (private_port != 0 && n > 0 && (size_t)n < size)
			n += snprintf(out + n, size - (size_t)n, "%lu%s/%s",
				      private_port, external, proto);
	}
	return n > 0 && (size_t)n < size ? 0 : -1;
}
