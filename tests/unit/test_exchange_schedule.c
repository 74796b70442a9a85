/* test_exchange_schedule.c - NAT-PMP's retransmission schedule is RFC 6886
 * section 3.1's: sends at 0, 0.25, 0.75 ... 63.75 s, give up at 127.75 s;
 * auto mode asks PCP too with the third send, NAT-PMP with PCP's second. */
#include "check.h"
#include "engine/exchange.h"
#include "proto/protocol.h"

int main(void)
{
	static const long long expected[9] = { 0,    250,   750,   1750, 3750,
					       7750, 15750, 31750, 63750 };
	const struct retry_schedule *natpmp = protocol_natpmp.schedule;
	int n;

	CHECK_EQ(natpmp->max_sends, 9);
	for (n = 1; n <= 9; n++)
		CHECK_EQ(exchange_send_offset_ms(natpmp, n), expected[n - 1]);
	CHECK_EQ(exchange_give_up_offset_ms(natpmp), 127750);
	CHECK_EQ(exchange_give_up_offset_ms(natpmp) -
			 exchange_send_offset_ms(natpmp, 9),
		 64000);
	/* a gateway answering within 250 ms never hears PCP */
	CHECK_EQ(exchange_send_offset_ms(natpmp,
					 protocol_natpmp.other_asked_at_send),
		 750);
	CHECK_EQ(protocol_pcp.presence_request, REQUEST_ANNOUNCE);
	CHECK_EQ(protocol_natpmp.presence_request, REQUEST_ADDRESS);
	/* at the earliest PCP's first retransmission can come */
	CHECK_EQ(exchange_send_offset_ms(protocol_pcp.schedule,
					 protocol_pcp.other_asked_at_send),
		 2700);
	/* RFC 6887 section 8.1.1: RAND from 0.9 to 1.1 */
	CHECK_EQ(protocol_pcp.schedule->next_wait_ms(0, 0), 2700);
	CHECK_EQ(protocol_pcp.schedule->next_wait_ms(0, 200), 3300);
	CHECK_EQ(protocol_pcp.schedule->next_wait_ms(0, 100), 3000);
	return check_report("test_exchange_schedule");
}
