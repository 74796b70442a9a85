/* session.c - setup and bookkeeping shared by address, map and unmap. */
#include "session.h"

#include <arpa/inet.h>
#include <string.h>

#include "clock.h"
#include "diag.h"
#include "exit_status.h"
#include "gateway.h"

int session_find_gateway(const struct invocation *inv,
			 struct sockaddr_in *gateway, struct result *failure)
{
	struct gateway_route route;
	char text[IP_ADDRESS_TEXT_SIZE];

	if (inv->gateway_given) {
		*gateway = inv->gateway;
		return 0;
	}
	memset(failure, 0, sizeof(*failure));
	failure->kind = RESULT_SETUP;
	if (gateway_discover(AF_INET, &route, failure->message,
			     sizeof(failure->message)) < 0) {
		failure->failure = FAILURE_NO_GATEWAY;
		return -1;
	}
	memset(gateway, 0, sizeof(*gateway));
	gateway->sin_family = AF_INET;
	memcpy(&gateway->sin_addr, route.gateway.bytes, 4);
	gateway->sin_port = htons(5351);
	diag_verbose("gateway %s, from the %s",
		     ip_address_format(&route.gateway, text, sizeof(text)),
		     route.origin);
	return 0;
}

int session_open(struct session *s, const struct invocation *inv)
{
	struct sockaddr_in gateway;
	struct result failure;

	memset(s, 0, sizeof(*s));
	s->output.json = inv->json;
	s->output.quiet = inv->quiet;
	s->client.exchange.fd = -1;
	if (session_find_gateway(inv, &gateway, &failure) < 0 ||
	    client_open(&s->client, &gateway, &failure) < 0) {
		failure.kind = RESULT_SETUP;
		session_report(s, &failure);
		return s->exit_status;
	}
	s->client.timeout_ms = inv->timeout_ms;
	s->client.exchange.remember_silence = true;
	s->client.exchange.progress = diag_progress_possible();
	if (inv->timeout_ms >= 0)
		s->client.exchange.deadline_ms =
			clock_now_ms() + inv->timeout_ms;
	return 0;
}

void session_report(struct session *s, const struct result *result)
{
	output_result(&s->output, result);
	if (result->failure != FAILURE_NONE && s->exit_status == EXIT_OK)
		s->exit_status = failure_exit_status(result->failure);
}

void session_close(struct session *s)
{
	client_close(&s->client);
}
