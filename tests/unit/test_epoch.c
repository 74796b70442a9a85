/* test_epoch.c - gateway restart detection follows RFC 6886 section 3.6:
 * previous SSSoE + 7/8 of our elapsed time, 2 s of tolerance. */
#include "check.h"
#include "proto/epoch.h"

/* RFC 6887 section 8.5: back by more than 1 s, or the clocks' progress
 * differing by more than 2 s plus 1/16, is a loss of state. */
static void test_pcp_rule(void)
{
	struct epoch_tracker t = { 0 };

	CHECK(!epoch_observe_pcp(&t, 100, 0)); /* first sight */
	CHECK(!epoch_observe_pcp(&t, 99, 0));  /* reordered, 1 s back */
	CHECK(epoch_observe_pcp(&t, 97, 0));   /* 2 s back: restarted */
	CHECK(!epoch_observe_pcp(&t, 197, 100000));
	/* 100 s for us, 80 s for the server: slower than 15/16 less 2 s */
	CHECK(epoch_observe_pcp(&t, 277, 200000));
	/* 100 s for us, 110 s for the server: faster than 2 s plus 1/16 */
	CHECK(epoch_observe_pcp(&t, 387, 300000));
	/* 100 s for us, 104 s for the server: within */
	CHECK(!epoch_observe_pcp(&t, 491, 400000));
}

/* The first answer after an announcement: an epoch of 0, or one gone back at all, is a restart,
 * even within the rules' slack. */
static void test_announcements(void)
{
	struct epoch_tracker t = { 0 };

	CHECK(!epoch_observe_strictly(&t, 0, 0,
				      epoch_observe_pcp)); /* nothing known */
	epoch_forget(&t);
	CHECK(!epoch_observe(&t, 1, 0));
	CHECK(epoch_observe_strictly(&t, 0, 1200, epoch_observe_pcp));
	CHECK(!epoch_observe(&t, 5, 5000));
	CHECK(epoch_observe_strictly(&t, 4, 5000, epoch_observe));
	/* an address change announced with a running epoch is no restart */
	CHECK(!epoch_observe_strictly(&t, 10, 11000, epoch_observe));
	CHECK(!epoch_observe_strictly(&t, 15, 16000, epoch_observe_pcp));
}

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
	test_pcp_rule();
	test_announcements();
	return check_report("test_epoch");
}
