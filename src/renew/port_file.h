/* port_file.h - renew-loop --port-file PATH: the external port of every
 * active mapping, one per line, ascending, each once (a port mapped for
 * UDP and TCP is one line), as the tools that read gluetun's port file
 * expect. Replaced whole (a temporary file in the same directory, renamed
 * over it), mode 0644, when the ports change; empty while none is active. */
#ifndef NATPMP_PORT_FILE_H
#define NATPMP_PORT_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* room for the line an opening failure is told in */
#define PORT_FILE_ERROR_SIZE 512

struct port_file {
	const char *path; /* NULL: no port file */
	char *directory;
	char *last; /* the text written last */
	bool failing;
};

/* Writes the empty file, so that a path that cannot be written is known
 * at once. Returns 0, or -1 with one line in error. path NULL: nothing. */
int port_file_open(struct port_file *f, const char *path, char *error,
		   size_t size);
/* The ports (in any order, repeats allowed), written unless the file says
 * that already. A failure is a warning, once until a write succeeds. */
void port_file_write(struct port_file *f, const uint16_t *ports, size_t count);
void port_file_close(struct port_file *f);

#endif
