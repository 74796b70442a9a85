/* test_exchange.c - the exchange against a gateway on loopback that never
 * answers: news that keeps coming (a kick per forged announcement) cannot
 * keep a request from running out of its schedule, and what was queued before a
 * request is sent reaches the stray handler, a batch at a time, instead
 * of being thrown away or holding the loop. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "core/clock.h"
#include "engine/eloop.h"
#include "engine/exchange.h"

/* 20 ms, then doubling: 3 sends over 60 ms, give up 80 ms later */
static int64_t quick_wait(int64_t previous, uint32_t random)
{
	(void)random;
	return previous ? previous * 2 : 20;
}

static const struct retry_schedule quick = { 3, quick_wait };

struct watch {
	struct eloop *loop;
	struct exchange ex;
	struct eloop_timer kicker;
	int kicks;
	bool done;
	enum exchange_status status;
	int strays;
};

static bool never_matches(void *context, const uint8_t *datagram, size_t length,
			  char *note, size_t note_size)
{
	(void)context, (void)datagram, (void)length;
	snprintf(note, note_size, "not ours");
	return false;
}

static void on_done(void *context, enum exchange_status status)
{
	struct watch *w = context;

	w->done = true;
	w->status = status;
}

static bool is_done(void *context)
{
	return ((struct watch *)context)->done;
}

static bool count_stray(void *context, const uint8_t *datagram, size_t length,
			char *note, size_t note_size)
{
	(void)datagram, (void)length, (void)note, (void)note_size;
	((struct watch *)context)->strays++;
	return true;
}

/* an announcement every 15 ms, each kicking the request */
static void kick(void *context)
{
	struct watch *w = context;

	if (w->ex.busy)
		w->kicks++;
	exchange_kick(&w->ex);
	eloop_timer_at(w->loop, &w->kicker, clock_now_ms() + 15);
}

/* A gateway on 127.0.0.1 that reads nothing; its endpoint in *gateway. */
static int silent_gateway(struct ip_endpoint *gateway)
{
	struct sockaddr_in address = { .sin_family = AF_INET };
	socklen_t length = sizeof(address);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(fd >= 0);
	CHECK_EQ(bind(fd, (struct sockaddr *)&address, length), 0);
	CHECK_EQ(getsockname(fd, (struct sockaddr *)&address, &length), 0);
	CHECK_EQ(ip_endpoint_from_sockaddr((struct sockaddr *)&address, length,
					   gateway),
		 0);
	return fd;
}

static void test_kicks_cannot_hold_a_request_forever(void)
{
	static const uint8_t request[2] = { 0, 0 };
	struct ip_endpoint gateway;
	struct watch w = { 0 };
	int gateway_fd = silent_gateway(&gateway);

	w.loop = eloop_new();
	CHECK(w.loop != NULL);
	CHECK_EQ(exchange_open(&w.ex, w.loop, &gateway, NULL), 0);
	exchange_start(&w.ex, request, sizeof(request), "test", &quick,
		       CLOCK_NEVER, never_matches, on_done, &w);
	eloop_timer_init(&w.kicker, kick, &w);
	eloop_timer_at(w.loop, &w.kicker, clock_now_ms() + 15);
	/* unkicked, it ends 140 ms after it began; the first kick starts
	 * its schedule over (sends at 0, then 15, 35 and 75 ms, the end at
	 * 155 ms), each later one sends a copy and moves nothing */
	CHECK_EQ(eloop_run_until(w.loop, is_done, &w, clock_now_ms() + 5000),
		 0);
	CHECK(w.done);
	CHECK_EQ(w.status, EXCHANGE_TIMEOUT);
	CHECK(w.kicks >= 2);
	CHECK_EQ(w.ex.round_sends, 3);
	CHECK_EQ(w.ex.sends, 3 + w.kicks);
	eloop_timer_stop(w.loop, &w.kicker);
	exchange_close(&w.ex);
	eloop_free(w.loop);
	close(gateway_fd);
}

static void test_what_was_queued_is_heard_a_batch_at_a_time(void)
{
	static const uint8_t request[2] = { 0, 0 };
	uint8_t late[12] = { 0, 128 };
	struct sockaddr_storage to;
	socklen_t to_length;
	struct ip_endpoint gateway;
	struct watch w = { 0 };
	int gateway_fd = silent_gateway(&gateway), i;

	w.loop = eloop_new();
	CHECK(w.loop != NULL);
	CHECK_EQ(exchange_open(&w.ex, w.loop, &gateway, NULL), 0);
	exchange_set_stray(&w.ex, count_stray, &w);
	to_length = ip_endpoint_to_sockaddr(&w.ex.local, &to);
	/* forty answers from the gateway's address and port before the
	 * request: late ones, or a flood */
	for (i = 0; i < 40; i++)
		CHECK_EQ(sendto(gateway_fd, late, sizeof(late), 0,
				(struct sockaddr *)&to, to_length),
			 (ssize_t)sizeof(late));
	exchange_start(&w.ex, request, sizeof(request), "test", &quick,
		       CLOCK_NEVER, never_matches, on_done, &w);
	/* one batch was heard before the request went out; the rest is
	 * read by the loop, after it, as datagrams that answer nothing */
	CHECK_EQ(w.strays, 16);
	CHECK_EQ(w.ex.sends, 1);
	CHECK_EQ(eloop_run_until(w.loop, is_done, &w, clock_now_ms() + 5000),
		 0);
	CHECK_EQ(w.status, EXCHANGE_TIMEOUT);
	CHECK_EQ(w.strays, 40);
	exchange_close(&w.ex);
	eloop_free(w.loop);
	close(gateway_fd);
}

int main(void)
{
	test_kicks_cannot_hold_a_request_forever();
	test_what_was_queued_is_heard_a_batch_at_a_time();
	return check_report("test_exchange");
}
