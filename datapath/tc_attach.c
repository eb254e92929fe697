// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * TCX links, and clsact filters with owner records where TCX is missing
 * (tc_attach.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "tc_attach.h"

/*
 * enum bpf_attach_type values of the TCX hooks (kernel 6.6). Debian 12's
 * linux-libc-dev predates them; libbpf 1.1's bpf_link_create() passes the
 * attach type through to the kernel unchanged.
 */
#define MM_BPF_TCX_INGRESS 46
#define MM_BPF_TCX_EGRESS  47

/* clsact: "MM"; the priority sits high so meshmon runs after most other filters. */
#define MM_TC_HANDLE   0x4d4d
#define MM_TC_PRIORITY 0xc000

struct mm_tc_link {
	int ifindex;
	enum mm_tc_mode mode;
	int link_fd[2];     /* TCX: ingress and egress links */
	bool created_hook;  /* clsact created by us: destroy it on detach (a dead owner's
			     * hook stays: it may hold other tools' filters by now) */
	int owner_fd;       /* clsact: the locked owner record, -1 when none */
	char owner_path[PATH_MAX];
};

struct mm_tc_attach {
	enum mm_tc_mode mode;
	char owner_dir[PATH_MAX];
	struct mm_tc_link *links;
	size_t n, cap;
};

const char *mm_tc_mode_name(unsigned int mode)
{
	switch (mode) {
#define X(name, value, text) \
	case value:          \
		return text;
		MM_TC_MODES(X)
#undef X
	default:
		return NULL;
	}
}

int mm_tc_mode_parse(const char *name)
{
#define X(name_, value, text)                      \
	if (name && strcmp(name, text) == 0) \
		return value;
	MM_TC_MODES(X)
#undef X
	return -1;
}

struct mm_tc_attach *mm_tc_attach__new(enum mm_tc_mode mode, const char *owner_dir)
{
	struct mm_tc_attach *t;

	if (!mm_tc_mode_name(mode)) {
		errno = EINVAL;
		return NULL;
	}
	if (!owner_dir)
		owner_dir = MM_TC_OWNER_DIR_DEFAULT;
	if (strlen(owner_dir) >= sizeof(t->owner_dir) - 32) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->mode = mode;
	snprintf(t->owner_dir, sizeof(t->owner_dir), "%s", owner_dir);
	return t;
}

enum mm_tc_mode mm_tc_attach__mode(const struct mm_tc_attach *t)
{
	return t ? t->mode : MM_TC_MODE_AUTO;
}

static struct mm_tc_link *link_find(const struct mm_tc_attach *t, int ifindex)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->links[i].ifindex == ifindex)
			return &t->links[i];
	return NULL;
}

/* --- TCX ------------------------------------------------------------------ */

static int tcx_attach(struct mm_tc_link *l, int ingress_fd, int egress_fd)
{
	l->link_fd[0] = bpf_link_create(ingress_fd, l->ifindex, MM_BPF_TCX_INGRESS, NULL);
	if (l->link_fd[0] < 0)
		return -errno;
	l->link_fd[1] = bpf_link_create(egress_fd, l->ifindex, MM_BPF_TCX_EGRESS, NULL);
	if (l->link_fd[1] < 0) {
		int err = -errno;

		close(l->link_fd[0]);
		return err;
	}
	return 0;
}

/* Closing the last fd of a link detaches it. */
static void tcx_detach(struct mm_tc_link *l)
{
	close(l->link_fd[0]);
	close(l->link_fd[1]);
}

/* --- clsact owner records ----------------------------------------------- */

static int mkdir_p(const char *dir)
{
	char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s", dir);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

/* The owner record of ifindex in the caller's network namespace. */
static int owner_path(const struct mm_tc_attach *t, int ifindex, char *buf, size_t len)
{
	struct stat st;
	int n;

	if (stat("/proc/self/ns/net", &st))
		return -errno;
	n = snprintf(buf, len, "%s/netns-%lu-ifindex-%d", t->owner_dir, (unsigned long)st.st_ino,
		     ifindex);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* The record's text, for people and for mm_tc_attach__owner_pid(): "PID\n". */
static int owner_write(const struct mm_tc_link *l)
{
	char text[32];

	snprintf(text, sizeof(text), "%ld\n", (long)getpid());
	if (ftruncate(l->owner_fd, 0) || pwrite(l->owner_fd, text, strlen(text), 0) < 0)
		return -errno;
	return 0;
}

/*
 * Take the owner record: 0 with the locked fd in l->owner_fd, -EBUSY while a
 * live process holds it. The lock goes with the holder's death; a record
 * unlinked between our open and our lock is retried.
 */
static int owner_take(const struct mm_tc_attach *t, struct mm_tc_link *l)
{
	int err, fd, tries = 0;

	err = owner_path(t, l->ifindex, l->owner_path, sizeof(l->owner_path));
	if (!err)
		err = mkdir_p(t->owner_dir);
	if (err)
		return err;
	for (;;) {
		struct stat by_fd, by_path;

		fd = open(l->owner_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0)
			return -errno;
		if (flock(fd, LOCK_EX | LOCK_NB)) {
			err = errno == EWOULDBLOCK ? -EBUSY : -errno;
			close(fd);
			return err;
		}
		if (!fstat(fd, &by_fd) && !stat(l->owner_path, &by_path) &&
		    by_fd.st_ino == by_path.st_ino)
			break;
		close(fd);
		if (++tries == 8)
			return -EAGAIN;
	}
	l->owner_fd = fd;
	return owner_write(l);
}

static void owner_release(struct mm_tc_link *l)
{
	if (l->owner_fd < 0)
		return;
	unlink(l->owner_path); /* under the lock: nobody else owns it */
	close(l->owner_fd);
	l->owner_fd = -1;
}

pid_t mm_tc_attach__owner_pid(const struct mm_tc_attach *t, int ifindex)
{
	char path[PATH_MAX], buf[32] = "";
	ssize_t n;
	int fd;

	if (!t || owner_path(t, ifindex, path, sizeof(path)))
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return (pid_t)strtol(buf, NULL, 10);
}

/* --- clsact filters ------------------------------------------------------ */

static int silent_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

/*
 * Create the clsact hook; 1 when this call created it, 0 when it was there.
 * An existing hook is the expected case on a shared interface, but libbpf
 * logs the kernel's "Exclusivity flag on, cannot modify" for it: silence it.
 */
static int clsact_hook_create(int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	libbpf_print_fn_t old = libbpf_set_print(silent_print);
	int err = bpf_tc_hook_create(&hook);

	libbpf_set_print(old);
	if (err == -EEXIST)
		return 0;
	return err ? err : 1;
}

/* Remove a filter at meshmon's handle and priority: a dead owner's. */
static int clsact_remove_stale(struct bpf_tc_hook *hook)
{
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = MM_TC_HANDLE, .priority = MM_TC_PRIORITY);
	libbpf_print_fn_t old = libbpf_set_print(silent_print);
	int err = bpf_tc_query(hook, &opts);

	libbpf_set_print(old);
	/* -EINVAL: the kernel's "Cannot find specified filter chain" when the
	 * hook has no filter at this priority at all. */
	if (err == -ENOENT || err == -EINVAL)
		return 0;
	if (err)
		return err;
	opts.prog_id = 0;
	opts.prog_fd = 0;
	opts.flags = 0;
	err = bpf_tc_detach(hook, &opts);
	return err == -ENOENT ? 0 : err;
}

/* A hook this call just created holds no filters, so the query is skipped there. */
static int clsact_attach_one(int ifindex, enum bpf_tc_attach_point point, int prog_fd, bool fresh)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = point);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = MM_TC_HANDLE, .priority = MM_TC_PRIORITY,
		    .prog_fd = prog_fd, .flags = BPF_TC_F_REPLACE);
	int err = fresh ? 0 : clsact_remove_stale(&hook);

	if (err)
		return err;
	return bpf_tc_attach(&hook, &opts);
}

static int clsact_detach_one(int ifindex, enum bpf_tc_attach_point point)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = point);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = MM_TC_HANDLE, .priority = MM_TC_PRIORITY);
	int err = bpf_tc_detach(&hook, &opts);

	/* Already gone (interface deleted, or someone removed the filter): fine. */
	return err == -ENOENT || err == -ENODEV || err == -EINVAL ? 0 : err;
}

static int clsact_detach(struct mm_tc_link *l)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = l->ifindex,
		    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	int err = clsact_detach_one(l->ifindex, BPF_TC_INGRESS);
	int err2 = clsact_detach_one(l->ifindex, BPF_TC_EGRESS);

	if (!err)
		err = err2;
	/* Never destroy a clsact hook someone else created: it holds their filters. */
	if (l->created_hook) {
		err2 = bpf_tc_hook_destroy(&hook);
		if (!err && err2 != -ENOENT && err2 != -ENODEV && err2 != -EINVAL)
			err = err2;
	}
	owner_release(l);
	return err;
}

static int clsact_attach(const struct mm_tc_attach *t, struct mm_tc_link *l, int ingress_fd,
			 int egress_fd)
{
	int created, err;

	err = owner_take(t, l);
	if (err)
		return err;
	created = clsact_hook_create(l->ifindex);
	if (created < 0) {
		owner_release(l);
		return created;
	}
	l->created_hook = created;
	err = clsact_attach_one(l->ifindex, BPF_TC_INGRESS, ingress_fd, created);
	if (!err)
		err = clsact_attach_one(l->ifindex, BPF_TC_EGRESS, egress_fd, created);
	if (err)
		clsact_detach(l);
	return err;
}

/* --- the set of attachments ---------------------------------------------- */

int mm_tc_attach__add(struct mm_tc_attach *t, int ifindex, int ingress_fd, int egress_fd)
{
	struct mm_tc_link l = {.ifindex = ifindex, .owner_fd = -1, .link_fd = {-1, -1}};
	int err = -EOPNOTSUPP;

	if (!t || ifindex <= 0 || ingress_fd < 0 || egress_fd < 0)
		return -EINVAL;
	if (link_find(t, ifindex))
		return -EALREADY;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 4;
		struct mm_tc_link *n = realloc(t->links, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		t->links = n;
		t->cap = cap;
	}
	if (t->mode != MM_TC_MODE_CLSACT) {
		err = tcx_attach(&l, ingress_fd, egress_fd);
		/* A kernel without TCX does not know the attach type. */
		if (t->mode == MM_TC_MODE_AUTO && (err == -EINVAL || err == -EOPNOTSUPP))
			t->mode = MM_TC_MODE_CLSACT;
		else if (!err)
			t->mode = MM_TC_MODE_TCX;
	}
	if (t->mode == MM_TC_MODE_CLSACT)
		err = clsact_attach(t, &l, ingress_fd, egress_fd);
	if (err)
		return err;
	l.mode = t->mode;
	t->links[t->n++] = l;
	return 0;
}

int mm_tc_attach__remove(struct mm_tc_attach *t, int ifindex)
{
	struct mm_tc_link *l = t ? link_find(t, ifindex) : NULL;
	int err = 0;

	if (!l)
		return -ENOENT;
	if (l->mode == MM_TC_MODE_TCX)
		tcx_detach(l);
	else
		err = clsact_detach(l);
	*l = t->links[--t->n];
	return err;
}

void mm_tc_attach__free(struct mm_tc_attach *t)
{
	if (!t)
		return;
	while (t->n)
		mm_tc_attach__remove(t, t->links[t->n - 1].ifindex);
	free(t->links);
	free(t);
}
