/* state_file.c - the state file on disk: read without a lock (it is only
 * ever replaced whole), changed under a lock, written to a temporary file
 * and renamed over the old one. */
#include "state/state.h"

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

#define PROBLEM_SIZE 512
#define TEMPORARY_NAME ".state.XXXXXX"

/* --- the file ---
 *
 * Writers serialise on flock(2) of STATE_LOCK_FILE_NAME beside the state
 * file, not of the state file itself: that one is replaced by rename, so
 * a writer waiting on its lock would wake holding a lock on a file no
 * longer in the directory. The lock file is never replaced nor removed.
 * Readers take no lock: rename makes each version appear whole.
 *
 * Trust: the directory must be ours and writable by no one else (who
 * could swap files in it); if it is reached through a symbolic link, that
 * link must be ours or root's (systemd's StateDirectory= with DynamicUser=
 * is root's link /var/lib/NAME -> private/NAME). The directory is opened
 * once and everything in it is reached from that descriptor. The state
 * file must be ours, regular and not a symbolic link. Failing that, the file is ignored and never
 * written over. A file that is merely unusable - corrupt, too big, open
 * to others - is ignored and replaced by the next commit.
 */

static const char IGNORING[] = "ignoring it";
static const char NOT_SAVED[] = "state not saved";
static const char AFRESH[] = "starting afresh";

enum read_outcome {
	READ_OK,	/* the state, empty when there is no file */
	READ_AFRESH,	/* warned: unusable; empty, and may be replaced */
	READ_REFUSED,	/* warned: not ours; empty, and never written over */
	READ_NO_MEMORY, /* not warned */
};

static char *join_path(const char *directory, const char *name)
{
	size_t size = strlen(directory) + 1 + strlen(name) + 1;
	char *path = malloc(size);

	if (path)
		snprintf(path, size, "%s/%s", directory, name);
	return path;
}

static bool is_not_ours(const struct stat *st, char *problem, size_t size)
{
	if (st->st_uid == geteuid())
		return false;
	snprintf(problem, size, "is owned by uid %lu, not %lu",
		 (unsigned long)st->st_uid, (unsigned long)geteuid());
	return true;
}

/* Why open(path, O_NOFOLLOW) failed with errno. */
static void describe_open_error(const char *path, int error, char *problem,
				size_t size)
{
	struct stat st;

	if ((error == ELOOP || error == ENOTDIR) && lstat(path, &st) == 0 &&
	    S_ISLNK(st.st_mode))
		snprintf(problem, size, "is a symbolic link");
	else
		snprintf(problem, size, "cannot be opened (%s)",
			 strerror(error));
}

/* Opens the directory, following a last symbolic link only if it is ours
 * or root's; otherwise fails with errno, problem saying why if it is
 * such a link. */
static int open_directory_link(const char *directory, char *problem,
			       size_t size)
{
	struct stat link;
	int fd = open(directory,
		      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int error = errno;

	if (fd >= 0 || (error != ELOOP && error != ENOTDIR) ||
	    lstat(directory, &link) < 0 || !S_ISLNK(link.st_mode)) {
		errno = error;
		return fd;
	}
	if (link.st_uid == geteuid() || link.st_uid == 0)
		return open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	snprintf(
		problem, size,
		"is a symbolic link owned by uid %lu, neither this user nor root",
		(unsigned long)link.st_uid);
	errno = ELOOP;
	return -1;
}

/* The directory, checked. Returns a descriptor, -1 after a warning, or
 * -2 when it does not exist. */
static int open_directory(const char *directory, const char *consequence)
{
	char problem[PROBLEM_SIZE] = "";
	struct stat st;
	int fd = open_directory_link(directory, problem, sizeof(problem));

	if (fd < 0 && errno == ENOENT)
		return -2;
	if (fd < 0) {
		if (!problem[0])
			describe_open_error(directory, errno, problem,
					    sizeof(problem));
	} else if (fstat(fd, &st) < 0)
		snprintf(problem, sizeof(problem), "cannot be examined (%s)",
			 strerror(errno));
	else if (!is_not_ours(&st, problem, sizeof(problem)) &&
		 (st.st_mode & (S_IWGRP | S_IWOTH)))
		snprintf(problem, sizeof(problem),
			 "is writable by group or others (mode %04lo)",
			 (unsigned long)(st.st_mode & 07777));
	if (!problem[0])
		return fd;
	diag_warning("state directory %s %s: %s", directory, problem,
		     consequence);
	if (fd >= 0)
		close(fd);
	return -1;
}

/* mkdir -p, each directory it makes 0700. Returns 0, or -1 after a
 * warning. */
static int make_directories(const char *directory)
{
	char *path = strdup(directory);
	char *slash;
	int error = 0;

	if (!path) {
		diag_warning("state directory %s: out of memory: %s", directory,
			     NOT_SAVED);
		return -1;
	}
	/* each parent in turn; on failure path stays cut at the culprit */
	for (slash = strchr(path + (path[0] != '\0'), '/'); slash;
	     slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (mkdir(path, 0700) < 0 && errno != EEXIST) {
			error = errno;
			break;
		}
		*slash = '/';
	}
	if (!error && mkdir(path, 0700) < 0 && errno != EEXIST)
		error = errno;
	if (error)
		diag_warning("state directory %s cannot be created (%s: %s): "
			     "%s",
			     directory, path, strerror(error), NOT_SAVED);
	free(path);
	return error ? -1 : 0;
}

static int open_or_make_directory(const char *directory)
{
	int fd = open_directory(directory, NOT_SAVED);

	if (fd != -2)
		return fd;
	if (make_directories(directory) < 0)
		return -1;
	fd = open_directory(directory, NOT_SAVED);
	if (fd == -2) {
		diag_warning("state directory %s vanished after being "
			     "created: %s",
			     directory, NOT_SAVED);
		return -1;
	}
	return fd;
}

/* Waits for the lock: writers hold it only for a read and a write. */
static int lock_waiting(int fd)
{
	int status;

	do
		status = flock(fd, LOCK_EX);
	while (status < 0 && errno == EINTR);
	return status;
}

/* Returns the descriptor holding the lock (closing it unlocks), or -1
 * after a warning. */
static int lock_state(int directory_fd, const char *directory)
{
	char problem[PROBLEM_SIZE] = "";
	struct stat st;
	int fd = openat(directory_fd, STATE_LOCK_FILE_NAME,
			O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
				O_NONBLOCK,
			0600);

	if (fd < 0 && errno == ELOOP)
		snprintf(problem, sizeof(problem), "is a symbolic link");
	else if (fd < 0)
		snprintf(problem, sizeof(problem), "cannot be opened (%s)",
			 strerror(errno));
	else if (fstat(fd, &st) < 0)
		snprintf(problem, sizeof(problem), "cannot be examined (%s)",
			 strerror(errno));
	else if (!S_ISREG(st.st_mode))
		snprintf(problem, sizeof(problem), "is not a regular file");
	else if (!is_not_ours(&st, problem, sizeof(problem)) &&
		 lock_waiting(fd) < 0)
		snprintf(problem, sizeof(problem), "cannot be locked (%s)",
			 strerror(errno));
	if (!problem[0])
		return fd;
	diag_warning("state lock file %s/%s %s: %s", directory,
		     STATE_LOCK_FILE_NAME, problem, NOT_SAVED);
	if (fd >= 0)
		close(fd);
	return -1;
}

/* Whether the file is ours to read: READ_OK, or another outcome with
 * the problem. */
static enum read_outcome inspect_file(int fd, struct stat *st, char *problem,
				      size_t size)
{
	if (fstat(fd, st) < 0) {
		snprintf(problem, size, "cannot be examined (%s)",
			 strerror(errno));
		return READ_REFUSED;
	}
	if (!S_ISREG(st->st_mode)) {
		snprintf(problem, size, "is not a regular file");
		return READ_REFUSED;
	}
	if (is_not_ours(st, problem, size))
		return READ_REFUSED;
	/* readable by others, its nonces let them delete our mappings */
	if (st->st_mode & (S_IRWXG | S_IRWXO)) {
		snprintf(problem, size, "has mode %04lo, not 0600",
			 (unsigned long)(st->st_mode & 07777));
		return READ_AFRESH;
	}
	if (st->st_size > STATE_FILE_MAX) {
		snprintf(problem, size, "is larger than %d bytes",
			 STATE_FILE_MAX);
		return READ_AFRESH;
	}
	return READ_OK;
}

/* Reads at most size bytes into a NUL-terminated buffer. Returns 0, -1
 * with errno, or -2 when out of memory. */
static int read_all(int fd, size_t size, char **text, size_t *length)
{
	char *buffer = malloc(size + 1);
	size_t used = 0;

	if (!buffer)
		return -2;
	while (used < size) {
		ssize_t n = read(fd, buffer + used, size - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buffer);
			return -1;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	buffer[used] = '\0';
	*text = buffer;
	*length = used;
	return 0;
}

static enum read_outcome parse_file(const char *text, size_t length,
				    int64_t now, struct state *state,
				    char *problem, size_t size)
{
	char error[PROBLEM_SIZE / 2];
	int status =
		state_parse(text, length, now, state, error, sizeof(error));

	if (status == -2)
		return READ_NO_MEMORY;
	if (status == 0)
		return READ_OK;
	if (state_text_is_newer(text, length)) {
		snprintf(problem, size, "is in a newer format (%s)", error);
		return READ_REFUSED;
	}
	snprintf(problem, size, "%s", error);
	return READ_AFRESH;
}

static enum read_outcome read_open_file(int fd, int64_t now,
					struct state *state, char *problem,
					size_t size)
{
	struct stat st;
	enum read_outcome outcome = inspect_file(fd, &st, problem, size);
	char *text = NULL;
	size_t length = 0;
	int status;

	if (outcome != READ_OK)
		return outcome;
	/* one byte more than expected tells a file that grew meanwhile */
	status = read_all(fd, (size_t)st.st_size + 1, &text, &length);
	if (status == -2)
		return READ_NO_MEMORY;
	if (status < 0) {
		snprintf(problem, size, "cannot be read (%s)", strerror(errno));
		return READ_REFUSED;
	}
	if (length != (size_t)st.st_size) {
		snprintf(problem, size, "changed while being read");
		outcome = READ_AFRESH;
	} else {
		outcome = parse_file(text, length, now, state, problem, size);
	}
	free(text);
	return outcome;
}

/* Reads and parses the state file of the open directory, warning about
 * what is wrong with it. */
static enum read_outcome read_state_file(int directory_fd, const char *path,
					 int64_t now, struct state *state,
					 const char *consequence)
{
	char problem[PROBLEM_SIZE] = "";
	enum read_outcome outcome;
	int fd;

	memset(state, 0, sizeof(*state));
	fd = openat(directory_fd, STATE_FILE_NAME,
		    O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT)
		return READ_OK;
	if (fd < 0) {
		describe_open_error(path, errno, problem, sizeof(problem));
		outcome = READ_REFUSED;
	} else {
		outcome = read_open_file(fd, now, state, problem,
					 sizeof(problem));
		close(fd);
	}
	if (outcome == READ_AFRESH || outcome == READ_REFUSED)
		diag_warning("state file %s %s: %s", path, problem,
			     outcome == READ_AFRESH ? AFRESH : consequence);
	return outcome;
}

int state_load(const char *directory, int64_t now, struct state *state)
{
	enum read_outcome outcome;
	char *path;
	int fd;

	memset(state, 0, sizeof(*state));
	path = join_path(directory, STATE_FILE_NAME);
	if (!path)
		return -1;
	fd = open_directory(directory, IGNORING);
	if (fd < 0) {
		free(path);
		return 0;
	}
	outcome = read_state_file(fd, path, now, state, IGNORING);
	close(fd);
	free(path);
	return outcome == READ_NO_MEMORY ? -1 : 0;
}

static int write_all(int fd, const char *text, size_t length)
{
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

/* Writes text to a new file and renames it over the state file, both in
 * the open directory; on failure removes the new file. */
static int replace_state_file(int directory_fd, const char *directory,
			      const char *path, const char *text, bool durable)
{
	char *temporary = join_path(directory, TEMPORARY_NAME);
	const char *step = NULL;
	int fd, error = 0;

	if (!temporary) {
		diag_warning("state file %s: out of memory: %s", path,
			     NOT_SAVED);
		return -1;
	}
	fd = mkstemp(temporary);
	if (fd < 0) {
		diag_warning("state file %s: cannot create %s (%s): %s", path,
			     temporary, strerror(errno), NOT_SAVED);
		free(temporary);
		return -1;
	}
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 || fchmod(fd, 0600) < 0 ||
	    write_all(fd, text, strlen(text)) < 0 ||
	    (durable && fsync(fd) < 0)) {
		step = "write";
		error = errno;
	}
	if (close(fd) < 0 && !step) {
		step = "write";
		error = errno;
	}
	/* into the directory checked, even if its path changed meanwhile */
	if (!step && renameat(directory_fd, temporary + strlen(directory) + 1,
			      directory_fd, STATE_FILE_NAME) < 0) {
		step = "rename";
		error = errno;
	}
	if (step) {
		diag_warning("state file %s: cannot %s %s (%s): %s", path, step,
			     temporary, strerror(error), NOT_SAVED);
		unlink(temporary);
	}
	free(temporary);
	return step ? -1 : 0;
}

/* Under the lock: the file's state, changed and written back. */
/* Under the lock no other writer is at work: a temporary file left in the
 * directory is a dead writer's (killed, or the machine crashed) and goes. */
static void remove_leftovers(int directory_fd)
{
	int fd = dup(directory_fd);
	DIR *directory = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *entry;
	size_t prefix = strlen(TEMPORARY_NAME) - strlen("XXXXXX");

	if (!directory) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((entry = readdir(directory)))
		if (strncmp(entry->d_name, TEMPORARY_NAME, prefix) == 0 &&
		    strlen(entry->d_name) == strlen(TEMPORARY_NAME) &&
		    unlinkat(directory_fd, entry->d_name, 0) == 0)
			diag_verbose("removed %s, left by a writer that died",
				     entry->d_name);
	closedir(directory);
}

static int update_state_file(int directory_fd, const char *directory,
			     const char *path, int64_t now,
			     const struct state_change *changes, size_t count)
{
	struct state state;
	enum read_outcome outcome;
	char *text;
	int status;

	remove_leftovers(directory_fd);
	outcome = read_state_file(directory_fd, path, now, &state, NOT_SAVED);
	if (outcome == READ_REFUSED)
		return -1;
	if (outcome == READ_NO_MEMORY) {
		diag_warning("state file %s: out of memory: %s", path,
			     NOT_SAVED);
		return -1;
	}
	if (state_apply(&state, changes, count) < 0) {
		diag_warning("state file %s: cannot apply the changes (one is "
			     "invalid, more than %d entries, or out of "
			     "memory): %s",
			     path, STATE_ENTRIES_MAX, NOT_SAVED);
		state_free(&state);
		return -1;
	}
	state_drop_stale(&state, now);
	text = state_format(&state);
	state_free(&state);
	if (!text) {
		diag_warning("state file %s: out of memory: %s", path,
			     NOT_SAVED);
		return -1;
	}
	status = replace_state_file(directory_fd, directory, path, text,
				    state_changes_durable(changes, count));
	free(text);
	return status;
}

int state_directory_open(const char *directory)
{
	return open_or_make_directory(directory);
}

int state_commit(const char *directory, int64_t now,
		 const struct state_change *changes, size_t count)
{
	char *path = join_path(directory, STATE_FILE_NAME);
	int directory_fd = -1, lock_fd = -1, status = -1;

	if (!path) {
		diag_warning("state directory %s: out of memory: %s", directory,
			     NOT_SAVED);
		return -1;
	}
	directory_fd = open_or_make_directory(directory);
	if (directory_fd >= 0)
		lock_fd = lock_state(directory_fd, directory);
	if (lock_fd >= 0) {
		status = update_state_file(directory_fd, directory, path, now,
					   changes, count);
		close(lock_fd);
	}
	if (directory_fd >= 0)
		close(directory_fd);
	free(path);
	return status;
}
