/* json.h - writing one JSON object on one line, key by key: the first
 * key opens it (first says whether one was written yet), the caller
 * closes it with "}\n". */
#ifndef NATPMP_JSON_H
#define NATPMP_JSON_H

#include <stdbool.h>
#include <stdio.h>

#include "core/ip_address.h"

void json_string(FILE *out, const char *s);
void json_key(FILE *out, bool *first, const char *key);
/* the address, or null when it is unset */
void json_address(FILE *out, bool *first, const char *key,
		  const struct ip_address *address);
void json_number(FILE *out, bool *first, const char *key, unsigned long value);
/* a number, or null when it is not known */
void json_known_number(FILE *out, bool *first, const char *key, bool known,
		       unsigned long value);
/* a string, or null */
void json_text(FILE *out, bool *first, const char *key, const char *s);
void json_bool(FILE *out, bool *first, const char *key, bool value);

#endif
