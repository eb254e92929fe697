/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Loader of the kernel drop object (kernel_drops.bpf.c): tp_btf/kfree_skb,
 * or raw_tp/kfree_skb (no captured bytes) when tp_btf does not load.
 *
 * Errors: 0 or a negative errno; constructors return NULL with errno set.
 */
#ifndef MESHMON_KERNEL_DROPS_H
#define MESHMON_KERNEL_DROPS_H

#include "config.h"

struct mm_datapath;
struct mm_kdrops;

/*
 * Open, load and attach. dp: share its maps; NULL: maps of its own (with
 * MM_EVENT_MASK_DEFAULT and nothing else set). scope_all: write
 * kernel_drop_scope = MM_KDROP_SCOPE_ALL (else MONITORED) into the
 * configuration; it stays a run-time setting (mm_config.kernel_drop_scope).
 */
struct mm_kdrops *mm_kdrops__open(struct mm_datapath *dp, int scope_all);
/* The same, skipping tp_btf: load the raw_tp fallback directly (tests). */
struct mm_kdrops *mm_kdrops__open_raw_tp(struct mm_datapath *dp, int scope_all);
void mm_kdrops__free(struct mm_kdrops *kd);

/* Report drops in this network namespace (by inode) under scope MONITORED. */
int mm_kdrops__watch_netns(struct mm_kdrops *kd, __u32 netns_inum);
int mm_kdrops__unwatch_netns(struct mm_kdrops *kd, __u32 netns_inum);

/* 1 when the raw_tp fallback is in use (no captured bytes). */
int mm_kdrops__is_fallback(const struct mm_kdrops *kd);
int mm_kdrops__events_fd(const struct mm_kdrops *kd);
int mm_kdrops__set_config(struct mm_kdrops *kd, const struct mm_config *cfg);
/*
 * Kernel drops counted so far, summed over CPUs: counts[MM_KDROP_COUNT_SLOTS]
 * by slot (config.h: the reason value, MM_KDROP_OVERFLOW_SLOT beyond).
 */
int mm_kdrops__read_counts(const struct mm_kdrops *kd, struct mm_traffic_counter *counts);
/* fd of the raw_tp fallback program (loaded by mm_kdrops__open_raw_tp), for BPF_PROG_TEST_RUN. */
int mm_kdrops__raw_tp_fd(const struct mm_kdrops *kd);

#endif /* MESHMON_KERNEL_DROPS_H */
