/* signals.c - handlers only set a flag and write one byte to a pipe; all
 * the work happens in the main loop. No SA_RESTART: a signal interrupts
 * poll() so it is seen at once. */
#include "engine/signals.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t pending;
static int pipe_fds[2] = { -1, -1 };

static void on_signal(int number)
{
	int saved = errno;
	char byte = 0;

	switch (number) {
	case SIGINT:
	case SIGTERM: pending |= SIGNAL_STOP; break;
	case SIGHUP: pending |= SIGNAL_RENEW; break;
	case SIGUSR1: pending |= SIGNAL_STATE; break;
	case SIGCHLD: pending |= SIGNAL_CHILD; break;
	default: break;
	}
	if (write(pipe_fds[1], &byte, 1) < 0) {
		/* the pipe is full: the loop will wake for earlier bytes */
	}
	errno = saved;
}

static int set_flags(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return -1;
	return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

int signals_open(void)
{
	static const int numbers[] = { SIGINT, SIGTERM, SIGHUP, SIGUSR1,
				       SIGCHLD };
	struct sigaction action;
	size_t i;

	if (pipe(pipe_fds) < 0 || set_flags(pipe_fds[0]) < 0 ||
	    set_flags(pipe_fds[1]) < 0)
		return -1;
	memset(&action, 0, sizeof(action));
	action.sa_handler = on_signal;
	/* one handler at a time, so no update of pending is lost to another
	 * signal arriving in its middle */
	sigemptyset(&action.sa_mask);
	for (i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++)
		sigaddset(&action.sa_mask, numbers[i]);
	/* interrupted writes and reads go on; poll() still wakes up */
	action.sa_flags = SA_RESTART;
	for (i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++)
		if (sigaction(numbers[i], &action, NULL) < 0)
			return -1;
	return pipe_fds[0];
}

unsigned signals_take(void)
{
	char drain[64];
	sigset_t block, old;
	unsigned taken;

	while (read(pipe_fds[0], drain, sizeof(drain)) > 0)
		;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &old);
	taken = (unsigned)pending;
	pending = 0;
	sigprocmask(SIG_SETMASK, &old, NULL);
	return taken;
}
