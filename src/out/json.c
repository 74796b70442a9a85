/* json.c - writing one JSON object on one line, key by key: strings
 * escaped, null for what is not known. */
#include "out/json.h"

void json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", out);
		else if (c < 0x20 || c == 0x7f)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

void json_key(FILE *out, bool *first, const char *key)
{
	fputs(*first ? "{" : ",", out);
	*first = false;
	json_string(out, key);
	fputc(':', out);
}

void json_address(FILE *out, bool *first, const char *key,
		  const struct ip_address *address)
{
	char text[IP_ADDRESS_TEXT_SIZE];

	json_key(out, first, key);
	if (!ip_address_is_set(address)) {
		fputs("null", out);
		return;
	}
	json_string(out, ip_address_format(address, text, sizeof(text)));
}

void json_number(FILE *out, bool *first, const char *key, unsigned long value)
{
	json_key(out, first, key);
	fprintf(out, "%lu", value);
}

/* a number, or null when it is not known */
void json_known_number(FILE *out, bool *first, const char *key, bool known,
		       unsigned long value)
{
	json_key(out, first, key);
	if (known)
		fprintf(out, "%lu", value);
	else
		fputs("null", out);
}

void json_text(FILE *out, bool *first, const char *key, const char *s)
{
	json_key(out, first, key);
	if (s)
		json_string(out, s);
	else
		fputs("null", out);
}

void json_bool(FILE *out, bool *first, const char *key, bool value)
{
	json_key(out, first, key);
	fputs(value ? "true" : "false", out);
}
