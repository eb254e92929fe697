// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The cgroup v2 hierarchy: its mount point, its directories and their ids (cgroup2.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>

#include "cgroup2.h"

int mm_cgroup2_root(char *buf, size_t len)
{
	char line[4096], mnt[PATH_MAX];
	FILE *f = fopen("/proc/self/mountinfo", "re");
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		const char *sep = strstr(line, " - ");

		if (!sep || strncmp(sep + 3, "cgroup2 ", 8))
			continue;
		/* id parent maj:min root mountpoint ... */
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1)
			continue;
		if (strlen(mnt) + 1 > len) {
			err = -ENAMETOOLONG;
			break;
		}
		strcpy(buf, mnt);
		err = 0;
		break;
	}
	fclose(f);
	return err;
}

int mm_cgroup2_check(const char *path)
{
	struct statfs fs;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstatfs(fd, &fs)) {
		int err = -errno;

		close(fd);
		return err;
	}
	close(fd);
	return fs.f_type == CGROUP2_SUPER_MAGIC ? 0 : -EMEDIUMTYPE;
}

int mm_cgroup2_id(const char *path, uint64_t *id)
{
	union {
		struct file_handle fh;
		char room[sizeof(struct file_handle) + sizeof(uint64_t)];
	} h;
	int mount_id, err = mm_cgroup2_check(path);

	if (err)
		return err;
	/* kernfs (cgroup2) encodes a node as its 64-bit id: FILEID_KERNFS, 8 bytes. */
	h.fh.handle_bytes = sizeof(uint64_t);
	if (name_to_handle_at(AT_FDCWD, path, &h.fh, &mount_id, 0))
		return -errno;
	if (h.fh.handle_bytes != sizeof(uint64_t))
		return -EPROTO;
	memcpy(id, h.fh.f_handle, sizeof(*id));
	return 0;
}

/* root + "/" + name (without its leading '/') into path: 0 or -ENAMETOOLONG. */
static int below_root(const char *root, const char *name, char *path, size_t len)
{
	int n = snprintf(path, len, "%s/%s", root, name + (name[0] == '/'));

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int mm_cgroup2_resolve(const char *name, char *path, size_t len, uint64_t *id)
{
	char root[PATH_MAX];
	int err;

	if (!*name)
		return -ENOENT;
	if (name[0] == '/') {
		if (strlen(name) >= len)
			return -ENAMETOOLONG;
		strcpy(path, name);
		err = mm_cgroup2_id(path, id);
		if (!err)
			return 0;
		/* The form of /proc/PID/cgroup: a path below the mount point. */
		if (!mm_cgroup2_root(root, sizeof(root)) && !below_root(root, name, path, len) &&
		    !mm_cgroup2_id(path, id))
			return 0;
		strcpy(path, name); /* the error is about the path as given */
		return err;
	}
	err = mm_cgroup2_root(root, sizeof(root));
	if (err)
		return err == -ENOENT ? -ENOMEDIUM : err;
	err = below_root(root, name, path, len);
	return err ? err : mm_cgroup2_id(path, id);
}
