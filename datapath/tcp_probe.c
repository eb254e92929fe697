// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * tcp_probe loader: opens the mm_tcp_probe skeleton, joins the datapath's
 * shared maps, attaches sockops and connect4/6 to a cgroup v2 directory
 * through bpf_links (they go away with the process: nothing stale remains
 * after a crash), attaches tp_btf/inet_sock_set_state (closed reports of
 * connections that predate it), and runs the iterators on demand: the one
 * over the sockets it knows (mm_probe_sk, every namespace) and iter/tcp. The
 * endpoint programs of the same object (endpoint.bpf.h: cgroup_skb ingress and
 * egress, cgroup/sock_create) are attached to the same cgroup the same way,
 * when the caller asks (mm_probe__attach_endpoints). The owner of a
 * listening socket (for the pid of accepted connections) is recorded by the
 * same sockops program (TCP_LISTEN_CB): no further program to attach.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "datapath.h"
#include "tcp_probe.h"
#include "tcp_probe.skel.h" /* struct mm_tcp_probe: the skeleton */

struct mm_probe {
	struct mm_tcp_probe *skel;
	struct bpf_link *sockops, *connect4, *connect6, *iter;
	struct bpf_link *iter_known, *preexisting_close;
	struct bpf_link *ep_ingress, *ep_egress, *ep_sock_create; /* endpoint.bpf.h */
	int cgroup_fd;
};

/* Depth of path below root: 0 for the root itself, -EINVAL when outside. */
static int cgroup_level(const char *root, const char *path)
{
	char rroot[PATH_MAX], rpath[PATH_MAX];
	size_t n;
	int level = 0;
	const char *c;

	if (!realpath(root, rroot) || !realpath(path, rpath))
		return -errno;
	n = strlen(rroot);
	if (strncmp(rroot, rpath, n) || (rpath[n] && rpath[n] != '/'))
		return -EINVAL;
	for (c = rpath + n; *c; c++)
		if (*c == '/' && c[1])
			level++;
	return level;
}

void mm_probe__free(struct mm_probe *p)
{
	if (!p)
		return;
	bpf_link__destroy(p->preexisting_close);
	bpf_link__destroy(p->iter_known);
	bpf_link__destroy(p->ep_sock_create);
	bpf_link__destroy(p->ep_egress);
	bpf_link__destroy(p->ep_ingress);
	bpf_link__destroy(p->iter);
	bpf_link__destroy(p->sockops);
	bpf_link__destroy(p->connect6);
	bpf_link__destroy(p->connect4);
	mm_tcp_probe__destroy(p->skel);
	if (p->cgroup_fd >= 0)
		close(p->cgroup_fd);
	free(p);
}

/* An iterator over the entries of one map (iter/bpf_sk_storage_map). */
static struct bpf_link *attach_map_iter(struct bpf_program *prog, int map_fd)
{
	DECLARE_LIBBPF_OPTS(bpf_iter_attach_opts, opts);
	union bpf_iter_link_info info = {};

	info.map.map_fd = map_fd;
	opts.link_info = &info;
	opts.link_info_len = sizeof(info);
	return bpf_program__attach_iter(prog, &opts);
}

struct mm_probe *mm_probe__open(struct mm_datapath *dp, const char *cgroup_path)
{
	char root[PATH_MAX];
	struct mm_probe *p;
	struct stat st;
	int err, level;

	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->cgroup_fd = -1;
	err = mm_cgroup2_root(root, sizeof(root));
	if (err)
		goto fail;
	if (!cgroup_path)
		cgroup_path = root;
	level = cgroup_level(root, cgroup_path);
	if (level < 0) {
		err = level;
		goto fail;
	}
	p->cgroup_fd = open(cgroup_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p->cgroup_fd < 0 || fstat(p->cgroup_fd, &st)) {
		err = -errno;
		goto fail;
	}

	p->skel = mm_tcp_probe__open();
	if (!p->skel) {
		err = -errno;
		goto fail;
	}
	/* cgroup v2 ids are kernfs node ids: the directory's inode number. */
	p->skel->rodata->mm_target_cgroup_id = st.st_ino;
	p->skel->rodata->mm_target_cgroup_level = level;
	if (dp) {
		err = mm_datapath__reuse_shared_maps(dp, p->skel->obj);
		if (err)
			goto fail;
	}
	/* flow.bpf.h's drop table: the endpoint programs aggregate no drops. */
	bpf_map__set_autocreate(p->skel->maps.mm_drop_agg, false);
	err = mm_tcp_probe__load(p->skel);
	if (err)
		goto fail;
	if (!dp) {
		struct mm_config cfg;

		mm_config__defaults(&cfg);
		err = mm_probe__set_config(p, &cfg);
		if (err)
			goto fail;
	}

	p->connect4 = bpf_program__attach_cgroup(p->skel->progs.mm_probe_connect4, p->cgroup_fd);
	if (!p->connect4)
		goto fail_errno;
	p->connect6 = bpf_program__attach_cgroup(p->skel->progs.mm_probe_connect6, p->cgroup_fd);
	if (!p->connect6)
		goto fail_errno;
	p->sockops = bpf_program__attach_cgroup(p->skel->progs.mm_probe_sockops, p->cgroup_fd);
	if (!p->sockops)
		goto fail_errno;
	p->iter = bpf_program__attach_iter(p->skel->progs.mm_probe_iter, NULL);
	if (!p->iter)
		goto fail_errno;
	p->iter_known = attach_map_iter(p->skel->progs.mm_probe_iter_known,
					bpf_map__fd(p->skel->maps.mm_probe_sk));
	if (!p->iter_known)
		goto fail_errno;
	p->preexisting_close = bpf_program__attach(p->skel->progs.mm_probe_preexisting_close);
	if (!p->preexisting_close)
		goto fail_errno;
	return p;

fail_errno:
	err = -errno;
fail:
	mm_probe__free(p);
	errno = -err;
	return NULL;
}

int mm_probe__attach_endpoints(struct mm_probe *p)
{
	struct mm_tcp_probe *k = p->skel;
	int err;

	if (p->ep_ingress)
		return -EALREADY;
	/* sock_create first: a socket made before it has no owner of its own. */
	p->ep_sock_create = bpf_program__attach_cgroup(k->progs.mm_endpoint_sock_create, p->cgroup_fd);
	if (!p->ep_sock_create)
		return -errno;
	p->ep_ingress = bpf_program__attach_cgroup(k->progs.mm_endpoint_ingress, p->cgroup_fd);
	if (!p->ep_ingress)
		goto fail;
	p->ep_egress = bpf_program__attach_cgroup(k->progs.mm_endpoint_egress, p->cgroup_fd);
	if (!p->ep_egress)
		goto fail;
	return 0;
fail:
	err = -errno;
	bpf_link__destroy(p->ep_ingress);
	bpf_link__destroy(p->ep_sock_create);
	p->ep_ingress = p->ep_sock_create = NULL;
	return err;
}

/* One pass of an iterator, in the calling thread's network namespace. */
static int run_iter_link(struct bpf_link *link)
{
	char buf[64];
	ssize_t n;
	int fd, err = 0;

	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0)
		return -errno;
	/* The program writes to the perf rings, not to the seq file: read() returns 0. */
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	if (n < 0)
		err = -errno;
	close(fd);
	return err;
}

int mm_probe__run_iter(struct mm_probe *p)
{
	return run_iter_link(p->iter);
}

int mm_probe__run_known(struct mm_probe *p)
{
	return run_iter_link(p->iter_known);
}

struct iter_job {
	struct mm_probe *p;
	int netns_fd;
	int err;
};

static void *iter_thread(void *arg)
{
	struct iter_job *job = arg;

	/* A thread may switch its own network namespace; the iterator lists the
	 * sockets of the namespace of the thread that creates it. */
	if (setns(job->netns_fd, CLONE_NEWNET))
		job->err = -errno;
	else
		job->err = mm_probe__run_iter(job->p);
	return NULL;
}

int mm_probe__run_iter_in_netns(struct mm_probe *p, int netns_fd)
{
	struct iter_job job = {.p = p, .netns_fd = netns_fd};
	pthread_t th;
	int err;

	err = pthread_create(&th, NULL, iter_thread, &job);
	if (err)
		return -err;
	pthread_join(th, NULL);
	return job.err;
}

int mm_probe__events_fd(const struct mm_probe *p)
{
	return bpf_map__fd(p->skel->maps.mm_events);
}

int mm_probe__endpoint_ingress_fd(const struct mm_probe *p)
{
	return bpf_program__fd(p->skel->progs.mm_endpoint_ingress);
}

int mm_probe__endpoint_egress_fd(const struct mm_probe *p)
{
	return bpf_program__fd(p->skel->progs.mm_endpoint_egress);
}

int mm_probe__set_config(struct mm_probe *p, const struct mm_config *cfg)
{
	__u32 zero = 0;

	if (bpf_map_update_elem(bpf_map__fd(p->skel->maps.mm_config_map), &zero, cfg, BPF_ANY))
		return -errno;
	return 0;
}
