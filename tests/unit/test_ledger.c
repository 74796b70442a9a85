/* test_ledger.c - what a run remembers for the next: the protocol of a
 * gateway only when the next run would otherwise start in another, the
 * nonce of each mapping made over PCP, and every change written to the
 * state file in one write at the end. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "state/ledger.h"

static char root[] = "/tmp/test_ledger.XXXXXX";

static struct ip_endpoint gateway(void)
{
	struct ip_endpoint g = { .port = GATEWAY_PORT };

	ip_address_set_v4(&g.address, 0xc0a80101); /* 192.168.1.1 */
	return g;
}

static struct ledger_key key(uint16_t port)
{
	struct ledger_key k = { .gateway = gateway(),
				.transport = TRANSPORT_TCP,
				.internal_port = port };

	ip_address_set_v4(&k.host, 0xc0a80114); /* 192.168.1.20 */
	return k;
}

/* The state file's inode, new at each write (a rename replaces it), 0
 * while there is none. */
static long long state_file_inode(const char *directory)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/state", directory);
	return stat(path, &st) == 0 ? (long long)st.st_ino : 0;
}

static void test_protocols(void)
{
	struct ip_endpoint g = gateway();
	struct ledger l;

	CHECK_EQ(ledger_open(&l, NULL), 0);
	/* a NAT-PMP gateway needs no entry: auto mode starts there */
	ledger_heard(&l, &g, PROTOCOL_NATPMP, true);
	CHECK_EQ(ledger_protocol(&l, &g), PROTOCOL_NONE);
	CHECK(!ledger_unsaved(&l));
	/* nothing answered, nothing learned */
	ledger_heard(&l, &g, PROTOCOL_NONE, true);
	CHECK_EQ(ledger_protocol(&l, &g), PROTOCOL_NONE);
	/* PCP is remembered, whether chosen or forced */
	ledger_heard(&l, &g, PROTOCOL_PCP, false);
	CHECK_EQ(ledger_protocol(&l, &g), PROTOCOL_PCP);
	/* a forced NAT-PMP answer does not undo what auto mode learned */
	ledger_heard(&l, &g, PROTOCOL_NATPMP, false);
	CHECK_EQ(ledger_protocol(&l, &g), PROTOCOL_PCP);
	/* a gateway that went back to NAT-PMP under auto mode is followed */
	ledger_heard(&l, &g, PROTOCOL_NATPMP, true);
	CHECK_EQ(ledger_protocol(&l, &g), PROTOCOL_NATPMP);
	ledger_close(&l);
}

static void test_nonces(void)
{
	uint8_t nonce[NONCE_SIZE], got[NONCE_SIZE];
	struct ledger_key a = key(8080), b = key(8081);
	struct ip_endpoint g = gateway();
	uint16_t ports[4];
	struct ledger l;

	memset(nonce, 0xab, sizeof(nonce));
	CHECK_EQ(ledger_open(&l, NULL), 0);
	CHECK(!ledger_nonce(&l, &a, got));
	ledger_granted(&l, &a, nonce, 120);
	ledger_granted(&l, &b, nonce, 120);
	CHECK(ledger_nonce(&l, &a, got));
	CHECK(memcmp(got, nonce, NONCE_SIZE) == 0);
	CHECK_EQ(ledger_ports(&l, &g, TRANSPORT_TCP, &a.host, ports, 4), 2);
	CHECK_EQ(ledger_ports(&l, &g, TRANSPORT_UDP, &a.host, ports, 4), 0);
	CHECK_EQ(ledger_ports(&l, &g, TRANSPORT_TCP, &a.host, ports, 1), 1);
	ledger_deleted(&l, &a);
	CHECK(!ledger_nonce(&l, &a, got));
	CHECK_EQ(ledger_ports(&l, &g, TRANSPORT_TCP, &a.host, ports, 4), 1);
	CHECK_EQ(ports[0], 8081);
	/* without a directory nothing waits to be written */
	CHECK(!ledger_unsaved(&l));
	CHECK_EQ(ledger_save(&l), 0);
	ledger_close(&l);
}

static bool host_20_is_this(const struct ip_address *host)
{
	return ip_address_v4(host) == 0xc0a80114; /* 192.168.1.20 */
}

/* Mappings made over NAT-PMP are remembered without a nonce: PCP's
 * questions (the nonce, unmap --all's list) never see them, the doctor's
 * does, and NAT-PMP's deletion of port 0 forgets them all. */
static void test_mappings_without_nonce(void)
{
	uint8_t nonce[NONCE_SIZE], got[NONCE_SIZE];
	struct ledger_key natpmp = key(8080), pcp = key(8081);
	struct ledger_key other_host = key(9000), all = key(0);
	struct ip_endpoint g = gateway();
	uint16_t ports[4];
	struct ledger l;

	memset(nonce, 0x42, sizeof(nonce));
	ip_address_set_v4(&other_host.host, 0xc0a80115);
	CHECK_EQ(ledger_open(&l, NULL), 0);
	ledger_granted(&l, &natpmp, NULL, 120);
	ledger_granted(&l, &pcp, nonce, 120);
	ledger_granted(&l, &other_host, NULL, 120);
	CHECK_EQ(l.state.mapping_count, 3);
	CHECK(!ledger_nonce(&l, &natpmp, got));
	CHECK(ledger_nonce(&l, &pcp, got));
	CHECK_EQ(ledger_ports(&l, &g, TRANSPORT_TCP, &natpmp.host, ports, 4),
		 1);
	CHECK_EQ(ports[0], 8081);
	/* held: at any gateway, for either transport, for this host only */
	CHECK(ledger_port_held(&l, 8080, host_20_is_this));
	CHECK(ledger_port_held(&l, 8081, host_20_is_this));
	CHECK(!ledger_port_held(&l, 8082, host_20_is_this));
	CHECK(!ledger_port_held(&l, 9000, host_20_is_this));
	/* a mapping whose lifetime is over holds nothing */
	ledger_granted(&l, &natpmp, NULL, 0);
	CHECK(!ledger_port_held(&l, 8080, host_20_is_this));
	ledger_granted(&l, &natpmp, NULL, 120);
	/* port 0 names no port: not remembered */
	ledger_granted(&l, &all, NULL, 120);
	CHECK_EQ(l.state.mapping_count, 3);
	/* NAT-PMP deleted every TCP mapping of the host at this gateway */
	ledger_deleted(&l, &all);
	CHECK(!ledger_port_held(&l, 8080, host_20_is_this));
	CHECK(!ledger_port_held(&l, 8081, host_20_is_this));
	CHECK_EQ(l.state.mapping_count, 1);
	CHECK_EQ(l.state.mappings[0].internal_port, 9000);
	ledger_close(&l);
}

/* Every change of a run goes to the file in one write, which the next
 * run reads back. */
static void test_one_write(void)
{
	uint8_t nonce[NONCE_SIZE], got[NONCE_SIZE];
	struct ip_endpoint g = gateway();
	struct ledger l;
	long long before;
	unsigned port;

	memset(nonce, 0x5c, sizeof(nonce));
	CHECK_EQ(ledger_open(&l, root), 0);
	ledger_heard(&l, &g, PROTOCOL_PCP, true);
	for (port = 1000; port < 1020; port++) {
		struct ledger_key k = key((uint16_t)port);
		ledger_granted(&l, &k, nonce, 7200);
	}
	CHECK(ledger_unsaved(&l));
	CHECK_EQ(state_file_inode(root), 0); /* nothing yet */
	CHECK_EQ(ledger_save(&l), 0);
	CHECK(!ledger_unsaved(&l));
	before = state_file_inode(root);
	CHECK(before != 0);
	/* a save with nothing new writes nothing: the file is not replaced */
	CHECK_EQ(ledger_save(&l), 0);
	CHECK_EQ(state_file_inode(root), before);
	ledger_close(&l);

	CHECK_EQ(ledger_open(&l, root), 0);
	CHECK_EQ(ledger_protocol(&l, &g), PROTOCOL_PCP);
	for (port = 1000; port < 1020; port++) {
		struct ledger_key k = key((uint16_t)port);
		CHECK(ledger_nonce(&l, &k, got));
	}
	/* known and fresh: hearing PCP again is no news */
	ledger_heard(&l, &g, PROTOCOL_PCP, true);
	CHECK(!ledger_unsaved(&l));
	ledger_close(&l);
}

/* A NAT-PMP mapping is written when it is new, when its expiry moves by
 * more than LEDGER_EXPIRY_SLACK_S or comes sooner, and when a deletion
 * has something to forget; map run again writes nothing. Such changes go
 * to the disk without fsync, a nonce or a gateway's protocol with. */
static void test_natpmp_writes_only_news(void)
{
	struct ledger_key k = key(2000), unknown = key(2001), all = key(0);
	struct state_change change = { .kind = STATE_REMEMBER_MAPPING };
	struct ledger l;

	CHECK_EQ(ledger_open(&l, root), 0);
	ledger_granted(&l, &k, NULL, 7200);
	CHECK(ledger_unsaved(&l));
	CHECK(!state_changes_durable(l.unsaved, l.unsaved_count));
	CHECK_EQ(ledger_save(&l), 0);
	/* the same grant again, a moment later: nothing to write */
	ledger_granted(&l, &k, NULL, 7200);
	CHECK(!ledger_unsaved(&l));
	/* renewed further than the slack: written */
	ledger_granted(&l, &k, NULL, 7200 + LEDGER_EXPIRY_SLACK_S + 5);
	CHECK(ledger_unsaved(&l));
	CHECK_EQ(ledger_save(&l), 0);
	/* a short lifetime's renewal: the record would run out before the
	 * next, so it is written each time */
	ledger_granted(&l, &k, NULL, 60);
	CHECK(ledger_unsaved(&l));
	CHECK_EQ(ledger_save(&l), 0);
	ledger_granted(&l, &k, NULL, 60);
	CHECK(ledger_unsaved(&l));
	CHECK_EQ(ledger_save(&l), 0);
	/* a shorter grant ends it sooner: written */
	ledger_granted(&l, &k, NULL, 600);
	CHECK(ledger_unsaved(&l));
	CHECK_EQ(ledger_save(&l), 0);
	/* nothing known to forget: nothing written */
	ledger_deleted(&l, &unknown);
	CHECK(!ledger_unsaved(&l));
	ledger_deleted(&l, &all);
	CHECK(ledger_unsaved(&l));
	CHECK_EQ(ledger_save(&l), 0);
	ledger_deleted(&l, &all);
	CHECK(!ledger_unsaved(&l));
	ledger_close(&l);

	CHECK(!state_changes_durable(&change, 1));
	change.mapping.has_nonce = true;
	CHECK(state_changes_durable(&change, 1));
	change.kind = STATE_REMEMBER_GATEWAY;
	change.mapping.has_nonce = false;
	CHECK(state_changes_durable(&change, 1));
	change.kind = STATE_FORGET_MAPPING;
	CHECK(!state_changes_durable(&change, 1));
}

/* A renew-loop that moved thousands of times (another host address,
 * another gateway) leaves a mapping behind at each move; once those run
 * out they are let go, so the ledger stays small and a new mapping's
 * nonce is still learned after more moves than the state holds. */
static void test_moves_let_go_of_what_ran_out(void)
{
	uint8_t nonce[NONCE_SIZE] = { 7, 7, 7 }, got[NONCE_SIZE] = { 0 };
	struct ledger_key k = key(3000);
	struct ledger l;
	size_t before;
	unsigned i;

	CHECK_EQ(ledger_open(&l, root), 0);
	before = l.state.mapping_count;
	for (i = 0; i < STATE_ENTRIES_MAX + 100; i++) {
		ip_address_set_v4(&k.host, 0x0a000000 + i); /* 10.0.x.y */
		ledger_granted(&l, &k, nonce, 0); /* ran out at once */
	}
	CHECK(l.state.mapping_count <= before + 1);
	k = key(3001);
	ledger_granted(&l, &k, nonce, 7200);
	CHECK(ledger_nonce(&l, &k, got));
	CHECK(memcmp(got, nonce, NONCE_SIZE) == 0);
	ledger_close(&l);
}

/* Waits for the writer to end, polling; the test has no event loop. */
static void wait_for_writer(struct ledger *l)
{
	int tries;

	for (tries = 0; tries < 5000 && !ledger_write_reap(l); tries++)
		usleep(2000);
}

/* The run's changes written by a child; when it fails they wait again, in
 * front of what came since. */
static void test_writer(void)
{
	uint8_t nonce[NONCE_SIZE], got[NONCE_SIZE];
	char blocked[300];
	struct ledger_key k = key(7000), later = key(7001);
	struct ledger l;
	FILE *f;

	memset(nonce, 0x77, sizeof(nonce));
	CHECK_EQ(ledger_open(&l, root), 0);
	CHECK_EQ(ledger_write_start(&l), 0); /* nothing to write */
	ledger_granted(&l, &k, nonce, 600);
	CHECK(ledger_write_start(&l) > 0);
	CHECK(ledger_writing(&l));
	CHECK(!ledger_unsaved(&l));
	CHECK_EQ(ledger_write_start(&l), 0); /* one at a time */
	wait_for_writer(&l);
	CHECK(!ledger_writing(&l));
	CHECK_EQ(ledger_write_failures(&l), 0);
	ledger_close(&l);
	CHECK_EQ(ledger_open(&l, root), 0);
	CHECK(ledger_nonce(&l, &k, got));
	ledger_close(&l);

	/* a directory that cannot be: beneath a file */
	snprintf(blocked, sizeof(blocked), "%s/file", root);
	f = fopen(blocked, "w");
	CHECK(f != NULL);
	if (f)
		fclose(f);
	snprintf(blocked, sizeof(blocked), "%s/file/state", root);
	CHECK_EQ(ledger_open(&l, blocked), 0);
	ledger_granted(&l, &k, nonce, 600);
	CHECK(ledger_write_start(&l) > 0);
	ledger_granted(&l, &later, nonce, 600);
	wait_for_writer(&l);
	CHECK_EQ(ledger_write_failures(&l), 1);
	CHECK(ledger_unsaved(&l));
	/* both wait, the failed one first */
	CHECK_EQ(l.unsaved_count, 2);
	CHECK_EQ(l.unsaved[0].mapping.internal_port, 7000);
	CHECK_EQ(l.unsaved[1].mapping.internal_port, 7001);
	ledger_close(&l);
}

int main(void)
{
	char command[64];

	if (!mkdtemp(root)) {
		perror(root);
		return 2;
	}
	test_protocols();
	test_nonces();
	test_mappings_without_nonce();
	test_one_write();
	test_natpmp_writes_only_news();
	test_moves_let_go_of_what_ran_out();
	test_writer();
	snprintf(command, sizeof(command), "rm -rf %s", root);
	if (system(command) != 0)
		check_failures++;
	return check_report("test_ledger");
}
