/* stray_tally.c - the datagrams that answered nothing, counted and put in
 * a few words. */
#include "proto/stray_tally.h"

#include <stdio.h>
#include <string.h>

void stray_tally_clear(struct stray_tally *t)
{
	memset(t, 0, sizeof(*t));
}

/* Keeps the first bytes seen in order, as many as there is room for. */
static void add_version(struct stray_tally *t, uint8_t version)
{
	unsigned i, j;

	for (i = 0; i < t->version_count && t->versions[i] < version; i++)
		;
	if (i < t->version_count && t->versions[i] == version)
		return;
	if (t->version_count == STRAY_VERSIONS_KEPT) {
		t->more_versions = true;
		return;
	}
	for (j = t->version_count; j > i; j--)
		t->versions[j] = t->versions[j - 1];
	t->versions[i] = version;
	t->version_count++;
}

void stray_tally_add(struct stray_tally *t, const uint8_t *datagram,
		     size_t length, bool has_form, const char *note)
{
	t->count++;
	if (has_form) {
		snprintf(t->note, sizeof(t->note), "%s", note ? note : "");
		return;
	}
	if (t->formless == 0 || length < t->shortest)
		t->shortest = length;
	if (t->formless == 0 || length > t->longest)
		t->longest = length;
	t->formless++;
	if (length == 0)
		t->empty = true;
	else
		add_version(t, datagram[0]);
}

/* "version 2", "versions 0 and 2", "versions 0, 1 and 2 and others" */
static void describe_versions(const struct stray_tally *t, char *text,
			      size_t size)
{
	size_t used;
	unsigned i;

	snprintf(text, size, "%s",
		 t->version_count == 1 && !t->more_versions ? "version"
							    : "versions");
	for (i = 0; i < t->version_count; i++) {
		used = strlen(text);
		snprintf(text + used, size - used, "%s%u",
			 i == 0 ? " "
			 : i + 1 == t->version_count && !t->more_versions
				 ? " and "
				 : ", ",
			 (unsigned)t->versions[i]);
	}
	if (t->more_versions) {
		used = strlen(text);
		snprintf(text + used, size - used, " and others");
	}
}

/* "an 8-byte datagram", "a 12-byte datagram": the article as the number
 * is spoken */
static const char *article(size_t length)
{
	size_t leading = length;

	while (leading >= 10)
		leading /= 10;
	return leading == 8 || length == 11 || length == 18 ? "an " : "a ";
}

void stray_tally_describe(const struct stray_tally *t, char *text, size_t size)
{
	char versions[64] = "";
	bool one = t->formless == 1;

	if (t->version_count) {
		describe_versions(t, versions, sizeof(versions));
	} else {
		snprintf(text, size,
			 one ? "an empty datagram" : "empty datagrams");
		return;
	}
	if (t->shortest == t->longest)
		snprintf(text, size, "%s%zu-byte datagram%s of %s",
			 one ? article(t->longest) : "", t->longest,
			 one ? "" : "s", versions);
	else
		snprintf(text, size, "datagrams of %zu to %zu bytes, of %s",
			 t->shortest, t->longest, versions);
}
