/* test_scheduler.c - renew-loop's decisions: what goes next and how long
 * it may wait, renewal at half the grant asking again for what it granted,
 * back-off after failures, a refused renewal made anew once, loss at
 * expiry (and never "renewed" after one), restarts and network changes. */
#include "check.h"
#include "proto/protocol.h"
#include "renew/scheduler.h"

static struct result grant(uint16_t port, uint32_t lifetime, uint32_t external,
			   uint32_t internal)
{
	struct result r = { .kind = RESULT_MAP };

	r.external_port = port;
	r.lifetime = lifetime;
	if (external)
		ip_address_set_v4(&r.external_address, external);
	ip_address_set_v4(&r.internal_address, internal);
	return r;
}

#define EXT 0x2c010203u /* 44.1.2.3 */
#define LAN 0x0a000002u /* 10.0.0.2 */

static void test_grants_and_events(void)
{
	struct mapping m[1];
	struct scheduler s;
	struct result r = grant(51413, 60, EXT, LAN);

	mapping_init(&m[0], TRANSPORT_UDP, 0, 0, 60, 1000);
	scheduler_init(&s, m, 1);
	CHECK_EQ(m[0].due_ms, 1000); /* created at once */
	CHECK_EQ(scheduler_granted(&s, 0, &r, 2000, 0), MAPPING_MAPPED);
	CHECK_EQ(m[0].due_ms, 2000 + 30000); /* half the granted lifetime */
	CHECK_EQ(m[0].expires_at_ms, 2000 + 60000);
	CHECK_EQ(m[0].suggested_port, 51413); /* asks for the granted port */
	CHECK_EQ(scheduler_granted(&s, 0, &r, 32000, 0), MAPPING_RENEWED);
	r.lifetime = 45;
	CHECK_EQ(scheduler_granted(&s, 0, &r, 62000, 0),
		 MAPPING_LIFETIME_CHANGED);
	CHECK_EQ(m[0].due_ms, 62000 + 22500);
	r.external_port = 40000;
	CHECK_EQ(scheduler_granted(&s, 0, &r, 84500, 0), MAPPING_CHANGED);
	ip_address_set_v4(&r.external_address, EXT + 1);
	CHECK_EQ(scheduler_granted(&s, 0, &r, 107000, 0), MAPPING_CHANGED);
	ip_address_set_v4(&r.internal_address, LAN + 1); /* a new DHCP lease */
	CHECK_EQ(scheduler_granted(&s, 0, &r, 129500, 0), MAPPING_CHANGED);
	CHECK(scheduler_all_tried(&s));
}

/* RFC 6887 section 11.2.1: between 1/2 and 5/8 of the lifetime */
static void test_pcp_spread(void)
{
	struct mapping m[1];
	struct scheduler s;
	struct result r = grant(80, 120, EXT, LAN);

	CHECK_EQ(protocol_pcp.renewal_spread_ms(120, 0), 0);
	CHECK_EQ(protocol_pcp.renewal_spread_ms(120, 15000),
		 15000); /* all of 1/8 */
	CHECK_EQ(protocol_pcp.renewal_spread_ms(120, 15001), 0); /* wraps */
	CHECK_EQ(protocol_pcp.renewal_spread_ms(120, 7), 7);
	CHECK_EQ(protocol_pcp.renewal_spread_ms(0, 12345), 0);
	/* NAT-PMP renews at half, always */
	CHECK_EQ(protocol_natpmp.renewal_spread_ms(120, 15000), 0);
	mapping_init(&m[0], TRANSPORT_TCP, 80, 80, 120, 0);
	scheduler_init(&s, m, 1);
	scheduler_granted(&s, 0, &r, 0,
			  protocol_pcp.renewal_spread_ms(120, 15000));
	CHECK_EQ(m[0].due_ms, 75000); /* 5/8 of 120 s */
	scheduler_granted(&s, 0, &r, 0, protocol_pcp.renewal_spread_ms(120, 0));
	CHECK_EQ(m[0].due_ms, 60000); /* 1/2 */
	/* an error's lifetime outlasts the back-off, but a mapping still
	 * granted (until 120 s) is asked for again halfway to its end */
	scheduler_failed(&s, 0, 100000, 30000);
	CHECK_EQ(m[0].due_ms, 110000);
	scheduler_failed(&s, 0, 30000, 20000);
	CHECK_EQ(m[0].due_ms, 50000);
	/* and believed up to 30 minutes */
	scheduler_lose(&s, 0);
	scheduler_failed(&s, 0, 130000, (int64_t)7200 * 1000);
	CHECK_EQ(m[0].due_ms, 130000 + SCHEDULER_ERROR_HOLD_MAX_MS);
	scheduler_failed(&s, 0, 200000, 0);
	CHECK_EQ(m[0].due_ms, 208000); /* the fourth failure in a row: 8 s */
}

static void test_back_off(void)
{
	static const long long expected[] = { 1000,  2000,  4000,  8000,
					      16000, 32000, 64000, 64000 };
	struct mapping m[1];
	struct scheduler s;
	unsigned i;

	for (i = 0; i < 8; i++)
		CHECK_EQ(scheduler_retry_ms(i + 1), expected[i]);
	mapping_init(&m[0], TRANSPORT_TCP, 8080, 8080, 7200, 0);
	scheduler_init(&s, m, 1);
	CHECK(!scheduler_all_tried(&s));
	scheduler_failed(&s, 0, 5000, 0);
	CHECK(scheduler_all_tried(&s)); /* a failure counts as tried */
	CHECK_EQ(m[0].due_ms, 6000);
	scheduler_failed(&s, 0, 6000, 0);
	CHECK_EQ(m[0].due_ms, 8000);
}

static void test_expiry_means_lost_then_mapped(void)
{
	struct mapping m[2];
	struct scheduler s;
	struct result r = grant(8080, 4, EXT, LAN);
	size_t index = 99;

	mapping_init(&m[0], TRANSPORT_TCP, 8080, 8080, 4, 0);
	mapping_init(&m[1], TRANSPORT_TCP, 8081, 8081, 4, 0);
	scheduler_init(&s, m, 2);
	scheduler_granted(&s, 0, &r, 0, 0);
	CHECK_EQ(scheduler_wake_ms(&s, true), 0);     /* m[1] is due */
	CHECK_EQ(scheduler_wake_ms(&s, false), 4000); /* only m[0]'s end */
	scheduler_failed(&s, 0, 2000, 0);
	CHECK(!scheduler_expire_next(&s, 3999, &index));
	CHECK(scheduler_expire_next(&s, 4000, &index));
	CHECK_EQ(index, 0);
	CHECK(!m[0].established);
	CHECK(!scheduler_expire_next(&s, 4000, &index)); /* once only */
	/* the next grant after a lapse is a new mapping, not a renewal */
	CHECK_EQ(scheduler_granted(&s, 0, &r, 5000, 0), MAPPING_MAPPED);
}

/* RFC 6887 section 14.2: a gateway that ends a mapping says so; it is
 * lost (once) and asked for again at once, failures forgotten */
static void test_ended_by_gateway(void)
{
	struct mapping m[1];
	struct scheduler s;
	struct result r = grant(8080, 600, EXT, LAN);
	size_t index = 99;

	mapping_init(&m[0], TRANSPORT_TCP, 8080, 8080, 600, 0);
	scheduler_init(&s, m, 1);
	CHECK(!scheduler_ended(&s, 0, 500)); /* not made yet: nothing to end */
	CHECK_EQ(m[0].due_ms, 0);
	scheduler_granted(&s, 0, &r, 1000, 0);
	scheduler_failed(&s, 0, 2000, 0); /* a renewal went unanswered */
	CHECK(scheduler_ended(&s, 0, 3000));
	CHECK(!m[0].established);
	CHECK_EQ(m[0].failures, 0);
	CHECK_EQ(m[0].due_ms, 3000);
	CHECK_EQ(m[0].suggested_port, 8080);
	CHECK(!scheduler_ended(&s, 0, 3500));		   /* reported once */
	CHECK(!scheduler_expire_next(&s, 601000, &index)); /* not lost twice */
	CHECK_EQ(scheduler_granted(&s, 0, &r, 4000, 0), MAPPING_MAPPED);
}

static void test_order(void)
{
	struct mapping m[3];
	struct scheduler s;
	struct result r = grant(80, 100, EXT, LAN);
	struct action a;

	mapping_init(&m[0], TRANSPORT_TCP, 80, 80, 100, 0);
	mapping_init(&m[1], TRANSPORT_TCP, 81, 81, 100, 0);
	mapping_init(&m[2], TRANSPORT_TCP, 82, 82, 100, 0);
	scheduler_init(&s, m, 3);
	/* first the address, so the first events can show it; mappings
	 * never tried wait at most SCHEDULER_TURN_MS behind it */
	a = scheduler_next(&s, 0, OPTIONS_NO_TIMEOUT);
	CHECK_EQ(a.kind, ACTION_ADDRESS);
	CHECK_EQ(a.patience.deadline_ms, SCHEDULER_TURN_MS);
	CHECK_EQ(a.patience.reason, PATIENCE_YIELD);
	scheduler_address_learned(&s, 10);
	/* then new mappings in the order given */
	a = scheduler_next(&s, 10, OPTIONS_NO_TIMEOUT);
	CHECK_EQ(a.kind, ACTION_MAP);
	CHECK_EQ(a.index, 0);
	scheduler_granted(&s, 0, &r, 20, 0);
	a = scheduler_next(&s, 20, OPTIONS_NO_TIMEOUT);
	CHECK_EQ(a.index, 1);
	CHECK_EQ(a.patience.deadline_ms,
		 20 + SCHEDULER_TURN_MS); /* m[2] waits */
	scheduler_failed(&s, 2, 25, 0);
	/* once all were tried, a new mapping's wait gives way to an
	 * established one's renewal */
	a = scheduler_next(&s, 30, OPTIONS_NO_TIMEOUT);
	CHECK_EQ(a.index, 1);
	CHECK_EQ(a.patience.deadline_ms, 20 + 50000);
	CHECK_EQ(a.patience.reason, PATIENCE_YIELD);
	r.lifetime = 60;
	scheduler_granted(&s, 1, &r, 30, 0); /* renewal due at 30030 */
	/* renewals come before new mappings, the soonest to expire first */
	a = scheduler_next(&s, 50020, OPTIONS_NO_TIMEOUT);
	CHECK_EQ(a.kind, ACTION_MAP);
	CHECK_EQ(a.index, 1);
	CHECK_EQ(a.patience.deadline_ms, 60030); /* never past its own expiry */
	CHECK_EQ(a.patience.reason, PATIENCE_EXPIRY);
	/* --timeout is the shorter limit here */
	a = scheduler_next(&s, 50020, 1000);
	CHECK_EQ(a.patience.deadline_ms, 51020);
	CHECK_EQ(a.patience.reason, PATIENCE_TIMEOUT);
	CHECK(scheduler_all_tried(&s));
}

static void test_turns(void)
{
	struct mapping m[2];
	struct scheduler s;
	struct result ten = grant(80, 10, EXT, LAN),
		      twelve = grant(81, 12, EXT, LAN);
	struct action a;

	mapping_init(&m[0], TRANSPORT_TCP, 80, 80, 10, 0);
	mapping_init(&m[1], TRANSPORT_TCP, 81, 81, 12, 0);
	scheduler_init(&s, m, 2);
	scheduler_address_learned(&s, 0);
	scheduler_granted(&s, 0, &ten, 0, 0);	 /* due 5000, expires 10000 */
	scheduler_granted(&s, 1, &twelve, 0, 0); /* due 6000, expires 12000 */
	/* both due: the first may wait until half of what is left of the
	 * other's grant has passed, then gives way */
	a = scheduler_next(&s, 7000, OPTIONS_NO_TIMEOUT);
	CHECK_EQ(a.index, 0);
	CHECK_EQ(a.patience.deadline_ms, 7000 + (12000 - 7000) / 2);
	CHECK_EQ(a.patience.reason, PATIENCE_YIELD);
	/* giving way never comes before a fair wait of its own */
	a = scheduler_next(&s, 5999, OPTIONS_NO_TIMEOUT);
	CHECK_EQ(a.index, 0);
	CHECK_EQ(a.patience.deadline_ms, 5999 + SCHEDULER_MIN_WAIT_MS);
	/* a failure half a second before the grant ends: the retry comes
	 * halfway there, 9750, and the other yields to it after a fair wait,
	 * cut short at halfway from that retry to the end of the grant */
	scheduler_failed(&s, 0, 9500, 0);
	CHECK_EQ(m[0].due_ms, 9750);
	a = scheduler_next(&s, 9500, OPTIONS_NO_TIMEOUT);
	CHECK_EQ(a.index, 1);
	CHECK_EQ(a.patience.deadline_ms, 9750 + (10000 - 9750) / 2);
	CHECK_EQ(a.patience.reason, PATIENCE_YIELD);
}

/* Grants of two seconds: the fair wait must not make the other miss its
 * renewal, which is due at one second and lost at two. */
static void test_turns_short_grants(void)
{
	struct mapping m[2];
	struct scheduler s;
	struct result two = grant(81, 2, EXT, LAN);
	struct action a;

	mapping_init(&m[0], TRANSPORT_TCP, 80, 80, 2, 0);
	mapping_init(&m[1], TRANSPORT_TCP, 81, 81, 2, 0);
	scheduler_init(&s, m, 2);
	scheduler_address_learned(&s, 0);
	scheduler_failed(&s, 0, 0, 0);		/* m[0] retried at 1000 */
	scheduler_granted(&s, 1, &two, 200, 0); /* due 1200, expires 2200 */
	a = scheduler_next(&s, 1000, OPTIONS_NO_TIMEOUT);
	CHECK_EQ(a.kind, ACTION_MAP);
	CHECK_EQ(a.index, 0);
	/* not 1000 + SCHEDULER_MIN_WAIT_MS: halfway from due to expiry */
	CHECK_EQ(a.patience.deadline_ms, 1700);
	CHECK_EQ(a.patience.reason, PATIENCE_YIELD);
	a = scheduler_next(&s, 1200, OPTIONS_NO_TIMEOUT);
	CHECK_EQ(a.index, 1);
	CHECK_EQ(a.patience.deadline_ms, 2200); /* its own expiry */
	CHECK_EQ(a.patience.reason, PATIENCE_EXPIRY);
	/* with the other's expiry at hand, a request still has a short wait
	 * of its own: the address, asked again on a new network */
	scheduler_renew_all(&s, 1800, true);
	a = scheduler_next(&s, 1800, OPTIONS_NO_TIMEOUT);
	CHECK_EQ(a.kind, ACTION_ADDRESS);
	CHECK_EQ(a.patience.deadline_ms, 1800 + SCHEDULER_LEAST_WAIT_MS);
	CHECK_EQ(a.patience.reason, PATIENCE_YIELD);
}

static void test_address_refresh(void)
{
	struct mapping m[1];
	struct scheduler s;
	struct result r = grant(80, 100, EXT, LAN);
	struct action a;

	mapping_init(&m[0], TRANSPORT_TCP, 80, 80, 100, 0);
	scheduler_init(&s, m, 1);
	scheduler_address_learned(&s, 0);
	scheduler_granted(&s, 0, &r, 0,
			  0); /* a first grant asks nothing more */
	CHECK_EQ(scheduler_next(&s, 0, OPTIONS_NO_TIMEOUT).kind, ACTION_NONE);
	scheduler_granted(&s, 0, &r, 50000, 0); /* a renewal does */
	a = scheduler_next(&s, 50000, OPTIONS_NO_TIMEOUT);
	CHECK_EQ(a.kind, ACTION_ADDRESS);
	CHECK_EQ(a.patience.deadline_ms,
		 100000); /* not past the next renewal */
	/* a known address that fails to refresh waits for the next round */
	scheduler_address_failed(&s, 50100);
	CHECK_EQ(scheduler_next(&s, 60000, OPTIONS_NO_TIMEOUT).kind,
		 ACTION_NONE);
	/* on a new network it is unknown: asked first, and retried with
	 * back-off, the renewal going meanwhile */
	scheduler_renew_all(&s, 60000, true);
	CHECK(!s.address_known);
	CHECK_EQ(scheduler_next(&s, 60000, OPTIONS_NO_TIMEOUT).kind,
		 ACTION_ADDRESS);
	scheduler_address_failed(&s, 60000);
	a = scheduler_next(&s, 60000, OPTIONS_NO_TIMEOUT);
	CHECK_EQ(a.kind, ACTION_MAP);
	scheduler_granted(&s, 0, &r, 60000, 0);
	CHECK_EQ(scheduler_next(&s, 60500, OPTIONS_NO_TIMEOUT).kind,
		 ACTION_NONE);
	CHECK_EQ(scheduler_next(&s, 61000, OPTIONS_NO_TIMEOUT).kind,
		 ACTION_ADDRESS);
}

/* After a restart or a network change a mapping is re-created; the new
 * address reaches it with its grant, in one event, not two. */
static void test_recreation_reports_once(void)
{
	struct mapping m[1];
	struct scheduler s;
	struct result r = grant(80, 100, EXT, LAN);
	struct ip_address moved;

	mapping_init(&m[0], TRANSPORT_TCP, 80, 80, 100, 0);
	scheduler_init(&s, m, 1);
	scheduler_granted(&s, 0, &r, 0, 0);
	ip_address_set_v4(&moved, EXT + 7);
	scheduler_renew_all(&s, 1000, true);
	CHECK(m[0].recreating);
	CHECK(!mapping_address_changed(&m[0], &moved));
	r.external_address = moved;
	CHECK_EQ(scheduler_granted(&s, 0, &r, 1100, 0), MAPPING_CHANGED);
	CHECK(!m[0].recreating);
	/* an established mapping not being re-created takes it at once */
	ip_address_set_v4(&moved, EXT + 8);
	CHECK(mapping_address_changed(&m[0], &moved));
	CHECK(!mapping_address_changed(&m[0], &moved));
	/* a SIGHUP is a plain renewal, not a re-creation */
	scheduler_renew_all(&s, 2000, false);
	CHECK(!m[0].recreating);
}

static unsigned fixed_random;
static unsigned next_random(void)
{
	return fixed_random;
}

static void test_reset_and_alive(void)
{
	struct mapping m[2];
	struct scheduler s;
	struct result long_grant = grant(80, 7200, EXT, LAN);
	struct result short_grant = grant(81, 4, EXT, LAN);

	mapping_init(&m[0], TRANSPORT_TCP, 80, 80, 7200, 0);
	mapping_init(&m[1], TRANSPORT_TCP, 81, 81, 4, 0);
	scheduler_init(&s, m, 2);
	scheduler_granted(&s, 0, &long_grant, 0, 0);
	scheduler_granted(&s, 1, &short_grant, 0, 0);
	fixed_random = 4999;
	scheduler_gateway_reset(&s, 1000, next_random);
	/* RFC 6886 section 3.7: within 0-5 s */
	CHECK_EQ(m[0].due_ms, 1000 + 4999);
	/* but within half of what is left of a short grant (3 s) */
	CHECK_EQ(m[1].due_ms, 1000 + 4999 % 1501);
	CHECK(m[1].due_ms < m[1].expires_at_ms);

	scheduler_failed(&s, 0, 2000, 0);
	scheduler_gateway_alive(&s, 2500);
	CHECK_EQ(m[0].due_ms, 2500);
	scheduler_renew_all(&s, 3000, false);
	CHECK_EQ(m[0].due_ms, 3000);
	CHECK_EQ(m[0].failures, 0);
	CHECK_EQ(scheduler_established(&s), 2);
}

/* An announcement is answered by one question: the address where grants
 * do not carry it, else the renewal that was due first; with nothing
 * established there is nothing to ask. */
static void test_confirm(void)
{
	struct mapping m[2];
	struct scheduler s;
	struct result r = grant(80, 120, EXT, LAN);
	struct action a;

	mapping_init(&m[0], TRANSPORT_TCP, 80, 80, 120, 0);
	mapping_init(&m[1], TRANSPORT_TCP, 81, 81, 120, 0);
	scheduler_init(&s, m, 2);
	CHECK(!scheduler_confirm(&s, 0, true));
	scheduler_address_learned(&s, 0);
	scheduler_granted(&s, 0, &r, 0, 0);	/* due at 60 s */
	scheduler_granted(&s, 1, &r, 10000, 0); /* due at 70 s */
	a = scheduler_next(&s, 20000, OPTIONS_NO_TIMEOUT);
	CHECK_EQ(a.kind, ACTION_NONE);
	CHECK(scheduler_confirm(&s, 20000, true));
	a = scheduler_next(&s, 20000, OPTIONS_NO_TIMEOUT);
	CHECK_EQ(a.kind, ACTION_MAP);
	CHECK_EQ(a.index, 0);
	CHECK_EQ(m[1].due_ms, 70000); /* the other keeps its time */
	/* NAT-PMP: the address, now */
	CHECK(scheduler_confirm(&s, 20000, false));
	a = scheduler_next(&s, 20000, OPTIONS_NO_TIMEOUT);
	CHECK(a.kind == ACTION_ADDRESS || a.kind == ACTION_MAP);
	CHECK(s.address_wanted);
	CHECK_EQ(s.address_due_ms, 20000);
}

/* RFC 6887 section 11.2.1: renewals and re-creations suggest what was
 * granted; a first request, or one at another gateway, suggests none. */
static void test_suggested_address(void)
{
	struct mapping m[1];
	struct scheduler s;
	struct result r = grant(40000, 100, EXT, LAN);

	mapping_init(&m[0], TRANSPORT_TCP, 80, 80, 100, 0);
	scheduler_init(&s, m, 1);
	CHECK(!ip_address_is_set(&m[0].suggested_address));
	scheduler_granted(&s, 0, &r, 0, 0);
	CHECK_EQ(m[0].suggested_port, 40000);
	CHECK(ip_address_equal(&m[0].suggested_address, &r.external_address));
	/* a restart keeps it for the re-creation */
	fixed_random = 0;
	scheduler_gateway_reset(&s, 500, next_random);
	CHECK(m[0].recreating);
	CHECK(ip_address_equal(&m[0].suggested_address, &r.external_address));
	/* --exact could not have it: the port alone is asked next */
	scheduler_suggestion_refused(&s, 0);
	CHECK(!ip_address_is_set(&m[0].suggested_address));
	CHECK_EQ(m[0].suggested_port, 40000);
	scheduler_granted(&s, 0, &r, 1000, 0);
	/* the same gateway restarted: its grant is asked for again */
	CHECK(scheduler_lose(&s, 0));
	CHECK(ip_address_equal(&m[0].suggested_address, &r.external_address));
	CHECK_EQ(m[0].suggested_port, 40000);
	scheduler_granted(&s, 0, &r, 2000, 0);
	/* another gateway: nothing to ask for there */
	CHECK(scheduler_moved(&s, 0));
	CHECK(!ip_address_is_set(&m[0].suggested_address));
}

/* A renewal refused for want of resources: delete, then make anew, once
 * per grant (miniupnpd on pf cannot renew an IPv6 pinhole). */
static void test_renewal_refused(void)
{
	struct mapping m[1];
	struct scheduler s;
	struct result r = grant(80, 100, EXT, LAN);
	struct action a;

	mapping_init(&m[0], TRANSPORT_TCP, 80, 80, 100, 0);
	scheduler_init(&s, m, 1);
	s.address_known = true;
	s.address_wanted = false;
	/* a first request refused is a plain failure */
	CHECK(!scheduler_renewal_refused(&s, 0, 0));
	scheduler_granted(&s, 0, &r, 0, 0);
	CHECK(scheduler_renewal_refused(&s, 0, 50000));
	a = scheduler_next(&s, 50000, OPTIONS_NO_TIMEOUT);
	CHECK_EQ(a.kind, ACTION_DELETE);
	CHECK_EQ(a.patience.deadline_ms, 100000); /* the grant's expiry */
	scheduler_deleted(&s, 0, 50010);
	a = scheduler_next(&s, 50010, OPTIONS_NO_TIMEOUT);
	CHECK_EQ(a.kind, ACTION_MAP);
	CHECK(m[0].recreating);
	/* refused again: no second deletion */
	CHECK(!scheduler_renewal_refused(&s, 0, 50020));
	scheduler_failed(&s, 0, 50020, 0);
	/* granted: the next refusal may be answered so again */
	CHECK_EQ(scheduler_granted(&s, 0, &r, 51000, 0), MAPPING_RENEWED);
	CHECK(scheduler_renewal_refused(&s, 0, 101000));
	/* a mapping lost meanwhile is made anew, not deleted */
	CHECK(scheduler_lose(&s, 0));
	a = scheduler_next(&s, 101000, OPTIONS_NO_TIMEOUT);
	CHECK_EQ(a.kind, ACTION_MAP);
}

/* A closed port (ICMP) answers every request the same: after one fails,
 * the others wait for its retry, and count as tried. */
static void test_hold_on_a_closed_port(void)
{
	struct mapping m[2];
	struct scheduler s;
	struct action a;

	mapping_init(&m[0], TRANSPORT_UDP, 0, 0, 60, 1000);
	mapping_init(&m[1], TRANSPORT_TCP, 0, 0, 60, 1000);
	scheduler_init(&s, m, 2);
	a = scheduler_next(&s, 1000, OPTIONS_NO_TIMEOUT);
	CHECK_EQ(a.kind, ACTION_ADDRESS);
	scheduler_address_failed(&s, 1000);
	CHECK_EQ(s.address_due_ms, 2000);
	scheduler_hold(&s, s.address_due_ms);
	CHECK_EQ(scheduler_next(&s, 1000, OPTIONS_NO_TIMEOUT).kind,
		 ACTION_NONE);
	CHECK(scheduler_all_tried(&s));
	CHECK_EQ(scheduler_wake_ms(&s, true), 2000);
	/* at the retry the address goes first again, the rest after it */
	CHECK_EQ(scheduler_next(&s, 2000, OPTIONS_NO_TIMEOUT).kind,
		 ACTION_ADDRESS);
	scheduler_address_learned(&s, 2000);
	a = scheduler_next(&s, 2000, OPTIONS_NO_TIMEOUT);
	CHECK_EQ(a.kind, ACTION_MAP);
	CHECK_EQ(a.index, 0);
	/* a mapping due later is not brought forward */
	m[1].due_ms = 9000;
	scheduler_hold(&s, 5000);
	CHECK_EQ(m[1].due_ms, 9000);
	CHECK_EQ(m[0].due_ms, 5000);
}

int main(void)
{
	test_suggested_address();
	test_renewal_refused();
	test_grants_and_events();
	test_back_off();
	test_pcp_spread();
	test_expiry_means_lost_then_mapped();
	test_ended_by_gateway();
	test_order();
	test_turns();
	test_turns_short_grants();
	test_address_refresh();
	test_recreation_reports_once();
	test_reset_and_alive();
	test_confirm();
	test_hold_on_a_closed_port();
	return check_report("test_scheduler");
}
