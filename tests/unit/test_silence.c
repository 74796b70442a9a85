/* test_silence.c - what a request that got no answer says: "no reply"
 * only when nothing came back, otherwise what did (the datagrams in
 * neither protocol, by length and first byte, or the last answer to
 * something else), and how often each protocol was asked. */
#include <string.h>

#include "check.h"
#include "engine/silence.h"
#include "proto/stray_tally.h"

static void check_text(const char *actual, const char *expected)
{
	check_count++;
	if (strcmp(actual, expected) != 0) {
		check_failures++;
		fprintf(stderr, "got      '%s'\nexpected '%s'\n", actual,
			expected);
	}
}

static void test_tally(void)
{
	static const uint8_t libpcp12[12] = { 2, 0x81 };
	static const uint8_t libpcp2[2] = { 0, 0x80 };
	static const uint8_t natpmp_reply[16] = { 0, 0x82 };
	struct stray_tally t;
	char text[96];

	stray_tally_clear(&t);
	stray_tally_add(&t, libpcp12, 12, false, "unknown version");
	stray_tally_describe(&t, text, sizeof(text));
	check_text(text, "a 12-byte datagram of version 2");
	stray_tally_add(&t, libpcp12, 12, false, "unknown version");
	stray_tally_describe(&t, text, sizeof(text));
	check_text(text, "12-byte datagrams of version 2");
	stray_tally_add(&t, libpcp2, 2, false, "too short");
	stray_tally_describe(&t, text, sizeof(text));
	check_text(text, "datagrams of 2 to 12 bytes, of versions 0 and 2");
	/* one in a protocol's form counts, and gives its reason, but is
	 * not among the formless */
	stray_tally_add(&t, natpmp_reply, 16, true,
			"answers another internal port");
	CHECK_EQ(t.count, 4);
	CHECK_EQ(t.formless, 3);
	check_text(t.note, "answers another internal port");
	stray_tally_describe(&t, text, sizeof(text));
	check_text(text, "datagrams of 2 to 12 bytes, of versions 0 and 2");

	stray_tally_clear(&t);
	stray_tally_add(&t, libpcp12, 8, false, "");
	stray_tally_describe(&t, text, sizeof(text));
	check_text(text, "an 8-byte datagram of version 2");
	stray_tally_clear(&t);
	stray_tally_add(&t, libpcp12, 0, false, "");
	stray_tally_describe(&t, text, sizeof(text));
	check_text(text, "an empty datagram");
	/* the first bytes seen are kept, in order; the rest summed up */
	stray_tally_clear(&t);
	for (uint8_t v = 9; v > 3; v--)
		stray_tally_add(&t, &v, 1, false, "");
	stray_tally_describe(&t, text, sizeof(text));
	check_text(text, "1-byte datagrams of versions 6, 7, 8, 9 and others");
}

static struct silence silence_of(const struct stray_tally *strays)
{
	struct silence s = {
		.gateway_text = "192.0.2.1",
		.reason = PATIENCE_SCHEDULE,
		.waited_ms = 127750,
		.sends = 9,
		.spoken = "NAT-PMP",
		.other = "PCP",
		.strays = strays,
	};

	return s;
}

static void test_no_reply(void)
{
	struct stray_tally none;
	struct silence s;
	char text[384];

	stray_tally_clear(&none);
	s = silence_of(&none);
	silence_describe(&s, text, sizeof(text));
	check_text(
		text,
		"no reply from gateway 192.0.2.1 after 9 attempts over 128 s");
	s.other_sends = 5;
	silence_describe(&s, text, sizeof(text));
	check_text(
		text,
		"no reply from gateway 192.0.2.1 after 9 attempts (and 5 in PCP) over 128 s");
	s.reason = PATIENCE_TIMEOUT;
	s.timeout_ms = 1000;
	s.sends = 3;
	s.other_sends = 1;
	silence_describe(&s, text, sizeof(text));
	check_text(
		text,
		"no reply from gateway 192.0.2.1 within the 1 s timeout (3 attempts, and 1 in PCP)");
	s.reason = PATIENCE_EXPIRY;
	s.other_sends = 0;
	s.waited_ms = 2500;
	s.error_number = 113; /* EHOSTUNREACH */
	silence_describe(&s, text, sizeof(text));
	CHECK_STR_CONTAINS(
		text,
		"no reply from gateway 192.0.2.1 before the mapping ran out (3 attempts over 2.5 s) (");
}

static void test_strays(void)
{
	static const uint8_t libpcp12[12] = { 2, 0x81 };
	struct stray_tally t;
	struct silence s;
	char text[384];

	stray_tally_clear(&t);
	for (int i = 0; i < 4; i++)
		stray_tally_add(&t, libpcp12, 12, false, "unknown version");
	s = silence_of(&t);
	s.reason = PATIENCE_TIMEOUT;
	s.timeout_ms = 2000;
	s.sends = 4;
	s.other_sends = 1;
	silence_describe(&s, text, sizeof(text));
	check_text(
		text,
		"gateway 192.0.2.1 answered 4 times to 4 attempts (and 1 in PCP) within the 2 s timeout, never in NAT-PMP or PCP: 12-byte datagrams of version 2");
	stray_tally_clear(&t);
	stray_tally_add(&t, libpcp12, 16, true,
			"answers another internal port");
	s = silence_of(&t);
	s.reason = PATIENCE_YIELD;
	s.waited_ms = 4000;
	s.sends = 4;
	silence_describe(&s, text, sizeof(text));
	check_text(
		text,
		"gateway 192.0.2.1 answered once to 4 attempts in 4 s, before giving way to other requests, never to this request (the last: answers another internal port)");
}

int main(void)
{
	test_tally();
	test_no_reply();
	test_strays();
	return check_report("test_silence");
}
