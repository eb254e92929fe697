/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The datapath as userspace sees it: one handle that owns the shared maps
 * (event rings, configuration, token buckets, counters), the tc object and
 * every tc attachment. Other datapath objects (tcp_probe, kernel drops) join
 * it through mm_datapath__reuse_shared_maps() so that every record lands in
 * the same rings under the same configuration.
 *
 * Errors: 0 or a negative errno; constructors return NULL with errno set.
 * Nothing here prints; libbpf's own messages go wherever the caller's
 * libbpf_set_print() sends them.
 */
#ifndef MESHMON_DATAPATH_H
#define MESHMON_DATAPATH_H

#include <stddef.h>
#include <bpf/libbpf.h>

#include "config.h"
#include "deny.h"
#include "tc_attach.h"

struct mm_datapath;

/* Fill cfg with the defaults documented in docs/records.md. */
void mm_config__defaults(struct mm_config *cfg);

/* Load the tc object, create the shared maps and write cfg into them. */
struct mm_datapath *mm_datapath__open(const struct mm_config *cfg);
/* Detach everything this handle attached, then free it. Accepts NULL. */
void mm_datapath__free(struct mm_datapath *dp);

/* Writes cfg, except capture_slots, which only the capture rule calls below change. */
int mm_datapath__set_config(struct mm_datapath *dp, const struct mm_config *cfg);
int mm_datapath__get_config(const struct mm_datapath *dp, struct mm_config *cfg);

/* fd of the mm_events perf event array, for a perf buffer reader. */
int mm_datapath__events_fd(const struct mm_datapath *dp);
/* Make obj (opened, not yet loaded) use this handle's shared maps. */
int mm_datapath__reuse_shared_maps(const struct mm_datapath *dp, struct bpf_object *obj);

/*
 * How tc programs are attached (tc_attach.h): AUTO (TCX links where the
 * kernel has them, else clsact filters), or one of them forced. owner_dir:
 * where clsact owner records live (NULL: MM_TC_OWNER_DIR_DEFAULT). Only
 * before the first attach (-EBUSY after).
 */
int mm_datapath__set_tc_mode(struct mm_datapath *dp, enum mm_tc_mode mode, const char *owner_dir);
/* The mode in use; AUTO until the first attach decided it. */
enum mm_tc_mode mm_datapath__tc_mode(const struct mm_datapath *dp);

/*
 * Attach tc ingress and egress on ifindex. TCX: two links owned by this
 * process. clsact: the hook is created if missing (and destroyed again on
 * detach); the filters of a dead owner are replaced; -EBUSY while a live
 * process owns the interface (mm_datapath__tc_owner_pid() names it).
 */
int mm_datapath__attach_tc(struct mm_datapath *dp, int ifindex);
int mm_datapath__detach_tc(struct mm_datapath *dp, int ifindex);
pid_t mm_datapath__tc_owner_pid(const struct mm_datapath *dp, int ifindex);

/* Replace the whole deny rule set (at most MM_DENY_MAX rules): mm_deny__write_maps(). */
int mm_datapath__set_deny_rules(struct mm_datapath *dp, const struct mm_deny_spec *rules,
				size_t n);

/*
 * Capture rules (capture.h): install a rule in slot (< MM_CAPTURE_RULES_MAX)
 * with its counters zeroed, remove it (last, unless NULL, gets its final
 * counters), read it back with the datapath's counters.
 */
int mm_datapath__install_capture(struct mm_datapath *dp, __u32 slot,
				 const struct mm_capture_rule *rule);
int mm_datapath__remove_capture(struct mm_datapath *dp, __u32 slot, struct mm_capture_rule *last);
int mm_datapath__read_capture(const struct mm_datapath *dp, __u32 slot,
			      struct mm_capture_rule *rule);

/* Sums over CPUs: stats[MM_STAT_MAX] and traffic[MM_TRAFFIC_SLOTS] (MM_TRAFFIC_INDEX). */
int mm_datapath__read_stats(const struct mm_datapath *dp, __u64 *stats);
int mm_datapath__read_stats_percpu(const struct mm_datapath *dp, __u32 stat, __u64 *per_cpu,
				   int ncpus);
int mm_datapath__read_traffic(const struct mm_datapath *dp, struct mm_traffic_counter *traffic);
/* sum[0..slots) = the per-CPU array map_fd of struct mm_traffic_counter summed over CPUs. */
int mm_counter_map__sum(int map_fd, __u32 slots, struct mm_traffic_counter *sum);

/*
 * One record type's own limit, per CPU (rate_per_cpu 0: none). It applies
 * while mm_config.type_rate_mask has MM_EVENT_BIT(type) (set_config).
 */
int mm_datapath__set_type_rate(struct mm_datapath *dp, __u32 type, const struct mm_type_rate *rate);
/* Sums over CPUs, per record type: counters[MM_EVENT_TYPE_SLOTS]. */
int mm_datapath__read_type_counters(const struct mm_datapath *dp, struct mm_type_counter *counters);

/* Program fds, for BPF_PROG_TEST_RUN in tests. */
int mm_datapath__tc_ingress_fd(const struct mm_datapath *dp);
int mm_datapath__tc_egress_fd(const struct mm_datapath *dp);

#endif /* MESHMON_DATAPATH_H */
