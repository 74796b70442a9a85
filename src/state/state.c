/* state.c - what natpmp remembers between runs: the state file's strict
 * text format, and its locked, atomic read-modify-write. */
#include "state/state.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/diag.h"

/*
 * The file, format version 1, for example:
 *
 *	natpmp-state 1
 *	gateway 192.168.1.1 5351 pcp 1767225600
 *	gateway fe80::1%eth0 5351 nat-pmp 1767139200
 *	mapping 10.0.0.1 5351 tcp 10.0.0.2 8080 0123456789abcdef01234567 1767232800
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
 * sign or leading zero; the PCP nonce as 24 lowercase hex digits. No
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
#define PROBLEM_SIZE 512
#define TEMPORARY_NAME ".state.XXXXXX"

_Static_assert(MAPPING_LINE_LENGTH_MAX <= LINE_LENGTH_MAX &&
		       MAPPING_LINE_LENGTH_MAX + 2 <= FORMAT_LINE_SIZE,
	       "whatever natpmp writes, it must read back");
_Static_assert(FULL_STATE_SIZE <= STATE_FILE_MAX,
	       "a full state must fit in STATE_FILE_MAX");

/* --- the directory --- */

static bool is_set(const char *value)
{
	return value && *value;
}

/* base + suffix without the base's trailing slashes (but "/" stays). */
static char *directory_path(const char *base, size_t base_length,
			    const char *suffix)
{
	size_t size;
	char *path;

	while (base_length > 1 && base[base_length - 1] == '/')
		base_length--;
	if (base_length == 1 && *suffix == '/')
		base_length = 0;
	size = base_length + strlen(suffix) + 1;
	path = malloc(size);
	if (path)
		snprintf(path, size, "%.*s%s", (int)base_length, base, suffix);
	return path;
}

char *state_directory(const char *natpmp_state_dir,
		      const char *systemd_state_directory,
		      const char *xdg_state_home, const char *home)
{
	if (is_set(natpmp_state_dir) && natpmp_state_dir[0] == '/')
		return directory_path(natpmp_state_dir,
				      strlen(natpmp_state_dir), "");
	if (is_set(systemd_state_directory) &&
	    systemd_state_directory[0] == '/')
		return directory_path(systemd_state_directory,
				      strcspn(systemd_state_directory, ":"),
				      "");
	if (is_set(xdg_state_home) && xdg_state_home[0] == '/')
		return directory_path(xdg_state_home, strlen(xdg_state_home),
				      "/natpmp");
	if (is_set(home) && home[0] == '/')
		return directory_path(home, strlen(home),
				      "/.local/state/natpmp");
	return NULL;
}

/* --- keys and lookups --- */

static bool mapping_key_equal(const struct state_mapping *m,
			      const struct ip_endpoint *gateway,
			      unsigned transport,
			      const struct ip_address *internal_address,
			      uint16_t internal_port)
{
	return m->transport == transport && m->internal_port == internal_port &&
	       ip_endpoint_equal(&m->gateway, gateway) &&
	       ip_address_equal(&m->internal_address, internal_address);
}

static struct state_gateway *find_gateway(const struct state *state,
					  const struct ip_endpoint *gateway)
{
	size_t i;

	for (i = 0; i < state->gateway_count; i++)
		if (ip_endpoint_equal(&state->gateways[i].gateway, gateway))
			return &state->gateways[i];
	return NULL;
}

static struct state_mapping *find_mapping(const struct state *state,
					  const struct state_mapping *key)
{
	size_t i;

	for (i = 0; i < state->mapping_count; i++)
		if (mapping_key_equal(&state->mappings[i], &key->gateway,
				      key->transport, &key->internal_address,
				      key->internal_port))
			return &state->mappings[i];
	return NULL;
}

enum protocol_id state_gateway_protocol(const struct state *state,
					const struct ip_endpoint *gateway)
{
	const struct state_gateway *g = find_gateway(state, gateway);

	return g ? g->protocol : PROTOCOL_NONE;
}

const struct state_gateway *state_find_gateway(
	const struct state *state, const struct ip_endpoint *gateway)
{
	return find_gateway(state, gateway);
}

const struct state_mapping *state_find_mapping(
	const struct state *state, const struct ip_endpoint *gateway,
	unsigned transport, const struct ip_address *internal_address,
	uint16_t internal_port)
{
	size_t i;

	for (i = 0; i < state->mapping_count; i++)
		if (mapping_key_equal(&state->mappings[i], gateway, transport,
				      internal_address, internal_port))
			return &state->mappings[i];
	return NULL;
}

void state_free(struct state *state)
{
	free(state->gateways);
	free(state->mappings);
	memset(state, 0, sizeof(*state));
}

static bool gateway_is_stale(const struct state_gateway *g, int64_t now)
{
	/* seen >= 0, so now - seen cannot overflow */
	return g->seen >= 0 && now > g->seen &&
	       now - g->seen > STATE_GATEWAY_MAX_AGE;
}

/* Keeps the order of what remains, so that the file stays stable. */
static void drop_stale(struct state *state, int64_t now)
{
	size_t i, kept = 0;

	for (i = 0; i < state->gateway_count; i++)
		if (!gateway_is_stale(&state->gateways[i], now))
			state->gateways[kept++] = state->gateways[i];
	state->gateway_count = kept;
	kept = 0;
	for (i = 0; i < state->mapping_count; i++)
		if (state->mappings[i].expires > now)
			state->mappings[kept++] = state->mappings[i];
	state->mapping_count = kept;
}

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

static int parse_nonce(struct parser *p, const char *field,
		       uint8_t nonce[NONCE_SIZE])
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	if (strlen(field) != NONCE_DIGITS)
		return FAIL(p, "bad nonce '%s' (24 hex digits)",
			    quote(p, field));
	for (i = 0; i < NONCE_DIGITS; i++) {
		const char *high = strchr(digits, field[i]);
		if (!high)
			return FAIL(p, "bad nonce '%s' (24 hex digits)",
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
	if (find_gateway(s, &g.gateway))
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
	    parse_nonce(p, fields[6], m.nonce) < 0 ||
	    parse_time(p, fields[7], &m.expires) < 0)
		return -1;
	if (++p->mapping_lines > STATE_ENTRIES_MAX)
		return FAIL(p, "more than %d mapping entries",
			    STATE_ENTRIES_MAX);
	if (gone)
		return 0;
	if (find_mapping(s, &m))
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
	drop_stale(state, now);
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

/* --- changes --- */

/* The address as parsing it back would give: no stray scope or bytes. */
static bool normalise_address(const struct ip_address *in,
			      struct ip_address *out)
{
	if (in->family == AF_INET)
		ip_address_set_v4(out, ip_address_v4(in));
	else if (in->family == AF_INET6)
		ip_address_set_v6(out, in->bytes, in->scope);
	else
		return false;
	return true;
}

static bool normalise_gateway(const struct state_gateway *in,
			      struct state_gateway *out)
{
	memset(out, 0, sizeof(*out));
	out->gateway.port = in->gateway.port;
	out->protocol = in->protocol;
	out->seen = in->seen;
	return normalise_address(&in->gateway.address, &out->gateway.address) &&
	       in->gateway.port != 0 && in->seen >= 0 &&
	       (in->protocol == PROTOCOL_NATPMP ||
		in->protocol == PROTOCOL_PCP);
}

/* Only the key is checked when checking_key_only (for forgetting). */
static bool normalise_mapping(const struct state_mapping *in,
			      struct state_mapping *out, bool key_only)
{
	memset(out, 0, sizeof(*out));
	out->gateway.port = in->gateway.port;
	out->transport = in->transport;
	out->internal_port = in->internal_port;
	memcpy(out->nonce, in->nonce, sizeof(out->nonce));
	out->expires = in->expires;
	return normalise_address(&in->gateway.address, &out->gateway.address) &&
	       normalise_address(&in->internal_address,
				 &out->internal_address) &&
	       in->gateway.port != 0 && in->internal_port != 0 &&
	       (in->transport == TRANSPORT_UDP ||
		in->transport == TRANSPORT_TCP) &&
	       (key_only || in->expires >= 0);
}

/* The arrays state_apply works on: a copy, with room for every entry
 * the changes could add. */
struct workspace {
	struct state state;
	size_t gateway_room, mapping_room;
};

static int copy_entries(void **copy, const void *entries, size_t count,
			size_t room, size_t entry_size)
{
	/* never NULL, even with no room: fewer cases to think about */
	*copy = malloc((room ? room : 1) * entry_size);
	if (!*copy)
		return -1;
	if (count)
		memcpy(*copy, entries, count * entry_size);
	return 0;
}

static size_t room_for(size_t count, size_t additions)
{
	if (count >= STATE_ENTRIES_MAX)
		return count;
	return additions > STATE_ENTRIES_MAX - count ? STATE_ENTRIES_MAX
						     : count + additions;
}

static int workspace_init(struct workspace *w, const struct state *state,
			  const struct state_change *changes, size_t count)
{
	size_t gateways = 0, mappings = 0, i;

	for (i = 0; i < count; i++) {
		gateways += changes[i].kind == STATE_REMEMBER_GATEWAY;
		mappings += changes[i].kind == STATE_REMEMBER_MAPPING;
	}
	memset(w, 0, sizeof(*w));
	w->gateway_room = room_for(state->gateway_count, gateways);
	w->mapping_room = room_for(state->mapping_count, mappings);
	w->state.gateway_count = state->gateway_count;
	w->state.mapping_count = state->mapping_count;
	if (copy_entries((void **)&w->state.gateways, state->gateways,
			 state->gateway_count, w->gateway_room,
			 sizeof(*state->gateways)) < 0 ||
	    copy_entries((void **)&w->state.mappings, state->mappings,
			 state->mapping_count, w->mapping_room,
			 sizeof(*state->mappings)) < 0) {
		state_free(&w->state);
		return -1;
	}
	return 0;
}

static int remember_gateway(struct workspace *w,
			    const struct state_gateway *change)
{
	struct state *s = &w->state;
	struct state_gateway g, *old;

	if (!normalise_gateway(change, &g))
		return -1;
	old = find_gateway(s, &g.gateway);
	if (old)
		*old = g;
	else if (s->gateway_count < w->gateway_room)
		s->gateways[s->gateway_count++] = g;
	else
		return -1;
	return 0;
}

static int remember_mapping(struct workspace *w,
			    const struct state_mapping *change)
{
	struct state *s = &w->state;
	struct state_mapping m, *old;

	if (!normalise_mapping(change, &m, false))
		return -1;
	old = find_mapping(s, &m);
	if (old)
		*old = m;
	else if (s->mapping_count < w->mapping_room)
		s->mappings[s->mapping_count++] = m;
	else
		return -1;
	return 0;
}

static int forget_mapping(struct workspace *w,
			  const struct state_mapping *change)
{
	struct state *s = &w->state;
	struct state_mapping key, *old;
	size_t index;

	if (!normalise_mapping(change, &key, true))
		return -1;
	old = find_mapping(s, &key);
	if (!old)
		return 0;
	index = (size_t)(old - s->mappings);
	memmove(old, old + 1, (s->mapping_count - index - 1) * sizeof(*old));
	s->mapping_count--;
	return 0;
}

static int apply_change(struct workspace *w, const struct state_change *c)
{
	switch (c->kind) {
	case STATE_REMEMBER_GATEWAY: return remember_gateway(w, &c->gateway);
	case STATE_REMEMBER_MAPPING: return remember_mapping(w, &c->mapping);
	case STATE_FORGET_MAPPING: return forget_mapping(w, &c->mapping);
	}
	return -1;
}

int state_apply(struct state *state, const struct state_change *changes,
		size_t count)
{
	struct workspace w;
	size_t i;

	if (workspace_init(&w, state, changes, count) < 0)
		return -1;
	for (i = 0; i < count; i++) {
		if (apply_change(&w, &changes[i]) < 0) {
			state_free(&w.state);
			return -1;
		}
	}
	state_free(state);
	*state = w.state;
	return 0;
}

/* --- the file ---
 *
 * Writers serialise on flock(2) of STATE_LOCK_FILE_NAME beside the state
 * file, not of the state file itself: that one is replaced by rename, so
 * a writer waiting on its lock would wake holding a lock on a file no
 * longer in the directory. The lock file is never replaced nor removed.
 * Readers take no lock: rename makes each version appear whole.
 *
 * Trust: the directory must be ours and writable by no one else (who
 * could swap files in it); if it is reached through a symbolic link, that
 * link must be ours or root's (systemd's StateDirectory= with DynamicUser=
 * is root's link /var/lib/NAME -> private/NAME). The directory is opened
 * once and everything in it is reached from that descriptor. The state
 * file must be ours, regular and not a symbolic link. Failing that, the file is ignored and never
 * written over. A file that is merely unusable - corrupt, too big, open
 * to others - is ignored and replaced by the next commit.
 */

static const char IGNORING[] = "ignoring it";
static const char NOT_SAVED[] = "state not saved";
static const char AFRESH[] = "starting afresh";

enum read_outcome {
	READ_OK,	/* the state, empty when there is no file */
	READ_AFRESH,	/* warned: unusable; empty, and may be replaced */
	READ_REFUSED,	/* warned: not ours; empty, and never written over */
	READ_NO_MEMORY, /* not warned */
};

static char *join_path(const char *directory, const char *name)
{
	size_t size = strlen(directory) + 1 + strlen(name) + 1;
	char *path = malloc(size);

	if (path)
		snprintf(path, size, "%s/%s", directory, name);
	return path;
}

static bool is_not_ours(const struct stat *st, char *problem, size_t size)
{
	if (st->st_uid == geteuid())
		return false;
	snprintf(problem, size, "is owned by uid %lu, not %lu",
		 (unsigned long)st->st_uid, (unsigned long)geteuid());
	return true;
}

/* Why open(path, O_NOFOLLOW) failed with errno. */
static void describe_open_error(const char *path, int error, char *problem,
				size_t size)
{
	struct stat st;

	if ((error == ELOOP || error == ENOTDIR) && lstat(path, &st) == 0 &&
	    S_ISLNK(st.st_mode))
		snprintf(problem, size, "is a symbolic link");
	else
		snprintf(problem, size, "cannot be opened (%s)",
			 strerror(error));
}

/* Opens the directory, following a last symbolic link only if it is ours
 * or root's; otherwise fails with errno, problem saying why if it is
 * such a link. */
static int open_directory_link(const char *directory, char *problem,
			       size_t size)
{
	struct stat link;
	int fd = open(directory,
		      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int error = errno;

	if (fd >= 0 || (error != ELOOP && error != ENOTDIR) ||
	    lstat(directory, &link) < 0 || !S_ISLNK(link.st_mode)) {
		errno = error;
		return fd;
	}
	if (link.st_uid == geteuid() || link.st_uid == 0)
		return open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	snprintf(
		problem, size,
		"is a symbolic link owned by uid %lu, neither this user nor root",
		(unsigned long)link.st_uid);
	errno = ELOOP;
	return -1;
}

/* The directory, checked. Returns a descriptor, -1 after a warning, or
 * -2 when it does not exist. */
static int open_directory(const char *directory, const char *consequence)
{
	char problem[PROBLEM_SIZE] = "";
	struct stat st;
	int fd = open_directory_link(directory, problem, sizeof(problem));

	if (fd < 0 && errno == ENOENT)
		return -2;
	if (fd < 0) {
		if (!problem[0])
			describe_open_error(directory, errno, problem,
					    sizeof(problem));
	} else if (fstat(fd, &st) < 0)
		snprintf(problem, sizeof(problem), "cannot be examined (%s)",
			 strerror(errno));
	else if (!is_not_ours(&st, problem, sizeof(problem)) &&
		 (st.st_mode & (S_IWGRP | S_IWOTH)))
		snprintf(problem, sizeof(problem),
			 "is writable by group or others (mode %04lo)",
			 (unsigned long)(st.st_mode & 07777));
	if (!problem[0])
		return fd;
	diag_warning("state directory %s %s: %s", directory, problem,
		     consequence);
	if (fd >= 0)
		close(fd);
	return -1;
}

/* mkdir -p, each directory it makes 0700. Returns 0, or -1 after a
 * warning. */
static int make_directories(const char *directory)
{
	char *path = strdup(directory);
	char *slash;
	int error = 0;

	if (!path) {
		diag_warning("state directory %s: out of memory: %s", directory,
			     NOT_SAVED);
		return -1;
	}
	/* each parent in turn; on failure path stays cut at the culprit */
	for (slash = strchr(path + (path[0] != '\0'), '/'); slash;
	     slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (mkdir(path, 0700) < 0 && errno != EEXIST) {
			error = errno;
			break;
		}
		*slash = '/';
	}
	if (!error && mkdir(path, 0700) < 0 && errno != EEXIST)
		error = errno;
	if (error)
		diag_warning("state directory %s cannot be created (%s: %s): "
			     "%s",
			     directory, path, strerror(error), NOT_SAVED);
	free(path);
	return error ? -1 : 0;
}

static int open_or_make_directory(const char *directory)
{
	int fd = open_directory(directory, NOT_SAVED);

	if (fd != -2)
		return fd;
	if (make_directories(directory) < 0)
		return -1;
	fd = open_directory(directory, NOT_SAVED);
	if (fd == -2) {
		diag_warning("state directory %s vanished after being "
			     "created: %s",
			     directory, NOT_SAVED);
		return -1;
	}
	return fd;
}

/* Waits for the lock: writers hold it only for a read and a write. */
static int lock_waiting(int fd)
{
	int status;

	do
		status = flock(fd, LOCK_EX);
	while (status < 0 && errno == EINTR);
	return status;
}

/* Returns the descriptor holding the lock (closing it unlocks), or -1
 * after a warning. */
static int lock_state(int directory_fd, const char *directory)
{
	char problem[PROBLEM_SIZE] = "";
	struct stat st;
	int fd = openat(directory_fd, STATE_LOCK_FILE_NAME,
			O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
				O_NONBLOCK,
			0600);

	if (fd < 0 && errno == ELOOP)
		snprintf(problem, sizeof(problem), "is a symbolic link");
	else if (fd < 0)
		snprintf(problem, sizeof(problem), "cannot be opened (%s)",
			 strerror(errno));
	else if (fstat(fd, &st) < 0)
		snprintf(problem, sizeof(problem), "cannot be examined (%s)",
			 strerror(errno));
	else if (!S_ISREG(st.st_mode))
		snprintf(problem, sizeof(problem), "is not a regular file");
	else if (!is_not_ours(&st, problem, sizeof(problem)) &&
		 lock_waiting(fd) < 0)
		snprintf(problem, sizeof(problem), "cannot be locked (%s)",
			 strerror(errno));
	if (!problem[0])
		return fd;
	diag_warning("state lock file %s/%s %s: %s", directory,
		     STATE_LOCK_FILE_NAME, problem, NOT_SAVED);
	if (fd >= 0)
		close(fd);
	return -1;
}

/* Whether the file is ours to read: READ_OK, or another outcome with
 * the problem. */
static enum read_outcome inspect_file(int fd, struct stat *st, char *problem,
				      size_t size)
{
	if (fstat(fd, st) < 0) {
		snprintf(problem, size, "cannot be examined (%s)",
			 strerror(errno));
		return READ_REFUSED;
	}
	if (!S_ISREG(st->st_mode)) {
		snprintf(problem, size, "is not a regular file");
		return READ_REFUSED;
	}
	if (is_not_ours(st, problem, size))
		return READ_REFUSED;
	/* readable by others, its nonces let them delete our mappings */
	if (st->st_mode & (S_IRWXG | S_IRWXO)) {
		snprintf(problem, size, "has mode %04lo, not 0600",
			 (unsigned long)(st->st_mode & 07777));
		return READ_AFRESH;
	}
	if (st->st_size > STATE_FILE_MAX) {
		snprintf(problem, size, "is larger than %d bytes",
			 STATE_FILE_MAX);
		return READ_AFRESH;
	}
	return READ_OK;
}

/* Reads at most size bytes into a NUL-terminated buffer. Returns 0, -1
 * with errno, or -2 when out of memory. */
static int read_all(int fd, size_t size, char **text, size_t *length)
{
	char *buffer = malloc(size + 1);
	size_t used = 0;

	if (!buffer)
		return -2;
	while (used < size) {
		ssize_t n = read(fd, buffer + used, size - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buffer);
			return -1;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	buffer[used] = '\0';
	*text = buffer;
	*length = used;
	return 0;
}

/* A file in a newer format than this natpmp's is kept for the natpmp
 * that wrote it. */
static bool is_newer_format(const char *text, size_t length)
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

static enum read_outcome parse_file(const char *text, size_t length,
				    int64_t now, struct state *state,
				    char *problem, size_t size)
{
	char error[PROBLEM_SIZE / 2];
	int status =
		state_parse(text, length, now, state, error, sizeof(error));

	if (status == -2)
		return READ_NO_MEMORY;
	if (status == 0)
		return READ_OK;
	if (is_newer_format(text, length)) {
		snprintf(problem, size, "is in a newer format (%s)", error);
		return READ_REFUSED;
	}
	snprintf(problem, size, "%s", error);
	return READ_AFRESH;
}

static enum read_outcome read_open_file(int fd, int64_t now,
					struct state *state, char *problem,
					size_t size)
{
	struct stat st;
	enum read_outcome outcome = inspect_file(fd, &st, problem, size);
	char *text = NULL;
	size_t length = 0;
	int status;

	if (outcome != READ_OK)
		return outcome;
	/* one byte more than expected tells a file that grew meanwhile */
	status = read_all(fd, (size_t)st.st_size + 1, &text, &length);
	if (status == -2)
		return READ_NO_MEMORY;
	if (status < 0) {
		snprintf(problem, size, "cannot be read (%s)", strerror(errno));
		return READ_REFUSED;
	}
	if (length != (size_t)st.st_size) {
		snprintf(problem, size, "changed while being read");
		outcome = READ_AFRESH;
	} else {
		outcome = parse_file(text, length, now, state, problem, size);
	}
	free(text);
	return outcome;
}

/* Reads and parses the state file of the open directory, warning about
 * what is wrong with it. */
static enum read_outcome read_state_file(int directory_fd, const char *path,
					 int64_t now, struct state *state,
					 const char *consequence)
{
	char problem[PROBLEM_SIZE] = "";
	enum read_outcome outcome;
	int fd;

	memset(state, 0, sizeof(*state));
	fd = openat(directory_fd, STATE_FILE_NAME,
		    O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT)
		return READ_OK;
	if (fd < 0) {
		describe_open_error(path, errno, problem, sizeof(problem));
		outcome = READ_REFUSED;
	} else {
		outcome = read_open_file(fd, now, state, problem,
					 sizeof(problem));
		close(fd);
	}
	if (outcome == READ_AFRESH || outcome == READ_REFUSED)
		diag_warning("state file %s %s: %s", path, problem,
			     outcome == READ_AFRESH ? AFRESH : consequence);
	return outcome;
}

int state_load(const char *directory, int64_t now, struct state *state)
{
	enum read_outcome outcome;
	char *path;
	int fd;

	memset(state, 0, sizeof(*state));
	path = join_path(directory, STATE_FILE_NAME);
	if (!path)
		return -1;
	fd = open_directory(directory, IGNORING);
	if (fd < 0) {
		free(path);
		return 0;
	}
	outcome = read_state_file(fd, path, now, state, IGNORING);
	close(fd);
	free(path);
	return outcome == READ_NO_MEMORY ? -1 : 0;
}

static int write_all(int fd, const char *text, size_t length)
{
	while (length > 0) {
		ssize_t n = write(fd, text, length);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		text += n;
		length -= (size_t)n;
	}
	return 0;
}

/* Writes text to a new file and renames it over the state file, both in
 * the open directory; on failure removes the new file. */
static int replace_state_file(int directory_fd, const char *directory,
			      const char *path, const char *text)
{
	char *temporary = join_path(directory, TEMPORARY_NAME);
	const char *step = NULL;
	int fd, error = 0;

	if (!temporary) {
		diag_warning("state file %s: out of memory: %s", path,
			     NOT_SAVED);
		return -1;
	}
	fd = mkstemp(temporary);
	if (fd < 0) {
		diag_warning("state file %s: cannot create %s (%s): %s", path,
			     temporary, strerror(errno), NOT_SAVED);
		free(temporary);
		return -1;
	}
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 || fchmod(fd, 0600) < 0 ||
	    write_all(fd, text, strlen(text)) < 0 || fsync(fd) < 0) {
		step = "write";
		error = errno;
	}
	if (close(fd) < 0 && !step) {
		step = "write";
		error = errno;
	}
	/* into the directory checked, even if its path changed meanwhile */
	if (!step && renameat(directory_fd, temporary + strlen(directory) + 1,
			      directory_fd, STATE_FILE_NAME) < 0) {
		step = "rename";
		error = errno;
	}
	if (step) {
		diag_warning("state file %s: cannot %s %s (%s): %s", path, step,
			     temporary, strerror(error), NOT_SAVED);
		unlink(temporary);
	} else if (fsync(directory_fd) < 0) {
		/* saved, though a crash might yet lose it */
		diag_warning("state directory %s cannot be synced (%s)",
			     directory, strerror(errno));
	}
	free(temporary);
	return step ? -1 : 0;
}

/* Under the lock: the file's state, changed and written back. */
static int update_state_file(int directory_fd, const char *directory,
			     const char *path, int64_t now,
			     const struct state_change *changes, size_t count)
{
	struct state state;
	enum read_outcome outcome;
	char *text;
	int status;

	outcome = read_state_file(directory_fd, path, now, &state, NOT_SAVED);
	if (outcome == READ_REFUSED)
		return -1;
	if (outcome == READ_NO_MEMORY) {
		diag_warning("state file %s: out of memory: %s", path,
			     NOT_SAVED);
		return -1;
	}
	if (state_apply(&state, changes, count) < 0) {
		diag_warning("state file %s: cannot apply the changes (one is "
			     "invalid, more than %d entries, or out of "
			     "memory): %s",
			     path, STATE_ENTRIES_MAX, NOT_SAVED);
		state_free(&state);
		return -1;
	}
	drop_stale(&state, now);
	text = state_format(&state);
	state_free(&state);
	if (!text) {
		diag_warning("state file %s: out of memory: %s", path,
			     NOT_SAVED);
		return -1;
	}
	status = replace_state_file(directory_fd, directory, path, text);
	free(text);
	return status;
}

int state_commit(const char *directory, int64_t now,
		 const struct state_change *changes, size_t count)
{
	char *path = join_path(directory, STATE_FILE_NAME);
	int directory_fd = -1, lock_fd = -1, status = -1;

	if (!path) {
		diag_warning("state directory %s: out of memory: %s", directory,
			     NOT_SAVED);
		return -1;
	}
	directory_fd = open_or_make_directory(directory);
	if (directory_fd >= 0)
		lock_fd = lock_state(directory_fd, directory);
	if (lock_fd >= 0) {
		status = update_state_file(directory_fd, directory, path, now,
					   changes, count);
		close(lock_fd);
	}
	if (directory_fd >= 0)
		close(directory_fd);
	free(path);
	return status;
}
