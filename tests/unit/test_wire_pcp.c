/* test_wire_pcp.c - the PCP codec (RFC 6887): requests encoded byte for
 * byte as sections 7.1, 11.1 and 13 draw them; only the response to the
 * very request sent is accepted, everything else is named; announcements
 * heard in either format. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "proto/announce.h"
#include "wire/wire_natpmp.h"
#include "wire/wire_pcp.h"

/* miniupnpd's restart announcement: version 2, R + ANNOUNCE, result 0,
 * lifetime 0, epoch 0, 12 reserved bytes */
static const uint8_t announce[24] = { 2, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };

/* Answers of miniupnpd 2.3.1 (Debian's miniupnpd-nftables) to requests
 * made by pcp_request_encode, recorded in a throwaway pair of network
 * namespaces (LAN host 10.99.0.2, gateway 10.99.0.1, ext_ip 45.99.9.9).
 * Each request is map_tcp_8080() with the changes its test names. Like
 * every miniupnpd response, each is the request sent back with the R bit,
 * result, lifetime and epoch written over it and the client address
 * zeroed, the assigned port and address filled in on success. */
static const uint8_t mu_map_tcp[60] = {
	0x02, 0x81, 0x00, 0x00, 0x00, 0x00, 0x00, 0x78, 0x00, 0x00, 0x00, 0x02,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x1f, 0x2e, 0x3d, 0x4c, 0x5b, 0x6a, 0x79, 0x88, 0x97, 0xa6, 0xb5, 0xc4,
	0x06, 0x00, 0x00, 0x00, 0x1f, 0x90, 0x1f, 0x90, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0x2d, 0x63, 0x09, 0x09,
};

static const uint8_t mu_map_udp_options[88] = {
	0x02, 0x81, 0x00, 0x00, 0x00, 0x00, 0x00, 0x78, 0x00, 0x00, 0x00,
	0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x01, 0x2e, 0x3d, 0x4c, 0x5b, 0x6a, 0x79, 0x88, 0x97,
	0xa6, 0xb5, 0xc4, 0x11, 0x00, 0x00, 0x00, 0x13, 0x88, 0x13, 0x88,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff,
	0xff, 0x2d, 0x63, 0x09, 0x09, 0x02, 0x00, 0x00, 0x00, 0x03, 0x00,
	0x00, 0x14, 0x00, 0x78, 0x01, 0xbb, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xc6, 0x33, 0x64, 0x00,
};

static const uint8_t mu_third_party_refused[80] = {
	0x02, 0x81, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x02, 0x2e, 0x3d, 0x4c, 0x5b, 0x6a, 0x79, 0x88, 0x97, 0xa6, 0xb5, 0xc4,
	0x06, 0x00, 0x00, 0x00, 0x1f, 0x91, 0x1f, 0x91, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
	0x01, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0xff, 0xff, 0x0a, 0x63, 0x00, 0x03,
};

static const uint8_t mu_address_mismatch[60] = {
	0x02, 0x81, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x03, 0x2e, 0x3d, 0x4c, 0x5b, 0x6a, 0x79, 0x88, 0x97, 0xa6, 0xb5, 0xc4,
	0x06, 0x00, 0x00, 0x00, 0x1f, 0x90, 0x1f, 0x90, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
};

static const uint8_t mu_announce[24] = {
	0x02, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

static const uint8_t mu_unknown_optional[68] = {
	0x02, 0x81, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x04, 0x2e, 0x3d, 0x4c, 0x5b, 0x6a, 0x79, 0x88, 0x97, 0xa6, 0xb5, 0xc4,
	0x06, 0x00, 0x00, 0x00, 0x1f, 0x90, 0x1f, 0x90, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
	0xc8, 0x00, 0x00, 0x02, 0xab, 0xcd, 0x00, 0x00,
};

static const uint8_t mu_unknown_mandatory[64] = {
	0x02, 0x81, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x05, 0x2e, 0x3d, 0x4c, 0x5b, 0x6a, 0x79, 0x88, 0x97,
	0xa6, 0xb5, 0xc4, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x90, 0x1f, 0x90,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff,
	0xff, 0x00, 0x00, 0x00, 0x00, 0x64, 0x00, 0x00, 0x00,
};

static const uint8_t mu_delete[60] = {
	0x02, 0x81, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x1f, 0x2e, 0x3d, 0x4c, 0x5b, 0x6a, 0x79, 0x88, 0x97, 0xa6, 0xb5, 0xc4,
	0x06, 0x00, 0x00, 0x00, 0x1f, 0x90, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0x2d, 0x63, 0x09, 0x09,
};

static const uint8_t mu_not_authorized[60] = {
	0x02, 0x81, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x12,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x09, 0x2e, 0x3d, 0x4c, 0x5b, 0x6a, 0x79, 0x88, 0x97, 0xa6, 0xb5, 0xc4,
	0x11, 0x00, 0x00, 0x00, 0x13, 0x88, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0x2d, 0x63, 0x09, 0x09,
};

static const uint8_t nonce_1f[NONCE_SIZE] = { 0x1f, 0x2e, 0x3d, 0x4c,
					      0x5b, 0x6a, 0x79, 0x88,
					      0x97, 0xa6, 0xb5, 0xc4 };
/* 2001:db8::2, 2001:db8::7 and 2001:db8:1:: */
static const uint8_t host_v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
static const uint8_t external_v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 7 };
static const uint8_t network_v6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1 };

static void set_v4(uint8_t address[16], uint8_t a, uint8_t b, uint8_t c,
		   uint8_t d)
{
	memset(address, 0, 16);
	address[10] = 0xff;
	address[11] = 0xff;
	address[12] = a;
	address[13] = b;
	address[14] = c;
	address[15] = d;
}

/* the request behind the recorded answers: TCP 8080, lifetime 120 */
static struct pcp_request map_tcp_8080(void)
{
	struct pcp_request r = {
		.opcode = PCP_OP_MAP,
		.lifetime = 120,
		.protocol = PCP_PROTOCOL_TCP,
		.internal_port = 8080,
		.suggested_port = 8080,
	};

	memcpy(r.nonce, nonce_1f, NONCE_SIZE);
	set_v4(r.client_address, 10, 99, 0, 2);
	set_v4(r.suggested_address, 0, 0, 0, 0);
	return r;
}

/* A MAP response as a server writes it (sections 7.2 and 11.1), built
 * here byte by byte rather than by the encoder: the request's nonce,
 * protocol and internal port, lifetime 7200, epoch 1000, external
 * 45.99.9.9:9090. */
static size_t map_response(uint8_t *d, const struct pcp_request *r,
			   uint8_t result)
{
	memset(d, 0, 60);
	d[0] = 2;
	d[1] = 0x81;
	d[3] = result;
	d[6] = 0x1c; /* 7200 */
	d[7] = 0x20;
	d[10] = 0x03; /* 1000 */
	d[11] = 0xe8;
	memcpy(d + 24, r->nonce, 12);
	d[36] = r->protocol;
	d[40] = (uint8_t)(r->internal_port >> 8);
	d[41] = (uint8_t)r->internal_port;
	d[42] = 0x23; /* 9090 */
	d[43] = 0x82;
	set_v4(d + 44, 45, 99, 9, 9);
	return 60;
}

/* Appends an option (section 7.3): header, data, zeros to a multiple of
 * 4. Returns the new length. */
static size_t add_option(uint8_t *d, size_t length, uint8_t code,
			 uint16_t data_length, const uint8_t *data)
{
	d[length] = code;
	d[length + 1] = 0;
	d[length + 2] = (uint8_t)(data_length >> 8);
	d[length + 3] = (uint8_t)data_length;
	length += 4;
	if (data_length)
		memcpy(d + length, data, data_length);
	while (data_length % 4) {
		d[length + data_length] = 0;
		data_length++;
	}
	return length + data_length;
}

static void test_header(void)
{
	struct pcp_response_header h;
	uint8_t d[1104] = { 0 };

	memcpy(d, announce, 24);
	d[1] = 0x81; /* a MAP response */
	d[3] = 8;    /* NO_RESOURCES */
	d[7] = 120;  /* lifetime */
	d[11] = 77;  /* epoch */
	CHECK_EQ(pcp_response_header_decode(d, 24, &h), PCP_ACCEPTED);
	CHECK_EQ(h.version, 2);
	CHECK_EQ(h.opcode, 1);
	CHECK_EQ(h.result, 8);
	CHECK_EQ(h.lifetime, 120);
	CHECK_EQ(h.epoch, 77);
	CHECK_EQ(pcp_response_header_decode(d, 23, &h), PCP_TOO_SHORT);
	CHECK_EQ(h.epoch, 0); /* zeroed on refusal */
	CHECK_EQ(pcp_response_header_decode(d, 26, &h), PCP_NOT_MULTIPLE_OF_4);
	CHECK_EQ(pcp_response_header_decode(d, 1104, &h), PCP_TOO_LONG);
	CHECK_EQ(pcp_response_header_decode(d, 1100, &h), PCP_ACCEPTED);
	d[0] = 1;
	CHECK_EQ(pcp_response_header_decode(d, 24, &h), PCP_NOT_VERSION_2);
	d[0] = 2;
	d[1] = 0x01; /* a request, not a response */
	CHECK_EQ(pcp_response_header_decode(d, 24, &h), PCP_NOT_A_RESPONSE);
}

static void test_announce(void)
{
	struct pcp_response_header h;
	uint8_t d[24];

	CHECK_EQ(pcp_announce_decode(announce, 24, &h), PCP_ACCEPTED);
	CHECK_EQ(h.epoch, 0);
	memcpy(d, announce, 24);
	d[1] = 0x81;
	CHECK_EQ(pcp_announce_decode(d, 24, &h), PCP_NOT_AN_ANNOUNCE);
	d[1] = 0x80;
	d[3] = 1;
	CHECK_EQ(pcp_announce_decode(d, 24, &h), PCP_NOT_SUCCESS);
}

static void test_either_format(void)
{
	/* RFC 6886 section 3.2.1: an address reply to 224.0.0.1:5350 */
	static const uint8_t natpmp[12] = { 0,	  128,	0,  0, 0, 0,
					    0x13, 0x88, 44, 1, 2, 3 };
	struct announcement a;
	const char *why = NULL;
	uint8_t d[24];

	CHECK(announce_decode(natpmp, 12, &a, &why));
	CHECK_EQ(a.format, PROTOCOL_NATPMP);
	CHECK_EQ(a.epoch, 5000);
	CHECK_EQ(ip_address_v4(&a.external_address), 0x2c010203);
	CHECK(announce_decode(announce, 24, &a, &why));
	CHECK_EQ(a.format, PROTOCOL_PCP);
	CHECK(!ip_address_is_set(&a.external_address));
	/* an announcement of 0.0.0.0 says nothing about the address */
	memcpy(d, natpmp, 12);
	memset(d + 8, 0, 4);
	CHECK(announce_decode(d, 12, &a, &why));
	CHECK(!ip_address_is_set(&a.external_address));
	/* a failure result is no announcement */
	d[3] = 3;
	CHECK(!announce_decode(d, 12, &a, &why));
	CHECK_STR_CONTAINS(why, "not success");
	CHECK(!announce_decode(announce, 20, &a, &why));
	CHECK_STR_CONTAINS(why, "shorter than a PCP header");
	CHECK(!announce_decode(natpmp, 11, &a, &why));
}

/* A NAT-PMP client hears a PCP server's refusal of version 0 as such,
 * and junk that merely starts with 2, or a PCP response to something
 * else, as no answer. */
static void test_pcp_answer_to_natpmp(void)
{
	struct natpmp_request address = { .opcode = NATPMP_OP_ADDRESS };
	struct natpmp_reply reply;
	uint8_t d[24];

	memcpy(d, announce, 24);
	d[3] = PCP_RESULT_UNSUPPORTED_VERSION;
	CHECK_EQ(natpmp_reply_decode(d, 24, &address, &reply),
		 NATPMP_REPLY_PCP_FORMAT);
	CHECK_EQ(natpmp_reply_decode(d, 12, &address, &reply),
		 NATPMP_REPLY_BAD_VERSION);
	/* any other PCP response answers a PCP request, not this one */
	d[3] = PCP_RESULT_SUCCESS;
	CHECK_EQ(natpmp_reply_decode(d, 24, &address, &reply),
		 NATPMP_REPLY_BAD_VERSION);
}

static void test_encode_map_ipv4(void)
{
	static const uint8_t expected[60] = {
		2,    1,
		0,    0, /* version, R=0 and opcode MAP, reserved */
		0,    0,
		0,    120, /* requested lifetime */
		0,    0,
		0,    0, /* client IP address: ::ffff:10.99.0.2 */
		0,    0,
		0,    0, /* */
		0,    0,
		0xff, 0xff, /* */
		10,   99,
		0,    2, /* */
		0x1f, 0x2e,
		0x3d, 0x4c, /* mapping nonce */
		0x5b, 0x6a,
		0x79, 0x88, /* */
		0x97, 0xa6,
		0xb5, 0xc4, /* */
		6,    0,
		0,    0, /* protocol TCP, reserved */
		0x1f, 0x90,
		0x1f, 0x90, /* internal port, suggested external */
		0,    0,
		0,    0, /* suggested external address: ::ffff:0.0.0.0 */
		0,    0,
		0,    0, /* */
		0,    0,
		0xff, 0xff, /* */
		0,    0,
		0,    0, /* */
	};
	struct pcp_request r = map_tcp_8080();
	uint8_t buffer[PCP_DATAGRAM_MAX];

	CHECK_EQ(pcp_request_encode(&r, buffer, sizeof(buffer)), 60);
	CHECK(memcmp(buffer, expected, 60) == 0);
	CHECK_EQ(pcp_request_encode(&r, buffer, 59), 0);
	CHECK_EQ(pcp_request_encode(&r, buffer, 60), 60);
}

static void test_encode_map_ipv6(void)
{
	static const uint8_t expected[60] = {
		2,    1,    0,	  0,	/* version, opcode MAP, reserved */
		0,    0,    0x1c, 0x20, /* requested lifetime 7200 */
		0x20, 0x01, 0x0d, 0xb8, /* client IP address: 2001:db8::2 */
		0,    0,    0,	  0,	/* */
		0,    0,    0,	  0,	/* */
		0,    0,    0,	  2,	/* */
		0x1f, 0x2e, 0x3d, 0x4c, /* mapping nonce */
		0x5b, 0x6a, 0x79, 0x88, /* */
		0x97, 0xa6, 0xb5, 0xc4, /* */
		17,   0,    0,	  0,	/* protocol UDP, reserved */
		0x13, 0x88, 0x1f, 0x91, /* internal port 5000, suggested 8081 */
		0x20, 0x01, 0x0d, 0xb8, /* suggested address: 2001:db8::7 */
		0,    0,    0,	  0,	/* */
		0,    0,    0,	  0,	/* */
		0,    0,    0,	  7,	/* */
	};
	struct pcp_request r = map_tcp_8080();
	uint8_t buffer[64];

	r.lifetime = 7200;
	r.protocol = PCP_PROTOCOL_UDP;
	r.internal_port = 5000;
	r.suggested_port = 8081;
	memcpy(r.client_address, host_v6, 16);
	memcpy(r.suggested_address, external_v6, 16);
	CHECK_EQ(pcp_request_encode(&r, buffer, sizeof(buffer)), 60);
	CHECK(memcmp(buffer, expected, 60) == 0);
}

static void test_encode_third_party(void)
{
	static const uint8_t option[20] = {
		1,  0,	0,    16,   /* THIRD_PARTY, reserved, length 16 */
		0,  0,	0,    0,    /* internal IP address: ::ffff:10.99.0.3 */
		0,  0,	0,    0,    /* */
		0,  0,	0xff, 0xff, /* */
		10, 99, 0,    3,    /* */
	};
	struct pcp_request r = map_tcp_8080();
	uint8_t buffer[128];

	r.third_party = true;
	set_v4(r.internal_address, 10, 99, 0, 3);
	CHECK_EQ(pcp_request_encode(&r, buffer, sizeof(buffer)), 80);
	CHECK(memcmp(buffer + 60, option, 20) == 0);
	CHECK_EQ(pcp_request_encode(&r, buffer, 79), 0);
}

static void test_encode_prefer_failure(void)
{
	static const uint8_t option[4] = { 2, 0, 0, 0 }; /* no data */
	struct pcp_request r = map_tcp_8080();
	uint8_t buffer[128];

	r.prefer_failure = true;
	CHECK_EQ(pcp_request_encode(&r, buffer, sizeof(buffer)), 64);
	CHECK(memcmp(buffer + 60, option, 4) == 0);
}

static void test_encode_filter(void)
{
	static const uint8_t option[24] = {
		3,    0,    0,	  20,	/* FILTER, reserved, length 20 */
		0,    48,   0x01, 0xbb, /* reserved, prefix 48, port 443 */
		0x20, 0x01, 0x0d, 0xb8, /* remote peer: 2001:db8:1:: */
		0,    1,    0,	  0,	/* */
		0,    0,    0,	  0,	/* */
		0,    0,    0,	  0,	/* */
	};
	struct pcp_request r = map_tcp_8080();
	uint8_t buffer[128];

	r.filter_count = 1;
	r.filters[0].prefix_length = 48;
	r.filters[0].remote_port = 443;
	memcpy(r.filters[0].remote_address, network_v6, 16);
	CHECK_EQ(pcp_request_encode(&r, buffer, sizeof(buffer)), 84);
	CHECK(memcmp(buffer + 60, option, 24) == 0);
}

/* THIRD_PARTY, PREFER_FAILURE, then the FILTERs in their order */
static void test_encode_option_order(void)
{
	struct pcp_request r = map_tcp_8080();
	uint8_t buffer[PCP_DATAGRAM_MAX];

	r.third_party = true;
	r.prefer_failure = true;
	r.filter_count = 2;
	r.filters[0].prefix_length = 128;
	r.filters[1].prefix_length = 120;
	set_v4(r.filters[1].remote_address, 198, 51, 100, 0);
	CHECK_EQ(pcp_request_encode(&r, buffer, sizeof(buffer)), 132);
	CHECK_EQ(buffer[60], PCP_OPTION_THIRD_PARTY);
	CHECK_EQ(buffer[80], PCP_OPTION_PREFER_FAILURE);
	CHECK_EQ(buffer[84], PCP_OPTION_FILTER);
	CHECK_EQ(buffer[89], 128);
	CHECK_EQ(buffer[108], PCP_OPTION_FILTER);
	CHECK_EQ(buffer[113], 120);
	CHECK_EQ(buffer[131], 0); /* 198.51.100.0 */
	CHECK_EQ(buffer[130], 100);
	/* the most a request can hold is far below 1100 bytes */
	r.filter_count = FILTER_MAX;
	CHECK_EQ(pcp_request_encode(&r, buffer, sizeof(buffer)), 276);
}

static void test_encode_announce(void)
{
	struct pcp_request r = map_tcp_8080();
	uint8_t buffer[64];
	uint8_t expected[24] = { 2, 0, 0, 0, 0, 0, 0, 0 };

	/* section 14.1: no opcode data; the MAP fields play no part */
	r.opcode = PCP_OP_ANNOUNCE;
	r.lifetime = 0;
	r.prefer_failure = true;
	set_v4(expected + 8, 10, 99, 0, 2);
	CHECK_EQ(pcp_request_encode(&r, buffer, sizeof(buffer)), 24);
	CHECK(memcmp(buffer, expected, 24) == 0);
	CHECK_EQ(pcp_request_encode(&r, buffer, 23), 0);
	r.lifetime = 60;
	CHECK_EQ(pcp_request_encode(&r, buffer, sizeof(buffer)), 0);
}

static void test_encode_refuses(void)
{
	struct pcp_request r = map_tcp_8080();
	uint8_t buffer[PCP_DATAGRAM_MAX];

	r.opcode = (enum pcp_opcode)2; /* PEER: not ours to send */
	CHECK_EQ(pcp_request_encode(&r, buffer, sizeof(buffer)), 0);
	r = map_tcp_8080();
	r.filter_count = FILTER_MAX + 1;
	CHECK_EQ(pcp_request_encode(&r, buffer, sizeof(buffer)), 0);
	r.filter_count = 1;
	r.filters[0].prefix_length = 129;
	CHECK_EQ(pcp_request_encode(&r, buffer, sizeof(buffer)), 0);
	/* an IPv4-mapped prefix shorter than the mapping itself */
	set_v4(r.filters[0].remote_address, 198, 51, 100, 0);
	r.filters[0].prefix_length = 95;
	CHECK_EQ(pcp_request_encode(&r, buffer, sizeof(buffer)), 0);
	r.filters[0].prefix_length = 0; /* no address filtering */
	CHECK_EQ(pcp_request_encode(&r, buffer, sizeof(buffer)), 84);
	/* section 11.1: all protocols means all ports */
	r = map_tcp_8080();
	r.protocol = 0;
	CHECK_EQ(pcp_request_encode(&r, buffer, sizeof(buffer)), 0);
	r.internal_port = 0;
	CHECK_EQ(pcp_request_encode(&r, buffer, sizeof(buffer)), 60);
}

static void test_decode_map_ipv6(void)
{
	struct pcp_request r = map_tcp_8080();
	struct pcp_response p;
	uint8_t d[60];

	memcpy(r.client_address, host_v6, 16);
	map_response(d, &r, PCP_RESULT_SUCCESS);
	memcpy(d + 44, external_v6, 16);
	d[3] = 0;
	d[4] = 0x01; /* lifetime 0x01001c20 */
	d[8] = 0x80; /* epoch 0x800003e8 */
	CHECK_EQ(pcp_response_decode(d, 60, &r, &p), PCP_ACCEPTED);
	CHECK_EQ(p.header.version, 2);
	CHECK_EQ(p.header.opcode, PCP_OP_MAP);
	CHECK_EQ(p.header.result, PCP_RESULT_SUCCESS);
	CHECK_EQ(p.header.lifetime, 0x01001c20);
	CHECK_EQ(p.header.epoch, 0x800003e8);
	CHECK(memcmp(p.nonce, nonce_1f, NONCE_SIZE) == 0);
	CHECK_EQ(p.protocol, PCP_PROTOCOL_TCP);
	CHECK_EQ(p.internal_port, 8080);
	CHECK_EQ(p.external_port, 9090);
	CHECK(memcmp(p.external_address, external_v6, 16) == 0);
	CHECK(!p.third_party);
	CHECK(!p.prefer_failure);
	CHECK_EQ(p.filter_count, 0);
	CHECK_EQ(p.unknown_options, 0);
}

static void test_decode_recorded_success(void)
{
	struct pcp_request r = map_tcp_8080();
	struct pcp_response p;
	uint8_t ipv4_external[16];

	set_v4(ipv4_external, 45, 99, 9, 9);
	CHECK_EQ(pcp_response_decode(mu_map_tcp, sizeof(mu_map_tcp), &r, &p),
		 PCP_ACCEPTED);
	CHECK_EQ(p.header.result, PCP_RESULT_SUCCESS);
	CHECK_EQ(p.header.lifetime, 120);
	CHECK_EQ(p.header.epoch, 2);
	CHECK_EQ(p.protocol, PCP_PROTOCOL_TCP);
	CHECK_EQ(p.internal_port, 8080);
	CHECK_EQ(p.external_port, 8080);
	CHECK(memcmp(p.external_address, ipv4_external, 16) == 0);
	/* the deletion: lifetime 0, suggested port 0 */
	r.lifetime = 0;
	r.suggested_port = 0;
	CHECK_EQ(pcp_response_decode(mu_delete, sizeof(mu_delete), &r, &p),
		 PCP_ACCEPTED);
	CHECK_EQ(p.header.result, PCP_RESULT_SUCCESS);
	CHECK_EQ(p.header.lifetime, 0);
	CHECK_EQ(p.external_port, 0);
}

/* UDP 5000 with PREFER_FAILURE and FILTER 198.51.100.0/24 port 443: both
 * come back */
static void test_decode_recorded_options(void)
{
	struct pcp_request r = map_tcp_8080();
	struct pcp_response p;

	r.nonce[0] = 0x01;
	r.protocol = PCP_PROTOCOL_UDP;
	r.internal_port = 5000;
	r.suggested_port = 5000;
	r.prefer_failure = true;
	r.filter_count = 1;
	r.filters[0].prefix_length = 120;
	r.filters[0].remote_port = 443;
	set_v4(r.filters[0].remote_address, 198, 51, 100, 0);
	CHECK_EQ(pcp_response_decode(mu_map_udp_options,
				     sizeof(mu_map_udp_options), &r, &p),
		 PCP_ACCEPTED);
	CHECK_EQ(p.header.result, PCP_RESULT_SUCCESS);
	CHECK_EQ(p.protocol, PCP_PROTOCOL_UDP);
	CHECK_EQ(p.external_port, 5000);
	CHECK(p.prefer_failure);
	CHECK_EQ(p.filter_count, 1);
	CHECK(!p.third_party);
}

/* error responses carry the request's fields back, options included */
static void test_decode_recorded_errors(void)
{
	struct pcp_request r = map_tcp_8080();
	struct pcp_response p;

	r.nonce[0] = 0x02;
	r.internal_port = 8081;
	r.suggested_port = 8081;
	r.third_party = true;
	set_v4(r.internal_address, 10, 99, 0, 3);
	CHECK_EQ(pcp_response_decode(mu_third_party_refused,
				     sizeof(mu_third_party_refused), &r, &p),
		 PCP_ACCEPTED);
	CHECK_EQ(p.header.result, PCP_RESULT_UNSUPPORTED_OPTION);
	CHECK(p.third_party);
	CHECK(memcmp(p.internal_address, r.internal_address, 16) == 0);
	r = map_tcp_8080();
	r.nonce[0] = 0x03;
	set_v4(r.client_address, 10, 99, 0, 77);
	CHECK_EQ(pcp_response_decode(mu_address_mismatch,
				     sizeof(mu_address_mismatch), &r, &p),
		 PCP_ACCEPTED);
	CHECK_EQ(p.header.result, PCP_RESULT_ADDRESS_MISMATCH);
	/* deleting UDP 5000 with a nonce other than the one that made it */
	r = map_tcp_8080();
	r.nonce[0] = 0x09;
	r.protocol = PCP_PROTOCOL_UDP;
	r.internal_port = 5000;
	r.suggested_port = 0;
	r.lifetime = 0;
	CHECK_EQ(pcp_response_decode(mu_not_authorized,
				     sizeof(mu_not_authorized), &r, &p),
		 PCP_ACCEPTED);
	CHECK_EQ(p.header.result, PCP_RESULT_NOT_AUTHORIZED);
	CHECK_EQ(p.header.epoch, 18);
}

/* An ANNOUNCE request is answered by a 24-byte ANNOUNCE response; the
 * recorded one would not match a MAP request. */
static void test_decode_recorded_announce(void)
{
	struct pcp_request r = { .opcode = PCP_OP_ANNOUNCE };
	struct pcp_response p;

	CHECK_EQ(pcp_response_decode(mu_announce, 24, &r, &p), PCP_ACCEPTED);
	CHECK_EQ(p.header.opcode, PCP_OP_ANNOUNCE);
	CHECK_EQ(p.header.epoch, 2);
	r = map_tcp_8080();
	CHECK_EQ(pcp_response_decode(mu_announce, 24, &r, &p),
		 PCP_WRONG_OPCODE);
}

/* Each reason to ignore a datagram, from one specific flaw. */
static void test_verdicts_of_the_header(void)
{
	struct pcp_request r = map_tcp_8080();
	struct pcp_response p;
	uint8_t d[1104] = { 0 };

	map_response(d, &r, PCP_RESULT_SUCCESS);
	CHECK_EQ(pcp_response_decode(d, 20, &r, &p), PCP_TOO_SHORT);
	/* a MAP response cut after the header */
	CHECK_EQ(pcp_response_decode(d, 56, &r, &p), PCP_TOO_SHORT);
	CHECK_EQ(pcp_response_decode(d, 1104, &r, &p), PCP_TOO_LONG);
	CHECK_EQ(pcp_response_decode(d, 62, &r, &p), PCP_NOT_MULTIPLE_OF_4);
	d[0] = 1;
	CHECK_EQ(pcp_response_decode(d, 60, &r, &p), PCP_NOT_VERSION_2);
	d[0] = 2;
	d[1] = 0x01;
	CHECK_EQ(pcp_response_decode(d, 60, &r, &p), PCP_NOT_A_RESPONSE);
	d[1] = 0x82; /* PEER */
	CHECK_EQ(pcp_response_decode(d, 60, &r, &p), PCP_WRONG_OPCODE);
	d[1] = 0x80;
	CHECK_EQ(pcp_response_decode(d, 60, &r, &p), PCP_WRONG_OPCODE);
	d[1] = 0x81;
	CHECK_EQ(pcp_response_decode(d, 60, &r, &p), PCP_ACCEPTED);
}

static void test_verdicts_of_the_map_fields(void)
{
	struct pcp_request r = map_tcp_8080();
	struct pcp_response p;
	uint8_t d[60];

	map_response(d, &r, PCP_RESULT_SUCCESS);
	d[35] ^= 1; /* last byte of the nonce */
	CHECK_EQ(pcp_response_decode(d, 60, &r, &p), PCP_WRONG_NONCE);
	CHECK_EQ(p.header.epoch, 0); /* zeroed on refusal */
	CHECK_EQ(p.internal_port, 0);
	d[35] ^= 1;
	d[36] = PCP_PROTOCOL_UDP;
	CHECK_EQ(pcp_response_decode(d, 60, &r, &p), PCP_WRONG_PROTOCOL);
	d[36] = PCP_PROTOCOL_TCP;
	d[41]++;
	CHECK_EQ(pcp_response_decode(d, 60, &r, &p), PCP_WRONG_INTERNAL_PORT);
	d[41]--;
	/* an error response is matched the same way */
	d[3] = PCP_RESULT_NO_RESOURCES;
	CHECK_EQ(pcp_response_decode(d, 60, &r, &p), PCP_ACCEPTED);
	d[24] ^= 0x80;
	CHECK_EQ(pcp_response_decode(d, 60, &r, &p), PCP_WRONG_NONCE);
}

static void test_verdicts_of_the_options(void)
{
	static const uint8_t twelve[12] = { [10] = 0xff, [11] = 0xff };
	static const uint8_t garbage[4] = { 0xde, 0xad, 0xbe, 0xef };
	struct pcp_request r = map_tcp_8080();
	struct pcp_response p;
	uint8_t d[128];
	size_t n;

	r.third_party = true;
	set_v4(r.internal_address, 10, 99, 0, 3);
	n = map_response(d, &r, 0);
	/* THIRD_PARTY with a 12-byte address */
	CHECK_EQ(
		pcp_response_decode(d, add_option(d, n, 1, 12, twelve), &r, &p),
		PCP_BAD_OPTION);
	/* THIRD_PARTY declaring 20 bytes in a datagram that has 16 */
	n = add_option(d, n, 1, 16, r.internal_address);
	d[63] = 20;
	CHECK_EQ(pcp_response_decode(d, n, &r, &p), PCP_BAD_OPTION);
	d[63] = 16;
	CHECK_EQ(pcp_response_decode(d, n, &r, &p), PCP_ACCEPTED);
	/* trailing bytes after the last option */
	memcpy(d + n, garbage, 4);
	CHECK_EQ(pcp_response_decode(d, n + 4, &r, &p), PCP_BAD_OPTION);
	CHECK_EQ(pcp_response_decode(d, n + 2, &r, &p), PCP_NOT_MULTIPLE_OF_4);
	/* an option header that does not fit at all: the datagram ends
	 * inside the last one's data */
	CHECK_EQ(pcp_response_decode(d, n - 4, &r, &p), PCP_BAD_OPTION);
}

/* Section 13: the known options come back only if asked for, at most as
 * often as asked for, and THIRD_PARTY for the host asked about. */
static void test_verdicts_of_unrequested_options(void)
{
	uint8_t filter[20] = { 0, 128 };
	uint8_t stranger[16];
	struct pcp_request r = map_tcp_8080();
	struct pcp_response p;
	uint8_t d[128];
	size_t n = map_response(d, &r, 0);

	set_v4(stranger, 10, 99, 0, 4);
	CHECK_EQ(pcp_response_decode(d, add_option(d, n, 2, 0, NULL), &r, &p),
		 PCP_BAD_OPTION);
	CHECK_EQ(
		pcp_response_decode(d, add_option(d, n, 3, 20, filter), &r, &p),
		PCP_BAD_OPTION);
	r.prefer_failure = true;
	n = add_option(d, n, 2, 0, NULL);
	CHECK_EQ(pcp_response_decode(d, n, &r, &p), PCP_ACCEPTED);
	CHECK_EQ(pcp_response_decode(d, add_option(d, n, 2, 0, NULL), &r, &p),
		 PCP_BAD_OPTION);
	/* PREFER_FAILURE with data */
	CHECK_EQ(
		pcp_response_decode(d, add_option(d, 60, 2, 4, filter), &r, &p),
		PCP_BAD_OPTION);
	n = add_option(d, 60, 2, 0, NULL);
	r.third_party = true;
	set_v4(r.internal_address, 10, 99, 0, 3);
	CHECK_EQ(pcp_response_decode(d, add_option(d, n, 1, 16, stranger), &r,
				     &p),
		 PCP_WRONG_INTERNAL_ADDRESS);
	r.filter_count = 1;
	n = add_option(d, n, 3, 20, filter);
	CHECK_EQ(pcp_response_decode(d, n, &r, &p), PCP_ACCEPTED);
	CHECK_EQ(
		pcp_response_decode(d, add_option(d, n, 3, 20, filter), &r, &p),
		PCP_BAD_OPTION);
	filter[1] = 129; /* no such prefix length */
	CHECK_EQ(pcp_response_decode(d, add_option(d, 64, 3, 20, filter), &r,
				     &p),
		 PCP_BAD_OPTION);
	/* a FILTER of 16 bytes */
	filter[1] = 128;
	CHECK_EQ(pcp_response_decode(d, add_option(d, 64, 3, 16, filter), &r,
				     &p),
		 PCP_BAD_OPTION);
}

/* Section 7.3: a client skips the options it does not know, whatever
 * their code, mandatory-to-process ones included. */
static void test_unknown_options_skipped(void)
{
	static const uint8_t data[5] = { 1, 2, 3, 4, 5 };
	struct pcp_request r = map_tcp_8080();
	struct pcp_response p;
	uint8_t d[128];
	size_t n = map_response(d, &r, 0);

	r.prefer_failure = true;
	n = add_option(d, n, 128, 0, NULL);
	n = add_option(d, n, 2, 0, NULL);
	n = add_option(d, n, 99, 5, data); /* padded to 8 */
	n = add_option(d, n, 255, 1, data);
	n = add_option(d, n, 0, 0, NULL); /* code 0 is reserved, not junk */
	CHECK_EQ(n, 60 + 4 + 4 + 12 + 8 + 4);
	CHECK_EQ(pcp_response_decode(d, n, &r, &p), PCP_ACCEPTED);
	CHECK_EQ(p.unknown_options, 4);
	CHECK(p.prefer_failure);
	CHECK_EQ(p.external_port, 9090);
	/* an unknown option must fit as well: the datagram ends inside the
	 * one of code 99 */
	CHECK_EQ(pcp_response_decode(d, n - 16, &r, &p), PCP_BAD_OPTION);
	/* as miniupnpd 2.3.1 echoes them, refusing the requests (it stepped
	 * over neither the option header nor the padding, fixed later) */
	r = map_tcp_8080();
	r.nonce[0] = 0x04;
	CHECK_EQ(pcp_response_decode(mu_unknown_optional,
				     sizeof(mu_unknown_optional), &r, &p),
		 PCP_ACCEPTED);
	CHECK_EQ(p.header.result, PCP_RESULT_MALFORMED_OPTION);
	CHECK_EQ(p.unknown_options, 1);
	r.nonce[0] = 0x05;
	CHECK_EQ(pcp_response_decode(mu_unknown_mandatory,
				     sizeof(mu_unknown_mandatory), &r, &p),
		 PCP_ACCEPTED);
	CHECK_EQ(p.header.result, PCP_RESULT_UNSUPPORTED_OPTION);
	CHECK_EQ(p.unknown_options, 1);
}

static void test_announce_response_options(void)
{
	struct pcp_request r = { .opcode = PCP_OP_ANNOUNCE };
	struct pcp_response p;
	uint8_t d[64];
	size_t n;

	memcpy(d, announce, 24);
	n = add_option(d, 24, 200, 0, NULL);
	CHECK_EQ(pcp_response_decode(d, n, &r, &p), PCP_ACCEPTED);
	CHECK_EQ(p.unknown_options, 1);
	/* PREFER_FAILURE belongs to MAP, even if the struct says yes */
	r.prefer_failure = true;
	n = add_option(d, 24, 2, 0, NULL);
	CHECK_EQ(pcp_response_decode(d, n, &r, &p), PCP_BAD_OPTION);
}

/* Section 9: a server of another version answers UNSUPP_VERSION in its
 * own version, which tells the client what it speaks. */
static void test_other_version(void)
{
	struct pcp_request r = map_tcp_8080();
	struct pcp_response p;
	uint8_t d[1104] = { 1, 0x81, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9 };

	CHECK_EQ(pcp_response_decode(d, 24, &r, &p), PCP_OTHER_VERSION);
	CHECK_EQ(p.header.version, 1);
	CHECK_EQ(p.header.result, PCP_RESULT_UNSUPPORTED_VERSION);
	CHECK_EQ(p.header.epoch, 9);
	CHECK_EQ(p.internal_port, 0); /* nothing else is read */
	/* its opcode data, if any, is not compared: its layout is unknown */
	CHECK_EQ(pcp_response_decode(d, 60, &r, &p), PCP_OTHER_VERSION);
	d[1] = 0x80;
	CHECK_EQ(pcp_response_decode(d, 24, &r, &p), PCP_OTHER_VERSION);
	d[0] = 3;
	CHECK_EQ(pcp_response_decode(d, 24, &r, &p), PCP_OTHER_VERSION);
	CHECK_EQ(p.header.version, 3);
	/* and only a response of PCP's size, with the R bit and result 1 */
	d[0] = 1;
	CHECK_EQ(pcp_response_decode(d, 20, &r, &p), PCP_TOO_SHORT);
	CHECK_EQ(pcp_response_decode(d, 28 + 2, &r, &p), PCP_NOT_MULTIPLE_OF_4);
	CHECK_EQ(pcp_response_decode(d, 1104, &r, &p), PCP_TOO_LONG);
	d[1] = 0x01;
	CHECK_EQ(pcp_response_decode(d, 24, &r, &p), PCP_NOT_VERSION_2);
	d[1] = 0x81;
	d[3] = PCP_RESULT_NOT_AUTHORIZED;
	CHECK_EQ(pcp_response_decode(d, 24, &r, &p), PCP_NOT_VERSION_2);
	CHECK_EQ(p.header.version, 0);
	/* a version 2 UNSUPP_VERSION is an ordinary error response */
	map_response(d, &r, PCP_RESULT_UNSUPPORTED_VERSION);
	CHECK_EQ(pcp_response_decode(d, 60, &r, &p), PCP_ACCEPTED);
	CHECK_EQ(p.header.version, 2);
}

/* Reads the request as a server would (sections 7.1, 11.1, 13) and
 * answers it the way miniupnpd does, byte by byte: the request sent back
 * with R, result, lifetime, epoch, the client address zeroed and the
 * assigned address filled in. */
static size_t serve(const uint8_t *request, size_t length, uint8_t *d)
{
	size_t offset = 60;

	if (length < 60 || request[0] != 2 || request[1] != 1)
		return 0;
	while (offset + 4 <= length) /* each option must fit */
		offset += 4 + (size_t)(request[offset + 2] << 8 |
				       request[offset + 3]);
	if (offset != length)
		return 0;
	memcpy(d, request, length);
	d[1] = 0x81;
	d[3] = PCP_RESULT_SUCCESS;
	d[11] = 42; /* epoch */
	memset(d + 12, 0, 12);
	d[42] = 0x30; /* assigned port 12345 */
	d[43] = 0x39;
	set_v4(d + 44, 203, 0, 113, 7);
	return length;
}

static void test_round_trip(void)
{
	struct pcp_request r = map_tcp_8080();
	struct pcp_response p;
	uint8_t request[PCP_DATAGRAM_MAX], d[PCP_DATAGRAM_MAX];
	size_t length;

	r.third_party = true;
	set_v4(r.internal_address, 10, 99, 0, 3);
	r.prefer_failure = true;
	r.filter_count = 3;
	r.filters[0].prefix_length = 128;
	memcpy(r.filters[0].remote_address, host_v6, 16);
	r.filters[1].prefix_length = 104;
	set_v4(r.filters[1].remote_address, 198, 51, 100, 0);
	r.filters[2].remote_port = 53;
	length = pcp_request_encode(&r, request, sizeof(request));
	CHECK_EQ(length, 60 + 20 + 4 + 3 * 24);
	CHECK_EQ(serve(request, length, d), length);
	CHECK_EQ(pcp_response_decode(d, length, &r, &p), PCP_ACCEPTED);
	CHECK_EQ(p.header.epoch, 42);
	CHECK_EQ(p.header.lifetime, 120);
	CHECK_EQ(p.internal_port, 8080);
	CHECK_EQ(p.external_port, 12345);
	CHECK_EQ(p.external_address[15], 7);
	CHECK(p.third_party);
	CHECK(p.prefer_failure);
	CHECK_EQ(p.filter_count, 3);
	CHECK_EQ(p.unknown_options, 0);
}

static void test_describe_request(void)
{
	struct pcp_request r = map_tcp_8080();
	char text[512];

	pcp_request_describe(&r, text, sizeof(text));
	CHECK(strcmp(text,
		     "PCP map tcp request: internal port 8080, suggested external port 8080, lifetime 120s, nonce 1f2e3d4c5b6a798897a6b5c4, client address 10.99.0.2") ==
	      0);
	r.lifetime = 0;
	r.protocol = PCP_PROTOCOL_UDP;
	memcpy(r.client_address, host_v6, 16);
	memcpy(r.suggested_address, external_v6, 16);
	r.third_party = true;
	set_v4(r.internal_address, 10, 99, 0, 3);
	r.prefer_failure = true;
	r.filter_count = 2;
	r.filters[0].prefix_length = 120;
	r.filters[0].remote_port = 443;
	set_v4(r.filters[0].remote_address, 198, 51, 100, 0);
	memcpy(r.filters[1].remote_address, network_v6, 16);
	r.filters[1].prefix_length = 48;
	pcp_request_describe(&r, text, sizeof(text));
	CHECK_STR_CONTAINS(text, "PCP map udp request: ");
	CHECK_STR_CONTAINS(text, "lifetime 0s (delete)");
	CHECK_STR_CONTAINS(text, ", suggested external address 2001:db8::7");
	CHECK_STR_CONTAINS(text, ", third party 10.99.0.3, prefer failure");
	CHECK_STR_CONTAINS(text, ", filter 198.51.100.0/24 port 443");
	CHECK_STR_CONTAINS(text, ", filter 2001:db8:1::/48 any port");
	CHECK_STR_CONTAINS(text, ", client address 2001:db8::2");
	r = (struct pcp_request){ .opcode = PCP_OP_ANNOUNCE };
	set_v4(r.client_address, 10, 99, 0, 2);
	pcp_request_describe(&r, text, sizeof(text));
	CHECK(strcmp(text, "PCP announce request, client address 10.99.0.2") ==
	      0);
}

static void test_describe_response(void)
{
	struct pcp_request r = map_tcp_8080();
	struct pcp_response p;
	char text[512];
	uint8_t d[64];

	pcp_response_decode(mu_map_tcp, sizeof(mu_map_tcp), &r, &p);
	pcp_response_describe(&p, text, sizeof(text));
	CHECK(strcmp(text,
		     "PCP map tcp response: result 0 (SUCCESS), epoch 2, internal port 8080, external 45.99.9.9:8080, lifetime 120s") ==
	      0);
	map_response(d, &r, PCP_RESULT_NO_RESOURCES);
	memcpy(d + 44, external_v6, 16);
	pcp_response_decode(d, add_option(d, 60, 200, 0, NULL), &r, &p);
	pcp_response_describe(&p, text, sizeof(text));
	CHECK_STR_CONTAINS(text, "result 8 (NO_RESOURCES), epoch 1000");
	CHECK_STR_CONTAINS(text, "external [2001:db8::7]:9090");
	CHECK_STR_CONTAINS(text, ", 1 unknown options");
	memcpy(d, announce, 24);
	d[1] = 0x81;
	d[3] = PCP_RESULT_UNSUPPORTED_VERSION;
	d[0] = 1;
	pcp_response_decode(d, 24, &r, &p);
	pcp_response_describe(&p, text, sizeof(text));
	CHECK(strcmp(text,
		     "PCP version 1 response: result 1 (UNSUPP_VERSION)") == 0);
}

/* Whatever the buffer, the line stops at its end, terminated. */
static void test_describe_never_overflows(void)
{
	struct pcp_request r = map_tcp_8080();
	struct pcp_response p;
	char text[300];

	r.third_party = true;
	r.prefer_failure = true;
	r.filter_count = FILTER_MAX;
	for (size_t i = 0; i < FILTER_MAX; i++) {
		r.filters[i].prefix_length = 128;
		r.filters[i].remote_port = 65535;
		memset(r.filters[i].remote_address, 0x22, 16);
	}
	pcp_response_decode(mu_map_tcp, sizeof(mu_map_tcp), &r, &p);
	for (size_t size = 0; size < sizeof(text) - 1; size++) {
		memset(text, 'x', sizeof(text));
		pcp_request_describe(&r, text, size);
		CHECK(text[size] == 'x' && (size == 0 || strlen(text) < size));
		memset(text, 'x', sizeof(text));
		pcp_response_describe(&p, text, size);
		CHECK(text[size] == 'x' && (size == 0 || strlen(text) < size));
	}
}

static void test_result_names(void)
{
	static const char *const names[] = {
		"SUCCESS",	    "UNSUPP_VERSION",
		"NOT_AUTHORIZED",   "MALFORMED_REQUEST",
		"UNSUPP_OPCODE",    "UNSUPP_OPTION",
		"MALFORMED_OPTION", "NETWORK_FAILURE",
		"NO_RESOURCES",	    "UNSUPP_PROTOCOL",
		"USER_EX_QUOTA",    "CANNOT_PROVIDE_EXTERNAL",
		"ADDRESS_MISMATCH", "EXCESSIVE_REMOTE_PEERS",
	};

	for (uint8_t i = 0; i < 14; i++)
		CHECK(strcmp(pcp_result_name(i), names[i]) == 0);
	CHECK(strcmp(pcp_result_name(PCP_RESULT_EXCESSIVE_REMOTE_PEERS),
		     "EXCESSIVE_REMOTE_PEERS") == 0);
	CHECK(strcmp(pcp_result_name(14), "unknown result") == 0);
	CHECK(strcmp(pcp_result_name(255), "unknown result") == 0);
}

/* every verdict has a text of its own */
static void test_verdict_texts(void)
{
	for (int i = PCP_ACCEPTED; i <= PCP_WRONG_INTERNAL_ADDRESS; i++) {
		const char *text = pcp_verdict_text((enum pcp_verdict)i);
		CHECK(strcmp(text, "unknown") != 0);
		for (int j = PCP_ACCEPTED; j < i; j++)
			CHECK(strcmp(text, pcp_verdict_text(
						   (enum pcp_verdict)j)) != 0);
	}
}

int main(void)
{
	test_header();
	test_announce();
	test_either_format();
	test_pcp_answer_to_natpmp();
	test_encode_map_ipv4();
	test_encode_map_ipv6();
	test_encode_third_party();
	test_encode_prefer_failure();
	test_encode_filter();
	test_encode_option_order();
	test_encode_announce();
	test_encode_refuses();
	test_decode_map_ipv6();
	test_decode_recorded_success();
	test_decode_recorded_options();
	test_decode_recorded_errors();
	test_decode_recorded_announce();
	test_verdicts_of_the_header();
	test_verdicts_of_the_map_fields();
	test_verdicts_of_the_options();
	test_verdicts_of_unrequested_options();
	test_unknown_options_skipped();
	test_announce_response_options();
	test_other_version();
	test_round_trip();
	test_describe_request();
	test_describe_response();
	test_describe_never_overflows();
	test_result_names();
	test_verdict_texts();
	return check_report("test_wire_pcp");
}
