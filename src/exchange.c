/* exchange.c - one request at a time to the gateway, retransmitted on the
 * RFC 6886 section 3.1 schedule: 250 ms, doubling, 9 sends, 127.75 s. */
#include "exchange.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "diag.h"

#define PROGRESS_AFTER_MS 1000
#define PROGRESS_EVERY_MS 1000

int64_t exchange_send_offset_ms(int n)
{
	/* sends at 0, 0.25, 0.75, 1.75 ... s: the waits double from 250 ms */
	return EXCHANGE_FIRST_WAIT_MS * ((INT64_C(1) << (n - 1)) - 1);
}

int64_t exchange_give_up_offset_ms(int sends)
{
	/* after the last send, wait as long again as the doubling says:
	 * 64 s after the 9th, 127.75 s in all */
	return exchange_send_offset_ms(sends + 1);
}

int exchange_open(struct exchange *ex, const struct sockaddr_in *gateway)
{
	socklen_t length = sizeof(ex->local);
	char address[INET_ADDRSTRLEN];

	memset(ex, 0, sizeof(*ex));
	ex->fd = -1;
	ex->gateway = *gateway;
	ex->deadline_ms = EXCHANGE_NO_DEADLINE;
	ex->max_sends = EXCHANGE_RFC_SENDS;
	inet_ntop(AF_INET, &gateway->sin_addr, address, sizeof(address));
	if (ntohs(gateway->sin_port) == 5351)
		snprintf(ex->gateway_text, sizeof(ex->gateway_text), "%s",
			 address);
	else
		snprintf(ex->gateway_text, sizeof(ex->gateway_text), "%s:%u",
			 address, (unsigned)ntohs(gateway->sin_port));

	/* connected: the kernel then drops datagrams from anyone but the
	 * gateway and reports its ICMP port unreachable as ECONNREFUSED */
	ex->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (ex->fd < 0)
		goto fail;
	if (connect(ex->fd, (const struct sockaddr *)gateway,
		    sizeof(*gateway)) < 0)
		goto fail;
	if (getsockname(ex->fd, (struct sockaddr *)&ex->local, &length) < 0)
		goto fail;
	return 0;
fail:
	ex->error_number = errno;
	if (ex->fd >= 0)
		close(ex->fd);
	ex->fd = -1;
	return -1;
}

void exchange_close(struct exchange *ex)
{
	if (ex->fd >= 0)
		close(ex->fd);
	ex->fd = -1;
}

void exchange_forget_silence(struct exchange *ex)
{
	ex->silence = EXCHANGE_ANSWERED;
}

/* Errors that say the path to the gateway is down for now: keep to the
 * schedule, the link may come back. */
static bool is_transient(int error)
{
	return error == EHOSTUNREACH || error == ENETUNREACH ||
	       error == EHOSTDOWN || error == ENETDOWN || error == EAGAIN ||
	       error == EWOULDBLOCK || error == ENOBUFS || error == EINTR;
}

/* Sends one copy of the request; false, with *status set, when that ends
 * the exchange. */
static bool send_request(struct exchange *ex, const uint8_t *request,
			 size_t length, const char *label,
			 enum exchange_status *status)
{
	ex->sends++;
	diag_verbose("send %d/%d to %s: %s (%zu bytes)", ex->sends,
		     ex->max_sends, ex->gateway_text, label, length);
	if (send(ex->fd, request, length, 0) >= 0)
		return true;
	ex->error_number = errno;
	if (is_transient(errno)) {
		diag_verbose("send failed: %s", strerror(errno));
		return true;
	}
	*status = errno == ECONNREFUSED ? EXCHANGE_PORT_UNREACHABLE
					: EXCHANGE_SYSTEM_ERROR;
	return false;
}

static bool from_gateway(const struct exchange *ex,
			 const struct sockaddr_in *from, socklen_t length)
{
	/* RFC 6886 sections 3.2 and 3.3: MUST check the source address */
	return length >= sizeof(*from) && from->sin_family == AF_INET &&
	       from->sin_addr.s_addr == ex->gateway.sin_addr.s_addr &&
	       from->sin_port == ex->gateway.sin_port;
}

/* Reads every queued datagram; true, with *status set, once the wait is
 * over: an accepted answer, ICMP port unreachable or a local error. */
static bool drain(struct exchange *ex, exchange_match_fn match, void *context,
		  enum exchange_status *status)
{
	for (;;) {
		uint8_t datagram[EXCHANGE_DATAGRAM_MAX];
		struct sockaddr_in from;
		socklen_t from_length = sizeof(from);
		char note[256] = "";
		ssize_t n;

		n = recvfrom(ex->fd, datagram, sizeof(datagram),
			     MSG_DONTWAIT | MSG_TRUNC, (struct sockaddr *)&from,
			     &from_length);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return false;
			ex->error_number = errno;
			if (is_transient(errno)) {
				diag_verbose("receive: %s", strerror(errno));
				continue;
			}
			*status = errno == ECONNREFUSED
					  ? EXCHANGE_PORT_UNREACHABLE
					  : EXCHANGE_SYSTEM_ERROR;
			return true;
		}
		if (!from_gateway(ex, &from, from_length)) {
			ex->ignored++;
			diag_verbose("ignored %zd bytes: not from the gateway",
				     n);
			continue;
		}
		if ((size_t)n > sizeof(datagram)) {
			ex->ignored++;
			diag_verbose("ignored %zd bytes: far too long", n);
			continue;
		}
		if (match(datagram, (size_t)n, context, note, sizeof(note))) {
			diag_verbose("received %zd bytes: %s", n, note);
			*status = EXCHANGE_ANSWERED;
			return true;
		}
		ex->ignored++;
		diag_verbose("ignored %zd bytes: %s", n, note);
	}
}

/* Whatever is queued before a request is sent answers an earlier one. */
static void discard_queued(struct exchange *ex)
{
	uint8_t datagram[EXCHANGE_DATAGRAM_MAX];
	ssize_t n;

	while ((n = recv(ex->fd, datagram, sizeof(datagram),
			 MSG_DONTWAIT | MSG_TRUNC)) >= 0 ||
	       errno == ECONNREFUSED) {
		if (n >= 0)
			diag_verbose(
				"discarded %zd bytes queued before this request",
				n);
	}
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

static void show_progress(const struct exchange *ex, int64_t waited_ms)
{
	diag_progress(
		"no answer from gateway %s yet: attempt %d of %d, %llds waited",
		ex->gateway_text, ex->sends, ex->max_sends,
		(long long)(waited_ms / 1000));
}

enum exchange_status exchange_run(struct exchange *ex, const uint8_t *request,
				  size_t length, const char *label,
				  exchange_match_fn match, void *context)
{
	int64_t start, give_up, next_send, next_progress;
	enum exchange_status status;

	ex->skipped = ex->remember_silence && ex->silence != EXCHANGE_ANSWERED;
	if (ex->skipped)
		return ex->silence;
	ex->sends = 0;
	ex->ignored = 0;
	ex->error_number = 0;
	start = clock_now_ms();
	give_up = min64(start + exchange_give_up_offset_ms(ex->max_sends),
			ex->deadline_ms);
	next_send = start;
	next_progress = start + PROGRESS_AFTER_MS;

	discard_queued(ex);
	for (;;) {
		int64_t now = clock_now_ms(), wake;
		struct pollfd pfd = { .fd = ex->fd, .events = POLLIN };

		if (now >= give_up) {
			status = EXCHANGE_TIMEOUT;
			break;
		}
		if (ex->sends < ex->max_sends && now >= next_send) {
			if (!send_request(ex, request, length, label, &status))
				break;
			next_send =
				start + exchange_send_offset_ms(ex->sends + 1);
			continue;
		}
		if (ex->progress && now >= next_progress) {
			show_progress(ex, now - start);
			next_progress = now + PROGRESS_EVERY_MS;
		}
		wake = give_up;
		if (ex->sends < ex->max_sends)
			wake = min64(wake, next_send);
		if (ex->progress)
			wake = min64(wake, next_progress);
		if (poll(&pfd, 1, (int)min64(wake - now, 60000)) < 0) {
			if (errno != EINTR) {
				ex->error_number = errno;
				status = EXCHANGE_SYSTEM_ERROR;
				break;
			}
			/* a signal: the caller may want the wait to end */
			if (ex->on_signal &&
			    ex->on_signal(ex->on_signal_context)) {
				status = EXCHANGE_INTERRUPTED;
				break;
			}
			continue;
		}
		if (pfd.revents && drain(ex, match, context, &status))
			break;
	}
	if (ex->progress)
		diag_progress_clear();
	ex->waited_ms = clock_now_ms() - start;
	if (status == EXCHANGE_TIMEOUT || status == EXCHANGE_PORT_UNREACHABLE)
		ex->silence = status;
	return status;
}
