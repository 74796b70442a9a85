/* check.h - the few macros the unit tests need: a failed check prints
 * where and what, and the test exits non-zero at the end. */
#ifndef NATPMP_CHECK_H
#define NATPMP_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures;
static int check_count;

#define CHECK(condition)                                                       \
	do {                                                                   \
		check_count++;                                                 \
		if (!(condition)) {                                            \
			check_failures++;                                      \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
				__LINE__, #condition);                         \
		}                                                              \
	} while (0)

#define CHECK_EQ(actual, expected)                                             \
	do {                                                                   \
		long long check_a = (long long)(actual);                       \
		long long check_e = (long long)(expected);                     \
		check_count++;                                                 \
		if (check_a != check_e) {                                      \
			check_failures++;                                      \
			fprintf(stderr, "%s:%d: %s is %lld, expected %lld\n",  \
				__FILE__, __LINE__, #actual, check_a,          \
				check_e);                                      \
		}                                                              \
	} while (0)

#define CHECK_STR_CONTAINS(haystack, needle)                                   \
	do {                                                                   \
		check_count++;                                                 \
		if (!strstr((haystack), (needle))) {                           \
			check_failures++;                                      \
			fprintf(stderr, "%s:%d: '%s' does not contain '%s'\n", \
				__FILE__, __LINE__, (haystack), (needle));     \
		}                                                              \
	} while (0)

static inline int check_report(const char *name)
{
	if (check_failures)
		fprintf(stderr, "%s: %d of %d checks failed\n", name,
			check_failures, check_count);
	else
		printf("%s: %d checks passed\n", name, check_count);
	return check_failures ? 1 : 0;
}

#endif
