/* test_ip_address.c - the one address type: parsing, formatting with and
 * without a port, equality (scope included for link-local IPv6), and the
 * round trip through socket addresses. */
#include <netinet/in.h>
#include <string.h>

#include "check.h"
#include "core/ip_address.h"

static void test_parse_and_format(void)
{
	struct ip_address a;
	struct ip_endpoint e;
	char text[IP_ENDPOINT_TEXT_SIZE];

	CHECK_EQ(ip_address_parse("192.0.2.1", &a), 0);
	CHECK_EQ(a.family, AF_INET);
	CHECK_EQ(ip_address_v4(&a), 0xc0000201);
	CHECK(strcmp(ip_address_format(&a, text, sizeof(text)), "192.0.2.1") ==
	      0);
	CHECK_EQ(ip_address_parse("2001:db8::10", &a), 0);
	CHECK_EQ(a.family, AF_INET6);
	CHECK(strcmp(ip_address_format(&a, text, sizeof(text)),
		     "2001:db8::10") == 0);
	CHECK_EQ(ip_address_parse("fe80::1%1", &a), 0);
	CHECK_EQ(a.scope, 1);
	CHECK(ip_address_is_link_local(&a));
	CHECK_EQ(ip_address_parse("2001:db8::1%1", &a),
		 -1); /* not link-local */
	CHECK_EQ(ip_address_parse("192.0.2.1%1", &a), -1);
	CHECK_EQ(ip_address_parse("", &a), -1);
	CHECK_EQ(ip_address_parse("300.1.1.1", &a), -1);
	CHECK(!ip_address_is_set(&a));
	CHECK(strcmp(ip_address_format(&a, text, sizeof(text)), "?") == 0);

	memset(&e, 0, sizeof(e));
	ip_address_set_v4(&e.address, 0x0a020001);
	e.port = 5351;
	CHECK(strcmp(ip_endpoint_format(&e, 5351, text, sizeof(text)),
		     "10.2.0.1") == 0);
	e.port = 5352;
	CHECK(strcmp(ip_endpoint_format(&e, 5351, text, sizeof(text)),
		     "10.2.0.1:5352") == 0);
	ip_address_parse("2001:db8::1", &e.address);
	CHECK(strcmp(ip_endpoint_format(&e, 5351, text, sizeof(text)),
		     "[2001:db8::1]:5352") == 0);
}

static void test_equality_and_classes(void)
{
	struct ip_address a, b;

	ip_address_parse("fe80::1%1", &a);
	ip_address_parse("fe80::1%2", &b);
	CHECK(!ip_address_equal(&a, &b)); /* another link */
	b.scope = 1;
	CHECK(ip_address_equal(&a, &b));
	ip_address_set_v4(&a, 0);
	CHECK(ip_address_is_unspecified(&a));
	ip_address_parse("::", &b);
	CHECK(ip_address_is_unspecified(&b));
	CHECK(!ip_address_equal(&a, &b)); /* families differ */
}

static void test_sockaddr_round_trip(void)
{
	struct ip_endpoint e, back;
	struct sockaddr_storage storage;
	socklen_t length;

	memset(&e, 0, sizeof(e));
	ip_address_parse("fe80::1%3", &e.address);
	e.port = 5351;
	length = ip_endpoint_to_sockaddr(&e, &storage);
	CHECK_EQ(length, sizeof(struct sockaddr_in6));
	CHECK_EQ(ip_endpoint_from_sockaddr((struct sockaddr *)&storage, length,
					   &back),
		 0);
	CHECK(ip_endpoint_equal(&e, &back));
	ip_address_set_v4(&e.address, 0x7f000001);
	length = ip_endpoint_to_sockaddr(&e, &storage);
	CHECK_EQ(length, sizeof(struct sockaddr_in));
	CHECK_EQ(ip_endpoint_from_sockaddr((struct sockaddr *)&storage, length,
					   &back),
		 0);
	CHECK(ip_endpoint_equal(&e, &back));
	CHECK_EQ(ip_endpoint_from_sockaddr((struct sockaddr *)&storage, 4,
					   &back),
		 -1); /* too short to be what it claims */
}

int main(void)
{
	test_parse_and_format();
	test_equality_and_classes();
	test_sockaddr_round_trip();
	return check_report("test_ip_address");
}
