/* state_text.c - the state file's strict text format: parsed line by line
 * into a state, every fault named with its line, and written back so that
 * what natpmp writes it reads again. Pure: no I/O. */
#include "state/state.h"

#include <inttypes.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The file, format version 1, for example:
 *
 *	natpmp-state 1
 *	gateway 192.168.1.1 5351 pcp 1767225600
 *	gateway fe80::1%eth0 5351 nat-pmp 1767139200
 *	mapping 10.0.0.1 5351 tcp 10.0.0.2 8080 0123456789abcdef01234567 1767232800
 *	mapping 10.0.0.1 5351 udp 10.0.0.2 51413 - 1767232800
 *
 * The first line names the format and its version. Then one entry per
 * line, gateways and mappings in any order, fields separated by single
 * spaces, every line ending in a newline (the last one too: without it
 * the file was cut short):
 *
 *	gateway ADDRESS PORT nat-pmp|pcp SEEN
 *	mapping GATEWAY-ADDRESS GATEWAY-PORT tcp|udp INTERNAL-ADDRESS
 *		INTERNAL-PORT NONCE EXPIRES
 *
 * Addresses as ip_address_format writes them (link-local IPv6 with
 * "%ifname"); ports (1-65535) and times (Unix seconds) in decimal without
 * sign or leading zero; the PCP nonce as 24 lowercase hex digits, or "-"
 * for a mapping made over NAT-PMP, which has none (files written before
 * natpmp kept those have nonces only: they read the same). No
 * comments and no blank lines: only natpmp writes this file. A gateway is
 * keyed by address and port, a mapping by gateway, protocol, internal
 * address and internal port.
 *
 * Anything else - a line longer than 255 bytes, a NUL byte, more than
 * STATE_ENTRIES_MAX entries of a kind, a key given twice - makes the whole
 * file corrupt. What is merely stale is dropped while reading: mappings
 * that expired (EXPIRES <= now), gateways seen more than 30 days ago
 * (STATE_GATEWAY_MAX_AGE), and entries on a link-local address whose
 * interface is gone (an unplugged adapter must not spoil the rest).
 */
#define FORMAT_NAME "natpmp-state"
#define FORMAT_VERSION 1
#define FORMAT_HEADER "natpmp-state 1"
#define LINE_LENGTH_MAX 255
#define FIELDS_MAX 9 /* a mapping line's 8, and the first extra one */
#define NONCE_DIGITS ((size_t)2 * NONCE_SIZE)
/* the longest lines natpmp writes, without the newline: keywords, spaces,
 * addresses, ports, protocol names, nonce, and an int64_t with its sign */
#define ADDRESS_LENGTH_MAX (IP_ADDRESS_TEXT_SIZE - 1)
#define GATEWAY_LINE_LENGTH_MAX (7 + 4 + ADDRESS_LENGTH_MAX + 5 + 7 + 20)
#define MAPPING_LINE_LENGTH_MAX                                                \
	(7 + 7 + 2 * ADDRESS_LENGTH_MAX + 2 * 5 + 3 + NONCE_DIGITS + 20)
/* a file with as many entries of each kind as allowed, at their longest */
#define FULL_STATE_SIZE                                                        \
	(sizeof(FORMAT_HEADER) +                                               \
	 (size_t)STATE_ENTRIES_MAX *                                           \
		 (GATEWAY_LINE_LENGTH_MAX + 1 + MAPPING_LINE_LENGTH_MAX + 1))
/* bytes reserved per line when formatting */
#define FORMAT_LINE_SIZE 256
#define QUOTED_BYTES_MAX 32
#define QUOTE_SIZE (4 * QUOTED_BYTES_MAX + 4)

_Static_assert(MAPPING_LINE_LENGTH_MAX <= LINE_LENGTH_MAX &&
		       MAPPING_LINE_LENGTH_MAX + 2 <= FORMAT_LINE_SIZE,
	       "whatever natpmp writes, it must read back");
_Static_assert(FULL_STATE_SIZE <= STATE_FILE_MAX,
	       "a full state must fit in STATE_FILE_MAX");

/* --- parsing --- */

struct parser {
	size_t line;
	size_t gateway_lines, mapping_lines; /* the dropped ones too */
	size_t gateway_capacity, mapping_capacity;
	struct state *state;
	char *error;
	size_t error_size;
	bool out_of_memory;
	char quoted[QUOTE_SIZE]; /* a field, for the error */
};

static void describe_failure(struct parser *p, const char *format, ...)
	__attribute__((format(printf, 2, 3)));

static void describe_failure(struct parser *p, const char *format, ...)
{
	va_list ap;
	int length;

	if (!p->error || p->error_size == 0)
		return;
	length = snprintf(p->error, p->error_size, "line %zu: ", p->line);
	if (length < 0 || (size_t)length >= p->error_size)
		return;
	va_start(ap, format);
	vsnprintf(p->error + length, p->error_size - (size_t)length, format,
		  ap);
	va_end(ap);
}

/* -1 after describing the failure (a macro, for the analyzer to see) */
#define FAIL(p, ...) (describe_failure(p, __VA_ARGS__), -1)

static int fail_no_memory(struct parser *p)
{
	p->out_of_memory = true;
	if (p->error && p->error_size)
		snprintf(p->error, p->error_size, "out of memory");
	return -1;
}

/* A field from the file made fit for a one-line message: bytes other
 * than printable ASCII escaped, and long ones cut. */
static const char *quote(struct parser *p, const char *field)
{
	char *text = p->quoted;
	size_t used = 0, i;

	for (i = 0; i < QUOTED_BYTES_MAX && field[i]; i++) {
		unsigned char c = (unsigned char)field[i];
		if (c >= 0x20 && c < 0x7f && c != '\\')
			text[used++] = (char)c;
		else
			used += (size_t)snprintf(text + used, 5, "\\x%02x", c);
	}
	text[used] = '\0';
	if (field[i])
		memcpy(text + used, "...", 4);
	return text;
}

/* Decimal digits without sign or leading zero, at most limit. */
static bool parse_decimal(const char *text, uint64_t limit, uint64_t *value)
{
	uint64_t number = 0;
	size_t i;

	if (text[0] == '\0' || (text[0] == '0' && text[1] != '\0'))
		return false;
	for (i = 0; text[i]; i++) {
		unsigned digit = (unsigned)text[i] - '0';
		if (digit > 9 || number > (limit - digit) / 10)
			return false;
		number = number * 10 + digit;
	}
	*value = number;
	return true;
}

static int parse_port(struct parser *p, const char *what, const char *field,
		      uint16_t *port)
{
	uint64_t number;

	if (!parse_decimal(field, UINT16_MAX, &number) || number == 0)
		return FAIL(p, "bad %s '%s' (1-65535)", what, quote(p, field));
	*port = (uint16_t)number;
	return 0;
}

static int parse_time(struct parser *p, const char *field, int64_t *time)
{
	uint64_t number;

	if (!parse_decimal(field, INT64_MAX, &number))
		return FAIL(p, "bad time '%s'", quote(p, field));
	*time = (int64_t)number;
	return 0;
}

/* 24 hex digits, or "-": no nonce (*has_nonce false, nonce all zero). */
static int parse_nonce(struct parser *p, const char *field, bool *has_nonce,
		       uint8_t nonce[NONCE_SIZE])
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	*has_nonce = strcmp(field, "-") != 0;
	if (!*has_nonce) {
		memset(nonce, 0, NONCE_SIZE);
		return 0;
	}
	if (strlen(field) != NONCE_DIGITS)
		return FAIL(p, "bad nonce '%s' (24 hex digits, or -)",
			    quote(p, field));
	for (i = 0; i < NONCE_DIGITS; i++) {
		const char *high = strchr(digits, field[i]);
		if (!high)
			return FAIL(p, "bad nonce '%s' (24 hex digits, or -)",
				    quote(p, field));
		if (i % 2 == 0)
			nonce[i / 2] = (uint8_t)((high - digits) << 4);
		else
			nonce[i / 2] |= (uint8_t)(high - digits);
	}
	return 0;
}

/* What Linux accepts as an interface name, digits alone excepted: a
 * number is an interface index, which always parses. */
static bool is_interface_name(const char *name)
{
	size_t length = strlen(name);

	if (length == 0 || length >= IF_NAMESIZE ||
	    strspn(name, "0123456789") == length)
		return false;
	return strcspn(name, "/:") == length;
}

/* Sets *gone for a link-local IPv6 address whose interface no longer
 * exists: the entry is stale, not the file corrupt. */
static int parse_address(struct parser *p, const char *what, const char *field,
			 struct ip_address *address, bool *gone)
{
	char copy[IP_ADDRESS_TEXT_SIZE];
	const char *percent = strchr(field, '%');
	size_t length = percent ? (size_t)(percent - field) : 0;

	if (ip_address_parse(field, address) == 0)
		return 0;
	if (percent && length < sizeof(copy) &&
	    is_interface_name(percent + 1)) {
		memcpy(copy, field, length);
		copy[length] = '\0';
		if (ip_address_parse(copy, address) == 0 &&
		    address->family == AF_INET6 &&
		    ip_address_is_link_local(address)) {
			*gone = true;
			return 0;
		}
	}
	return FAIL(p, "bad %s '%s'", what, quote(p, field));
}

static int check_field_count(struct parser *p, char **fields, size_t count,
			     size_t expected)
{

	if (count < expected)
		return FAIL(p, "missing fields: a %s line has %zu", fields[0],
			    expected);
	if (count > expected)
		return FAIL(p, "extra field '%s'", quote(p, fields[expected]));
	return 0;
}

/* Grows an array of entries by doubling, up to STATE_ENTRIES_MAX. */
static int make_room(struct parser *p, void **array, size_t count,
		     size_t *capacity, size_t entry_size)
{
	size_t wanted;
	void *grown;

	if (*array && count < *capacity)
		return 0;
	wanted = *capacity ? 2 * *capacity : 16;
	if (wanted > STATE_ENTRIES_MAX)
		wanted = STATE_ENTRIES_MAX;
	grown = realloc(*array, wanted * entry_size);
	if (!grown)
		return fail_no_memory(p);
	*array = grown;
	*capacity = wanted;
	return 0;
}

static int parse_gateway_protocol(struct parser *p, const char *field,
				  enum protocol_id *protocol)
{
	static const enum protocol_id known[] = { PROTOCOL_NATPMP,
						  PROTOCOL_PCP };
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(field, protocol_key(known[i])) == 0) {
			*protocol = known[i];
			return 0;
		}
	return FAIL(p, "bad gateway protocol '%s' (nat-pmp or pcp)",
		    quote(p, field));
}

/* gateway ADDRESS PORT nat-pmp|pcp SEEN */
static int parse_gateway(struct parser *p, char **fields, size_t count)
{
	struct state *s = p->state;
	struct state_gateway g;
	bool gone = false;

	memset(&g, 0, sizeof(g));
	if (check_field_count(p, fields, count, 5) < 0 ||
	    parse_address(p, "gateway address", fields[1], &g.gateway.address,
			  &gone) < 0 ||
	    parse_port(p, "gateway port", fields[2], &g.gateway.port) < 0 ||
	    parse_gateway_protocol(p, fields[3], &g.protocol) < 0 ||
	    parse_time(p, fields[4], &g.seen) < 0)
		return -1;
	if (++p->gateway_lines > STATE_ENTRIES_MAX)
		return FAIL(p, "more than %d gateway entries",
			    STATE_ENTRIES_MAX);
	if (gone)
		return 0;
	if (state_find_gateway(s, &g.gateway))
		return FAIL(p, "gateway %s port %s given twice", fields[1],
			    fields[2]);
	if (make_room(p, (void **)&s->gateways, s->gateway_count,
		      &p->gateway_capacity, sizeof(g)) < 0)
		return -1;
	s->gateways[s->gateway_count++] = g;
	return 0;
}

static int parse_transport(struct parser *p, const char *field,
			   unsigned *transport)
{
	if (strcmp(field, transport_name(TRANSPORT_TCP)) == 0)
		*transport = TRANSPORT_TCP;
	else if (strcmp(field, transport_name(TRANSPORT_UDP)) == 0)
		*transport = TRANSPORT_UDP;
	else
		return FAIL(p, "bad protocol '%s' (tcp or udp)",
			    quote(p, field));
	return 0;
}

/* mapping GATEWAY-ADDRESS GATEWAY-PORT tcp|udp INTERNAL-ADDRESS
 *	   INTERNAL-PORT NONCE EXPIRES */
static int parse_mapping(struct parser *p, char **fields, size_t count)
{
	struct state *s = p->state;
	struct state_mapping m;
	bool gone = false;

	memset(&m, 0, sizeof(m));
	if (check_field_count(p, fields, count, 8) < 0 ||
	    parse_address(p, "gateway address", fields[1], &m.gateway.address,
			  &gone) < 0 ||
	    parse_port(p, "gateway port", fields[2], &m.gateway.port) < 0 ||
	    parse_transport(p, fields[3], &m.transport) < 0 ||
	    parse_address(p, "internal address", fields[4], &m.internal_address,
			  &gone) < 0 ||
	    parse_port(p, "internal port", fields[5], &m.internal_port) < 0 ||
	    parse_nonce(p, fields[6], &m.has_nonce, m.nonce) < 0 ||
	    parse_time(p, fields[7], &m.expires) < 0)
		return -1;
	if (++p->mapping_lines > STATE_ENTRIES_MAX)
		return FAIL(p, "more than %d mapping entries",
			    STATE_ENTRIES_MAX);
	if (gone)
		return 0;
	if (state_find_mapping(s, &m.gateway, m.transport, &m.internal_address,
			       m.internal_port))
		return FAIL(p, "mapping %s %s %s %s %s given twice", fields[1],
			    fields[2], fields[3], fields[4], fields[5]);
	if (make_room(p, (void **)&s->mappings, s->mapping_count,
		      &p->mapping_capacity, sizeof(m)) < 0)
		return -1;
	s->mappings[s->mapping_count++] = m;
	return 0;
}

/* "natpmp-state N": sets the version N. */
static bool header_version(const char *line, uint64_t *version)
{
	size_t length = strlen(FORMAT_NAME);

	return strncmp(line, FORMAT_NAME, length) == 0 && line[length] == ' ' &&
	       parse_decimal(line + length + 1, UINT32_MAX, version);
}

static int parse_header(struct parser *p, const char *line)
{
	uint64_t version;

	if (!header_version(line, &version))
		return FAIL(p, "not a natpmp state file (no '%s')",
			    FORMAT_HEADER);
	if (version != FORMAT_VERSION)
		return FAIL(p, "format version %" PRIu64 " is not supported",
			    version);
	return 0;
}

/* Splits line in place at single spaces. */
static int split_fields(struct parser *p, char *line, char **fields,
			size_t *count)
{
	char *start = line;

	*count = 0;
	for (;;) {
		char *space = strchr(start, ' ');
		if (space)
			*space = '\0';
		if (*start == '\0')
			return FAIL(p, "empty field (two spaces, or one at "
				       "either end)");
		if (*count < FIELDS_MAX)
			fields[*count] = start;
		++*count;
		if (!space)
			return 0;
		start = space + 1;
	}
}

static int parse_entry(struct parser *p, char *line)
{
	char *fields[FIELDS_MAX];
	size_t count;

	if (*line == '\0')
		return FAIL(p, "blank line");
	if (split_fields(p, line, fields, &count) < 0)
		return -1;
	if (strcmp(fields[0], "gateway") == 0)
		return parse_gateway(p, fields, count);
	if (strcmp(fields[0], "mapping") == 0)
		return parse_mapping(p, fields, count);
	return FAIL(p, "unknown keyword '%s'", quote(p, fields[0]));
}

/* Copies the line at text into line (NUL-terminated, without its
 * newline) and sets *used to its length with the newline. */
static int take_line(struct parser *p, const char *text, size_t length,
		     char line[LINE_LENGTH_MAX + 1], size_t *used)
{
	size_t limit =
		length < LINE_LENGTH_MAX + 1 ? length : LINE_LENGTH_MAX + 1;
	const char *newline = memchr(text, '\n', limit);
	size_t line_length;

	if (!newline && length > LINE_LENGTH_MAX)
		return FAIL(p, "longer than %d bytes", LINE_LENGTH_MAX);
	if (!newline)
		return FAIL(p, "no newline at the end (file cut short?)");
	line_length = (size_t)(newline - text);
	if (memchr(text, '\0', line_length))
		return FAIL(p, "NUL byte");
	memcpy(line, text, line_length);
	line[line_length] = '\0';
	*used = line_length + 1;
	return 0;
}

int state_parse(const char *text, size_t length, int64_t now,
		struct state *state, char *error, size_t size)
{
	struct parser p = { .state = state,
			    .error = error,
			    .error_size = size };
	size_t offset = 0;

	memset(state, 0, sizeof(*state));
	if (error && size)
		error[0] = '\0';
	if (length == 0) {
		p.line = 1;
		describe_failure(&p, "empty file (no '%s')", FORMAT_HEADER);
		return -1;
	}
	while (offset < length) {
		char line[LINE_LENGTH_MAX + 1];
		size_t used = 0;
		int status;

		p.line++;
		status = take_line(&p, text + offset, length - offset, line,
				   &used);
		if (status == 0)
			status = p.line == 1 ? parse_header(&p, line)
					     : parse_entry(&p, line);
		if (status < 0) {
			state_free(state);
			return p.out_of_memory ? -2 : -1;
		}
		offset += used;
	}
	state_drop_stale(state, now);
	return 0;
}

/* --- formatting --- */

static void append(char *text, size_t size, size_t *used, const char *format,
		   ...) __attribute__((format(printf, 4, 5)));

static void append(char *text, size_t size, size_t *used, const char *format,
		   ...)
{
	va_list ap;
	int length;

	va_start(ap, format);
	length = vsnprintf(text + *used, size - *used, format, ap);
	va_end(ap);
	if (length > 0)
		*used += (size_t)length < size - *used ? (size_t)length
						       : size - *used - 1;
}

static void append_gateway(char *text, size_t size, size_t *used,
			   const struct state_gateway *g)
{
	char address[IP_ADDRESS_TEXT_SIZE];

	append(text, size, used, "gateway %s %u %s %" PRId64 "\n",
	       ip_address_format(&g->gateway.address, address, sizeof(address)),
	       (unsigned)g->gateway.port, protocol_key(g->protocol), g->seen);
}

static void append_mapping(char *text, size_t size, size_t *used,
			   const struct state_mapping *m)
{
	char gateway[IP_ADDRESS_TEXT_SIZE], internal[IP_ADDRESS_TEXT_SIZE];
	char nonce[NONCE_DIGITS + 1];
	size_t i;

	for (i = 0; i < NONCE_SIZE; i++)
		snprintf(nonce + 2 * i, 3, "%02x", (unsigned)m->nonce[i]);
	if (!m->has_nonce)
		snprintf(nonce, sizeof(nonce), "-");
	append(text, size, used, "mapping %s %u %s %s %u %s %" PRId64 "\n",
	       ip_address_format(&m->gateway.address, gateway, sizeof(gateway)),
	       (unsigned)m->gateway.port, transport_name(m->transport),
	       ip_address_format(&m->internal_address, internal,
				 sizeof(internal)),
	       (unsigned)m->internal_port, nonce, m->expires);
}

char *state_format(const struct state *state)
{
	size_t lines, size, used = 0, i;
	char *text;

	if (state->gateway_count > SIZE_MAX / FORMAT_LINE_SIZE / 2 ||
	    state->mapping_count > SIZE_MAX / FORMAT_LINE_SIZE / 2)
		return NULL;
	lines = 1 + state->gateway_count + state->mapping_count;
	size = lines * FORMAT_LINE_SIZE + 1;
	text = malloc(size);
	if (!text)
		return NULL;
	append(text, size, &used, "%s\n", FORMAT_HEADER);
	for (i = 0; i < state->gateway_count; i++)
		append_gateway(text, size, &used, &state->gateways[i]);
	for (i = 0; i < state->mapping_count; i++)
		append_mapping(text, size, &used, &state->mappings[i]);
	return text;
}

/* A file in a newer format than this natpmp's is kept for the natpmp
 * that wrote it. */
bool state_text_is_newer(const char *text, size_t length)
{
	char line[LINE_LENGTH_MAX + 1];
	const char *newline = memchr(text, '\n', length);
	size_t line_length = newline ? (size_t)(newline - text) : length;
	uint64_t version;

	if (line_length > LINE_LENGTH_MAX || memchr(text, '\0', line_length))
		return false;
	memcpy(line, text, line_length);
	line[line_length] = '\0';
	return header_version(line, &version) && version > FORMAT_VERSION;
}
