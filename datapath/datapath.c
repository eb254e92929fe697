// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The userspace side of the tc datapath: loads the tc_monitor skeleton (which
 * creates the shared maps), writes the configuration, attaches and detaches
 * the tc programs (TCX links or clsact filters: tc_attach.c), installs deny
 * rules (compiled by deny.c) and reads the counters.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "capture.h"
#include "datapath.h"
#include "tc_monitor.skel.h"

struct mm_datapath {
	struct mm_tc_monitor *skel;
	struct mm_tc_attach *tc; /* the interfaces attached (tc_attach.c) */
	size_t n_attached;
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
	dp->tc = mm_tc_attach__new(MM_TC_MODE_AUTO, NULL);
	if (!dp->tc) {
		err = -errno;
		goto fail;
	}
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
	mm_tc_attach__free(dp->tc);
	mm_tc_monitor__destroy(dp->skel);
	free(dp);
	errno = err < 0 ? -err : EINVAL;
	return NULL;
}

void mm_datapath__free(struct mm_datapath *dp)
{
	if (!dp)
		return;
	mm_tc_attach__free(dp->tc); /* detaches every interface */
	mm_tc_monitor__destroy(dp->skel);
	free(dp);
}

int mm_datapath__set_config(struct mm_datapath *dp, const struct mm_config *cfg)
{
	struct mm_config now, next;
	__u32 zero = 0;
	int fd;

	if (!dp || !cfg)
		return -EINVAL;
	fd = bpf_map__fd(dp->skel->maps.mm_config_map);
	/* The capture rules in use stay: they are the capture rules' own (capture.c). */
	next = *cfg;
	next.capture_slots = bpf_map_lookup_elem(fd, &zero, &now) ? 0 : now.capture_slots;
	if (bpf_map_update_elem(fd, &zero, &next, BPF_ANY))
		return -errno;
	return 0;
}

int mm_datapath__install_capture(struct mm_datapath *dp, __u32 slot,
				 const struct mm_capture_rule *rule)
{
	if (!dp)
		return -EINVAL;
	return mm_capture__install(bpf_map__fd(dp->skel->maps.mm_capture_rules),
				   bpf_map__fd(dp->skel->maps.mm_config_map), slot, rule);
}

int mm_datapath__remove_capture(struct mm_datapath *dp, __u32 slot, struct mm_capture_rule *last)
{
	if (!dp)
		return -EINVAL;
	return mm_capture__remove(bpf_map__fd(dp->skel->maps.mm_capture_rules),
				  bpf_map__fd(dp->skel->maps.mm_config_map), slot, last);
}

int mm_datapath__read_capture(const struct mm_datapath *dp, __u32 slot,
			      struct mm_capture_rule *rule)
{
	if (!dp)
		return -EINVAL;
	return mm_capture__read(bpf_map__fd(dp->skel->maps.mm_capture_rules), slot, rule);
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
	    dp ? dp->skel->maps.mm_type_rate : NULL,
	    dp ? dp->skel->maps.mm_type_bucket : NULL,
	    dp ? dp->skel->maps.mm_type_stats : NULL,
	    dp ? dp->skel->maps.mm_verdict_skb : NULL,
	    dp ? dp->skel->maps.mm_traffic : NULL,
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

/* --- tc attach: tc_attach.c ------------------------------------------------ */

int mm_datapath__set_tc_mode(struct mm_datapath *dp, enum mm_tc_mode mode, const char *owner_dir)
{
	struct mm_tc_attach *t;

	if (!dp)
		return -EINVAL;
	if (dp->n_attached)
		return -EBUSY;
	t = mm_tc_attach__new(mode, owner_dir);
	if (!t)
		return -errno;
	mm_tc_attach__free(dp->tc);
	dp->tc = t;
	return 0;
}

enum mm_tc_mode mm_datapath__tc_mode(const struct mm_datapath *dp)
{
	return dp ? mm_tc_attach__mode(dp->tc) : MM_TC_MODE_AUTO;
}

pid_t mm_datapath__tc_owner_pid(const struct mm_datapath *dp, int ifindex)
{
	return dp ? mm_tc_attach__owner_pid(dp->tc, ifindex) : 0;
}

int mm_datapath__attach_tc(struct mm_datapath *dp, int ifindex)
{
	int err;

	if (!dp || ifindex <= 0)
		return -EINVAL;
	err = mm_tc_attach__add(dp->tc, ifindex, mm_datapath__tc_ingress_fd(dp),
				mm_datapath__tc_egress_fd(dp));
	if (!err)
		dp->n_attached++;
	return err;
}

int mm_datapath__detach_tc(struct mm_datapath *dp, int ifindex)
{
	int err;

	if (!dp)
		return -EINVAL;
	err = mm_tc_attach__remove(dp->tc, ifindex);
	if (err != -ENOENT)
		dp->n_attached--;
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

int mm_counter_map__sum(int map_fd, __u32 slots, struct mm_traffic_counter *sum)
{
	int n = libbpf_num_possible_cpus();
	struct mm_traffic_counter *vals;
	__u32 slot;
	int i;

	if (map_fd < 0 || !sum)
		return -EINVAL;
	if (n < 0)
		return n;
	vals = calloc(n, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (slot = 0; slot < slots; slot++) {
		if (bpf_map_lookup_elem(map_fd, &slot, vals)) {
			int err = -errno;

			free(vals);
			return err;
		}
		sum[slot].packets = 0;
		sum[slot].bytes = 0;
		for (i = 0; i < n; i++) {
			sum[slot].packets += vals[i].packets;
			sum[slot].bytes += vals[i].bytes;
		}
	}
	free(vals);
	return 0;
}

int mm_datapath__read_traffic(const struct mm_datapath *dp, struct mm_traffic_counter *traffic)
{
	if (!dp)
		return -EINVAL;
	return mm_counter_map__sum(bpf_map__fd(dp->skel->maps.mm_traffic), MM_TRAFFIC_SLOTS,
				   traffic);
}

/* --- per record type: limits and counters ------------------------------- */

int mm_datapath__set_type_rate(struct mm_datapath *dp, __u32 type, const struct mm_type_rate *rate)
{
	if (!dp || !rate || type >= MM_EVENT_TYPE_SLOTS)
		return -EINVAL;
	if (bpf_map_update_elem(bpf_map__fd(dp->skel->maps.mm_type_rate), &type, rate, BPF_ANY))
		return -errno;
	return 0;
}

/* Each type's {emitted, refused} is summed as the traffic counters' {packets, bytes} are. */
_Static_assert(sizeof(struct mm_type_counter) == sizeof(struct mm_traffic_counter),
	       "mm_type_counter is a pair of u64 counters");

int mm_datapath__read_type_counters(const struct mm_datapath *dp, struct mm_type_counter *counters)
{
	struct mm_traffic_counter sums[MM_EVENT_TYPE_SLOTS];
	int err;

	if (!dp || !counters)
		return -EINVAL;
	err = mm_counter_map__sum(bpf_map__fd(dp->skel->maps.mm_type_stats), MM_EVENT_TYPE_SLOTS,
				  sums);
	if (err)
		return err;
	for (__u32 type = 0; type < MM_EVENT_TYPE_SLOTS; type++) {
		counters[type].emitted = sums[type].packets;
		counters[type].refused = sums[type].bytes;
	}
	return 0;
}
