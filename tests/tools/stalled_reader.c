/* stalled_reader.c - runs a command whose stdout is a 4 KiB pipe that is
 * never read, for tests of a consumer that stalls. Prints the command's
 * pid, then waits for it and exits with its status. Never installed. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int fds[2], status;
	pid_t pid;

	if (argc < 2 || pipe(fds) < 0) {
		fprintf(stderr, "usage: stalled_reader COMMAND [ARG...]\n");
		return 64;
	}
	fcntl(fds[1], F_SETPIPE_SZ, 4096);
	pid = fork();
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		execvp(argv[1], argv + 1);
		_exit(127);
	}
	close(fds[1]);
	printf("%ld\n", (long)pid);
	fflush(stdout);
	/* fds[0] stays open and unread until the command ends */
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return 71;
	close(fds[0]);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
