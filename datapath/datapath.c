// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The userspace side of the tc datapath: loads the tc_monitor skeleton (which
 * creates the shared maps), writes the configuration, attaches and detaches
 * the tc filters, installs deny rules (compiled by deny.c) and reads the counters.
 *
 * tc attachments use one fixed handle and priority (MM_TC_HANDLE,
 * MM_TC_PRIORITY) on every interface and direction, so that a meshmon that
 * died without detaching is found and replaced by the next one rather than
 * stacked behind it.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "datapath.h"
#include "tc_monitor.skel.h"

/* "MM"; the priority sits high so meshmon runs after most other filters. */
#define MM_TC_HANDLE   0x4d4d
#define MM_TC_PRIORITY 0xc000

struct mm_tc_attachment {
	int ifindex;
	bool created_hook; /* clsact created by this handle: destroy it on detach */
};

struct mm_datapath {
	struct mm_tc_monitor *skel;
	struct mm_tc_attachment *att;
	size_t n_att, cap_att;
};

void mm_config__defaults(struct mm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->capture_len = MM_CAPTURE_DEFAULT;
	cfg->event_mask = MM_EVENT_MASK_DEFAULT;
	cfg->aggregation = MM_AGG_NONE;
	cfg->agg_tcp_flags = MM_AGG_FLAGS_DEFAULT;
	cfg->aggregate_drops = 0;
	cfg->kernel_drop_scope = MM_KDROP_SCOPE_MONITORED;
	cfg->agg_interval_ns = MM_AGG_INTERVAL_DEFAULT_NS;
	cfg->rate_per_cpu = 0;
	cfg->burst_per_cpu = 0;
	cfg->probe_interval_ns = 5ull * 1000 * 1000 * 1000;
}

struct mm_datapath *mm_datapath__open(const struct mm_config *cfg)
{
	struct mm_datapath *dp;
	int err;

	dp = calloc(1, sizeof(*dp));
	if (!dp)
		return NULL;
	dp->skel = mm_tc_monitor__open();
	if (!dp->skel) {
		err = -errno;
		goto fail;
	}
	err = mm_tc_monitor__load(dp->skel);
	if (err)
		goto fail;
	if (cfg) {
		err = mm_datapath__set_config(dp, cfg);
	} else {
		struct mm_config def;

		mm_config__defaults(&def);
		err = mm_datapath__set_config(dp, &def);
	}
	if (err)
		goto fail;
	return dp;
fail:
	mm_tc_monitor__destroy(dp->skel);
	free(dp);
	errno = err < 0 ? -err : EINVAL;
	return NULL;
}

void mm_datapath__free(struct mm_datapath *dp)
{
	if (!dp)
		return;
	while (dp->n_att)
		mm_datapath__detach_tc(dp, dp->att[dp->n_att - 1].ifindex);
	free(dp->att);
	mm_tc_monitor__destroy(dp->skel);
	free(dp);
}

int mm_datapath__set_config(struct mm_datapath *dp, const struct mm_config *cfg)
{
	__u32 zero = 0;

	if (!dp || !cfg)
		return -EINVAL;
	if (bpf_map_update_elem(bpf_map__fd(dp->skel->maps.mm_config_map), &zero, cfg, BPF_ANY))
		return -errno;
	return 0;
}

int mm_datapath__get_config(const struct mm_datapath *dp, struct mm_config *cfg)
{
	__u32 zero = 0;

	if (!dp || !cfg)
		return -EINVAL;
	if (bpf_map_lookup_elem(bpf_map__fd(dp->skel->maps.mm_config_map), &zero, cfg))
		return -errno;
	return 0;
}

int mm_datapath__events_fd(const struct mm_datapath *dp)
{
	return dp ? bpf_map__fd(dp->skel->maps.mm_events) : -EINVAL;
}

int mm_datapath__tc_ingress_fd(const struct mm_datapath *dp)
{
	return dp ? bpf_program__fd(dp->skel->progs.mm_tc_ingress) : -EINVAL;
}

int mm_datapath__tc_egress_fd(const struct mm_datapath *dp)
{
	return dp ? bpf_program__fd(dp->skel->progs.mm_tc_egress) : -EINVAL;
}

int mm_datapath__reuse_shared_maps(const struct mm_datapath *dp, struct bpf_object *obj)
{
	const struct bpf_map *ours[] = {
	    dp ? dp->skel->maps.mm_events : NULL,
	    dp ? dp->skel->maps.mm_config_map : NULL,
	    dp ? dp->skel->maps.mm_stats : NULL,
	    dp ? dp->skel->maps.mm_rate_bucket : NULL,
	};
	size_t i;

	if (!dp || !obj)
		return -EINVAL;
	for (i = 0; i < sizeof(ours) / sizeof(ours[0]); i++) {
		struct bpf_map *theirs = bpf_object__find_map_by_name(obj, bpf_map__name(ours[i]));
		int err;

		if (!theirs)
			continue; /* an object need not use every shared map */
		err = bpf_map__reuse_fd(theirs, bpf_map__fd(ours[i]));
		if (err)
			return err;
	}
	return 0;
}

/* --- tc attach ----------------------------------------------------------- */

static struct mm_tc_attachment *attachment_find(struct mm_datapath *dp, int ifindex)
{
	size_t i;

	for (i = 0; i < dp->n_att; i++)
		if (dp->att[i].ifindex == ifindex)
			return &dp->att[i];
	return NULL;
}

/* Remove a filter at meshmon's handle and priority, if one is there. */
static int tc_remove_stale(struct bpf_tc_hook *hook)
{
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = MM_TC_HANDLE, .priority = MM_TC_PRIORITY);
	int err = bpf_tc_query(hook, &opts);

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

/*
 * A hook this call just created holds no filters, so the query (whose miss
 * libbpf logs as a kernel error message) is skipped there. BPF_TC_F_REPLACE
 * also covers a filter that appears between the query and the attach.
 */
static int tc_attach_one(int ifindex, enum bpf_tc_attach_point point, int prog_fd, bool fresh)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = point);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = MM_TC_HANDLE, .priority = MM_TC_PRIORITY,
		    .prog_fd = prog_fd, .flags = BPF_TC_F_REPLACE);
	int err = fresh ? 0 : tc_remove_stale(&hook);

	if (err)
		return err;
	return bpf_tc_attach(&hook, &opts);
}

static int tc_detach_one(int ifindex, enum bpf_tc_attach_point point)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = point);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = MM_TC_HANDLE, .priority = MM_TC_PRIORITY);
	int err = bpf_tc_detach(&hook, &opts);

	/* Already gone (interface deleted, or someone removed the filter): fine. */
	return err == -ENOENT || err == -ENODEV || err == -EINVAL ? 0 : err;
}

int mm_datapath__attach_tc(struct mm_datapath *dp, int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	struct mm_tc_attachment *a;
	bool created = false;
	int err;

	if (!dp || ifindex <= 0)
		return -EINVAL;
	a = attachment_find(dp, ifindex);
	if (!a) {
		err = bpf_tc_hook_create(&hook);
		if (err && err != -EEXIST)
			return err;
		created = !err;
		if (dp->n_att == dp->cap_att) {
			size_t cap = dp->cap_att ? dp->cap_att * 2 : 4;
			struct mm_tc_attachment *n = realloc(dp->att, cap * sizeof(*n));

			if (!n) {
				err = -ENOMEM;
				goto fail_hook;
			}
			dp->att = n;
			dp->cap_att = cap;
		}
	}
	err = tc_attach_one(ifindex, BPF_TC_INGRESS, mm_datapath__tc_ingress_fd(dp), created);
	if (err)
		goto fail_hook;
	err = tc_attach_one(ifindex, BPF_TC_EGRESS, mm_datapath__tc_egress_fd(dp), created);
	if (err) {
		tc_detach_one(ifindex, BPF_TC_INGRESS);
		goto fail_hook;
	}
	if (!a) {
		a = &dp->att[dp->n_att++];
		a->ifindex = ifindex;
		a->created_hook = created;
	}
	return 0;
fail_hook:
	if (a) {
		/* A re-attach failed: what was attached before is gone too. */
		mm_datapath__detach_tc(dp, ifindex);
	} else if (created) {
		bpf_tc_hook_destroy(&hook);
	}
	return err;
}

int mm_datapath__detach_tc(struct mm_datapath *dp, int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	struct mm_tc_attachment *a;
	int err, err2;

	if (!dp)
		return -EINVAL;
	a = attachment_find(dp, ifindex);
	if (!a)
		return -ENOENT;
	err = tc_detach_one(ifindex, BPF_TC_INGRESS);
	err2 = tc_detach_one(ifindex, BPF_TC_EGRESS);
	if (!err)
		err = err2;
	/* Never destroy a clsact hook someone else created: it holds their filters. */
	if (a->created_hook) {
		err2 = bpf_tc_hook_destroy(&hook);
		if (!err && err2 != -ENOENT && err2 != -ENODEV && err2 != -EINVAL)
			err = err2;
	}
	*a = dp->att[--dp->n_att];
	return err;
}

int mm_datapath__set_deny_rules(struct mm_datapath *dp, const struct mm_deny_spec *rules, size_t n)
{
	if (!dp)
		return -EINVAL;
	return mm_deny__write_maps(bpf_map__fd(dp->skel->maps.mm_deny_rules),
				   bpf_map__fd(dp->skel->maps.mm_deny_src),
				   bpf_map__fd(dp->skel->maps.mm_deny_dst), rules, n);
}

/* --- counters ------------------------------------------------------------ */

int mm_datapath__read_stats_percpu(const struct mm_datapath *dp, __u32 stat, __u64 *per_cpu,
				   int ncpus)
{
	int n = libbpf_num_possible_cpus();
	__u64 *vals;
	int i;

	if (!dp || !per_cpu || stat >= MM_STAT_MAX)
		return -EINVAL;
	if (n < 0)
		return n;
	vals = calloc(n, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	if (bpf_map_lookup_elem(bpf_map__fd(dp->skel->maps.mm_stats), &stat, vals)) {
		int err = -errno;

		free(vals);
		return err;
	}
	for (i = 0; i < ncpus; i++)
		per_cpu[i] = i < n ? vals[i] : 0;
	free(vals);
	return 0;
}

int mm_datapath__read_stats(const struct mm_datapath *dp, __u64 *stats)
{
	int n = libbpf_num_possible_cpus();
	__u64 *vals;
	__u32 s;
	int i, err = 0;

	if (!dp || !stats)
		return -EINVAL;
	if (n < 0)
		return n;
	vals = calloc(n, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (s = 0; s < MM_STAT_MAX; s++) {
		err = mm_datapath__read_stats_percpu(dp, s, vals, n);
		if (err)
			break;
		stats[s] = 0;
		for (i = 0; i < n; i++)
			stats[s] += vals[i];
	}
	free(vals);
	return err;
}

int mm_datapath__read_traffic(const struct mm_datapath *dp, struct mm_traffic_counter *traffic)
{
	int n = libbpf_num_possible_cpus();
	struct mm_traffic_counter *vals;
	__u32 slot;
	int i;

	if (!dp || !traffic)
		return -EINVAL;
	if (n < 0)
		return n;
	vals = calloc(n, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (slot = 0; slot < MM_TRAFFIC_SLOTS; slot++) {
		if (bpf_map_lookup_elem(bpf_map__fd(dp->skel->maps.mm_traffic), &slot, vals)) {
			int err = -errno;

			free(vals);
			return err;
		}
		traffic[slot].packets = 0;
		traffic[slot].bytes = 0;
		for (i = 0; i < n; i++) {
			traffic[slot].packets += vals[i].packets;
			traffic[slot].bytes += vals[i].bytes;
		}
	}
	free(vals);
	return 0;
}
