/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The decoder: one raw datapath record (records.h) into one protocol Event
 * and the mm_event_view that listener filters match on. Each record is
 * decoded once; the agent then packs the Event once and fans the bytes out.
 *
 * The record is copied out before any field is read (perf ring data is not
 * aligned) and its length is checked against its type's fixed size (for
 * the source that emitted it: mm_record_size) and the appended capture first.
 *
 * Every string it sets is valid UTF-8 (utf8.h): comm and the interface name
 * are bytes from outside, so invalid sequences become U+FFFD and the raw
 * bytes go in comm_raw / ifname_raw, set only then.
 */
#ifndef MESHMON_AGENT_DECODE_H
#define MESHMON_AGENT_DECODE_H

#include <errno.h>
#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#include "filter.h"
#include "meshmon.pb-c.h"
#include "records.h"
#include "utf8.h"

/* Errors of mm_decode(); the caller counts them in Status. */
#define MM_DECODE_SHORT	  (-EBADMSG) /* shorter than the fixed record or its capture */
#define MM_DECODE_UNKNOWN (-ENOMSG)  /* unknown type, or a layout version we do not know */

/*
 * An interface name made ready for Events once, when it is looked up, not per
 * event: name is valid UTF-8 (invalid bytes as U+FFFD); raw holds the bytes
 * the kernel had, raw_len > 0 only when they were not valid UTF-8.
 */
struct mm_ifname {
	char name[MM_UTF8_SANITIZED_SIZE(IF_NAMESIZE)];
	uint8_t raw[IF_NAMESIZE];
	size_t raw_len;
};

/* Fill e from the kernel's bytes (at most IF_NAMESIZE, up to the first NUL). */
void mm_ifname__set(struct mm_ifname *e, const char *kernel_name);

struct mm_decode_ctx {
	/* CLOCK_REALTIME - CLOCK_MONOTONIC, from mm_clock_offset_ns(). */
	int64_t wall_offset_ns;
	/* Kernel drop reason (enum skb_drop_reason) to its name; NULL or a NULL return: unknown. */
	const char *(*kernel_drop_reason_name)(unsigned int reason);
	/* ifindex to name; NULL or a NULL return leaves Event.ifname empty. The
	 * entry must stay unchanged until the decoded event has been packed. */
	const struct mm_ifname *(*ifname)(void *arg, unsigned int ifindex);
	void *ifname_arg;
	/* A kernel drop's location as "function+0xoff" into buf: its length, or a
	 * negative errno when unknown (Drop.symbol stays empty); NULL: never. */
	int (*symbolize)(void *arg, uint64_t addr, char *buf, size_t len);
	void *symbolize_arg;
};

/* The record's comm: the kernel's TASK_COMM_LEN, NUL-terminated unless a record lies. */
#define MM_DECODE_COMM_LEN sizeof(((struct mm_tcp_probe_record *)0)->comm)

/* Storage of one decoded event: the Event and everything it points to. */
struct mm_decoded {
	Meshmon__V1__Event ev;
	Meshmon__V1__Tuple tuple;
	union {
		Meshmon__V1__Trace trace;
		Meshmon__V1__Drop drop;
		Meshmon__V1__Debug debug;
		Meshmon__V1__Capture capture;
		Meshmon__V1__TcpProbe probe;
		Meshmon__V1__PolicyVerdict verdict;
		Meshmon__V1__TraceSock sock;
	} d;
	struct mm_event_view view;
	uint8_t src[16], dst[16];
	uint8_t orig_dst[16]; /* trace-sock, tcp_probe: what the application asked for */
	/* Sanitized strings: room for a U+FFFD (3 bytes) per source byte. */
	char comm[MM_UTF8_SANITIZED_SIZE(MM_DECODE_COMM_LEN)];
	uint8_t comm_raw[MM_DECODE_COMM_LEN];
	char file[32];
	char reason[64];
	char reason_text[64];
	char symbol[128];
	char message[160];
	uint8_t inline_cap[MM_CAPTURE_MAX];
	/* Captures longer than MM_CAPTURE_MAX: grown when one is longer still, kept from one
	 * decode to the next (no allocation per event), freed by mm_decoded__release(). */
	uint8_t *heap_cap;
	size_t heap_cap_size;
};

/* CLOCK_REALTIME - CLOCK_MONOTONIC now, in ns. */
int64_t mm_clock_offset_ns(void);

/*
 * Decodes the record of size bytes at data, read from cpu's ring, into out:
 * 0, MM_DECODE_SHORT, MM_DECODE_UNKNOWN, or -ENOMEM. out->ev is valid until
 * mm_decoded__release(out) or the next mm_decode() into out (which reuses its
 * storage). out must be zeroed before its first use.
 */
int mm_decode(const struct mm_decode_ctx *ctx, const void *data, size_t size, int cpu,
	      struct mm_decoded *out);
/* Frees what mm_decode() allocated. Accepts NULL. */
void mm_decoded__release(struct mm_decoded *out);

/*
 * Formats a debug message from a MM_DEBUG_TYPES format: only %u, %x and %%,
 * at most three conversions, applied by hand (the format never reaches
 * printf). -EINVAL for any other format text, else the length written.
 */
int mm_debug_message(char *buf, size_t size, const char *fmt, const uint32_t args[3]);

/* A small if_indextoname() cache usable as mm_decode_ctx.ifname. */
#define MM_IFNAME_CACHE_SLOTS 64
struct mm_ifname_cache {
	struct {
		unsigned int ifindex; /* 0: empty */
		struct mm_ifname name;
	} slot[MM_IFNAME_CACHE_SLOTS];
};
const struct mm_ifname *mm_ifname_cache__lookup(void *cache, unsigned int ifindex);
/* Forget every name (call when interfaces may have been renamed or recreated). */
void mm_ifname_cache__flush(struct mm_ifname_cache *cache);

#endif /* MESHMON_AGENT_DECODE_H */
