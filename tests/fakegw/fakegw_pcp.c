/* fakegw_pcp.c - the fake gateway's PCP server (RFC 6887): validates
 * requests, answers ANNOUNCE and MAP, and plays the PCP personalities. */
#include "fakegw.h"

#include <stdarg.h>
#include <string.h>

#define PCP_VERSION 2
#define PCP_HEADER_SIZE 24 /* section 7.1 */
#define PCP_MAP_END 60	   /* the header and MAP's 36 bytes, section 11.1 */
#define PCP_RESPONSE_BIT 0x80
#define PCP_FILTERS_MAX 43 /* as many 24-byte FILTERs as fit in 1100 bytes */
#define PCP_OPTIONS_OPTIONAL 128 /* codes from here may be ignored, 7.3 */
#define PCP_JUNK_MAX 100

enum pcp_opcode { OP_ANNOUNCE = 0, OP_MAP = 1 };
enum pcp_option {
	OPTION_THIRD_PARTY = 1,
	OPTION_PREFER_FAILURE = 2,
	OPTION_FILTER = 3
};

/* section 7.4 */
enum pcp_result {
	RESULT_SUCCESS = 0,
	RESULT_UNSUPP_VERSION = 1,
	RESULT_NOT_AUTHORIZED = 2,
	RESULT_MALFORMED_REQUEST = 3,
	RESULT_UNSUPP_OPCODE = 4,
	RESULT_UNSUPP_OPTION = 5,
	RESULT_MALFORMED_OPTION = 6,
	RESULT_NO_RESOURCES = 8,
	RESULT_UNSUPP_PROTOCOL = 9,
	RESULT_CANNOT_PROVIDE_EXTERNAL = 11,
	RESULT_ADDRESS_MISMATCH = 12,
	RESULT_EXCESSIVE_REMOTE_PEERS = 13,
};

struct filter {
	uint8_t prefix_length;
	uint16_t port;
	uint8_t address[16];
};

/* A request as the server read it. result: what parsing found wrong (0:
 * nothing), bad: the same for the log. */
struct pcp_request {
	const uint8_t *bytes;
	size_t length;
	uint8_t version, opcode;
	bool response_bit, has_header, has_map, options_read;
	uint8_t result;
	const char *bad;
	uint32_t lifetime;
	uint8_t client[16];
	uint8_t nonce[NONCE_SIZE];
	uint8_t protocol;
	uint16_t internal, suggested;
	uint8_t suggested_address[16];
	bool third_party, prefer_failure;
	uint8_t third_party_address[16];
	struct filter filters[PCP_FILTERS_MAX];
	size_t filter_count;
	char options_text[PCP_FILTERS_MAX * 64 + 256];
};

/* What the server decided; address and external only on success. */
struct outcome {
	uint8_t result;
	uint32_t lifetime;
	uint16_t external;
	uint8_t address[16];
};

static void append_list(char *text, size_t size, const char *format, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void append_list(char *text, size_t size, const char *format, va_list ap)
{
	size_t used = strlen(text);

	if (used + 1 < size)
		vsnprintf(text + used, size - used, format, ap);
}

static void append(char *text, size_t size, const char *format, ...)
	__attribute__((format(printf, 3, 4)));

static void append(char *text, size_t size, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	append_list(text, size, format, ap);
	va_end(ap);
}

static const char *opcode_name(uint8_t opcode)
{
	static char text[8];

	if (opcode == OP_ANNOUNCE)
		return "announce";
	if (opcode == OP_MAP)
		return "map";
	if (opcode == 2)
		return "peer";
	snprintf(text, sizeof(text), "%u", (unsigned)opcode);
	return text;
}

static void note_option(struct pcp_request *r, const char *format, ...)
	__attribute__((format(printf, 2, 3)));

static void note_option(struct pcp_request *r, const char *format, ...)
{
	va_list ap;

	if (r->options_text[0])
		append(r->options_text, sizeof(r->options_text), ",");
	va_start(ap, format);
	append_list(r->options_text, sizeof(r->options_text), format, ap);
	va_end(ap);
}

/* --- parsing: over the datagram's bytes, no I/O --- */

static uint8_t take_filter(struct pcp_request *r, const uint8_t *data,
			   size_t length)
{
	struct filter *f;
	bool ipv4;

	if (length != 20 || r->filter_count == PCP_FILTERS_MAX)
		return RESULT_MALFORMED_OPTION;
	f = &r->filters[r->filter_count];
	f->prefix_length = data[1];
	f->port = get16(data + 2);
	memcpy(f->address, data + 4, 16);
	ipv4 = address_is_ipv4(f->address);
	/* section 13.3: 0 means no filter; an IPv4-mapped prefix covers the
	 * 96 bits of the mapping prefix */
	if (f->prefix_length > 128 ||
	    (ipv4 && f->prefix_length != 0 && f->prefix_length < 96))
		return RESULT_MALFORMED_OPTION;
	r->filter_count++;
	note_option(r, "filter=%s/%u:%u", address_text(f->address),
		    ipv4 && f->prefix_length ? f->prefix_length - 96u
					     : (unsigned)f->prefix_length,
		    (unsigned)f->port);
	return RESULT_SUCCESS;
}

/* One option (section 7.3); returns 0 or the error it causes. */
static uint8_t take_option(struct pcp_request *r, uint8_t code,
			   const uint8_t *data, size_t length)
{
	bool map = r->opcode == OP_MAP;

	if (map && code == OPTION_THIRD_PARTY) {
		if (length != 16 || r->third_party)
			return RESULT_MALFORMED_OPTION;
		r->third_party = true;
		memcpy(r->third_party_address, data, 16);
		note_option(r, "third-party=%s", address_text(data));
		return RESULT_SUCCESS;
	}
	if (map && code == OPTION_PREFER_FAILURE) {
		if (length != 0 || r->prefer_failure)
			return RESULT_MALFORMED_OPTION;
		r->prefer_failure = true;
		note_option(r, "prefer-failure");
		return RESULT_SUCCESS;
	}
	if (map && code == OPTION_FILTER)
		return take_filter(r, data, length);
	/* unknown here: mandatory-to-process ones fail the request */
	note_option(r, "option-%u", (unsigned)code);
	return code < PCP_OPTIONS_OPTIONAL ? RESULT_UNSUPP_OPTION
					   : RESULT_SUCCESS;
}

/* Walks the options from offset to the end; each is code, reserved,
 * length, then data padded to a multiple of 4. */
static uint8_t read_options(struct pcp_request *r, size_t offset)
{
	r->options_read = true;
	while (offset < r->length) {
		const uint8_t *o = r->bytes + offset;
		size_t data_length, padded;
		uint8_t result;

		if (r->length - offset < 4)
			return RESULT_MALFORMED_OPTION;
		data_length = get16(o + 2);
		padded = (data_length + 3) & ~(size_t)3;
		if (padded > r->length - offset - 4)
			return RESULT_MALFORMED_OPTION;
		result = take_option(r, o[0], o + 4, data_length);
		if (result != RESULT_SUCCESS)
			return result;
		offset += 4 + padded;
	}
	return RESULT_SUCCESS;
}

static void read_fields(struct pcp_request *r)
{
	const uint8_t *b = r->bytes;

	if (r->length >= 1)
		r->version = b[0];
	if (r->length >= 2) {
		r->opcode = b[1] & (uint8_t)~PCP_RESPONSE_BIT;
		r->response_bit = (b[1] & PCP_RESPONSE_BIT) != 0;
	}
	r->has_header = r->length >= PCP_HEADER_SIZE;
	if (r->has_header) {
		r->lifetime = get32(b + 4);
		memcpy(r->client, b + 8, 16);
	}
	r->has_map = r->opcode == OP_MAP && r->length >= PCP_MAP_END;
	if (r->has_map) {
		memcpy(r->nonce, b + 24, NONCE_SIZE);
		r->protocol = b[36];
		r->internal = get16(b + 40);
		r->suggested = get16(b + 42);
		memcpy(r->suggested_address, b + 44, 16);
	}
}

/* Section 8.3: the opcode, then the length, then the options. */
static void pcp_parse(struct pcp_request *r, const uint8_t *bytes,
		      size_t length)
{
	uint8_t result;

	memset(r, 0, sizeof(*r));
	r->bytes = bytes;
	r->length = length;
	read_fields(r);
	if (length < 2)
		r->bad = "length"; /* dropped unanswered, section 8.3 */
	if (length < 2 || r->version != PCP_VERSION || r->response_bit)
		return;
	if (r->opcode != OP_ANNOUNCE && r->opcode != OP_MAP) {
		r->result = RESULT_UNSUPP_OPCODE;
		return;
	}
	if (length < PCP_HEADER_SIZE || length > DATAGRAM_MAX || length % 4 ||
	    (r->opcode == OP_MAP && !r->has_map)) {
		r->result = RESULT_MALFORMED_REQUEST;
		r->bad = "length";
		return;
	}
	result = read_options(r, r->has_map ? PCP_MAP_END : PCP_HEADER_SIZE);
	if (result == RESULT_MALFORMED_OPTION)
		r->bad = "option";
	else if (result == RESULT_UNSUPP_OPTION)
		r->bad = "unsupported-option";
	r->result = result;
}

/* --- the log --- */

static void log_request(const struct pcp_request *r, const union endpoint *from)
{
	char line[sizeof(r->options_text) + 512] = "";
	char nonce[2 * NONCE_SIZE + 1];
	size_t i;

	append(line, sizeof(line), "recv from=%s len=%zu", endpoint_text(from),
	       r->length);
	if (r->length >= 1)
		append(line, sizeof(line), " version=%u", (unsigned)r->version);
	if (r->length >= 2)
		append(line, sizeof(line), " op=%s", opcode_name(r->opcode));
	if (r->version == PCP_VERSION && r->has_map)
		append(line, sizeof(line),
		       " proto=%s internal=%u suggested=%u suggested-address=%s",
		       protocol_name(r->protocol), (unsigned)r->internal,
		       (unsigned)r->suggested,
		       address_text(r->suggested_address));
	if (r->version == PCP_VERSION && r->has_header)
		append(line, sizeof(line), " lifetime=%lu",
		       (unsigned long)r->lifetime);
	for (i = 0; i < NONCE_SIZE; i++)
		snprintf(nonce + 2 * i, 3, "%02x", (unsigned)r->nonce[i]);
	if (r->version == PCP_VERSION && r->has_map)
		append(line, sizeof(line), " nonce=%s", nonce);
	if (r->version == PCP_VERSION && r->has_header)
		append(line, sizeof(line), " client=%s",
		       address_text(r->client));
	if (r->options_read)
		append(line, sizeof(line), " options=%s",
		       r->options_text[0] ? r->options_text : "none");
	if (r->response_bit || r->bad)
		append(line, sizeof(line), " bad=%s",
		       r->response_bit ? "response" : r->bad);
	log_event("%s", line);
}

static void log_reply(const struct pcp_request *r, const uint8_t *reply,
		      const union endpoint *to)
{
	if (r->has_map)
		log_event(
			"reply to=%s format=pcp op=map proto=%s result=%u epoch=%lu internal=%u external=%u address=%s lifetime=%lu",
			endpoint_text(to), protocol_name(reply[36]),
			(unsigned)reply[3], (unsigned long)get32(reply + 8),
			(unsigned)get16(reply + 40),
			(unsigned)get16(reply + 42), address_text(reply + 44),
			(unsigned long)get32(reply + 4));
	else
		log_event(
			"reply to=%s format=pcp op=%s result=%u epoch=%lu lifetime=%lu",
			endpoint_text(to), opcode_name(reply[1] & 0x7f),
			(unsigned)reply[3], (unsigned long)get32(reply + 8),
			(unsigned long)get32(reply + 4));
}

/* --- MAP --- */

/* On an IPv6 bind the gateway is a firewall (RFC 6887 section 11.3):
 * the external address is the internal one, the port unchanged. */
static bool is_firewall(void)
{
	return gw.bind.any.sa_family == AF_INET6;
}

static void assigned_address(const uint8_t internal_address[16],
			     uint8_t address[16])
{
	if (is_firewall())
		memcpy(address, internal_address, 16);
	else
		address_from_ipv4(gw.external, address);
}

/* PREFER_FAILURE (section 13.2): would this port and address give the
 * client what it suggested? */
static bool suggestion_met(const struct pcp_request *r, uint16_t port,
			   const uint8_t address[16])
{
	return (r->suggested == 0 || r->suggested == port) &&
	       (address_is_unspecified(r->suggested_address) ||
		memcmp(r->suggested_address, address, 16) == 0);
}

static uint16_t choose_port(const struct pcp_request *r)
{
	if (is_firewall())
		return r->internal;
	if (gw.grant_port)
		return (uint16_t)gw.grant_port;
	if (gw.random_port || r->suggested == 0 ||
	    port_taken(r->protocol, r->suggested))
		return random_free_port(r->protocol);
	return r->suggested;
}

static uint32_t clamped_lifetime(uint32_t asked)
{
	uint32_t granted = asked;

	if (granted < (uint32_t)gw.pcp_min_lifetime)
		granted = (uint32_t)gw.pcp_min_lifetime;
	if (gw.max_lifetime && granted > gw.max_lifetime)
		granted = gw.max_lifetime;
	return granted;
}

/* Like miniupnpd 2.3: a renewal may bring another nonce, and the
 * mapping takes it. */
static void take_nonce(struct mapping *m, const uint8_t *nonce)
{
	if (m->has_nonce && memcmp(m->nonce, nonce, NONCE_SIZE) != 0)
		log_event("nonce-changed proto=%s client=%s internal=%u",
			  protocol_name(m->protocol), address_text(m->client),
			  (unsigned)m->internal);
	memcpy(m->nonce, nonce, NONCE_SIZE);
	m->has_nonce = true;
}

static void map_grant(const struct pcp_request *r, const uint8_t *internal,
		      const union endpoint *from, struct outcome *o)
{
	struct mapping *m = mapping_find(internal, r->protocol, r->internal);
	uint32_t granted = clamped_lifetime(r->lifetime);

	assigned_address(internal, o->address);
	if (!m) {
		uint16_t port = choose_port(r);
		if (r->prefer_failure && !suggestion_met(r, port, o->address)) {
			o->result = RESULT_CANNOT_PROVIDE_EXTERNAL;
			return;
		}
		m = mapping_new(internal, r->protocol, r->internal,
				MADE_BY_PCP);
		if (!m) {
			o->result = RESULT_NO_RESOURCES;
			return;
		}
		m->external = port;
		m->pinhole = is_firewall();
	} else if (r->prefer_failure &&
		   !suggestion_met(r, m->external, o->address)) {
		o->result = RESULT_CANNOT_PROVIDE_EXTERNAL;
		return;
	}
	take_nonce(m, r->nonce);
	m->requester = *from;
	m->expires_ms = now_ms() + (int64_t)granted * 1000;
	o->external = m->external;
	o->lifetime =
		gw.grant_lifetime >= 0 ? (uint32_t)gw.grant_lifetime : granted;
}

/* Like miniupnpd 2.3: only the nonce that made a mapping deletes it; a
 * mapping that is not there is deleted already. */
static void map_delete(const struct pcp_request *r, const uint8_t *internal,
		       struct outcome *o)
{
	struct mapping *m;

	assigned_address(internal, o->address);
	if (r->internal == 0) {
		unsigned count =
			mappings_delete_all(internal, r->protocol, r->nonce);
		log_event("deleted-all proto=%s client=%s count=%u",
			  protocol_name(r->protocol), address_text(internal),
			  count);
		return;
	}
	m = mapping_find(internal, r->protocol, r->internal);
	if (!m)
		return;
	if (!m->has_nonce || memcmp(m->nonce, r->nonce, NONCE_SIZE) != 0) {
		log_event("refused proto=%s client=%s internal=%u reason=nonce",
			  protocol_name(m->protocol), address_text(m->client),
			  (unsigned)m->internal);
		o->result = RESULT_NOT_AUTHORIZED;
		return;
	}
	o->external = m->external;
	mapping_delete(m);
}

static void map_decide(const struct pcp_request *r, const union endpoint *from,
		       struct outcome *o)
{
	const uint8_t *internal =
		r->third_party ? r->third_party_address : r->client;

	if (gw.pcp_result > 0)
		o->result = (uint8_t)gw.pcp_result;
	else if (gw.port_zero_result > 0 && r->lifetime && r->suggested == 0)
		o->result = (uint8_t)gw.port_zero_result;
	else if (r->third_party && !gw.allow_third_party)
		o->result = RESULT_NOT_AUTHORIZED;
	else if (r->filter_count > (size_t)gw.max_filters)
		o->result = RESULT_EXCESSIVE_REMOTE_PEERS;
	else if (r->protocol != PROTOCOL_TCP && r->protocol != PROTOCOL_UDP)
		o->result = RESULT_UNSUPP_PROTOCOL;
	else if (r->lifetime == 0)
		map_delete(r, internal, o);
	else if (gw.pcp_renew_result > 0 &&
		 mapping_find(internal, r->protocol, r->internal))
		o->result = (uint8_t)gw.pcp_renew_result;
	else
		map_grant(r, internal, from, o);
}

static void decide(const struct pcp_request *r, const union endpoint *from,
		   struct outcome *o)
{
	uint8_t source[16];

	memset(o, 0, sizeof(*o));
	o->result = r->result;
	endpoint_address(from, source);
	/* section 8.3: a NAT between client and server shows here */
	if (o->result == RESULT_SUCCESS && memcmp(source, r->client, 16) != 0)
		o->result = RESULT_ADDRESS_MISMATCH;
	if (o->result == RESULT_SUCCESS && r->opcode == OP_MAP)
		map_decide(r, from, o);
	if (o->result != RESULT_SUCCESS)
		o->lifetime = (uint32_t)gw.pcp_error_lifetime;
}

/* --- responses --- */

/* The options a successful MAP processed go back with it (section 13). */
static size_t put_options(const struct pcp_request *r, uint8_t *out)
{
	size_t length = 0, i;

	if (r->third_party) {
		out[0] = OPTION_THIRD_PARTY;
		put16(out + 2, 16);
		memcpy(out + 4, r->third_party_address, 16);
		length += 20;
	}
	if (r->prefer_failure) {
		out[length] = OPTION_PREFER_FAILURE;
		length += 4;
	}
	for (i = 0; i < r->filter_count; i++) {
		uint8_t *o = out + length;
		o[0] = OPTION_FILTER;
		put16(o + 2, 20);
		o[5] = r->filters[i].prefix_length;
		put16(o + 6, r->filters[i].port);
		memcpy(o + 8, r->filters[i].address, 16);
		length += 24;
	}
	return length;
}

/* Section 7.2; errors carry the request's opcode data back (8.3): MAP's
 * 36 bytes, or for an opcode it does not know the whole rest. */
static size_t build_response(const struct pcp_request *r,
			     const struct outcome *o, uint8_t *reply)
{
	size_t body;

	memset(reply, 0, DATAGRAM_MAX);
	reply[0] = PCP_VERSION;
	reply[1] = (uint8_t)(PCP_RESPONSE_BIT | r->opcode);
	reply[3] = o->result;
	put32(reply + 4, o->lifetime);
	put32(reply + 8, sssoe());
	if (r->has_map && o->result != RESULT_SUCCESS) {
		memcpy(reply + 24, r->bytes + 24, PCP_MAP_END - 24);
		return PCP_MAP_END;
	}
	if (r->has_map) {
		memcpy(reply + 24, r->nonce, NONCE_SIZE);
		reply[36] = r->protocol;
		put16(reply + 40, r->internal);
		put16(reply + 42, o->external);
		memcpy(reply + 44, o->address, 16);
		return PCP_MAP_END + put_options(r, reply + PCP_MAP_END);
	}
	if (r->opcode == OP_ANNOUNCE || r->length <= PCP_HEADER_SIZE)
		return PCP_HEADER_SIZE;
	body = (r->length > DATAGRAM_MAX ? DATAGRAM_MAX : r->length) -
	       PCP_HEADER_SIZE;
	memcpy(reply + PCP_HEADER_SIZE, r->bytes + PCP_HEADER_SIZE, body);
	return PCP_HEADER_SIZE + ((body + 3) & ~(size_t)3);
}

/* pcp-junk: responses a client must ignore, in turn: another nonce (or,
 * without one, the R bit clear), another opcode, 20 bytes, a length not
 * a multiple of 4. */
static size_t make_junk(unsigned kind, const uint8_t *reply, size_t length,
			uint8_t *junk)
{
	memcpy(junk, reply, length);
	switch (kind % 4) {
	case 0:
		if (length >= PCP_MAP_END && (reply[1] & 0x7f) == OP_MAP)
			junk[24] ^= 0xff;
		else
			junk[1] &= 0x7f;
		return length;
	case 1:
		junk[1] = (uint8_t)(PCP_RESPONSE_BIT | ((reply[1] & 0x7f) ^ 3));
		return length;
	case 2: return 20;
	default:
		if (length + 2 > DATAGRAM_MAX)
			return length - 2;
		junk[length] = 0;
		junk[length + 1] = 0;
		return length + 2;
	}
}

static void send_with_junk(const union endpoint *to, const uint8_t *reply,
			   size_t length)
{
	uint8_t junk[DATAGRAM_MAX];
	unsigned n;

	for (n = 0; n < (unsigned)gw.pcp_junk; n++)
		send_now(to, junk, make_junk(n, reply, length, junk));
	if (gw.pcp_junk)
		log_event("junk n=%ld", gw.pcp_junk);
	send_reply(to, reply, length);
}

static void respond(const struct pcp_request *r, const union endpoint *from)
{
	uint8_t reply[DATAGRAM_MAX];
	struct outcome o;
	bool last = answer_is_last();
	size_t length;

	decide(r, from, &o);
	length = build_response(r, &o, reply);
	log_reply(r, reply, from);
	send_with_junk(from, reply, length);
	if (last)
		close_gateway();
}

/* A server of another version, or PCP-only meeting NAT-PMP (section 9):
 * a 24-byte UNSUPP_VERSION carrying the version it speaks. */
void pcp_unsupported_version(const union endpoint *to, const uint8_t *bytes,
			     size_t length)
{
	uint8_t reply[PCP_HEADER_SIZE] = { 0 };

	reply[0] = (uint8_t)gw.pcp_version;
	reply[1] = (uint8_t)(PCP_RESPONSE_BIT |
			     (length >= 2 ? bytes[1] & 0x7f : 0));
	reply[3] = RESULT_UNSUPP_VERSION;
	put32(reply + 8, sssoe());
	send_now(to, reply, sizeof(reply));
	log_event(
		"reply to=%s format=pcp op=%s result=1 epoch=%lu lifetime=0 version=%u",
		endpoint_text(to), opcode_name(reply[1] & 0x7f),
		(unsigned long)get32(reply + 8), (unsigned)reply[0]);
}

static void drop(const union endpoint *from, const char *reason)
{
	log_event("drop from=%s reason=%s", endpoint_text(from), reason);
}

/* A datagram whose first byte is not 0 (NAT-PMP's version): PCP's, as
 * miniupnpd dispatches. */
void pcp_receive(const uint8_t *bytes, size_t length,
		 const union endpoint *from)
{
	struct pcp_request r;

	pcp_parse(&r, bytes, length);
	log_request(&r, from);
	if (length < 2 || dropped_by_silence(from))
		return;
	if (gw.pcp_silent)
		drop(from, "pcp-silent");
	else if (gw.speaks == SPEAKS_NATPMP)
		natpmp_unsupported_version(from); /* RFC 6887 Appendix A */
	else if (r.response_bit)
		drop(from, "response"); /* section 8.3 */
	else if (r.version != PCP_VERSION || gw.pcp_version != PCP_VERSION)
		pcp_unsupported_version(from, bytes, length);
	else if (gw.ignore_port && r.has_map && r.internal == gw.ignore_port)
		drop(from, "ignore-port");
	else
		respond(&r, from);
}

/* --- news the server sends unasked (section 14.2) --- */

/* The PCP mapping of this internal port, of any client and protocol. */
static struct mapping *pcp_mapping_of(uint16_t internal)
{
	size_t i;

	for (i = 0; i < MAX_MAPPINGS; i++)
		if (gw.mappings[i].used &&
		    gw.mappings[i].made_by == MADE_BY_PCP &&
		    gw.mappings[i].internal == internal)
			return &gw.mappings[i];
	return NULL;
}

/* A MAP response nobody asked for, telling m's client how m is now. */
static void send_update(const struct mapping *m, uint32_t lifetime)
{
	uint8_t reply[PCP_MAP_END] = { 0 };

	reply[0] = PCP_VERSION;
	reply[1] = PCP_RESPONSE_BIT | OP_MAP;
	put32(reply + 4, lifetime);
	put32(reply + 8, sssoe());
	memcpy(reply + 24, m->nonce, NONCE_SIZE);
	reply[36] = m->protocol;
	put16(reply + 40, m->internal);
	put16(reply + 42, m->external);
	assigned_address(m->client, reply + 44);
	send_now(&m->requester, reply, sizeof(reply));
	log_event(
		"update to=%s proto=%s internal=%u external=%u address=%s lifetime=%lu",
		endpoint_text(&m->requester), protocol_name(m->protocol),
		(unsigned)m->internal, (unsigned)m->external,
		address_text(reply + 44), (unsigned long)lifetime);
}

/* pcp-update PORT[:NEWPORT]: tell the client of PORT's mapping how it is
 * now (another external port, if given; the external address as set
 * now). pcp-end PORT: delete it and tell the client (lifetime 0). */
static const char *control_news(const char *word, const char *arg)
{
	long internal = 0, external = 0;
	char copy[32], *colon;
	struct mapping *m;
	int64_t left;

	if (!arg || strlen(arg) >= sizeof(copy))
		return "pcp-update PORT[:NEWPORT], pcp-end PORT";
	snprintf(copy, sizeof(copy), "%s", arg);
	colon = strchr(copy, ':');
	if (colon)
		*colon = '\0';
	if (!parse_number(copy, 1, 65535, &internal) ||
	    (colon && (strcmp(word, "pcp-end") == 0 ||
		       !parse_number(colon + 1, 1, 65535, &external))))
		return "pcp-update PORT[:NEWPORT], pcp-end PORT";
	m = pcp_mapping_of((uint16_t)internal);
	if (!m)
		return "no PCP mapping of that port";
	if (strcmp(word, "pcp-end") == 0) {
		send_update(m, 0);
		mapping_delete(m);
		return NULL;
	}
	if (external)
		m->external = (uint16_t)external;
	left = (m->expires_ms - now_ms() + 999) / 1000;
	send_update(m, left > 0 ? (uint32_t)left : 1);
	return NULL;
}

/* --- settings: each both an option (--NAME) and a control command --- */

enum setting_kind { SETTING_ON_OFF, SETTING_NUMBER };

static const struct setting {
	const char *name;
	enum setting_kind kind;
	long min, max;
	bool *flag;
	long *number;
} settings[] = {
	{ "pcp-version", SETTING_NUMBER, 1, 255, NULL, &gw.pcp_version },
	{ "pcp-silent", SETTING_ON_OFF, 0, 0, &gw.pcp_silent, NULL },
	{ "pcp-result", SETTING_NUMBER, -1, 255, NULL, &gw.pcp_result },
	{ "pcp-junk", SETTING_NUMBER, 0, PCP_JUNK_MAX, NULL, &gw.pcp_junk },
	{ "pcp-min-lifetime", SETTING_NUMBER, 0, 0x7fffffff, NULL,
	  &gw.pcp_min_lifetime },
	{ "pcp-error-lifetime", SETTING_NUMBER, 0, 0x7fffffff, NULL,
	  &gw.pcp_error_lifetime },
	{ "max-filters", SETTING_NUMBER, 0, PCP_FILTERS_MAX, NULL,
	  &gw.max_filters },
	{ "allow-third-party", SETTING_ON_OFF, 0, 0, &gw.allow_third_party,
	  NULL },
	{ "port-zero-result", SETTING_NUMBER, -1, 255, NULL,
	  &gw.port_zero_result },
	{ "pcp-renew-result", SETTING_NUMBER, -1, 255, NULL,
	  &gw.pcp_renew_result },
};

const char pcp_help[] =
	"PCP (RFC 6887), as option --NAME or control command NAME:\n"
	"  speaks both|nat-pmp|pcp  which protocols it answers (default both);\n"
	"      nat-pmp: PCP gets NAT-PMP's 8-byte unsupported version;\n"
	"      pcp: NAT-PMP gets a 24-byte PCP UNSUPP_VERSION\n"
	"  --pcp-only, pcp-only on|off  the same as speaks pcp (off: both)\n"
	"  pcp-version N      a server of PCP version N only (default 2); with\n"
	"                     N not 2 every PCP request gets UNSUPP_VERSION\n"
	"                     carrying N\n"
	"  --pcp-silent, pcp-silent on|off  drop PCP; NAT-PMP still answered\n"
	"  pcp-result CODE    answer every valid MAP with CODE (-1: none)\n"
	"  pcp-renew-result CODE  answer a MAP that renews a live mapping with\n"
	"                     CODE, grant new ones (miniupnpd on pf and IPv6)\n"
	"  pcp-junk N         N junk responses before each real one\n"
	"  pcp-min-lifetime N   MAP lifetimes clamped to N..--max-lifetime\n"
	"  pcp-error-lifetime N how long error responses hold (default 30)\n"
	"  max-filters N      more FILTERs: EXCESSIVE_REMOTE_PEERS (default 4)\n"
	"  --allow-third-party, allow-third-party on|off  THIRD_PARTY allowed\n"
	"  port-zero-result CODE  answer a mapping (NAT-PMP or PCP) that suggests\n"
	"                     external port 0 with CODE (-1: none)\n"
	"control commands only (section 14.2, news sent unasked):\n"
	"  pcp-update PORT[:NEWPORT]  send the client of PORT's PCP mapping a MAP\n"
	"                     response as it is now, moved to NEWPORT if given\n"
	"  pcp-end PORT       delete PORT's PCP mapping and tell its client\n";

void pcp_defaults(void)
{
	gw.speaks = SPEAKS_BOTH;
	gw.pcp_version = PCP_VERSION;
	gw.pcp_result = -1;
	gw.pcp_renew_result = -1;
	gw.port_zero_result = -1;
	gw.pcp_error_lifetime = 30;
	gw.max_filters = 4;
}

static const struct setting *find_setting(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(settings) / sizeof(settings[0]); i++)
		if (strcmp(settings[i].name, name) == 0)
			return &settings[i];
	return NULL;
}

static bool parse_speaks(const char *text)
{
	if (strcmp(text, "both") == 0)
		gw.speaks = SPEAKS_BOTH;
	else if (strcmp(text, "nat-pmp") == 0)
		gw.speaks = SPEAKS_NATPMP;
	else if (strcmp(text, "pcp") == 0)
		gw.speaks = SPEAKS_PCP;
	else
		return false;
	return true;
}

/* A bad value leaves the setting as it was. */
static bool set_number(const struct setting *s, const char *text)
{
	long n;

	if (!parse_number(text, s->min, s->max, &n))
		return false;
	*s->number = n;
	return true;
}

/* Options without a value; false if option is not one of them. */
bool pcp_flag(const char *option)
{
	const struct setting *s;

	if (strncmp(option, "--", 2) != 0)
		return false;
	if (strcmp(option, "--pcp-only") == 0) {
		gw.speaks = SPEAKS_PCP;
		return true;
	}
	s = find_setting(option + 2);
	if (!s || s->kind != SETTING_ON_OFF)
		return false;
	*s->flag = true;
	return true;
}

/* Options with a value: 0 done, -1 not a PCP option, else the exit
 * status of a bad value (64, as for any bad option), said on stderr. */
int pcp_option(const char *option, const char *value)
{
	const struct setting *s = NULL;
	bool good;

	if (strcmp(option, "--speaks") == 0) {
		good = parse_speaks(value);
	} else {
		if (strncmp(option, "--", 2) == 0)
			s = find_setting(option + 2);
		if (!s || s->kind != SETTING_NUMBER)
			return -1;
		good = set_number(s, value);
	}
	if (good)
		return 0;
	fprintf(stderr, "fakegw: bad %s: %s\n", option, value);
	return 64;
}

/* Control commands; *handled false if word is not one of them. */
const char *pcp_control(const char *word, const char *arg, bool *handled)
{
	const struct setting *s = find_setting(word);
	bool on;

	*handled = true;
	if (strcmp(word, "pcp-update") == 0 || strcmp(word, "pcp-end") == 0)
		return control_news(word, arg);
	if (strcmp(word, "speaks") == 0)
		return arg && parse_speaks(arg) ? NULL
						: "speaks both|nat-pmp|pcp";
	if (strcmp(word, "pcp-only") == 0) {
		if (!arg || !parse_on_off(arg, &on))
			return "pcp-only on|off";
		gw.speaks = on ? SPEAKS_PCP : SPEAKS_BOTH;
		return NULL;
	}
	if (!s) {
		*handled = false;
		return NULL;
	}
	if (s->kind == SETTING_ON_OFF)
		return arg && parse_on_off(arg, s->flag) ? NULL
							 : "needs on|off";
	return arg && set_number(s, arg) ? NULL : "needs a number in range";
}
