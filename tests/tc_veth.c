// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The tc datapath attached to a veth pair (see tc_veth.h): the pair in a
 * private network namespace, every datapath and ring a test opens tracked so
 * the suite's teardown frees them even when an assertion ends the test early,
 * and the tc state and trace records the tests look at.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "datapath.h"
#include "harness.h"
#include "tc_veth.h"

struct mm_test_pair pair;
char owner_dir[64]; /* clsact owner records of this test */

#define MAX_OPEN 4
static struct mm_datapath *open_dps[MAX_OPEN];
static struct mm_test_ring *open_rings[MAX_OPEN];

static int quiet_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void tc_veth_setup(void)
{
	libbpf_set_print(quiet_print);
	cr_assert(eq(int, mm_test_private_netns(), 0));
	cr_assert(eq(int, mm_test_pair_create(&pair), 0));
	snprintf(owner_dir, sizeof(owner_dir), "/tmp/mm-tcowner-XXXXXX");
	cr_assert(ne(ptr, mkdtemp(owner_dir), NULL));
}

void tc_veth_teardown(void)
{
	for (int i = 0; i < MAX_OPEN; i++) {
		mm_test_ring_free(open_rings[i]);
		open_rings[i] = NULL;
		mm_datapath__free(open_dps[i]);
		open_dps[i] = NULL;
	}
	mm_test_pair_destroy(&pair);
	if (owner_dir[0])
		mm_test_sh("rm -rf '%s'", owner_dir);
}

struct mm_datapath *open_datapath(void)
{
	return open_datapath_mode(MM_TC_MODE_AUTO);
}

struct mm_datapath *open_datapath_mode(enum mm_tc_mode mode)
{
	struct mm_config cfg;
	struct mm_datapath *dp;

	mm_config__defaults(&cfg);
	cfg.aggregation = MM_AGG_NONE; /* every packet traced */
	dp = mm_datapath__open(&cfg);
	cr_assert(ne(ptr, dp, NULL), "mm_datapath__open: %s", strerror(errno));
	cr_assert(eq(int, mm_datapath__set_tc_mode(dp, mode, owner_dir), 0));
	for (int i = 0; i < MAX_OPEN; i++) {
		if (!open_dps[i]) {
			open_dps[i] = dp;
			return dp;
		}
	}
	cr_fatal("too many datapaths open");
	return NULL;
}

void close_datapath(struct mm_datapath *dp)
{
	for (int i = 0; i < MAX_OPEN; i++)
		if (open_dps[i] == dp)
			open_dps[i] = NULL;
	mm_datapath__free(dp);
}

struct mm_test_ring *open_ring(struct mm_datapath *dp)
{
	struct mm_test_ring *ring = mm_test_ring_open(mm_datapath__events_fd(dp));

	cr_assert(ne(ptr, ring, NULL), "ring: %s", strerror(errno));
	for (int i = 0; i < MAX_OPEN; i++) {
		if (!open_rings[i]) {
			open_rings[i] = ring;
			return ring;
		}
	}
	cr_fatal("too many rings open");
	return NULL;
}

void close_ring(struct mm_test_ring *ring)
{
	for (int i = 0; i < MAX_OPEN; i++)
		if (open_rings[i] == ring)
			open_rings[i] = NULL;
	mm_test_ring_free(ring);
}

/* Lines of `cmd` output that contain `needle`, or -1 if cmd cannot run. */
int count_lines(const char *needle, const char *fmt, ...)
{
	char cmd[512], line[1024];
	va_list ap;
	FILE *f;
	int n = 0;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, needle))
			n++;
	if (pclose(f) != 0)
		return -1;
	return n;
}

int meshmon_filters(const char *ifname, const char *dir)
{
	return count_lines("mm_tc_", "tc filter show dev %s %s", ifname, dir);
}

int has_clsact(const char *ifname)
{
	return count_lines("clsact", "tc qdisc show dev %s", ifname);
}

/* A trace record copied out of the ring record, its length checked. */
static int trace_at(const struct mm_test_ring *ring, size_t i, struct mm_trace_record *out,
		    const struct mm_test_record **raw)
{
	const struct mm_test_record *r = mm_test_ring_nth(ring, MM_EVENT_TRACE, i);

	if (!r)
		return 0;
	cr_assert(ge(u32, r->size, sizeof(*out)), "trace record of %u bytes", r->size);
	memcpy(out, r->data, sizeof(*out));
	if (raw)
		*raw = r;
	return 1;
}

static void addr_of(int family, const char *text, __u32 out[4])
{
	memset(out, 0, 16);
	cr_assert(eq(int, inet_pton(family == 4 ? AF_INET : AF_INET6, text, out), 1));
}

static int same_addr(const __u32 a[4], const __u32 b[4])
{
	return memcmp(a, b, 16) == 0;
}

/* Traces at `point` of family/proto from src to dst; icmp_type < 0: any. */
void match(const struct mm_test_ring *ring, __u8 point, int family, __u8 proto, const char *src,
	   const char *dst, int icmp_type, struct matched *m)
{
	const struct mm_test_record *raw;
	struct mm_trace_record t;
	__u32 s[4], d[4];

	addr_of(family, src, s);
	addr_of(family, dst, d);
	memset(m, 0, sizeof(*m));
	for (size_t i = 0; trace_at(ring, i, &t, &raw); i++) {
		if (t.hdr.subtype != point || t.tuple.family != family || t.tuple.proto != proto ||
		    !same_addr(t.tuple.saddr, s) || !same_addr(t.tuple.daddr, d))
			continue;
		if (icmp_type >= 0 && t.icmp_type != icmp_type)
			continue;
		if (m->n < 16)
			m->rec[m->n++] = t;
		/* The captured frame: Ethernet header with the IP ethertype. */
		if (t.cap.layer == MM_LAYER_ETHERNET && t.cap.cap_len >= 14 &&
		    raw->size >= sizeof(t) + t.cap.cap_len &&
		    ((raw->data[sizeof(t) + 12] << 8) | raw->data[sizeof(t) + 13]) ==
			    (family == 4 ? 0x0800 : 0x86dd))
			m->cap_ok++;
	}
}

/* --- another tool's clsact filter ------------------------------------------- */

#define INSN(c, d, s_, o, i) \
	((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s_), .off = (o), .imm = (i) })

/*
 * Another tool's tc filter: counts packets in an array map and returns
 * TC_ACT_UNSPEC. Attached at a lower priority than meshmon's (runs after it).
 */
int foreign_filter(int ifindex, int *map_fd)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = 1, .priority = 0xf000);
	int mfd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "mmt_count", 4, 8, 1, NULL);
	const struct bpf_insn prog[] = {
		INSN(BPF_ST | BPF_MEM | BPF_W, 10, 0, -4, 0),
		INSN(BPF_LD | BPF_DW | BPF_IMM, 1, BPF_PSEUDO_MAP_FD, 0, mfd),
		INSN(0, 0, 0, 0, 0),
		INSN(BPF_ALU64 | BPF_MOV | BPF_X, 2, 10, 0, 0),
		INSN(BPF_ALU64 | BPF_ADD | BPF_K, 2, 0, 0, -4),
		INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem),
		INSN(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 2, 0),
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, 1, 0, 0, 1),
		INSN(BPF_STX | BPF_ATOMIC | BPF_DW, 0, 1, 0, BPF_ADD),
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, -1), /* TC_ACT_UNSPEC */
		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
	int pfd;

	cr_assert(ge(int, mfd, 0), "map: %s", strerror(errno));
	pfd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "mmt_foreign", "GPL", prog,
			    sizeof(prog) / sizeof(prog[0]), NULL);
	cr_assert(ge(int, pfd, 0), "foreign prog: %s", strerror(errno));
	cr_assert(eq(int, bpf_tc_hook_create(&hook), 0));
	opts.prog_fd = pfd;
	cr_assert(eq(int, bpf_tc_attach(&hook, &opts), 0));
	*map_fd = mfd;
	return pfd;
}

__u64 foreign_count(int map_fd)
{
	__u32 key = 0;
	__u64 v = 0;

	cr_assert(eq(int, bpf_map_lookup_elem(map_fd, &key, &v), 0));
	return v;
}
