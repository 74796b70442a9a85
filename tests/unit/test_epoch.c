/* test_epoch.c - gateway restart detection follows RFC 6886 section 3.6:
 * previous SSSoE + 7/8 of our elapsed time, 2 s of tolerance. */
#include "check.h"
#include "epoch.h"

int main(void)
{
	struct epoch_tracker t = { 0 };

	CHECK(!epoch_observe(&t, 1000, 0));	 /* first sight: no verdict */
	CHECK(!epoch_observe(&t, 1100, 100000)); /* on time */
	/* 100 s later the estimate is 1100 + 87.5 = 1187.5; 1186 is within 2 s */
	CHECK(!epoch_is_reset(&t, 1186, 200000));
	CHECK(epoch_is_reset(&t, 1185, 200000));
	CHECK(!epoch_observe(
		&t, 1200, 200000)); /* a gateway clock running fast is fine */
	CHECK(epoch_observe(&t, 5,
			    230000)); /* restarted: counting from 0 again */
	CHECK(!epoch_observe(&t, 10,
			     235000)); /* and the new epoch is then tracked */
	CHECK_EQ(t.sssoe, 10);
	/* a gateway whose clock runs slow but within 1/8 is not a restart */
	CHECK(!epoch_observe(&t, 10 + 3600 * 7 / 8 + 1, 235000 + 3600000));
	/* our clock reading going backwards never produces a false reset */
	CHECK(!epoch_is_reset(&t, t.sssoe, t.local_ms - 5000));
	return check_report("test_epoch");
}
