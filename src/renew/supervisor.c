/* supervisor.c - the gateway renew-loop talks to, kept current: every
 * network news is let settle, then the route is looked up again and
 * compared with the one in use. */
#include "renew/supervisor.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/diag.h"
#include "engine/policy.h"
#include "renew/scheduler.h"

static void check(struct supervisor *s);
static void no_gateway(struct supervisor *s, struct result *failure);

static void on_settled(void *context)
{
	check(context);
}

/* The named gateway, once a neighbour, now behind a router: fills
 * *failure and returns true. */
static bool strayed(struct supervisor *s, const struct ip_endpoint *to,
		    const struct gateway_route *route, struct result *failure)
{
	char gateway[IP_ADDRESS_TEXT_SIZE], hop[IP_ADDRESS_TEXT_SIZE];

	if (!s->options->gateway_given)
		return false;
	if (!ip_address_is_set(&route->next_hop)) {
		if (route->interface) {
			s->was_neighbour = true;
			snprintf(s->neighbour_interface,
				 sizeof(s->neighbour_interface), "%s",
				 route->interface_name);
		}
		return false;
	}
	if (!s->was_neighbour)
		return false;
	memset(failure, 0, sizeof(*failure));
	failure->failure = FAILURE_NO_GATEWAY;
	snprintf(
		failure->message, sizeof(failure->message),
		"gateway %s was reached directly over %s, and its route now goes via %s on %s (a tunnel down?): sending it nothing until that route is back",
		ip_address_format(&to->address, gateway, sizeof(gateway)),
		s->neighbour_interface,
		ip_address_format(&route->next_hop, hop, sizeof(hop)),
		route->interface_name);
	return true;
}

/* Between a route's change and the check that follows it, not one
 * datagram may go to the router a vanished tunnel's traffic falls back
 * to: that is looked at at once. */
static void check_neighbour_now(struct supervisor *s)
{
	struct gateway_route route;
	struct ip_endpoint to;
	struct result failure;

	if (!s->connected || !s->was_neighbour)
		return;
	if (policy_gateway(s->options, s->family, &to, &route, &failure) == 0 &&
	    strayed(s, &to, &route, &failure))
		no_gateway(s, &failure);
}

static void on_network_news(void *context, int fd, short revents)
{
	struct supervisor *s = context;
	struct network_news news;

	(void)revents;
	gateway_watch_read(fd, s->connected ? s->route.interface : 0, &news);
	if (news.interface_down) {
		diag_verbose("interface %s went down", s->route.interface_name);
		s->link_went_down = true;
	}
	if (news.changed)
		check_neighbour_now(s);
	if (news.changed || news.interface_down)
		supervisor_check_soon(s);
}

static void on_announcement(void *context, int fd, short revents)
{
	struct supervisor *s = context;
	struct announcement a;
	int n;

	(void)revents;
	/* a few at a time: a flood must leave the loop its timers and
	 * signals; the rest wait for the next turn */
	for (n = 0; n < SUPERVISOR_ANNOUNCE_BATCH && s->connected; n++) {
		enum announce_status status = announce_receive(
			fd, client_gateway(&s->client), s->route.interface, &a);
		if (status == ANNOUNCE_NONE)
			break;
		if (status == ANNOUNCE_HEARD)
			s->events->announced(s->context, &a);
	}
}

static void close_announcements(struct supervisor *s)
{
	if (s->announce_fd < 0)
		return;
	eloop_unwatch(s->loop, s->announce_fd);
	close(s->announce_fd);
	s->announce_fd = -1;
}

static void open_announcements(struct supervisor *s)
{
	int family = client_gateway(&s->client)->address.family;

	s->announce_fd = announce_open(family, s->route.interface);
	if (s->announce_fd < 0) {
		diag_verbose("not listening for gateway announcements: %s",
			     strerror(errno));
		return;
	}
	if (eloop_watch(s->loop, s->announce_fd, POLLIN, on_announcement, s) <
	    0)
		close_announcements(s);
}

static void disconnect(struct supervisor *s)
{
	close_announcements(s);
	if (s->connected)
		client_close(&s->client);
	s->connected = false;
}

/* No gateway now: say why once per reason, and look again later even if
 * no network news comes. */
static void no_gateway(struct supervisor *s, struct result *failure)
{
	bool was_connected = s->connected;
	bool news = strcmp(failure->message, s->last_failure) != 0;

	disconnect(s);
	failure->kind = RESULT_SETUP;
	if (failure->failure == FAILURE_NONE)
		failure->failure = FAILURE_NO_GATEWAY;
	snprintf(s->last_failure, sizeof(s->last_failure), "%s",
		 failure->message);
	s->failures++;
	eloop_timer_at(s->loop, &s->retry_timer,
		       clock_now_ms() + scheduler_retry_ms(s->failures));
	if (news || was_connected)
		s->events->lost(s->context, failure);
}

static bool same_way(const struct supervisor *s, const struct ip_endpoint *to,
		     const struct gateway_route *route,
		     const struct ip_address *source)
{
	return s->connected &&
	       ip_endpoint_equal(to, client_gateway(&s->client)) &&
	       route->interface == s->route.interface &&
	       ip_address_equal(source, client_source(&s->client));
}

static enum network_change what_changed(const struct supervisor *s,
					const struct ip_endpoint *to,
					const struct ip_address *source)
{
	if (!s->ever_connected)
		return NETWORK_FIRST;
	if (!ip_endpoint_equal(to, &s->last_gateway))
		return NETWORK_NEW_GATEWAY;
	if (!ip_address_equal(source, &s->last_source))
		return NETWORK_NEW_SOURCE;
	return NETWORK_MOVED;
}

static void connect_to(struct supervisor *s, const struct ip_endpoint *to,
		       const struct gateway_route *route,
		       const struct ip_address *source)
{
	enum network_change change = what_changed(s, to, source);
	struct result failure;
	const struct protocol *protocol;
	bool follow;

	disconnect(s);
	protocol =
		policy_protocol(s->options, s->family, s->ledger, to, &follow);
	if (client_open(&s->client, s->loop, protocol, follow, to,
			s->family == AF_INET6 ? source : NULL, &failure) < 0) {
		no_gateway(s, &failure);
		return;
	}
	client_set_tunnel(&s->client,
			  route->tunnel ? route->interface_name : NULL);
	s->route = *route;
	s->last_gateway = *to;
	s->last_source = *client_source(&s->client);
	s->connected = s->ever_connected = true;
	s->failures = 0;
	s->last_failure[0] = '\0';
	eloop_timer_stop(s->loop, &s->retry_timer);
	open_announcements(s);
	s->events->connected(s->context, change);
}

static void check(struct supervisor *s)
{
	struct gateway_route route;
	struct ip_endpoint to;
	struct ip_address source;
	struct result failure;
	bool bounced = false;

	eloop_timer_stop(s->loop, &s->settle_timer);
	if (policy_gateway(s->options, s->family, &to, &route, &failure) < 0 ||
	    strayed(s, &to, &route, &failure)) {
		no_gateway(s, &failure);
		return;
	}
	/* IPv6 sends from the global address discovery chose */
	if (s->family == AF_INET6)
		source = route.source;
	else if (exchange_probe_source(&to, &source) < 0) {
		char text[IP_ENDPOINT_TEXT_SIZE];
		memset(&failure, 0, sizeof(failure));
		snprintf(failure.message, sizeof(failure.message),
			 "cannot reach gateway %s: %s",
			 ip_endpoint_format(&to, GATEWAY_PORT, text,
					    sizeof(text)),
			 strerror(errno));
		no_gateway(s, &failure);
		return;
	}
	if (s->link_went_down) {
		/* wait for the link to come back: the news will say so */
		if (route.interface &&
		    !os_interface_running(route.interface_name))
			return;
		s->link_went_down = false;
		bounced = true;
	}
	if (same_way(s, &to, &route, &source) && !bounced)
		return;
	connect_to(s, &to, &route, &source);
}

static void on_retry(void *context)
{
	check(context);
}

void supervisor_check_soon(struct supervisor *s)
{
	int64_t now = clock_now_ms(), at = now + SUPERVISOR_SETTLE_MS;

	if (!s->settle_timer.armed)
		s->settle_started_ms = now;
	if (at > s->settle_started_ms + SUPERVISOR_SETTLE_MAX_MS)
		at = s->settle_started_ms + SUPERVISOR_SETTLE_MAX_MS;
	eloop_timer_at(s->loop, &s->settle_timer, at);
}

void supervisor_check_now(struct supervisor *s)
{
	check(s);
}

int supervisor_start(struct supervisor *s, struct eloop *loop,
		     const struct options *options, int family,
		     const struct ledger *ledger,
		     const struct supervisor_events *events, void *context)
{
	memset(s, 0, sizeof(*s));
	s->loop = loop;
	s->options = options;
	s->family = family;
	s->ledger = ledger;
	s->events = events;
	s->context = context;
	s->announce_fd = -1;
	eloop_timer_init(&s->settle_timer, on_settled, s);
	eloop_timer_init(&s->retry_timer, on_retry, s);
	s->watch_fd = gateway_watch_open();
	if (s->watch_fd < 0)
		diag_verbose("not watching the network for changes: %s",
			     strerror(errno));
	else if (eloop_watch(loop, s->watch_fd, POLLIN, on_network_news, s) < 0)
		return -1;
	check(s);
	return 0;
}

void supervisor_freeze(struct supervisor *s)
{
	eloop_timer_stop(s->loop, &s->settle_timer);
	eloop_timer_stop(s->loop, &s->retry_timer);
	if (s->watch_fd >= 0)
		eloop_unwatch(s->loop, s->watch_fd);
	if (s->announce_fd >= 0)
		eloop_unwatch(s->loop, s->announce_fd);
}

void supervisor_stop(struct supervisor *s)
{
	if (!s->loop)
		return; /* never started */
	supervisor_freeze(s);
	disconnect(s);
	if (s->watch_fd >= 0)
		close(s->watch_fd);
	s->watch_fd = -1;
}

struct client *supervisor_client(struct supervisor *s)
{
	return s->connected ? &s->client : NULL;
}

const char *supervisor_interface(const struct supervisor *s)
{
	return s->route.interface_name;
}

const char *supervisor_last_failure(const struct supervisor *s)
{
	return s->last_failure;
}
