/* test_mapping.c - renew-loop's bookkeeping: renew at half the granted
 * lifetime, ask for the granted port again, and tell a change from a
 * renewal. */
#include <arpa/inet.h>

#include "check.h"
#include "cli.h"
#include "mapping.h"

static struct in_addr address(const char *text)
{
	struct in_addr a;

	inet_pton(AF_INET, text, &a);
	return a;
}

static void test_first_grant_and_renewal(void)
{
	struct mapping m;

	mapping_init(&m, PROTOCOL_UDP, 0, 0, 60, 1000);
	CHECK_EQ(m.renew_at_ms, 1000); /* created at once */
	CHECK_EQ(
		mapping_granted(&m, 51413, 60, true, address("44.1.2.3"), 2000),
		MAPPING_MAPPED);
	CHECK_EQ(m.renew_at_ms, 2000 + 30000);
	CHECK_EQ(m.expires_at_ms, 2000 + 60000);
	CHECK_EQ(m.suggested_port,
		 51413); /* renewals ask for the granted port */
	CHECK_EQ(mapping_granted(&m, 51413, 60, true, address("44.1.2.3"),
				 32000),
		 MAPPING_RENEWED);
	CHECK_EQ(mapping_granted(&m, 51413, 45, true, address("44.1.2.3"),
				 62000),
		 MAPPING_LIFETIME_CHANGED);
	CHECK_EQ(m.renew_at_ms, 62000 + 22500);
	CHECK_EQ(mapping_granted(&m, 40000, 45, true, address("44.1.2.3"),
				 84500),
		 MAPPING_CHANGED);
	CHECK_EQ(mapping_granted(&m, 40000, 45, true, address("44.1.2.4"),
				 107000),
		 MAPPING_CHANGED);
}

static void test_failures_and_expiry(void)
{
	struct mapping m;

	mapping_init(&m, PROTOCOL_TCP, 8080, 8080, 7200, 0);
	mapping_failed(&m, 0);
	CHECK_EQ(m.failures, 1);
	CHECK_EQ(m.renew_at_ms, 64000); /* capped at the RFC's longest wait */
	mapping_granted(&m, 8080, 4, true, address("44.1.2.3"), 100000);
	CHECK_EQ(m.failures, 0);
	mapping_failed(&m, 102000);
	CHECK_EQ(m.renew_at_ms, 102000 + 2000); /* half the granted 4 s */
	CHECK_EQ(mapping_next_ms(&m), 104000);
	CHECK(!mapping_expire(&m, 103999));
	CHECK(mapping_expire(&m, 104000));
	CHECK(!m.established);
	CHECK(!mapping_expire(&m, 200000)); /* reported once */
	mapping_init(&m, PROTOCOL_TCP, 8080, 8080, 1, 0);
	mapping_failed(&m, 0);
	CHECK_EQ(m.renew_at_ms, 1000); /* never faster than once a second */
}

static void test_address_change(void)
{
	struct mapping m;

	mapping_init(&m, PROTOCOL_TCP, 22, 22, 7200, 0);
	CHECK(!mapping_address_changed(&m,
				       address("44.1.2.3"))); /* not mapped */
	mapping_granted(&m, 22, 7200, true, address("44.1.2.3"), 0);
	CHECK(!mapping_address_changed(&m, address("44.1.2.3")));
	CHECK(mapping_address_changed(&m, address("44.9.9.9")));
	CHECK_EQ(mapping_granted(&m, 22, 7200, true, address("44.9.9.9"), 1000),
		 MAPPING_RENEWED);
}

static void test_gateway_reset_spread(void)
{
	struct mapping m;
	unsigned r;

	/* not mapped yet, or a long grant: anywhere in 0-5 s */
	mapping_init(&m, PROTOCOL_TCP, 22, 22, 7200, 0);
	mapping_gateway_reset(&m, 1000, 5000);
	CHECK_EQ(m.renew_at_ms, 1000 + 5000);
	mapping_gateway_reset(&m, 1000, 5001);
	CHECK_EQ(m.renew_at_ms, 1000);
	mapping_granted(&m, 22, 7200, true, address("44.1.2.3"), 0);
	mapping_gateway_reset(&m, 1000, 4999);
	CHECK_EQ(m.renew_at_ms, 1000 + 4999);
	/* 4 s left of a grant: within the first 2 s, before it runs out */
	mapping_granted(&m, 22, 6, true, address("44.1.2.3"), 0);
	for (r = 0; r < 10000; r += 7) {
		mapping_gateway_reset(&m, 2000, r);
		CHECK(m.renew_at_ms >= 2000 && m.renew_at_ms <= 4000);
	}
	/* already past expiry: at once */
	mapping_gateway_reset(&m, 9000, 1234);
	CHECK_EQ(m.renew_at_ms, 9000);
}

int main(void)
{
	test_first_grant_and_renewal();
	test_failures_and_expiry();
	test_address_change();
	test_gateway_reset_spread();
	return check_report("test_mapping");
}
