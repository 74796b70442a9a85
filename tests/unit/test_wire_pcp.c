/* test_wire_pcp.c - the PCP response header and ANNOUNCE (RFC 6887
 * sections 7.2, 8.3 and 14.1), and announcements heard in either format:
 * only well-formed ones are accepted, everything else is named. */
#include <stdint.h>
#include <string.h>

#include "announce.h"
#include "check.h"
#include "wire_natpmp.h"
#include "wire_pcp.h"

/* miniupnpd's restart announcement: version 2, R + ANNOUNCE, result 0,
 * lifetime 0, epoch 0, 12 reserved bytes */
static const uint8_t announce[24] = { 2, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };

static void test_header(void)
{
	struct pcp_response_header h;
	uint8_t d[28];

	memcpy(d, announce, 24);
	d[1] = 0x81; /* a MAP response */
	d[3] = 8;    /* NO_RESOURCES */
	d[7] = 120;  /* lifetime */
	d[11] = 77;  /* epoch */
	CHECK_EQ(pcp_response_header_decode(d, 24, &h), PCP_ACCEPTED);
	CHECK_EQ(h.opcode, 1);
	CHECK_EQ(h.result, 8);
	CHECK_EQ(h.lifetime, 120);
	CHECK_EQ(h.epoch, 77);
	CHECK_EQ(pcp_response_header_decode(d, 23, &h), PCP_TOO_SHORT);
	CHECK_EQ(h.epoch, 0); /* zeroed on refusal */
	CHECK_EQ(pcp_response_header_decode(d, 26, &h), PCP_NOT_MULTIPLE_OF_4);
	CHECK_EQ(pcp_response_header_decode(d, 1104, &h), PCP_TOO_LONG);
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
	CHECK_EQ(a.format, ANNOUNCE_NATPMP);
	CHECK_EQ(a.epoch, 5000);
	CHECK_EQ(ip_address_v4(&a.external_address), 0x2c010203);
	CHECK(announce_decode(announce, 24, &a, &why));
	CHECK_EQ(a.format, ANNOUNCE_PCP);
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

/* A NAT-PMP client hears a PCP server's answer as such, and junk that
 * merely starts with 2 as junk. */
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
}

int main(void)
{
	test_header();
	test_announce();
	test_either_format();
	test_pcp_answer_to_natpmp();
	return check_report("test_wire_pcp");
}
