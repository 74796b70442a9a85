/* live_state.c - renew-loop's live state for `natpmp status`: its text,
 * its file beside the state file with the lock that says the loop runs,
 * and the reading of every live loop's file. */
#include "renew/live_state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/diag.h"
#include "state/state.h"

#define LIVE_STATE_HEADER "natpmp-live 1"
/* a loop of 1024 ports for both protocols and families writes about 1 MB */
#define LIVE_STATE_MAX_SIZE (4L * 1024 * 1024)

/* --- the text --- */

static const char *address_text(const struct ip_address *address, char *text,
				size_t size)
{
	if (!ip_address_is_set(address))
		return "";
	return ip_address_format(address, text, size);
}

/* The problem's text on one line, as the last field. */
static void put_problem(FILE *out, const char *problem)
{
	const char *p;

	fputs(" problem=", out);
	for (p = problem; *p; p++)
		fputc((unsigned char)*p < ' ' ? ' ' : *p, out);
	fputc('\n', out);
}

static void format_mapping(FILE *out, const struct mapping_status *m)
{
	char internal[IP_ADDRESS_TEXT_SIZE], external[IP_ADDRESS_TEXT_SIZE];
	char gateway[IP_ADDRESS_TEXT_SIZE];

	fprintf(out,
		"mapping family=%s protocol=%s internal_address=%s internal_port=%u external_address=%s external_port=%u state=%s lifetime=%lu next_ms=%lld expires_ms=%lld gateway=%s gateway_port=%u via=%s",
		m->family == AF_INET6 ? "inet6" : "inet",
		transport_name(m->transport),
		address_text(&m->internal_address, internal, sizeof(internal)),
		(unsigned)m->internal_port,
		address_text(&m->external_address, external, sizeof(external)),
		(unsigned)m->external_port,
		mapping_condition_name(m->condition),
		(unsigned long)m->lifetime, (long long)m->next_ms,
		(long long)m->expires_ms,
		m->gateway_known ? address_text(&m->gateway.address, gateway,
						sizeof(gateway))
				 : "",
		m->gateway_known ? (unsigned)m->gateway.port : 0u,
		m->via ? protocol_key(m->via) : "");
	put_problem(out, m->problem);
}

char *live_state_format(long pid, const struct mapping_status *mappings,
			size_t count)
{
	char *text = NULL;
	size_t length = 0, i;
	FILE *out = open_memstream(&text, &length);

	if (!out)
		return NULL;
	fprintf(out, "%s\npid %ld\n", LIVE_STATE_HEADER, pid);
	for (i = 0; i < count; i++)
		format_mapping(out, &mappings[i]);
	if (fclose(out) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

static bool parse_number(const char *text, unsigned long long max,
			 unsigned long long *value)
{
	char *end;

	if (*text < '0' || *text > '9')
		return false;
	errno = 0;
	*value = strtoull(text, &end, 10);
	return *end == '\0' && errno == 0 && *value <= max;
}

static bool parse_address(const char *text, struct ip_address *address)
{
	if (*text == '\0') {
		memset(address, 0, sizeof(*address));
		return true;
	}
	return ip_address_parse(text, address) == 0;
}

static bool parse_condition(const char *text, enum mapping_condition *c)
{
	static const enum mapping_condition all[] = { CONDITION_WAITING,
						      CONDITION_ACTIVE,
						      CONDITION_LOST };
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(text, mapping_condition_name(all[i])) == 0) {
			*c = all[i];
			return true;
		}
	return false;
}

static bool parse_via(const char *text, enum protocol_id *via)
{
	if (*text == '\0')
		*via = PROTOCOL_NONE;
	else if (strcmp(text, protocol_key(PROTOCOL_NATPMP)) == 0)
		*via = PROTOCOL_NATPMP;
	else if (strcmp(text, protocol_key(PROTOCOL_PCP)) == 0)
		*via = PROTOCOL_PCP;
	else
		return false;
	return true;
}

static bool parse_port(const char *text, uint16_t *port)
{
	unsigned long long n;

	if (!parse_number(text, 65535, &n))
		return false;
	*port = (uint16_t)n;
	return true;
}

static bool parse_lifetime(const char *text, uint32_t *lifetime)
{
	unsigned long long n;

	if (!parse_number(text, UINT32_MAX, &n))
		return false;
	*lifetime = (uint32_t)n;
	return true;
}

static bool parse_ms(const char *text, int64_t *ms)
{
	unsigned long long n;

	if (!parse_number(text, INT64_MAX, &n))
		return false;
	*ms = (int64_t)n;
	return true;
}

/* One key=value of a mapping line; unknown keys are a newer natpmp's. */
static bool parse_field(const char *key, const char *value,
			struct mapping_status *m)
{
	if (strcmp(key, "family") == 0) {
		m->family = strcmp(value, "inet6") == 0 ? AF_INET6 : AF_INET;
		return strcmp(value, "inet") == 0 || m->family == AF_INET6;
	}
	if (strcmp(key, "protocol") == 0) {
		m->transport = strcmp(value, "udp") == 0   ? TRANSPORT_UDP
			       : strcmp(value, "tcp") == 0 ? TRANSPORT_TCP
							   : 0;
		return m->transport != 0;
	}
	if (strcmp(key, "internal_address") == 0)
		return parse_address(value, &m->internal_address);
	if (strcmp(key, "external_address") == 0)
		return parse_address(value, &m->external_address);
	if (strcmp(key, "gateway") == 0) {
		m->gateway_known = *value != '\0';
		return parse_address(value, &m->gateway.address);
	}
	if (strcmp(key, "state") == 0)
		return parse_condition(value, &m->condition);
	if (strcmp(key, "via") == 0)
		return parse_via(value, &m->via);
	if (strcmp(key, "internal_port") == 0)
		return parse_port(value, &m->internal_port);
	if (strcmp(key, "external_port") == 0)
		return parse_port(value, &m->external_port);
	if (strcmp(key, "gateway_port") == 0)
		return parse_port(value, &m->gateway.port);
	if (strcmp(key, "lifetime") == 0)
		return parse_lifetime(value, &m->lifetime);
	if (strcmp(key, "next_ms") == 0)
		return parse_ms(value, &m->next_ms);
	if (strcmp(key, "expires_ms") == 0)
		return parse_ms(value, &m->expires_ms);
	return true;
}

/* "mapping k=v k=v ... problem=rest of the line" (line is changed). */
static bool parse_mapping(char *line, struct mapping_status *m)
{
	char *field = line + strlen("mapping ");

	memset(m, 0, sizeof(*m));
	while (*field) {
		char *equals = strchr(field, '='), *end;
		if (!equals)
			return false;
		*equals = '\0';
		if (strcmp(field, "problem") == 0) {
			snprintf(m->problem, sizeof(m->problem), "%s",
				 equals + 1);
			break;
		}
		end = strchr(equals + 1, ' ');
		if (end)
			*end = '\0';
		if (!parse_field(field, equals + 1, m))
			return false;
		field = end ? end + 1 : equals + 1 + strlen(equals + 1);
	}
	return m->transport != 0;
}

/* Appends one parsed mapping line; false when it is malformed or memory
 * ran out (errno says which). */
static bool take_line(char *line, long pid, struct mapping_status **mappings,
		      size_t *count, size_t *capacity)
{
	struct mapping_status m;

	if (strncmp(line, "mapping ", 8) != 0)
		return true; /* a newer natpmp's line */
	if (!parse_mapping(line, &m)) {
		errno = EINVAL;
		return false;
	}
	m.pid = pid;
	if (*count == *capacity) {
		size_t more = *capacity ? 2 * *capacity : 16;
		struct mapping_status *grown =
			realloc(*mappings, more * sizeof(**mappings));
		if (!grown) {
			errno = ENOMEM;
			return false;
		}
		*mappings = grown;
		*capacity = more;
	}
	(*mappings)[(*count)++] = m;
	return true;
}

int live_state_parse(const char *text, size_t length,
		     struct mapping_status **mappings, size_t *count)
{
	char *copy = strndup(text, length), *line, *next;
	size_t capacity = 0, n = 0;
	long pid = 0;
	bool ok = true;

	*mappings = NULL;
	*count = 0;
	if (!copy)
		return -1;
	for (line = copy; ok && line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (line == copy)
			ok = strcmp(line, LIVE_STATE_HEADER) == 0;
		else if (strncmp(line, "pid ", 4) == 0)
			pid = strtol(line + 4, NULL, 10);
		else
			ok = take_line(line, pid, mappings, &n, &capacity);
	}
	free(copy);
	if (!ok) {
		if (errno != ENOMEM)
			errno = EINVAL;
		free(*mappings);
		*mappings = NULL;
		return -1;
	}
	*count = n;
	return 0;
}

/* --- the files --- */

/* The pid in "renew-loop.PID" followed by suffix (exactly), or 0. */
static long pid_of(const char *name, const char *suffix)
{
	size_t prefix = strlen(LIVE_STATE_PREFIX), digits;
	char *end;
	long pid;

	if (strncmp(name, LIVE_STATE_PREFIX, prefix) != 0)
		return 0;
	digits = strspn(name + prefix, "0123456789");
	if (digits == 0 || digits > 10 ||
	    strcmp(name + prefix + digits, suffix) != 0)
		return 0;
	pid = strtol(name + prefix, &end, 10);
	return pid > 0 ? pid : 0;
}

static void lock_name(long pid, char *text, size_t size)
{
	snprintf(text, size, "%s%ld%s", LIVE_STATE_PREFIX, pid,
		 LIVE_STATE_LOCK_SUFFIX);
}

/* Whether a renew-loop holds pid's lock in the directory: it is running. */
static bool loop_runs(int directory_fd, long pid)
{
	char name[64];
	int fd, status;

	lock_name(pid, name, sizeof(name));
	fd = openat(directory_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return false;
	do
		status = flock(fd, LOCK_SH | LOCK_NB);
	while (status < 0 && errno == EINTR);
	close(fd);
	return status < 0 && errno == EWOULDBLOCK;
}

/* What a loop that died left: its file and its lock, removed under that
 * lock, so that a reader never sees a live loop's file vanish. */
static void remove_leftovers(int directory_fd, long own_pid)
{
	DIR *directory;
	struct dirent *entry;
	int fd = dup(directory_fd);

	if (fd < 0 || !(directory = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((entry = readdir(directory)) != NULL) {
		long pid = pid_of(entry->d_name, LIVE_STATE_LOCK_SUFFIX);
		int lock;
		if (!pid || pid == own_pid)
			continue;
		lock = openat(directory_fd, entry->d_name,
			      O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (lock < 0)
			continue;
		if (flock(lock, LOCK_EX | LOCK_NB) == 0) {
			char name[64];
			diag_verbose(
				"removing the live state of renew-loop %ld, which is gone",
				pid);
			snprintf(name, sizeof(name), "%s%ld", LIVE_STATE_PREFIX,
				 pid);
			unlinkat(directory_fd, name, 0);
			unlinkat(directory_fd, entry->d_name, 0);
		}
		close(lock);
	}
	closedir(directory);
}

static int write_all(int fd, const char *text)
{
	size_t length = strlen(text);

	while (length > 0) {
		ssize_t n = write(fd, text, length);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		text += n;
		length -= (size_t)n;
	}
	return 0;
}

/* The steps of a file made whole before it gets its name: false with
 * errno at the first that fails. */
static bool prepare(int fd, const char *text, bool lock)
{
	return fcntl(fd, F_SETFD, FD_CLOEXEC) == 0 && fchmod(fd, 0600) == 0 &&
	       (!lock || flock(fd, LOCK_EX) == 0) &&
	       (!text || write_all(fd, text) == 0);
}

/* A new file in the directory, written whole, then renamed to name; with
 * lock it is locked first (LOCK_EX) and stays open: its descriptor is
 * returned. Returns 0 (or the descriptor), or -1 with errno. */
static int replace_file(int directory_fd, const char *directory,
			const char *name, const char *text, bool lock)
{
	size_t size = strlen(directory) + strlen(name) + 16;
	char *temporary = malloc(size);
	int fd, error = 0;

	if (!temporary)
		return -1;
	snprintf(temporary, size, "%s/.%s.XXXXXX", directory, name);
	fd = mkstemp(temporary);
	if (fd < 0 || !prepare(fd, text, lock) ||
	    renameat(directory_fd, strrchr(temporary, '/') + 1, directory_fd,
		     name) < 0) {
		error = errno;
		if (fd >= 0)
			unlink(temporary);
	}
	free(temporary);
	if (fd >= 0 && (error || !lock))
		close(fd);
	errno = error;
	if (error)
		return -1;
	return lock ? fd : 0;
}

void live_publisher_open(struct live_publisher *p, const char *directory)
{
	char name[64];
	long pid = (long)getpid();

	memset(p, 0, sizeof(*p));
	p->directory_fd = p->lock_fd = -1;
	if (!directory)
		return;
	p->directory = strdup(directory);
	if (!p->directory)
		return;
	p->directory_fd = state_directory_open(directory);
	if (p->directory_fd < 0)
		return;
	remove_leftovers(p->directory_fd, pid);
	snprintf(p->name, sizeof(p->name), "%s%ld", LIVE_STATE_PREFIX, pid);
	lock_name(pid, name, sizeof(name));
	p->lock_fd = replace_file(p->directory_fd, directory, name, NULL, true);
	if (p->lock_fd < 0) {
		diag_warning(
			"cannot publish this loop's state for natpmp status in %s: %s",
			directory, strerror(errno));
		close(p->directory_fd);
		p->directory_fd = -1;
	}
}

void live_publisher_write(struct live_publisher *p, const char *text)
{
	if (p->directory_fd < 0 || !text ||
	    (p->last && strcmp(p->last, text) == 0))
		return;
	if (replace_file(p->directory_fd, p->directory, p->name, text, false) <
	    0) {
		if (!p->warned)
			diag_warning(
				"cannot publish this loop's state for natpmp status in %s: %s",
				p->directory, strerror(errno));
		p->warned = true;
		return;
	}
	p->warned = false;
	free(p->last);
	p->last = strdup(text);
}

void live_publisher_close(struct live_publisher *p)
{
	if (p->directory_fd >= 0) {
		char name[64];
		lock_name((long)getpid(), name, sizeof(name));
		unlinkat(p->directory_fd, p->name, 0);
		unlinkat(p->directory_fd, name, 0);
		close(p->lock_fd);
		close(p->directory_fd);
	}
	free(p->last);
	free(p->directory);
	memset(p, 0, sizeof(*p));
	p->directory_fd = p->lock_fd = -1;
}

/* --- reading --- */

static int read_file(int directory_fd, const char *name, char **text,
		     size_t *length)
{
	int fd = openat(directory_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	ssize_t n = -1;

	*text = NULL;
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_size < LIVE_STATE_MAX_SIZE &&
	    (*text = malloc((size_t)st.st_size + 1)) != NULL)
		n = read(fd, *text, (size_t)st.st_size);
	close(fd);
	if (n < 0) {
		free(*text);
		*text = NULL;
		return -1;
	}
	*length = (size_t)n;
	return 0;
}

/* Adds the mappings of the loop whose file is name to the list. */
static void read_loop(int directory_fd, const char *name,
		      struct mapping_status **all, size_t *count)
{
	struct mapping_status *mappings, *grown;
	size_t n;
	char *text;
	size_t length;

	if (read_file(directory_fd, name, &text, &length) < 0)
		return; /* it ended meanwhile */
	if (live_state_parse(text, length, &mappings, &n) < 0) {
		diag_warning(
			"%s: not the live state of a renew-loop this natpmp can read",
			name);
		free(text);
		return;
	}
	free(text);
	grown = n ? realloc(*all, (*count + n) * sizeof(**all)) : NULL;
	if (grown) {
		memcpy(grown + *count, mappings, n * sizeof(*mappings));
		*all = grown;
		*count += n;
	}
	free(mappings);
}

int live_state_read(const char *directory, struct mapping_status **all,
		    size_t *count, size_t *loops)
{
	DIR *dir;
	struct dirent *entry;
	int directory_fd, fd;

	*all = NULL;
	*count = *loops = 0;
	directory_fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (directory_fd < 0)
		return errno == ENOENT ? 0 : -1;
	fd = dup(directory_fd);
	dir = fd >= 0 ? fdopendir(fd) : NULL;
	if (!dir) {
		if (fd >= 0)
			close(fd);
		close(directory_fd);
		return -1;
	}
	while ((entry = readdir(dir)) != NULL) {
		long pid = pid_of(entry->d_name, "");
		if (!pid || !loop_runs(directory_fd, pid))
			continue;
		(*loops)++;
		read_loop(directory_fd, entry->d_name, all, count);
	}
	closedir(dir);
	close(directory_fd);
	return 0;
}
