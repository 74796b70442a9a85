/* fakegw.h - what the fake gateway's files share: its state, the mapping
 * table, socket addresses of either family, the log and byte helpers. */
#ifndef FAKEGW_H
#define FAKEGW_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#define MAX_MAPPINGS 4096
#define MAX_PENDING 256
#define DATAGRAM_MAX 1100 /* the largest PCP message, RFC 6887 section 7 */
#define NONCE_SIZE 12
/* IANA protocol numbers: how mappings of both protocols are keyed */
#define PROTOCOL_TCP 6
#define PROTOCOL_UDP 17

/* a socket address of either family, without casts at every call */
union endpoint {
	struct sockaddr any;
	struct sockaddr_in v4;
	struct sockaddr_in6 v6;
};

enum speaks { SPEAKS_BOTH, SPEAKS_NATPMP, SPEAKS_PCP };
enum made_by { MADE_BY_NATPMP, MADE_BY_PCP };

struct mapping {
	bool used;
	bool pinhole; /* IPv6 firewall: external = internal, no port clash */
	enum made_by made_by;
	bool has_nonce; /* a PCP request set it; NAT-PMP has none */
	uint8_t nonce[NONCE_SIZE];
	uint8_t client[16]; /* internal address, IPv4 as IPv4-mapped */
	uint8_t protocol;
	uint16_t internal;
	uint16_t external;
	int64_t expires_ms;
	union endpoint requester; /* PCP: where its last request came from */
};

/* a reply, waiting for its time (--delay) */
struct pending {
	bool used;
	int64_t due_ms;
	union endpoint to;
	uint8_t data[DATAGRAM_MAX];
	size_t length;
};

struct gateway {
	union endpoint bind;
	int fd, ctl_fd;
	FILE *log;
	uint32_t external;     /* IPv4, host order */
	int64_t epoch_base_ms; /* monotonic time at which SSSoE was 0 */
	uint64_t rng;
	long drop, answered, close_after;
	bool silent, short_errors, random_port;
	/* NAT-PMP errors carry the lifetime asked for, as miniupnpd's do */
	bool errors_copy_lifetime;
	unsigned ignore_port; /* map requests for this internal port: dropped */
	int result, address_result, map_result; /* -1: none */
	unsigned grant_port, max_lifetime, delay_ms, garbage, foreign;
	long grant_lifetime; /* -1: none */
	/* field personalities of NAT-PMP: requests dropped (a PCP-only
	 * router behind a filter), or answered with junk of this many bytes
	 * (libpcp's test server: 2 bytes 00 80, or 12 starting 02 81) */
	bool natpmp_silent;
	long natpmp_junk_reply;
	union endpoint announce_to;
	bool announce_to_given;
	struct mapping mappings[MAX_MAPPINGS];
	struct pending pending[MAX_PENDING];
	int announce_left;
	bool announce_pcp; /* announce in PCP format (RFC 6887 section 14.1) */
	/* the next announcement lies: this epoch (and NAT-PMP address), while
	 * the gateway's state stays what it is */
	bool announce_lie;
	uint32_t lie_epoch;
	uint32_t lie_external;
	int64_t announce_next_ms, announce_gap_ms;
	int64_t start_ms;
	/* PCP personalities (fakegw_pcp.c) */
	enum speaks speaks;
	long pcp_version; /* the only PCP version spoken */
	bool pcp_silent;  /* PCP requests dropped */
	long pcp_result;  /* every MAP answered so; -1: none */
	/* renewals of a live mapping answered so, new ones granted (miniupnpd
	 * on pf and IPv6 pinholes: NO_RESOURCES); -1: none */
	long pcp_renew_result;
	/* mappings that suggest external port 0 answered so; -1: none */
	long port_zero_result;
	long pcp_junk;		 /* junk responses before each real one */
	long pcp_min_lifetime;	 /* MAP lifetimes clamped up to this */
	long pcp_error_lifetime; /* how long an error response holds */
	long max_filters;	 /* FILTER options one MAP may carry */
	bool allow_third_party;
};

extern struct gateway gw;

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

/* fakegw.c: the clock, the log, sending, and what both servers share */
int64_t now_ms(void);
uint32_t sssoe(void);
uint64_t rng_next(void);
unsigned rng_below(unsigned n);
void log_event(const char *format, ...) __attribute__((format(printf, 1, 2)));
bool parse_number(const char *text, long min, long max, long *value);
bool parse_on_off(const char *text, bool *value);
bool dropped_by_silence(const union endpoint *from);
bool answer_is_last(void);
void close_gateway(void);
void send_now(const union endpoint *to, const uint8_t *data, size_t length);
void send_reply(const union endpoint *to, const uint8_t *data, size_t length);
void natpmp_unsupported_version(const union endpoint *to);

/* fakegw_net.c: addresses of either family */
socklen_t endpoint_length(const union endpoint *e);
uint16_t endpoint_port(const union endpoint *e);
void endpoint_set_port(union endpoint *e, uint16_t port);
void endpoint_address(const union endpoint *e, uint8_t address[16]);
const char *endpoint_text(const union endpoint *e);
void address_from_ipv4(uint32_t host_order, uint8_t address[16]);
bool address_is_ipv4(const uint8_t address[16]);
bool address_is_unspecified(const uint8_t address[16]);
const char *address_text(const uint8_t address[16]);
const char *ipv4_text(uint32_t host_order);
bool parse_address(const char *text, union endpoint *out);
bool parse_endpoint(const char *text, union endpoint *out);
unsigned endpoint_interface(const union endpoint *e);

/* fakegw_mappings.c: the table both protocols share */
const char *protocol_name(uint8_t protocol);
struct mapping *mapping_find(const uint8_t client[16], uint8_t protocol,
			     uint16_t internal);
struct mapping *mapping_new(const uint8_t client[16], uint8_t protocol,
			    uint16_t internal, enum made_by made_by);
void mapping_delete(struct mapping *m);
unsigned mappings_delete_all(const uint8_t client[16], uint8_t protocol,
			     const uint8_t *nonce);
bool port_taken(uint8_t protocol, uint16_t port);
uint16_t random_free_port(uint8_t protocol);
unsigned mappings_list(bool log_them, int made_by);

/* fakegw_pcp.c: the PCP server and its personalities */
void pcp_defaults(void);
void pcp_receive(const uint8_t *bytes, size_t length,
		 const union endpoint *from);
void pcp_unsupported_version(const union endpoint *to, const uint8_t *bytes,
			     size_t length);
bool pcp_flag(const char *option);
int pcp_option(const char *option, const char *value);
const char *pcp_control(const char *word, const char *arg, bool *handled);
extern const char pcp_help[];

#endif
