/* test_live_state.c - the live state renew-loop publishes for natpmp
 * status: its text read back as written, a newer or damaged one refused,
 * and the printers' lines. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "renew/live_state.h"

static void example(struct mapping_status *m, struct mapping_status *lost)
{
	memset(m, 0, sizeof(*m));
	m->family = AF_INET;
	m->transport = TRANSPORT_UDP;
	ip_address_parse("10.2.0.2", &m->internal_address);
	ip_address_parse("45.77.71.2", &m->external_address);
	m->external_port = 51413;
	m->condition = CONDITION_ACTIVE;
	m->lifetime = 60;
	m->next_ms = 130000;
	m->expires_ms = 160000;
	m->gateway_known = true;
	ip_address_parse("10.2.0.1", &m->gateway.address);
	m->gateway.port = 5351;
	m->via = PROTOCOL_NATPMP;
	*lost = *m;
	lost->family = AF_INET6;
	lost->transport = TRANSPORT_TCP;
	lost->internal_port = 443;
	ip_address_parse("2001:db8::2", &lost->internal_address);
	memset(&lost->external_address, 0, sizeof(lost->external_address));
	lost->external_port = 0;
	lost->condition = CONDITION_LOST;
	lost->next_ms = lost->expires_ms = 0;
	snprintf(lost->problem, sizeof(lost->problem),
		 "gateway 10.2.0.1 was reached directly over wg0\nand more");
}

static bool same(const struct mapping_status *a, const struct mapping_status *b)
{
	return a->pid == b->pid && a->family == b->family &&
	       a->transport == b->transport &&
	       ip_address_equal(&a->internal_address, &b->internal_address) &&
	       a->internal_port == b->internal_port &&
	       ip_address_equal(&a->external_address, &b->external_address) &&
	       a->external_port == b->external_port &&
	       a->condition == b->condition && a->lifetime == b->lifetime &&
	       a->next_ms == b->next_ms && a->expires_ms == b->expires_ms &&
	       a->gateway_known == b->gateway_known &&
	       ip_endpoint_equal(&a->gateway, &b->gateway) &&
	       a->via == b->via && strcmp(a->problem, b->problem) == 0;
}

static void test_round_trip(void)
{
	struct mapping_status written[2], *read;
	size_t count;
	char *text;

	example(&written[0], &written[1]);
	text = live_state_format(4242, written, 2);
	CHECK(text != NULL);
	if (!text)
		return;
	CHECK(strncmp(text, "natpmp-live 1\npid 4242\nmapping ", 31) == 0);
	CHECK(live_state_parse(text, strlen(text), &read, &count) == 0);
	CHECK_EQ(count, 2);
	written[0].pid = written[1].pid = 4242;
	/* a problem is one line */
	written[1].problem[strlen(
		"gateway 10.2.0.1 was reached directly over wg0")] = ' ';
	CHECK(same(&read[0], &written[0]));
	CHECK(same(&read[1], &written[1]));
	CHECK_EQ(read[1].family, AF_INET6);
	CHECK(!ip_address_is_set(&read[1].external_address));
	free(read);
	free(text);
}

static void test_refused(void)
{
	static const char *const texts[] = {
		"natpmp-live 2\npid 1\n",
		"natpmp-live 1\npid 1\nmapping family=inet protocol=sctp\n",
		"natpmp-live 1\npid 1\nmapping family=inet protocol=udp internal_port=70000\n",
		"natpmp-live 1\npid 1\nmapping family=inet protocol=udp state=maybe\n",
		"natpmp-live 1\npid 1\nmapping family=inet protocol=udp gateway=nowhere\n",
		"natpmp-live 1\npid 1\nmapping family\n",
	};
	struct mapping_status *read;
	size_t i, count;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		CHECK(live_state_parse(texts[i], strlen(texts[i]), &read,
				       &count) < 0);
		CHECK(read == NULL);
	}
	/* what a newer natpmp adds is passed over */
	CHECK(live_state_parse(
		      "natpmp-live 1\npid 7\nnews 1\nmapping family=inet protocol=tcp colour=blue\n",
		      70, &read, &count) == 0);
	CHECK_EQ(count, 1);
	CHECK_EQ(read[0].pid, 7);
	free(read);
}

static void test_text(void)
{
	struct mapping_status active, lost;
	char *line = NULL;
	size_t length = 0;
	FILE *out = open_memstream(&line, &length);

	example(&active, &lost);
	print_status_text(out, &active, 107500);
	print_status_text(out, &lost, 107500);
	active.condition = CONDITION_WAITING;
	memset(&active.external_address, 0, sizeof(active.external_address));
	active.external_port = 0;
	print_status_text(out, &active, 107500);
	fclose(out);
	CHECK(strcmp(line,
		     "udp 45.77.71.2:51413 -> 10.2.0.2:0 active, renewal in 23s, gateway 10.2.0.1 (nat-pmp)\n"
		     "tcp ? -> [2001:db8::2]:443 lost, no gateway: gateway 10.2.0.1 was reached directly over wg0\nand more\n"
		     "udp ? -> 10.2.0.2:0 waiting, next attempt in 23s, gateway 10.2.0.1 (nat-pmp)\n") ==
	      0);
	free(line);
}

int main(void)
{
	test_round_trip();
	test_refused();
	test_text();
	return check_report("test_live_state");
}
