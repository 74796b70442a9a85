/* cli_values.c - the grammar of natpmp's option values and operands: SPEC,
 * DURATION, a gateway ADDR[:PORT], an --allow-from filter. Pure: every
 * malformed value yields one line naming it, nothing is printed. */
#include "cli/cli.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MS_PER_SECOND 1000
#define LIFETIME_MAX_SECONDS 4294967295ULL
/* a timeout beyond the 127.75 s schedule changes nothing; the cap only
 * keeps the arithmetic far from overflow */
#define TIMEOUT_MAX_SECONDS 4294967295ULL

int cli_fail(char *error, size_t size, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	vsnprintf(error, size, format, ap);
	va_end(ap);
	return -1;
}

/* A port is 1-5 decimal digits with a value of at most 65535. */
static int parse_port(const char *text, size_t length, const char *spec,
		      uint16_t *port, char *error, size_t size)
{
	unsigned long value = 0;
	size_t i;

	if (length == 0)
		return -1;
	for (i = 0; i < length; i++) {
		if (text[i] < '0' || text[i] > '9')
			return cli_fail(
				error, size,
				"invalid SPEC '%s': '%.*s' is not a port number",
				spec, (int)length, text);
		if (value <= 65535)
			value = value * 10 + (unsigned long)(text[i] - '0');
	}
	if (value > 65535)
		return cli_fail(
			error, size,
			"invalid SPEC '%s': port %.*s is out of range (0-65535)",
			spec, (int)length, text);
	*port = (uint16_t)value;
	return 0;
}

int cli_parse_transports(const char *text, unsigned *transports, char *error,
			 size_t size)
{
	unsigned transport;

	for (transport = TRANSPORT_UDP; transport <= TRANSPORT_BOTH;
	     transport++)
		if (strcasecmp(text, transport_name(transport)) == 0) {
			*transports = transport;
			return 0;
		}
	return cli_fail(error, size,
			"unknown protocol '%s' (use tcp, udp or both)", text);
}
/* PORT or FIRST-LAST within text's first length bytes; *count is 1 for
 * one port. A leading '-' is no range ("-1" is a bad port). */
static int parse_range(const char *text, size_t length, const char *spec,
		       uint16_t *first, unsigned *count, char *error,
		       size_t size)
{
	const char *dash =
		length > 1 ? memchr(text + 1, '-', length - 1) : NULL;
	size_t first_length = dash ? (size_t)(dash - text) : length;
	uint16_t last = 0;

	if (parse_port(text, first_length, spec, first, error, size) < 0)
		return -1;
	*count = 1;
	if (!dash)
		return 0;
	if (first_length + 1 == length)
		return cli_fail(
			error, size,
			"invalid SPEC '%s': missing last port after '-'", spec);
	if (parse_port(dash + 1, length - first_length - 1, spec, &last, error,
		       size) < 0)
		return -1;
	if (*first == 0)
		return cli_fail(
			error, size,
			"invalid SPEC '%s': a port range starts at port 1 or above",
			spec);
	if (last < *first)
		return cli_fail(
			error, size,
			"invalid SPEC '%s': the range %.*s is reversed (the last port is below the first)",
			spec, (int)length, text);
	*count = (unsigned)(last - *first) + 1;
	return 0;
}

/* EXTERNAL[-LAST] for an internal range of count ports: a range of the
 * same length, or 0 for the gateway to choose each. */
static int parse_external(const char *text, size_t length, const char *spec,
			  struct port_spec *out, char *error, size_t size)
{
	unsigned count;

	if (length == 0)
		return cli_fail(
			error, size,
			"invalid SPEC '%s': missing external port after ':'",
			spec);
	if (parse_range(text, length, spec, &out->external_port, &count, error,
			size) < 0)
		return -1;
	if (count == out->count || (count == 1 && out->external_port == 0))
		return 0;
	if (out->count == 1)
		return cli_fail(
			error, size,
			"invalid SPEC '%s': one internal port takes one external port, not a range",
			spec);
	if (count == 1 && out->external_port + out->count - 1 <= 65535)
		return cli_fail(
			error, size,
			"invalid SPEC '%s': %u internal ports need an external range of %u too (%u-%u), or 0",
			spec, out->count, out->count,
			(unsigned)out->external_port,
			(unsigned)out->external_port + out->count - 1);
	if (count == 1) /* no such range: it would pass 65535 */
		return cli_fail(
			error, size,
			"invalid SPEC '%s': %u internal ports need an external range of %u too, or 0",
			spec, out->count, out->count);
	return cli_fail(
		error, size,
		"invalid SPEC '%s': the internal range has %u ports and the external range %u; they must match",
		spec, out->count, count);
}

int cli_parse_spec(const char *text, struct port_spec *spec, char *error,
		   size_t size)
{
	const char *slash = strchr(text, '/');
	const char *colon = strchr(text, ':');
	size_t ports_length = slash ? (size_t)(slash - text) : strlen(text);
	size_t internal_length;

	if (colon && colon > text + ports_length)
		colon = NULL; /* a ':' after the '/' belongs to the protocol */
	internal_length = colon ? (size_t)(colon - text) : ports_length;

	if (*text == '\0')
		return cli_fail(error, size, "invalid SPEC '': empty");
	if (internal_length == 0)
		return cli_fail(error, size,
				"invalid SPEC '%s': missing internal port",
				text);
	if (parse_range(text, internal_length, text, &spec->internal_port,
			&spec->count, error, size) < 0)
		return -1;
	spec->external_port = spec->internal_port;
	if (colon &&
	    parse_external(colon + 1, ports_length - internal_length - 1, text,
			   spec, error, size) < 0)
		return -1;
	spec->transports = TRANSPORT_TCP;
	if (slash) {
		char why[CLI_ERROR_SIZE];
		if (slash[1] == '\0')
			return cli_fail(
				error, size,
				"invalid SPEC '%s': missing protocol after '/'",
				text);
		if (cli_parse_transports(slash + 1, &spec->transports, why,
					 sizeof(why)) < 0)
			return cli_fail(error, size, "invalid SPEC '%s': %s",
					text, why);
	}
	return 0;
}

/* Parses DIGITS[.DIGITS][s|m|h|d] into milliseconds, truncating below 1 ms.
 * The value must not exceed max_seconds. */
static int parse_duration(const char *text, const char *what,
			  unsigned long long max_seconds, uint64_t *ms,
			  char *error, size_t size)
{
	const char *p = text;
	unsigned long long whole = 0, fraction = 0, scale = 1, unit_ms;
	bool digits = false;

	for (; *p >= '0' && *p <= '9'; p++, digits = true) {
		whole = whole * 10 + (unsigned long long)(*p - '0');
		if (whole > max_seconds)
			return cli_fail(
				error, size,
				"invalid %s '%s': too long (at most %llu seconds)",
				what, text, max_seconds);
	}
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, digits = true) {
			if (scale <
			    1000000000ULL) { /* nanosecond precision is plenty */
				fraction = fraction * 10 +
					   (unsigned long long)(*p - '0');
				scale *= 10;
			}
		}
	}
	if (!digits)
		return cli_fail(
			error, size,
			"invalid %s '%s': not a duration (seconds, or a number with s, m, h or d)",
			what, text);
	switch (*p) {
	case '\0':
	case 's': unit_ms = 1000; break;
	case 'm': unit_ms = 60 * 1000ULL; break;
	case 'h': unit_ms = 3600 * 1000ULL; break;
	case 'd': unit_ms = 86400 * 1000ULL; break;
	default:
		return cli_fail(
			error, size,
			"invalid %s '%s': unknown unit '%s' (use s, m, h or d)",
			what, text, p);
	}
	if (*p != '\0' && p[1] != '\0')
		return cli_fail(
			error, size,
			"invalid %s '%s': unknown unit '%s' (use s, m, h or d)",
			what, text, p);
	if (whole > max_seconds * 1000ULL / unit_ms)
		return cli_fail(
			error, size,
			"invalid %s '%s': too long (at most %llu seconds)",
			what, text, max_seconds);
	*ms = whole * unit_ms + fraction * unit_ms / scale;
	if (*ms > max_seconds * 1000ULL)
		return cli_fail(
			error, size,
			"invalid %s '%s': too long (at most %llu seconds)",
			what, text, max_seconds);
	return 0;
}

int cli_parse_lifetime(const char *text, uint32_t *seconds, char *error,
		       size_t size)
{
	uint64_t ms = 0;

	if (parse_duration(text, "lifetime", LIFETIME_MAX_SECONDS, &ms, error,
			   size) < 0)
		return -1;
	if (ms == 0)
		return cli_fail(
			error, size,
			"invalid lifetime '%s': must be at least 1 second (unmap deletes a mapping)",
			text);
	if (ms % MS_PER_SECOND != 0)
		return cli_fail(
			error, size,
			"invalid lifetime '%s': must be a whole number of seconds",
			text);
	*seconds = (uint32_t)(ms / MS_PER_SECOND);
	return 0;
}

/* A duration of at least 1 ms; what names it in errors. */
int cli_parse_duration_ms(const char *text, const char *what, int64_t *ms,
			  char *error, size_t size)
{
	uint64_t value = 0;

	if (parse_duration(text, what, TIMEOUT_MAX_SECONDS, &value, error,
			   size) < 0)
		return -1;
	if (value == 0)
		return cli_fail(
			error, size,
			"invalid %s '%s': must be at least 1 millisecond", what,
			text);
	*ms = (int64_t)value;
	return 0;
}

int cli_parse_timeout(const char *text, int64_t *ms, char *error, size_t size)
{
	return cli_parse_duration_ms(text, "timeout", ms, error, size);
}

/* 1-65535 in decimal; text is what follows the ':' */
bool cli_parse_port_number(const char *text, uint16_t *port)
{
	unsigned long value = 0;
	const char *p;

	if (*text == '\0')
		return false;
	for (p = text; *p; p++) {
		if (*p < '0' || *p > '9' || value > 65535)
			return false;
		value = value * 10 + (unsigned long)(*p - '0');
	}
	if (value == 0 || value > 65535)
		return false;
	*port = (uint16_t)value;
	return true;
}

/* Splits "[v6]:port", "[v6]", "v6", "v4:port" or "v4" into the address
 * text (copied into address) and the port text (NULL if none). Returns
 * false when brackets do not close, or the address is too long. */
static bool split_endpoint(const char *text, char *address, size_t size,
			   const char **port)
{
	const char *end, *colon = strchr(text, ':');
	size_t length;

	*port = NULL;
	if (text[0] == '[') {
		end = strchr(text, ']');
		if (!end || (end[1] != '\0' && end[1] != ':'))
			return false;
		length = (size_t)(end - text - 1);
		text++;
		if (end[1] == ':')
			*port = end + 2;
	} else if (colon && strchr(colon + 1, ':')) {
		length = strlen(text); /* a bare IPv6 address: no port */
	} else {
		length = colon ? (size_t)(colon - text) : strlen(text);
		if (colon)
			*port = colon + 1;
	}
	if (length == 0 || length >= size)
		return false;
	memcpy(address, text, length);
	address[length] = '\0';
	return true;
}

bool cli_is_unicast(const struct ip_address *a)
{
	uint32_t v4 = ip_address_v4(a);

	if (a->family == AF_INET)
		return v4 != 0 && v4 != 0xffffffffU && (v4 >> 28) != 0xe;
	return !ip_address_is_unspecified(a) && a->bytes[0] != 0xff;
}

int cli_parse_gateway(const char *text, const char *origin,
		      struct ip_endpoint *gateway, char *error, size_t size)
{
	char address[IP_ADDRESS_TEXT_SIZE];
	const char *port;

	memset(gateway, 0, sizeof(*gateway));
	gateway->port = GATEWAY_PORT;
	if (!split_endpoint(text, address, sizeof(address), &port) ||
	    ip_address_parse(address, &gateway->address) < 0)
		return cli_fail(
			error, size,
			"invalid %s '%s': not an address (use a.b.c.d, a.b.c.d:port, an IPv6 address, or [ipv6]:port)",
			origin, text);
	if (!cli_is_unicast(&gateway->address))
		return cli_fail(error, size,
				"invalid %s '%s': not a unicast address",
				origin, text);
	if (port && *port == '\0')
		return cli_fail(error, size,
				"invalid %s '%s': missing port after ':'",
				origin, text);
	if (port && !cli_parse_port_number(port, &gateway->port))
		return cli_fail(error, size,
				"invalid %s '%s': port must be 1-65535", origin,
				text);
	return 0;
}

int cli_parse_filter(const char *text, struct port_filter *filter, char *error,
		     size_t size)
{
	char address[IP_ADDRESS_TEXT_SIZE];
	const char *port, *slash;

	memset(filter, 0, sizeof(*filter));
	if (!split_endpoint(text, address, sizeof(address), &port))
		return cli_fail(
			error, size,
			"invalid --allow-from '%s': use ADDR[/LEN][:PORT], or [IPV6[/LEN]]:PORT",
			text);
	slash = strchr(address, '/');
	if (slash)
		address[slash - address] = '\0';
	if (ip_address_parse(address, &filter->address) < 0 ||
	    filter->address.scope)
		return cli_fail(
			error, size,
			"invalid --allow-from '%s': '%s' is not an address",
			text, address);
	filter->prefix_length = filter->address.family == AF_INET ? 32 : 128;
	if (slash) {
		char *end;
		unsigned long length = strtoul(slash + 1, &end, 10);

		if (slash[1] < '0' || slash[1] > '9' || *end != '\0' ||
		    length > filter->prefix_length)
			return cli_fail(
				error, size,
				"invalid --allow-from '%s': prefix length must be 0-%u",
				text, filter->prefix_length);
		filter->prefix_length = (unsigned)length;
	}
	if (port && !cli_parse_port_number(port, &filter->port))
		return cli_fail(
			error, size,
			"invalid --allow-from '%s': port must be 1-65535",
			text);
	return 0;
}
