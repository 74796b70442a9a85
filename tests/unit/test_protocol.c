/* test_protocol.c - the protocol backends' words and bytes beyond the
 * codecs: what a refusal says (UNSUPP_VERSION, UNSUPP_OPTION,
 * NOT_AUTHORIZED), a request's description whole however many options it
 * carries, the suggested external address on the wire, and which
 * datagrams have either protocol's form. */
#include <string.h>

#include "check.h"
#include "proto/protocol.h"
#include "wire/wire_pcp.h"

#define GW "192.0.2.1"

static struct request map_8080(void)
{
	struct request r;

	memset(&r, 0, sizeof(r));
	r.kind = REQUEST_MAP;
	r.transport = TRANSPORT_TCP;
	r.internal_port = 8080;
	r.suggested_port = 8080;
	r.lifetime = 7200;
	ip_address_parse("192.0.2.10", &r.client_address);
	return r;
}

/* The explanation of a PCP error response of result and lifetime, in a
 * header of version. */
static void explain_pcp(const struct request *request, uint8_t version,
			uint8_t result, uint32_t lifetime, char *text,
			size_t size)
{
	uint8_t d[PROTOCOL_DATAGRAM_MAX];
	size_t length = protocol_pcp.encode(request, d, sizeof(d));
	struct reply reply;
	char note[PROTOCOL_DESCRIPTION_MAX];

	d[0] = version;
	d[1] |= PCP_RESPONSE_BIT;
	d[3] = result;
	d[4] = (uint8_t)(lifetime >> 24);
	d[5] = (uint8_t)(lifetime >> 16);
	d[6] = (uint8_t)(lifetime >> 8);
	d[7] = (uint8_t)lifetime;
	CHECK_EQ(protocol_pcp.decode(request, d, length, &reply, note,
				     sizeof(note)),
		 REPLY_ANSWER);
	protocol_pcp.explain(request, &reply, GW, text, size);
}

static void test_unsupported_version(void)
{
	struct request r = map_8080();
	char text[RESULT_MESSAGE_SIZE];

	/* libpcp's server copies the lifetime into its errors: 7200 is no
	 * version */
	explain_pcp(&r, 2, PCP_RESULT_UNSUPPORTED_VERSION, 7200, text,
		    sizeof(text));
	CHECK(strcmp(text,
		     "gateway " GW
		     " does not support this PCP version (UNSUPP_VERSION)") ==
	      0);
	explain_pcp(&r, 1, PCP_RESULT_UNSUPPORTED_VERSION, 0, text,
		    sizeof(text));
	CHECK(strcmp(text,
		     "gateway " GW
		     " speaks PCP version 1 only, not version 2 (UNSUPP_VERSION)") ==
	      0);
}

static void test_unsupported_option(void)
{
	struct request r = map_8080();
	char text[RESULT_MESSAGE_SIZE];
	struct reply reply = { .failure = FAILURE_UNSUPPORTED_OPTION,
			       .code = PCP_RESULT_UNSUPPORTED_OPTION,
			       .version = 2 };

	protocol_pcp.explain(&r, &reply, GW, text, sizeof(text));
	CHECK_STR_CONTAINS(text, "but the request carried none");
	r.exact = true;
	protocol_pcp.explain(&r, &reply, GW, text, sizeof(text));
	CHECK(strcmp(text,
		     "gateway " GW
		     " does not support the option sent: PREFER_FAILURE, for --exact (UNSUPP_OPTION)") ==
	      0);
	r.third_party = true;
	r.filter_count = 1;
	protocol_pcp.explain(&r, &reply, GW, text, sizeof(text));
	CHECK(strcmp(text,
		     "gateway " GW
		     " does not support one of the options sent: THIRD_PARTY, for --for; PREFER_FAILURE, for --exact; FILTER, for --allow-from (UNSUPP_OPTION)") ==
	      0);
}

static void test_not_authorized(void)
{
	struct request r = map_8080();
	char text[RESULT_MESSAGE_SIZE];
	struct reply pcp = { .failure = FAILURE_NOT_AUTHORIZED,
			     .code = PCP_RESULT_NOT_AUTHORIZED };
	struct reply natpmp = { .failure = FAILURE_NOT_AUTHORIZED, .code = 2 };

	protocol_pcp.explain(&r, &pcp, GW, text, sizeof(text));
	CHECK_STR_CONTAINS(text, "allow this device to open ports by itself");
	protocol_natpmp.explain(&r, &natpmp, GW, text, sizeof(text));
	CHECK_STR_CONTAINS(text, "allow this device to open ports by itself");
	/* a refused port 0 is about the port: the client says so */
	r.suggested_port = 0;
	protocol_pcp.explain(&r, &pcp, GW, text, sizeof(text));
	CHECK(strcmp(text, "gateway " GW " refused (NOT_AUTHORIZED)") == 0);
	protocol_natpmp.explain(&r, &natpmp, GW, text, sizeof(text));
	CHECK(strcmp(text, "gateway " GW " refused (not authorized)") == 0);
	r.kind = REQUEST_DELETE;
	protocol_pcp.explain(&r, &pcp, GW, text, sizeof(text));
	CHECK_STR_CONTAINS(text, "it was made with another nonce");
}

/* Every option of the longest request there is, in its description. */
static void test_description_whole(void)
{
	struct request r = map_8080();
	char text[PROTOCOL_DESCRIPTION_MAX];
	const char *longest = "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255";
	size_t i;

	ip_address_parse("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
			 &r.client_address);
	r.internal_port = r.suggested_port = 65535;
	r.lifetime = 4294967295u;
	r.exact = true;
	r.third_party = true;
	CHECK(ip_address_parse(longest, &r.third_party_address) == 0);
	ip_address_parse(longest, &r.suggested_address);
	r.filter_count = FILTER_MAX;
	for (i = 0; i < FILTER_MAX; i++) {
		ip_address_parse(longest, &r.filters[i].address);
		r.filters[i].prefix_length = 128;
		r.filters[i].port = 65535;
	}
	memset(text, 'x', sizeof(text));
	protocol_pcp.describe(&r, text, sizeof(text));
	CHECK(strlen(text) + 1 < sizeof(text));
	CHECK_STR_CONTAINS(text, ", prefer failure");
	CHECK_STR_CONTAINS(text, "/128 port 65535, client address "
				 "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff");
}

static void test_suggested_address(void)
{
	struct request r = map_8080();
	uint8_t d[PROTOCOL_DATAGRAM_MAX];
	static const uint8_t mapped_zero[16] = { [10] = 0xff, [11] = 0xff };
	static const uint8_t mapped_ext[16] = { [10] = 0xff, [11] = 0xff, 44,
						1,	     2,		  3 };

	/* a first request suggests the all-zeros address of its family */
	CHECK_EQ(protocol_pcp.encode(&r, d, sizeof(d)), 60);
	CHECK(memcmp(d + 44, mapped_zero, 16) == 0);
	ip_address_parse("44.1.2.3", &r.suggested_address);
	protocol_pcp.encode(&r, d, sizeof(d));
	CHECK(memcmp(d + 44, mapped_ext, 16) == 0);
	/* a deletion suggests nothing */
	r.kind = REQUEST_DELETE;
	protocol_pcp.encode(&r, d, sizeof(d));
	CHECK(memcmp(d + 44, mapped_zero, 16) == 0);
}

static void test_forms(void)
{
	static const uint8_t libpcp12[12] = { 2, 0x81 };
	static const uint8_t natpmp_short[8] = { 0, 0x82, 0, 2 };
	uint8_t pcp[24] = { 2, 0x80 };

	CHECK(!protocol_natpmp.has_form(libpcp12, 12));
	CHECK(!protocol_pcp.has_form(libpcp12, 12));
	CHECK(protocol_natpmp.has_form(natpmp_short, 8));
	CHECK(!protocol_natpmp.has_form(natpmp_short, 4));
	CHECK(!protocol_pcp.has_form(natpmp_short, 8));
	CHECK(protocol_pcp.has_form(pcp, 24));
	pcp[0] = 1; /* a server of another version answers in its form */
	CHECK(protocol_pcp.has_form(pcp, 24));
	pcp[1] = 0; /* no R bit: a request */
	CHECK(!protocol_pcp.has_form(pcp, 24));
}

int main(void)
{
	test_unsupported_version();
	test_unsupported_option();
	test_not_authorized();
	test_description_whole();
	test_suggested_address();
	test_forms();
	return check_report("test_protocol");
}
