/* exchange.c - one request at a time to the gateway, retransmitted on the
 * protocol's schedule, as a state machine the event loop drives: a send
 * timer, a readable socket, and a callback when the request is over. */
#include "engine/exchange.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/diag.h"
#include "os/os.h"

#define PROGRESS_AFTER_MS 1000
#define PROGRESS_EVERY_MS 1000
/* datagrams read per wake-up at most */
#define READS_PER_TURN 16

static void on_send_timer(void *context);
static void on_progress_timer(void *context);
static void on_readable(void *context, int fd, short revents);

int64_t exchange_send_offset_ms(const struct retry_schedule *schedule, int n)
{
	int64_t offset = 0, wait = 0;
	int i;

	for (i = 1; i < n; i++) {
		wait = schedule->next_wait_ms(wait, 0);
		offset += wait;
	}
	return offset;
}

int64_t exchange_give_up_offset_ms(const struct retry_schedule *schedule)
{
	return exchange_send_offset_ms(schedule, schedule->max_sends + 1);
}

int exchange_probe_source(const struct ip_endpoint *gateway,
			  struct ip_address *source)
{
	struct sockaddr_storage address, local;
	socklen_t length = ip_endpoint_to_sockaddr(gateway, &address);
	socklen_t local_length = sizeof(local);
	struct ip_endpoint endpoint;
	int fd, rc = -1, saved;

	fd = socket(gateway->address.family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)&address, length) == 0 &&
	    getsockname(fd, (struct sockaddr *)&local, &local_length) == 0 &&
	    ip_endpoint_from_sockaddr((struct sockaddr *)&local, local_length,
				      &endpoint) == 0) {
		*source = endpoint.address;
		rc = 0;
	}
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

/* Binds fd to source (any port). */
static int bind_source(int fd, const struct ip_address *source)
{
	struct ip_endpoint from = { .address = *source };
	struct sockaddr_storage address;
	socklen_t length = ip_endpoint_to_sockaddr(&from, &address);

	return bind(fd, (const struct sockaddr *)&address, length);
}

int exchange_open(struct exchange *ex, struct eloop *loop,
		  const struct ip_endpoint *gateway,
		  const struct ip_address *source)
{
	struct sockaddr_storage address, local;
	socklen_t length, local_length = sizeof(local);

	memset(ex, 0, sizeof(*ex));
	ex->fd = -1;
	ex->loop = loop;
	ex->gateway = *gateway;
	ip_endpoint_format(gateway, GATEWAY_PORT, ex->gateway_text,
			   sizeof(ex->gateway_text));
	eloop_timer_init(&ex->send_timer, on_send_timer, ex);
	eloop_timer_init(&ex->progress_timer, on_progress_timer, ex);

	/* connected: the kernel then drops datagrams from anyone but the
	 * gateway and reports its ICMP port unreachable as ECONNREFUSED */
	length = ip_endpoint_to_sockaddr(gateway, &address);
	ex->fd = socket(gateway->address.family,
			SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (ex->fd < 0 || length == 0)
		goto fail;
	if (source && ip_address_is_set(source) &&
	    source->family == gateway->address.family &&
	    bind_source(ex->fd, source) < 0)
		goto fail;
	if (connect(ex->fd, (const struct sockaddr *)&address, length) < 0 ||
	    getsockname(ex->fd, (struct sockaddr *)&local, &local_length) < 0 ||
	    ip_endpoint_from_sockaddr((struct sockaddr *)&local, local_length,
				      &ex->local) < 0 ||
	    eloop_watch(loop, ex->fd, POLLIN, on_readable, ex) < 0)
		goto fail;
	return 0;
fail:
	ex->error_number = errno ? errno : EAFNOSUPPORT;
	if (ex->fd >= 0)
		close(ex->fd);
	ex->fd = -1;
	return -1;
}

static void stop_waiting(struct exchange *ex)
{
	eloop_timer_stop(ex->loop, &ex->send_timer);
	eloop_timer_stop(ex->loop, &ex->progress_timer);
	if (ex->progress)
		diag_progress_clear();
	ex->busy = false;
	if (ex->waiting) {
		ex->waiting = false;
		if (ex->waiting_changed)
			ex->waiting_changed(ex->waiting_context);
	}
	ex->waited_ms = clock_now_ms() - ex->started_ms;
}

void exchange_close(struct exchange *ex)
{
	if (ex->fd < 0)
		return;
	if (ex->busy)
		stop_waiting(ex);
	eloop_unwatch(ex->loop, ex->fd);
	close(ex->fd);
	ex->fd = -1;
}

static void finish(struct exchange *ex, enum exchange_status status)
{
	stop_waiting(ex);
	ex->done(ex->context, status);
}

/* Errors that say the path to the gateway is down for now: keep to the
 * schedule, the link may come back. */
static bool is_transient(int error)
{
	return error == EHOSTUNREACH || error == ENETUNREACH ||
	       error == EHOSTDOWN || error == ENETDOWN || error == EAGAIN ||
	       error == EWOULDBLOCK || error == ENOBUFS || error == EINTR ||
	       error == EADDRNOTAVAIL || error == EPERM;
}

/* Arms the send timer for the next send (or the give-up), never past the
 * caller's deadline. */
static void arm(struct exchange *ex)
{
	int64_t at = ex->next_send_ms < ex->deadline_ms ? ex->next_send_ms
							: ex->deadline_ms;

	eloop_timer_at(ex->loop, &ex->send_timer, at);
}

/* Puts the request on the wire; false when that ended the request. */
static bool transmit(struct exchange *ex)
{
	if (send(ex->fd, ex->request, ex->length, 0) >= 0)
		return true;
	ex->error_number = errno;
	if (is_transient(errno)) {
		diag_verbose("send failed: %s", strerror(errno));
		return true;
	}
	finish(ex, errno == ECONNREFUSED ? EXCHANGE_PORT_UNREACHABLE
					 : EXCHANGE_SYSTEM_ERROR);
	return false;
}

/* Sends the schedule's next copy; false when that ended the request. */
static bool send_once(struct exchange *ex)
{
	int max = ex->schedule->max_sends;

	ex->sends++;
	ex->round_sends++;
	if (max)
		diag_verbose("send %d/%d to %s: %s (%zu bytes)", ex->sends, max,
			     ex->gateway_text, ex->label, ex->length);
	else
		diag_verbose("send %d to %s: %s (%zu bytes)", ex->sends,
			     ex->gateway_text, ex->label, ex->length);
	/* RFC 6887 section 8.1.1: RAND differs from host to host */
	ex->last_wait_ms = ex->schedule->next_wait_ms(ex->last_wait_ms,
						      os_random_number());
	ex->next_send_ms += ex->last_wait_ms;
	return transmit(ex);
}

static void on_send_timer(void *context)
{
	struct exchange *ex = context;
	int max = ex->schedule->max_sends;

	if (clock_now_ms() >= ex->deadline_ms) {
		ex->deadline_reached = true;
		finish(ex, EXCHANGE_TIMEOUT);
		return;
	}
	if (max && ex->round_sends >= max) {
		finish(ex, EXCHANGE_TIMEOUT); /* the schedule's last wait */
		return;
	}
	if (send_once(ex))
		arm(ex);
}

static void on_progress_timer(void *context)
{
	struct exchange *ex = context;
	long long waited =
		(long long)((clock_now_ms() - ex->started_ms) / 1000);

	if (ex->waiting_changed && !ex->waiting) {
		ex->waiting = true;
		ex->waiting_changed(ex->waiting_context);
	}
	if (!ex->progress)
		return; /* told once is enough */
	if (ex->schedule->max_sends)
		diag_progress(
			"no answer from gateway %s yet: attempt %d of %d, %llds waited",
			ex->gateway_text, ex->sends, ex->schedule->max_sends,
			waited);
	else
		diag_progress(
			"no answer from gateway %s yet: attempt %d, %llds waited",
			ex->gateway_text, ex->sends, waited);
	eloop_timer_at(ex->loop, &ex->progress_timer,
		       clock_now_ms() + PROGRESS_EVERY_MS);
}

void exchange_start(struct exchange *ex, const uint8_t *request, size_t length,
		    const char *label, const struct retry_schedule *schedule,
		    int64_t deadline_ms, exchange_match_fn match,
		    exchange_done_fn done, void *context)
{
	int64_t now;

	/* Whatever is queued before a request is sent answers an earlier
	 * one, or is news the gateway sent unasked (RFC 6887 section 14.2):
	 * read as the loop reads it when no request waits, it reaches the
	 * stray handler as it would have a moment earlier; one batch, as
	 * there, so that a flood cannot hold the loop here */
	on_readable(ex, ex->fd, POLLIN);
	now = clock_now_ms();
	if (length > sizeof(ex->request))
		length = sizeof(ex->request);
	memcpy(ex->request, request, length);
	ex->length = length;
	snprintf(ex->label, sizeof(ex->label), "%s", label);
	ex->schedule = schedule;
	ex->deadline_ms = deadline_ms;
	ex->match = match;
	ex->done = done;
	ex->context = context;
	ex->busy = true;
	ex->started_ms = ex->next_send_ms = now;
	ex->last_wait_ms = 0;
	ex->sends = ex->round_sends = 0;
	ex->error_number = 0;
	ex->waited_ms = 0;
	ex->deadline_reached = false;
	ex->kicked = false;
	if (ex->progress || ex->waiting_changed)
		eloop_timer_at(ex->loop, &ex->progress_timer,
			       now + PROGRESS_AFTER_MS);
	if (send_once(ex))
		arm(ex);
}

void exchange_cancel(struct exchange *ex)
{
	if (ex->busy)
		stop_waiting(ex);
}

void exchange_kick(struct exchange *ex)
{
	if (!ex->busy)
		return;
	/* the schedule starts over once per request: news that keeps
	 * coming (announcements forged every 2 s) must not keep a request
	 * from ever running out; later news is worth one copy now, off the
	 * schedule */
	if (ex->kicked) {
		ex->sends++;
		diag_verbose("send %d to %s: %s (%zu bytes), once more now",
			     ex->sends, ex->gateway_text, ex->label,
			     ex->length);
		transmit(ex);
		return;
	}
	ex->kicked = true;
	ex->next_send_ms = clock_now_ms();
	ex->last_wait_ms = 0;
	ex->round_sends = 0;
	if (send_once(ex))
		arm(ex);
}

static bool from_gateway(const struct exchange *ex,
			 const struct sockaddr_storage *from, socklen_t length)
{
	struct ip_endpoint source;

	/* RFC 6886 sections 3.2 and 3.3, RFC 6887 section 8.3: MUST check
	 * the source address */
	return ip_endpoint_from_sockaddr((const struct sockaddr *)from, length,
					 &source) == 0 &&
	       ip_endpoint_equal(&source, &ex->gateway);
}

void exchange_set_stray(struct exchange *ex, exchange_stray_fn stray,
			void *context)
{
	ex->stray = stray;
	ex->stray_context = context;
}

/* Offers a datagram that answers nothing in flight to the stray handler. */
static void take_stray(struct exchange *ex, const uint8_t *datagram,
		       size_t length, const char *why)
{
	char note[PROTOCOL_DESCRIPTION_MAX] = "";

	if (ex->stray && ex->stray(ex->stray_context, datagram, length, note,
				   sizeof(note))) {
		diag_verbose("received %zu bytes outside a request: %s", length,
			     note);
		return;
	}
	diag_verbose("ignored %zu bytes from %s: %s", length, ex->gateway_text,
		     why);
}

/* Judges one datagram; true once the request is over. */
static bool take_datagram(struct exchange *ex, const uint8_t *datagram,
			  ssize_t n, const struct sockaddr_storage *from,
			  socklen_t from_length)
{
	char note[PROTOCOL_DESCRIPTION_MAX] = "";
	size_t length = (size_t)n;

	if (!from_gateway(ex, from, from_length)) {
		diag_verbose("ignored %zd bytes from another address", n);
		return false;
	}
	if (length > PROTOCOL_DATAGRAM_MAX) {
		diag_verbose("ignored %zd bytes from %s: too long", n,
			     ex->gateway_text);
		return false;
	}
	if (!ex->busy) {
		take_stray(ex, datagram, length, "no request in flight");
		return false;
	}
	if (ex->match(ex->context, datagram, length, note, sizeof(note))) {
		diag_verbose("received %zd bytes: %s", n, note);
		finish(ex, EXCHANGE_ANSWERED);
		return true;
	}
	take_stray(ex, datagram, length, note);
	return false;
}

static void on_readable(void *context, int fd, short revents)
{
	struct exchange *ex = context;
	int reads;

	(void)revents;
	/* a flood (datagrams forged with the gateway's address, say) is read
	 * a batch per turn of the loop: timers and signals keep their time,
	 * and the rest stays readable for the next turn */
	for (reads = 0; reads < READS_PER_TURN; reads++) {
		/* one byte more than a datagram may have: a longer one is
		 * seen as too long even where MSG_TRUNC reports no more than
		 * was read */
		uint8_t datagram[PROTOCOL_DATAGRAM_MAX + 1];
		struct sockaddr_storage from;
		socklen_t from_length = sizeof(from);
		ssize_t n = recvfrom(fd, datagram, sizeof(datagram),
				     MSG_DONTWAIT | MSG_TRUNC,
				     (struct sockaddr *)&from, &from_length);

		if (n >= 0) {
			if (take_datagram(ex, datagram, n, &from, from_length))
				return;
			continue;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		if (!ex->busy)
			continue; /* a late ICMP error for an earlier request */
		ex->error_number = errno;
		if (is_transient(errno)) {
			diag_verbose("receive: %s", strerror(errno));
			continue;
		}
		finish(ex, errno == ECONNREFUSED ? EXCHANGE_PORT_UNREACHABLE
						 : EXCHANGE_SYSTEM_ERROR);
		return;
	}
}
