/* test_address_class.c - which external addresses earn the "not reachable
 * from the internet" warning. */
#include "check.h"
#include "core/address_class.h"

#define A(a, b, c, d)                                                          \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 |      \
	 (uint32_t)(d))

int main(void)
{
	CHECK(address_classify(A(10, 1, 2, 3)).behind_nat);
	CHECK(address_classify(A(172, 31, 255, 255)).behind_nat);
	CHECK(!address_classify(A(172, 32, 0, 0)).name);
	CHECK(address_classify(A(192, 168, 0, 1)).behind_nat);
	CHECK(address_classify(A(100, 64, 0, 1)).behind_nat);
	CHECK(address_classify(A(100, 127, 255, 255)).behind_nat);
	CHECK(!address_classify(A(100, 128, 0, 0)).name);
	CHECK(address_classify(A(169, 254, 1, 1)).name);
	CHECK(!address_classify(A(169, 254, 1, 1)).behind_nat);
	CHECK(address_classify(A(203, 0, 113, 7)).name);
	CHECK(address_classify(A(255, 255, 255, 255)).name);
	CHECK(address_classify(A(0, 0, 0, 0)).name);
	CHECK(!address_classify(A(44, 1, 2, 3)).name);
	CHECK(!address_classify(A(8, 8, 8, 8)).name);
	CHECK(!address_classify(A(11, 0, 0, 1)).name);
	return check_report("test_address_class");
}
