/* test_exchange_schedule.c - NAT-PMP's retransmission schedule is RFC 6886
 * section 3.1's: sends at 0, 0.25, 0.75 ... 63.75 s, give up at 127.75 s. */
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
	return check_report("test_exchange_schedule");
}
