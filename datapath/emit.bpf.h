/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Emitting records: configuration lookup, the per-CPU token buckets (host
 * total and per type), perf output with loss counting, and the drop-site
 * stamp. Every record that the datapath decided to emit and could not is
 * counted in mm_stats or, refused by its type's own limit, in mm_type_stats;
 * every record written is counted per type in mm_type_stats.
 */
#ifndef MESHMON_EMIT_BPF_H
#define MESHMON_EMIT_BPF_H

#include "maps.bpf.h"

#define MM_NSEC_PER_SEC 1000000000ull

static __always_inline void mm_stat_add(__u32 stat, __u64 n)
{
	__u64 *slot = bpf_map_lookup_elem(&mm_stats, &stat);

	if (slot)
		*slot += n;
}

static __always_inline const struct mm_config *mm_config_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&mm_config_map, &zero);
}

static __always_inline int mm_type_enabled(const struct mm_config *cfg, __u32 type)
{
	return type < 32 && (cfg->event_mask & MM_EVENT_BIT(type));
}

/* Count one record of type in mm_type_stats: emitted, or refused by its own limit. */
static __always_inline void mm_type_count(__u32 type, int refused)
{
	struct mm_type_counter *c = bpf_map_lookup_elem(&mm_type_stats, &type);

	if (!c)
		return;
	if (refused)
		c->refused++;
	else
		c->emitted++;
}

/*
 * Token bucket, one per CPU so that CPUs never contend (Cilium's single bucket
 * races across CPUs). Tokens are counted in nano-records: refilling
 * elapsed_ns * rate nano-records is exact integer arithmetic. Takes one token
 * from b when it has one: 1, else 0.
 */
static __always_inline int mm_bucket_take(struct mm_rate_bucket *b, __u64 rate, __u64 burst,
					  __u64 now)
{
	__u64 cap = (burst ? burst : 1) * MM_NSEC_PER_SEC, elapsed;

	elapsed = now - b->last_ns;
	b->last_ns = now;
	/* Clamp before multiplying so elapsed * rate cannot overflow. */
	if (elapsed >= cap / rate)
		b->tokens_nano = cap;
	else if (b->tokens_nano + elapsed * rate > cap)
		b->tokens_nano = cap;
	else
		b->tokens_nano += elapsed * rate;
	if (b->tokens_nano < MM_NSEC_PER_SEC)
		return 0;
	b->tokens_nano -= MM_NSEC_PER_SEC;
	return 1;
}

/* The limit of type alone (mm_type_rate); a refusal counts in the type's refused. */
static __always_inline int mm_type_rate_allow(__u32 type, __u64 now)
{
	const struct mm_type_rate *r = bpf_map_lookup_elem(&mm_type_rate, &type);
	struct mm_rate_bucket *b = bpf_map_lookup_elem(&mm_type_bucket, &type);

	if (!r || !b || !r->rate_per_cpu)
		return 1;
	if (mm_bucket_take(b, r->rate_per_cpu, r->burst_per_cpu, now))
		return 1;
	mm_type_count(type, 1);
	return 0;
}

static __always_inline int mm_type_limited(const struct mm_config *cfg, __u32 type)
{
	return type < 32 && (cfg->type_rate_mask & MM_EVENT_BIT(type));
}

/*
 * May a record of type be emitted? Its type's own limit first (when it has
 * one), then the host total; a refusal by the host total is counted in
 * MM_STAT_RATE_LIMITED. A record its type's limit refused takes no host token;
 * one the host total refuses has used its type's token. now is the caller's
 * bpf_ktime_get_ns(): a program that already read the clock for this packet
 * passes that reading instead of paying for another.
 */
static __always_inline int mm_rate_allow_at(const struct mm_config *cfg, __u32 type, __u64 now)
{
	__u64 rate = cfg->rate_per_cpu;
	struct mm_rate_bucket *b;
	__u32 zero = 0;

	if (mm_type_limited(cfg, type) && !mm_type_rate_allow(type, now))
		return 0;
	if (!rate)
		return 1;
	b = bpf_map_lookup_elem(&mm_rate_bucket, &zero);
	if (!b)
		return 1;
	if (mm_bucket_take(b, rate, cfg->burst_per_cpu, now))
		return 1;
	mm_stat_add(MM_STAT_RATE_LIMITED, 1);
	return 0;
}

/* The same, reading the clock only when a limit applies. */
static __always_inline int mm_rate_allow(const struct mm_config *cfg, __u32 type)
{
	if (!cfg->rate_per_cpu && !mm_type_limited(cfg, type))
		return 1;
	return mm_rate_allow_at(cfg, type, bpf_ktime_get_ns());
}

/* Packet bytes a trace or drop record carries: capture_len, at most the packet and 1500. */
static __always_inline __u32 mm_cap_len(const struct mm_config *cfg, __u32 pkt_len)
{
	__u32 cap = cfg->capture_len;

	if (cap > pkt_len)
		cap = pkt_len;
	if (cap > MM_CAPTURE_MAX)
		cap = MM_CAPTURE_MAX;
	return cap;
}

#define MM_ENOSPC 28

/*
 * Count a failed perf write. A full ring (-ENOSPC) is counted apart from every
 * other failure: the kernel counts the same writes in the ring's lost counter
 * (PERF_RECORD_LOST), and the agent must report each loss once, as ring loss.
 */
static __always_inline void mm_output_failed(long err)
{
	mm_stat_add(err == -MM_ENOSPC ? MM_STAT_RING_FULL : MM_STAT_OUTPUT_FAILED, 1);
}

/*
 * Count the result err of writing rec (a record starting with struct
 * mm_notify_hdr), by every output helper: emitted per type, or the failure.
 */
static __always_inline void mm_output_counted(const void *rec, long err)
{
	if (err)
		mm_output_failed(err);
	else
		mm_type_count(((const struct mm_notify_hdr *)rec)->type, 0);
}

/*
 * Write a record, with cap_len packet bytes appended by the kernel (only for
 * program types whose ctx is an skb: tc, cgroup_skb). A failed write is the
 * datapath's own loss and is counted.
 */
static __always_inline long mm_output(void *ctx, const void *rec, __u64 size, __u32 cap_len)
{
	long err = bpf_perf_event_output(ctx, &mm_events, ((__u64)cap_len << 32) | BPF_F_CURRENT_CPU,
					 (void *)rec, size);

	mm_output_counted(rec, err);
	return err;
}

/* ktime_ns is the caller's bpf_ktime_get_ns() (see mm_rate_allow_at). */
static __always_inline void mm_hdr_init_at(struct mm_notify_hdr *hdr, __u8 type, __u8 subtype,
					   __u8 source, __u8 version, __u32 flow_id, __u64 now)
{
	hdr->type = type;
	hdr->subtype = subtype;
	hdr->source = source;
	hdr->version = version;
	hdr->flow_id = flow_id;
	hdr->ktime_ns = now;
}

static __always_inline void mm_hdr_init(struct mm_notify_hdr *hdr, __u8 type, __u8 subtype,
					__u8 source, __u8 version, __u32 flow_id)
{
	mm_hdr_init_at(hdr, type, subtype, source, version, flow_id, bpf_ktime_get_ns());
}

/*
 * The id of the source file a macro is expanded in, from MM_SOURCE_FILES.
 * clang folds __builtin_strcmp of literals, so this is a constant.
 */
#define MM__FILE_ID_OF(NAME, ID, FNAME) (__builtin_strcmp(__FILE_NAME__, FNAME) == 0) ? (ID):
#define MM_FILE_ID (MM_SOURCE_FILES(MM__FILE_ID_OF) 0)

/* Stamp a drop record with its drop site; fails to compile in an unlisted file. */
#define MM_DROP_SITE(rec)                                                              \
	do {                                                                           \
		_Static_assert(MM_FILE_ID != 0,                                        \
			       "add " __FILE_NAME__ " to MM_SOURCE_FILES in tables.h"); \
		(rec)->file = MM_FILE_ID;                                              \
		(rec)->line = __LINE__;                                                \
	} while (0)

#endif /* MESHMON_EMIT_BPF_H */
