// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Kernel drop loader: opens the mm_kernel_drops skeleton, joins the
 * datapath's shared maps and attaches tp_btf/kfree_skb; when that program
 * does not load (a kernel without BTF-typed tracepoints), it reopens the
 * object with the raw_tp fallback instead, which reports the same records
 * without captured bytes.
 */
#include <errno.h>
#include <stdlib.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "datapath.h"
#include "kernel_drops.h"
#include "kernel_drops.skel.h"

struct mm_kdrops {
	struct mm_kernel_drops *skel;
	struct bpf_link *link;
	int fallback;
};

void mm_kdrops__free(struct mm_kdrops *kd)
{
	if (!kd)
		return;
	bpf_link__destroy(kd->link);
	mm_kernel_drops__destroy(kd->skel);
	free(kd);
}

static int kd_load(struct mm_kdrops *kd, struct mm_datapath *dp, int fallback)
{
	struct bpf_program *prog;
	int err;

	kd->skel = mm_kernel_drops__open();
	if (!kd->skel)
		return -errno;
	bpf_program__set_autoload(kd->skel->progs.mm_kdrop_btf, !fallback);
	bpf_program__set_autoload(kd->skel->progs.mm_kdrop_raw, fallback);
	if (dp) {
		err = mm_datapath__reuse_shared_maps(dp, kd->skel->obj);
		if (err)
			return err;
	}
	err = mm_kernel_drops__load(kd->skel);
	if (err)
		return err;
	prog = fallback ? kd->skel->progs.mm_kdrop_raw : kd->skel->progs.mm_kdrop_btf;
	kd->link = bpf_program__attach(prog);
	if (!kd->link)
		return -errno;
	kd->fallback = fallback;
	return 0;
}

static struct mm_kdrops *kd_open(struct mm_datapath *dp, int scope_all, int raw_tp_only)
{
	struct mm_kdrops *kd;
	struct mm_config cfg;
	int err = -1;

	kd = calloc(1, sizeof(*kd));
	if (!kd)
		return NULL;
	if (!raw_tp_only)
		err = kd_load(kd, dp, 0);
	if (err) {
		bpf_link__destroy(kd->link);
		kd->link = NULL;
		mm_kernel_drops__destroy(kd->skel);
		kd->skel = NULL;
		err = kd_load(kd, dp, 1);
	}
	if (err)
		goto fail;

	if (dp)
		err = mm_datapath__get_config(dp, &cfg);
	else
		mm_config__defaults(&cfg);
	if (err)
		goto fail;
	cfg.kernel_drop_scope = scope_all ? MM_KDROP_SCOPE_ALL : MM_KDROP_SCOPE_MONITORED;
	err = mm_kdrops__set_config(kd, &cfg);
	if (err)
		goto fail;
	return kd;
fail:
	mm_kdrops__free(kd);
	errno = -err;
	return NULL;
}

struct mm_kdrops *mm_kdrops__open(struct mm_datapath *dp, int scope_all)
{
	return kd_open(dp, scope_all, 0);
}

struct mm_kdrops *mm_kdrops__open_raw_tp(struct mm_datapath *dp, int scope_all)
{
	return kd_open(dp, scope_all, 1);
}

int mm_kdrops__watch_netns(struct mm_kdrops *kd, __u32 netns_inum)
{
	__u8 one = 1;

	if (bpf_map_update_elem(bpf_map__fd(kd->skel->maps.mm_kdrop_netns), &netns_inum, &one,
				BPF_ANY))
		return -errno;
	return 0;
}

int mm_kdrops__unwatch_netns(struct mm_kdrops *kd, __u32 netns_inum)
{
	if (bpf_map_delete_elem(bpf_map__fd(kd->skel->maps.mm_kdrop_netns), &netns_inum))
		return -errno;
	return 0;
}

int mm_kdrops__is_fallback(const struct mm_kdrops *kd)
{
	return kd->fallback;
}

int mm_kdrops__events_fd(const struct mm_kdrops *kd)
{
	return bpf_map__fd(kd->skel->maps.mm_events);
}

int mm_kdrops__set_config(struct mm_kdrops *kd, const struct mm_config *cfg)
{
	__u32 zero = 0;

	if (bpf_map_update_elem(bpf_map__fd(kd->skel->maps.mm_config_map), &zero, cfg, BPF_ANY))
		return -errno;
	return 0;
}

int mm_kdrops__read_counts(const struct mm_kdrops *kd, struct mm_traffic_counter *counts)
{
	if (!kd)
		return -EINVAL;
	return mm_counter_map__sum(bpf_map__fd(kd->skel->maps.mm_kdrop_counts),
				   MM_KDROP_COUNT_SLOTS, counts);
}

int mm_kdrops__raw_tp_fd(const struct mm_kdrops *kd)
{
	return kd && kd->fallback ? bpf_program__fd(kd->skel->progs.mm_kdrop_raw) : -EINVAL;
}
