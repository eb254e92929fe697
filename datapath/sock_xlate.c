// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The UDP half of trace-sock (sock_xlate.h): opens the mm_sock_xlate
 * skeleton, joins the datapath's shared maps and attaches its five programs
 * to one cgroup.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "datapath.h"
#include "sock_xlate.h"
#include "sock_xlate.skel.h" /* struct mm_sock_xlate: the skeleton */

#define XLATE_LINKS 5

struct mm_xlate {
	struct mm_sock_xlate *skel;
	struct bpf_link *links[XLATE_LINKS];
};

void mm_xlate__free(struct mm_xlate *x)
{
	if (!x)
		return;
	for (int i = XLATE_LINKS - 1; i >= 0; i--)
		bpf_link__destroy(x->links[i]);
	mm_sock_xlate__destroy(x->skel);
	free(x);
}

/* Standalone: the defaults, with trace-sock on. */
static int set_standalone_config(struct mm_xlate *x)
{
	struct mm_config cfg;
	__u32 zero = 0;

	mm_config__defaults(&cfg);
	cfg.event_mask |= MM_EVENT_BIT(MM_EVENT_TRACE_SOCK);
	if (bpf_map_update_elem(bpf_map__fd(x->skel->maps.mm_config_map), &zero, &cfg, BPF_ANY))
		return -errno;
	return 0;
}

struct mm_xlate *mm_xlate__open(struct mm_datapath *dp, const char *cgroup_path)
{
	struct mm_xlate *x = calloc(1, sizeof(*x));
	int err, cgroup_fd = -1;

	if (!x)
		return NULL;
	x->skel = mm_sock_xlate__open();
	if (!x->skel) {
		err = -errno;
		goto fail;
	}
	if (dp) {
		err = mm_datapath__reuse_shared_maps(dp, x->skel->obj);
		if (err)
			goto fail;
	}
	err = mm_sock_xlate__load(x->skel);
	if (err)
		goto fail;
	if (!dp) {
		err = set_standalone_config(x);
		if (err)
			goto fail;
	}
	cgroup_fd = open(cgroup_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cgroup_fd < 0) {
		err = -errno;
		goto fail;
	}
	{
		struct bpf_program *progs[XLATE_LINKS] = {
			x->skel->progs.mm_xlate_connect4, x->skel->progs.mm_xlate_connect6,
			x->skel->progs.mm_xlate_sendmsg4, x->skel->progs.mm_xlate_sendmsg6,
			x->skel->progs.mm_xlate_egress,
		};

		for (int i = 0; i < XLATE_LINKS; i++) {
			x->links[i] = bpf_program__attach_cgroup(progs[i], cgroup_fd);
			if (!x->links[i]) {
				err = -errno;
				goto fail;
			}
		}
	}
	close(cgroup_fd);
	return x;

fail:
	if (cgroup_fd >= 0)
		close(cgroup_fd);
	mm_xlate__free(x);
	errno = -err;
	return NULL;
}

int mm_xlate__events_fd(const struct mm_xlate *x)
{
	return bpf_map__fd(x->skel->maps.mm_events);
}
