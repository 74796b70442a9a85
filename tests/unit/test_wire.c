/* test_wire.c - the NAT-PMP codec: requests are encoded byte for byte as
 * RFC 6886 draws them, and only genuine replies are ever accepted. */
#include <stdint.h>

#include "check.h"
#include "wire/wire_natpmp.h"

static const struct natpmp_request map_tcp_8080 = {
	.opcode = NATPMP_OP_MAP_TCP,
	.internal_port = 8080,
	.suggested_external_port = 8081,
	.lifetime = 7200,
};

static void test_encode_address_request(void)
{
	struct natpmp_request request = { .opcode = NATPMP_OP_ADDRESS };
	uint8_t buffer[16];

	CHECK_EQ(natpmp_request_encode(&request, buffer, sizeof(buffer)), 2);
	CHECK_EQ(buffer[0], 0);
	CHECK_EQ(buffer[1], 0);
	CHECK_EQ(natpmp_request_encode(&request, buffer, 1), 0);
}

static void test_encode_map_request(void)
{
	static const uint8_t expected[12] = { 0,    2,	  0, 0, 0x1f, 0x90,
					      0x1f, 0x91, 0, 0, 0x1c, 0x20 };
	uint8_t buffer[16];

	CHECK_EQ(natpmp_request_encode(&map_tcp_8080, buffer, sizeof(buffer)),
		 12);
	CHECK(memcmp(buffer, expected, sizeof(expected)) == 0);
	CHECK_EQ(natpmp_request_encode(&map_tcp_8080, buffer, 11), 0);
}

static void test_delete_suggests_port_zero(void)
{
	/* RFC 6886 section 3.4: suggested external port MUST be 0 */
	struct natpmp_request request = map_tcp_8080;
	uint8_t buffer[12];

	request.lifetime = 0;
	natpmp_request_encode(&request, buffer, sizeof(buffer));
	CHECK_EQ(buffer[6], 0);
	CHECK_EQ(buffer[7], 0);
	CHECK_EQ(buffer[8] | buffer[9] | buffer[10] | buffer[11], 0);
}

static void test_decode_address_reply(void)
{
	static const uint8_t reply[12] = { 0,	 128,  0,   0, 0,   0,
					   0x03, 0xe8, 203, 0, 113, 7 };
	struct natpmp_request request = { .opcode = NATPMP_OP_ADDRESS };
	struct natpmp_reply decoded;

	CHECK_EQ(natpmp_reply_decode(reply, 12, &request, &decoded),
		 NATPMP_REPLY_ACCEPTED);
	CHECK_EQ(decoded.result, 0);
	CHECK(decoded.has_epoch);
	CHECK_EQ(decoded.epoch, 1000);
	CHECK(decoded.has_address);
	CHECK_EQ(decoded.external_address, 0xcb007107);
	CHECK_EQ(natpmp_reply_decode(reply, 11, &request, &decoded),
		 NATPMP_REPLY_BAD_LENGTH);
	CHECK(!decoded.has_address);
	CHECK_EQ(natpmp_reply_decode(reply, 13, &request, &decoded),
		 NATPMP_REPLY_BAD_LENGTH);
}

static const uint8_t map_reply[16] = {
	0, 130, 0, 0, 0, 0, 0x10, 0, 0x1f, 0x90, 0xc3, 0x50, 0, 0, 0x0e, 0x10
};

static void test_decode_map_reply(void)
{
	struct natpmp_reply decoded;

	CHECK_EQ(natpmp_reply_decode(map_reply, 16, &map_tcp_8080, &decoded),
		 NATPMP_REPLY_ACCEPTED);
	CHECK_EQ(decoded.internal_port, 8080);
	CHECK_EQ(decoded.external_port, 50000);
	CHECK_EQ(decoded.lifetime, 3600);
	CHECK_EQ(decoded.epoch, 4096);
	CHECK(decoded.has_mapping);
}

static void test_reject_foreign_replies(void)
{
	struct natpmp_request udp = map_tcp_8080;
	struct natpmp_request other_port = map_tcp_8080;
	struct natpmp_reply decoded;
	uint8_t copy[16];
	size_t length;

	udp.opcode = NATPMP_OP_MAP_UDP;
	other_port.internal_port = 8081;
	CHECK_EQ(natpmp_reply_decode(map_reply, 16, &udp, &decoded),
		 NATPMP_REPLY_WRONG_OPCODE);
	CHECK_EQ(natpmp_reply_decode(map_reply, 16, &other_port, &decoded),
		 NATPMP_REPLY_WRONG_INTERNAL_PORT);
	for (length = 0; length < 4; length++)
		CHECK_EQ(natpmp_reply_decode(map_reply, length, &map_tcp_8080,
					     &decoded),
			 NATPMP_REPLY_TOO_SHORT);
	for (length = 4; length < 16; length++)
		CHECK(natpmp_reply_decode(map_reply, length, &map_tcp_8080,
					  &decoded) != NATPMP_REPLY_ACCEPTED);

	memcpy(copy, map_reply, 16);
	copy[0] = 2; /* starts like PCP, but is no PCP response: junk */
	CHECK_EQ(natpmp_reply_decode(copy, 16, &map_tcp_8080, &decoded),
		 NATPMP_REPLY_BAD_VERSION);
	copy[0] = 1;
	CHECK_EQ(natpmp_reply_decode(copy, 16, &map_tcp_8080, &decoded),
		 NATPMP_REPLY_BAD_VERSION);
	memcpy(copy, map_reply, 16);
	copy[1] = 2; /* our own request reflected back */
	CHECK_EQ(natpmp_reply_decode(copy, 16, &map_tcp_8080, &decoded),
		 NATPMP_REPLY_NOT_A_RESPONSE);
}

static void test_error_reply_forms(void)
{
	/* 8 bytes: header and epoch, result 2 */
	static const uint8_t short_error[8] = { 0, 130, 0, 2, 0, 0, 0, 9 };
	/* section 3.5: an unsupported opcode echoes the request, result 5 */
	static const uint8_t echo[12] = { 0,	130,  0, 5, 0x1f, 0x90,
					  0x1f, 0x91, 0, 0, 0x1c, 0x20 };
	static const uint8_t short_success[8] = { 0, 130, 0, 0, 0, 0, 0, 9 };
	struct natpmp_request address = { .opcode = NATPMP_OP_ADDRESS };
	struct natpmp_request other_port = map_tcp_8080;
	struct natpmp_reply decoded;
	uint8_t address_error[8] = { 0, 128, 0, 3, 0, 0, 0, 1 };
	/* result 2 (not authorized), with an address all the same */
	static const uint8_t full_error[12] = { 0, 128, 0,   2, 0,   0,
						0, 9,	203, 0, 113, 7 };

	other_port.internal_port = 1;
	CHECK_EQ(natpmp_reply_decode(short_error, 8, &map_tcp_8080, &decoded),
		 NATPMP_REPLY_ACCEPTED);
	CHECK_EQ(decoded.result, 2);
	CHECK(decoded.has_epoch);
	CHECK(!decoded.has_mapping);
	CHECK_EQ(natpmp_reply_decode(echo, 12, &map_tcp_8080, &decoded),
		 NATPMP_REPLY_ACCEPTED);
	CHECK_EQ(decoded.result, 5);
	CHECK(!decoded.has_epoch);
	CHECK_EQ(natpmp_reply_decode(echo, 12, &other_port, &decoded),
		 NATPMP_REPLY_WRONG_INTERNAL_PORT);
	CHECK_EQ(natpmp_reply_decode(short_success, 8, &map_tcp_8080, &decoded),
		 NATPMP_REPLY_BAD_LENGTH);
	CHECK_EQ(natpmp_reply_decode(address_error, 8, &address, &decoded),
		 NATPMP_REPLY_ACCEPTED);
	CHECK_EQ(decoded.result, 3);
	CHECK(!decoded.has_address);
	/* section 3.2: a full-length error reply's address MUST be ignored */
	CHECK_EQ(natpmp_reply_decode(full_error, 12, &address, &decoded),
		 NATPMP_REPLY_ACCEPTED);
	CHECK_EQ(decoded.result, 2);
	CHECK(decoded.has_epoch);
	CHECK(!decoded.has_address);
	CHECK_EQ(decoded.external_address, 0);
}

/* A late answer to a renewal must not pass for the answer to the deletion
 * sent after it: a deletion is answered with lifetime 0. */
static void test_deletion_answer(void)
{
	static const uint8_t granted[16] = { 0, 130, 0,	   0,	 0,    0,
					     0, 9,   0x1f, 0x90, 0x1f, 0x90,
					     0, 0,   0x1c, 0x20 };
	static const uint8_t deleted[16] = { 0,	   130,	 0, 0, 0, 0, 0, 9,
					     0x1f, 0x90, 0, 0, 0, 0, 0, 0 };
	struct natpmp_request deletion = { .opcode = NATPMP_OP_MAP_TCP,
					   .internal_port = 8080 };
	struct natpmp_reply decoded;

	CHECK_EQ(natpmp_reply_decode(granted, 16, &deletion, &decoded),
		 NATPMP_REPLY_NOT_A_DELETION);
	CHECK_EQ(natpmp_reply_decode(deleted, 16, &deletion, &decoded),
		 NATPMP_REPLY_ACCEPTED);
	CHECK_EQ(natpmp_reply_decode(granted, 16, &map_tcp_8080, &decoded),
		 NATPMP_REPLY_ACCEPTED);
}

static void test_announcement(void)
{
	static const uint8_t announcement[12] = { 0, 128, 0,   0,  0,	0,
						  0, 3,	  198, 51, 100, 9 };
	struct natpmp_reply decoded;

	CHECK_EQ(natpmp_announcement_decode(announcement, 12, &decoded),
		 NATPMP_REPLY_ACCEPTED);
	CHECK_EQ(decoded.epoch, 3);
	CHECK_EQ(decoded.external_address, 0xc6336409);
	CHECK(natpmp_announcement_decode(announcement, 8, &decoded) !=
	      NATPMP_REPLY_ACCEPTED);
	CHECK(natpmp_announcement_decode(map_reply, 16, &decoded) !=
	      NATPMP_REPLY_ACCEPTED);
}

static void test_texts(void)
{
	char text[256];
	struct natpmp_reply decoded;

	CHECK(strcmp(natpmp_result_text(2), "not authorized") == 0);
	CHECK(strcmp(natpmp_result_text(99), "unknown result code") == 0);
	natpmp_request_describe(&map_tcp_8080, text, sizeof(text));
	CHECK_STR_CONTAINS(text, "internal port 8080");
	natpmp_reply_decode(map_reply, 16, &map_tcp_8080, &decoded);
	natpmp_reply_describe(&decoded, text, sizeof(text));
	CHECK_STR_CONTAINS(text, "external port 50000");
	natpmp_reply_describe(&decoded, text,
			      8); /* truncates, never overruns */
	CHECK_EQ(strlen(text), 7);
}

int main(void)
{
	test_encode_address_request();
	test_encode_map_request();
	test_delete_suggests_port_zero();
	test_decode_address_reply();
	test_decode_map_reply();
	test_reject_foreign_replies();
	test_error_reply_forms();
	test_deletion_answer();
	test_announcement();
	test_texts();
	return check_report("test_wire");
}
