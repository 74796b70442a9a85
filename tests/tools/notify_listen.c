/* notify_listen.c - a stand-in for systemd in tests: binds a unix datagram
 * socket at PATH and prints each notification it receives on a line. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_un address = { .sun_family = AF_UNIX };
	char message[4096];
	int fd;

	if (argc != 2 || strlen(argv[1]) >= sizeof(address.sun_path)) {
		fprintf(stderr, "usage: notify_listen PATH\n");
		return 64;
	}
	memcpy(address.sun_path, argv[1], strlen(argv[1]));
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (fd < 0 ||
	    bind(fd, (struct sockaddr *)&address, sizeof(address)) < 0) {
		perror("notify_listen");
		return 71;
	}
	for (;;) {
		ssize_t n = recv(fd, message, sizeof(message) - 1, 0);
		size_t i;
		if (n < 0)
			return 71;
		for (i = 0; i < (size_t)n; i++)
			if (message[i] == '\n')
				message[i] = ' ';
		message[n] = '\0';
		printf("%s\n", message);
		fflush(stdout);
	}
}
