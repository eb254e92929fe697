// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The tc datapath under BPF_PROG_TEST_RUN (see tc_testrun.h): one datapath
 * per test in its own network namespace, canned packets through its tc
 * programs, and the records, counters and deny rules the tests look at.
 */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "harness.h"
#include "tc_testrun.h"

struct mm_datapath *dp;
struct mm_test_ring *ring;
int fd_in, fd_eg;

void dp_up(const struct mm_config *cfg)
{
	cpu_set_t set;

	/* One CPU: the token bucket is per CPU and the records arrive in order. */
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	cr_assert(eq(int, sched_setaffinity(0, sizeof(set), &set), 0));
	cr_assert(eq(int, mm_test_private_netns(), 0));
	dp = mm_datapath__open(cfg);
	cr_assert(not(eq(ptr, dp, NULL)), "mm_datapath__open: %s", strerror(errno));
	ring = mm_test_ring_open(mm_datapath__events_fd(dp));
	cr_assert(not(eq(ptr, ring, NULL)));
	fd_in = mm_datapath__tc_ingress_fd(dp);
	fd_eg = mm_datapath__tc_egress_fd(dp);
	cr_assert(gt(int, fd_in, 0));
	cr_assert(gt(int, fd_eg, 0));
}

void dp_up_default(void)
{
	struct mm_config cfg;

	mm_config__defaults(&cfg);
	dp_up(&cfg);
}

void dp_down(void)
{
	mm_test_ring_free(ring);
	mm_datapath__free(dp);
	ring = NULL;
	dp = NULL;
}

void set_cfg(void (*edit)(struct mm_config *))
{
	struct mm_config cfg;

	cr_assert(eq(int, mm_datapath__get_config(dp, &cfg), 0));
	edit(&cfg);
	cr_assert(eq(int, mm_datapath__set_config(dp, &cfg), 0));
}

size_t build(uint8_t *buf, size_t cap, const struct mm_test_pkt_spec *s)
{
	size_t len = mm_test_pkt_build(buf, cap, s);

	cr_assert(gt(sz, len, 0), "packet builder failed");
	return len;
}

int run(int fd, const struct mm_test_pkt_spec *s, uint8_t *frame, size_t *len)
{
	uint8_t local[2048];
	size_t l;
	int rc = 0;

	if (!frame)
		frame = local;
	l = build(frame, sizeof(local), s);
	if (len)
		*len = l;
	cr_assert(eq(int, mm_test_tc_run(fd, frame, l, 0, &rc), 0));
	return rc;
}

size_t collect_exact(size_t want)
{
	/* Ask for one more than expected, so extra records are seen too. */
	return mm_test_ring_collect(ring, want + 1, RING_WAIT_MS);
}

void trace_of(const struct mm_test_record *r, struct mm_trace_record *t)
{
	cr_assert(not(eq(ptr, (void *)r, NULL)), "no trace record");
	cr_assert(ge(u32, r->size, sizeof(*t)));
	memcpy(t, r->data, sizeof(*t));
}

void drop_of(const struct mm_test_record *r, struct mm_drop_record *d)
{
	cr_assert(not(eq(ptr, (void *)r, NULL)), "no drop record");
	cr_assert(ge(u32, r->size, sizeof(*d)));
	memcpy(d, r->data, sizeof(*d));
}

void debug_of(const struct mm_test_record *r, struct mm_debug_record *d)
{
	cr_assert(not(eq(ptr, (void *)r, NULL)), "no debug record");
	cr_assert(ge(u32, r->size, sizeof(*d)));
	memcpy(d, r->data, sizeof(*d));
}

void verdict_of(const struct mm_test_record *r, struct mm_policy_verdict_record *v)
{
	cr_assert(not(eq(ptr, (void *)r, NULL)), "no policy-verdict record");
	cr_assert(ge(u32, r->size, sizeof(*v)));
	memcpy(v, r->data, sizeof(*v));
}

__u64 stat_of(unsigned int s)
{
	__u64 stats[MM_STAT_MAX];

	cr_assert(eq(int, mm_datapath__read_stats(dp, stats), 0));
	return stats[s];
}

struct mm_traffic_counter traffic_of(unsigned int dir, unsigned int reason)
{
	struct mm_traffic_counter t[MM_TRAFFIC_SLOTS];

	cr_assert(eq(int, mm_datapath__read_traffic(dp, t), 0));
	return t[MM_TRAFFIC_INDEX(MM_TC_POINT(dir), reason)];
}

void addr_of(int family, const char *text, __u32 out[4])
{
	memset(out, 0, 16);
	cr_assert(eq(int, inet_pton(family == 6 ? AF_INET6 : AF_INET, text, out), 1));
}

/* The captured bytes of record r (after a fixed part of fixed_size) equal the frame's first. */
void assert_capture(const struct mm_test_record *r, size_t fixed_size, const uint8_t *frame,
		    size_t cap_len)
{
	cr_assert(ge(u32, r->size, fixed_size + cap_len));
	cr_assert(eq(int, memcmp(r->data + fixed_size, frame, cap_len), 0),
		  "captured bytes differ from the packet");
}

void deny(const char *const *texts, size_t n)
{
	struct mm_deny_spec rules[MM_DENY_MAX];
	char err[128];

	for (size_t i = 0; i < n; i++)
		cr_assert(eq(int,
			     mm_deny_spec__parse(texts[i], (__u32)(i + 1) * 10, &rules[i], err,
						 sizeof(err)),
			     0),
			  "%s: %s", texts[i], err);
	cr_assert(eq(int, mm_datapath__set_deny_rules(dp, rules, n), 0));
}

int run_to(int fd, int family, const char *src, const char *dst, __u8 proto, __u16 dport)
{
	struct mm_test_pkt_spec s = {.family = family,
				     .src = src,
				     .dst = dst,
				     .proto = proto,
				     .sport = 33333,
				     .dport = dport,
				     .tcp_flags = MM_TCP_SYN,
				     .icmp_type = family == 6 ? 128 : 8,
				     .icmp_id = 5};

	return run(fd, &s, NULL, NULL);
}

void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}
