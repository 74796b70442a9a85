/* port_file.c - the ports renew-loop keeps, in a file for other programs. */
#include "renew/port_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/diag.h"

static int compare_ports(const void *a, const void *b)
{
	uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;

	return (x > y) - (x < y);
}

/* "51413\n56789\n": sorted, each once; NULL when out of memory. */
static char *ports_text(const uint16_t *ports, size_t count)
{
	uint16_t *sorted = malloc((count ? count : 1) * sizeof(*sorted));
	char *text = malloc(count * 6 + 1), *end = text;
	size_t i;

	if (!sorted || !text) {
		free(sorted);
		free(text);
		return NULL;
	}
	if (count) {
		memcpy(sorted, ports, count * sizeof(*sorted));
		qsort(sorted, count, sizeof(*sorted), compare_ports);
	}
	*end = '\0';
	for (i = 0; i < count; i++)
		if (i == 0 || sorted[i] != sorted[i - 1])
			end += sprintf(end, "%u\n", (unsigned)sorted[i]);
	free(sorted);
	return text;
}

static int write_all(FILE *out, const char *text)
{
	size_t length = strlen(text);

	return fwrite(text, 1, length, out) == length ? 0 : -1;
}

/* text in a new file beside the port file, renamed over it. Returns 0,
 * or -1 with errno. */
static int replace(struct port_file *f, const char *text)
{
	size_t size = strlen(f->directory) + 16;
	char *temporary = malloc(size);
	FILE *out = NULL;
	int fd, error = 0;

	if (!temporary)
		return -1;
	snprintf(temporary, size, "%s/.port.XXXXXX", f->directory);
	fd = mkstemp(temporary);
	if (fd < 0 || fchmod(fd, 0644) < 0 || !(out = fdopen(fd, "w")) ||
	    write_all(out, text) < 0)
		error = errno ? errno : EIO;
	if (out) {
		if (fclose(out) != 0 && !error)
			error = errno;
	} else if (fd >= 0) {
		close(fd);
	}
	if (!error && rename(temporary, f->path) < 0)
		error = errno;
	if (error && fd >= 0)
		unlink(temporary);
	free(temporary);
	errno = error;
	return error ? -1 : 0;
}

/* The directory of path: where the temporary file is made. */
static char *directory_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

int port_file_open(struct port_file *f, const char *path, char *error,
		   size_t size)
{
	memset(f, 0, sizeof(*f));
	if (!path)
		return 0;
	f->path = path;
	f->directory = directory_of(path);
	f->last = strdup("");
	if (!f->directory || !f->last) {
		snprintf(error, size, "--port-file %s: out of memory", path);
		return -1;
	}
	errno = 0;
	if (replace(f, "") < 0) {
		snprintf(error, size, "--port-file %s: cannot write it: %s",
			 path, strerror(errno));
		return -1;
	}
	return 0;
}

void port_file_write(struct port_file *f, const uint16_t *ports, size_t count)
{
	char *text;

	if (!f->path)
		return;
	text = ports_text(ports, count);
	if (!text || (f->last && strcmp(text, f->last) == 0)) {
		free(text);
		return;
	}
	errno = 0;
	if (replace(f, text) < 0) {
		if (!f->failing)
			diag_warning(
				"--port-file %s: cannot write it: %s; the loop goes on, and tries again at its next event",
				f->path, strerror(errno));
		f->failing = true;
		free(text);
		return;
	}
	if (f->failing)
		diag_note("--port-file %s: written again", f->path);
	f->failing = false;
	free(f->last);
	f->last = text;
}

void port_file_close(struct port_file *f)
{
	free(f->directory);
	free(f->last);
	memset(f, 0, sizeof(*f));
}
