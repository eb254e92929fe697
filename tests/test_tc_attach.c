// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The tc datapath attached for real: a veth pair between a private network
 * namespace and a peer namespace, real traffic (ping, ping -6, a TCP
 * connection), the trace records that reach the ring, and the tc state left
 * behind by detach, free and a restart after a crash.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "datapath.h"
#include "harness.h"

static struct mm_test_pair pair;

/* Everything a test opens is tracked here, so teardown frees it even when an
 * assertion ends the test early. */
#define MAX_OPEN 4
static struct mm_datapath *open_dps[MAX_OPEN];
static struct mm_test_ring *open_rings[MAX_OPEN];

static int quiet_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static void setup(void)
{
	libbpf_set_print(quiet_print);
	cr_assert(eq(int, mm_test_private_netns(), 0));
	cr_assert(eq(int, mm_test_pair_create(&pair), 0));
}

static void teardown(void)
{
	for (int i = 0; i < MAX_OPEN; i++) {
		mm_test_ring_free(open_rings[i]);
		open_rings[i] = NULL;
		mm_datapath__free(open_dps[i]);
		open_dps[i] = NULL;
	}
	mm_test_pair_destroy(&pair);
}

TestSuite(tc_attach, .init = setup, .fini = teardown, .timeout = 60);

/* --- helpers --------------------------------------------------------------- */

static struct mm_datapath *open_datapath(void)
{
	struct mm_config cfg;
	struct mm_datapath *dp;

	mm_config__defaults(&cfg);
	cfg.aggregation = MM_AGG_NONE; /* every packet traced */
	dp = mm_datapath__open(&cfg);
	cr_assert(ne(ptr, dp, NULL), "mm_datapath__open: %s", strerror(errno));
	for (int i = 0; i < MAX_OPEN; i++) {
		if (!open_dps[i]) {
			open_dps[i] = dp;
			return dp;
		}
	}
	cr_fatal("too many datapaths open");
	return NULL;
}

static void close_datapath(struct mm_datapath *dp)
{
	for (int i = 0; i < MAX_OPEN; i++)
		if (open_dps[i] == dp)
			open_dps[i] = NULL;
	mm_datapath__free(dp);
}

static struct mm_test_ring *open_ring(struct mm_datapath *dp)
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

static void close_ring(struct mm_test_ring *ring)
{
	for (int i = 0; i < MAX_OPEN; i++)
		if (open_rings[i] == ring)
			open_rings[i] = NULL;
	mm_test_ring_free(ring);
}

/* Lines of `cmd` output that contain `needle`, or -1 if cmd cannot run. */
static int count_lines(const char *needle, const char *fmt, ...)
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

static int meshmon_filters(const char *ifname, const char *dir)
{
	return count_lines("mm_tc_", "tc filter show dev %s %s", ifname, dir);
}

static int has_clsact(const char *ifname)
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

struct matched {
	struct mm_trace_record rec[16];
	size_t n;
	size_t cap_ok; /* records whose captured bytes are the frame's first bytes */
};

/* Traces at `point` of family/proto from src to dst; icmp_type < 0: any. */
static void match(const struct mm_test_ring *ring, __u8 point, int family, __u8 proto,
		  const char *src, const char *dst, int icmp_type, struct matched *m)
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

static void check_common(const struct mm_trace_record *t)
{
	cr_assert(eq(u8, t->hdr.type, MM_EVENT_TRACE));
	cr_assert(eq(u8, t->hdr.source, MM_SOURCE_TC));
	cr_assert(eq(u8, t->hdr.version, MM_TRACE_VERSION));
	cr_assert(eq(u32, t->ifindex, (__u32)pair.local_ifindex));
	cr_assert(eq(u8, t->parse_error, MM_PARSE_NONE));
	cr_assert(ne(u32, t->hdr.flow_id, 0));
	cr_assert(ne(u64, t->hdr.ktime_ns, 0));
}

/* Ping from here to the peer; echo requests go out (to-network), replies come in. */
static void check_ping(int family, const char *local, const char *peer)
{
	struct mm_datapath *dp = open_datapath();
	__u8 echo = family == 4 ? 8 : 128, reply = family == 4 ? 0 : 129;
	__u8 proto = family == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	struct mm_test_ring *ring;
	struct matched req, rep;

	cr_assert(eq(int, mm_datapath__attach_tc(dp, pair.local_ifindex), 0));
	ring = open_ring(dp);

	cr_assert(eq(int, mm_test_sh("ping -%d -c 3 -i 0.2 -W 2 %s >/dev/null", family, peer), 0),
		  "ping through the monitored interface");
	mm_test_ring_collect(ring, (size_t)-1, 300);

	match(ring, MM_POINT_TO_NETWORK, family, proto, local, peer, echo, &req);
	match(ring, MM_POINT_FROM_NETWORK, family, proto, peer, local, reply, &rep);
	cr_assert(eq(sz, req.n, 3), "echo requests traced at to-network");
	cr_assert(eq(sz, rep.n, 3), "echo replies traced at from-network");
	for (size_t i = 0; i < 3; i++) {
		check_common(&req.rec[i]);
		check_common(&rep.rec[i]);
		cr_assert(eq(u8, req.rec[i].state, i == 0 ? MM_STATE_NEW : MM_STATE_ESTABLISHED),
			  "request %zu", i);
		cr_assert(eq(u8, rep.rec[i].state, MM_STATE_REPLY), "reply %zu", i);
		/* The echo identifier is the flow's "port", the same both ways. */
		cr_assert(eq(u16, req.rec[i].tuple.sport, req.rec[0].tuple.sport));
		cr_assert(eq(u16, rep.rec[i].tuple.sport, req.rec[0].tuple.sport));
		cr_assert(eq(u32, rep.rec[i].hdr.flow_id, req.rec[0].hdr.flow_id),
			  "one flow id for both directions");
		/* ping's default 56 data bytes: 14 + IP header + 8 + 56 on the wire. */
		cr_assert(eq(u32, req.rec[i].cap.len_orig, (family == 4 ? 98u : 118u)));
		cr_assert(eq(u16, req.rec[i].cap.cap_len, req.rec[i].cap.len_orig),
			  "default capture (128) covers the whole frame");
		cr_assert(eq(u16, req.rec[i].tuple.ethertype, family == 4 ? 0x0800 : 0x86dd));
	}
	cr_assert(eq(sz, req.cap_ok, 3), "captured bytes start with the Ethernet header");
	cr_assert(eq(sz, rep.cap_ok, 3));
	cr_assert(eq(u64, ring->lost, 0));

	close_ring(ring);
	close_datapath(dp);
}

Test(tc_attach, ping_ipv4_is_traced_both_ways)
{
	check_ping(4, "10.199.0.1", "10.199.0.2");
}

Test(tc_attach, ping_ipv6_is_traced_both_ways)
{
	check_ping(6, "fd00:199::1", "fd00:199::2");
}

/* A listening socket created inside the peer namespace. */
static int listen_in_peer(int family, const char *addr, __u16 port)
{
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	int peer = open(pair.peer_ns_path, O_RDONLY | O_CLOEXEC);
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;

	cr_assert(ge(int, self, 0));
	cr_assert(ge(int, peer, 0));
	memset(&ss, 0, sizeof(ss));
	if (family == 4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		inet_pton(AF_INET, addr, &sin->sin_addr);
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		inet_pton(AF_INET6, addr, &sin6->sin6_addr);
		len = sizeof(*sin6);
	}
	/* A socket keeps the namespace it was created in. */
	cr_assert(eq(int, setns(peer, CLONE_NEWNET), 0), "setns: %s", strerror(errno));
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(eq(int, setns(self, CLONE_NEWNET), 0), "setns back: %s", strerror(errno));
	close(self);
	close(peer);
	cr_assert(ge(int, fd, 0));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	cr_assert(eq(int, bind(fd, (struct sockaddr *)&ss, len), 0), "bind: %s", strerror(errno));
	cr_assert(eq(int, listen(fd, 4), 0));
	return fd;
}

static void tcp_exchange(int family, const char *peer_addr, __u16 port)
{
	int lfd = listen_in_peer(family, peer_addr, port), cfd, afd;
	struct sockaddr_storage ss;
	socklen_t len;
	char buf[16];

	memset(&ss, 0, sizeof(ss));
	if (family == 4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		inet_pton(AF_INET, peer_addr, &sin->sin_addr);
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		inet_pton(AF_INET6, peer_addr, &sin6->sin6_addr);
		len = sizeof(*sin6);
	}
	cfd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(ge(int, cfd, 0));
	cr_assert(eq(int, connect(cfd, (struct sockaddr *)&ss, len), 0), "connect: %s",
		  strerror(errno));
	afd = accept(lfd, NULL, NULL);
	cr_assert(ge(int, afd, 0), "accept: %s", strerror(errno));
	cr_assert(eq(long, (long)write(cfd, "ping", 4), 4L));
	cr_assert(eq(long, (long)read(afd, buf, sizeof(buf)), 4L));
	cr_assert(eq(long, (long)write(afd, "pong", 4), 4L));
	cr_assert(eq(long, (long)read(cfd, buf, sizeof(buf)), 4L));
	close(cfd);
	close(afd);
	close(lfd);
}

static void check_tcp(int family, const char *local, const char *peer)
{
	struct mm_datapath *dp = open_datapath();
	struct mm_test_ring *ring;
	struct matched out, in;
	const __u16 port = 8080;
	int syn = -1, synack = -1;

	cr_assert(eq(int, mm_datapath__attach_tc(dp, pair.local_ifindex), 0));
	ring = open_ring(dp);

	tcp_exchange(family, peer, port);
	mm_test_ring_collect(ring, (size_t)-1, 300);

	match(ring, MM_POINT_TO_NETWORK, family, IPPROTO_TCP, local, peer, -1, &out);
	match(ring, MM_POINT_FROM_NETWORK, family, IPPROTO_TCP, peer, local, -1, &in);
	cr_assert(ge(sz, out.n, 3), "SYN, ACK, data at least");
	cr_assert(ge(sz, in.n, 2), "SYN-ACK and data at least");
	for (size_t i = 0; i < out.n; i++)
		if (out.rec[i].tcp_flags == MM_TCP_SYN && syn < 0)
			syn = (int)i;
	for (size_t i = 0; i < in.n; i++)
		if (in.rec[i].tcp_flags == (MM_TCP_SYN | MM_TCP_ACK) && synack < 0)
			synack = (int)i;
	cr_assert(eq(int, syn, 0), "the first packet out is the SYN");
	cr_assert(eq(int, synack, 0), "the first packet in is the SYN-ACK");

	check_common(&out.rec[0]);
	cr_assert(eq(u8, out.rec[0].state, MM_STATE_NEW));
	cr_assert(eq(u16, out.rec[0].tuple.dport, port));
	cr_assert(ne(u16, out.rec[0].tuple.sport, 0));
	check_common(&in.rec[0]);
	cr_assert(eq(u8, in.rec[0].state, MM_STATE_REPLY));
	cr_assert(eq(u16, in.rec[0].tuple.sport, port));
	cr_assert(eq(u16, in.rec[0].tuple.dport, out.rec[0].tuple.sport));
	cr_assert(eq(u32, in.rec[0].hdr.flow_id, out.rec[0].hdr.flow_id));
	for (size_t i = 1; i < out.n; i++)
		cr_assert(eq(u8, out.rec[i].state, MM_STATE_ESTABLISHED), "out packet %zu", i);
	for (size_t i = 1; i < in.n; i++)
		cr_assert(eq(u8, in.rec[i].state, MM_STATE_REPLY), "in packet %zu", i);
	/* Our close sends a FIN, which is traced. */
	int fin = 0;
	for (size_t i = 0; i < out.n; i++)
		fin |= out.rec[i].tcp_flags & MM_TCP_FIN;
	cr_assert(eq(int, fin, MM_TCP_FIN), "a FIN went out");

	close_ring(ring);
	close_datapath(dp);
}

Test(tc_attach, tcp_connection_ipv4)
{
	check_tcp(4, "10.199.0.1", "10.199.0.2");
}

Test(tc_attach, tcp_connection_ipv6)
{
	check_tcp(6, "fd00:199::1", "fd00:199::2");
}

/* --- tc state: attach, detach, free, restart -------------------------------- */

Test(tc_attach, free_removes_filters_and_own_clsact)
{
	struct mm_datapath *dp;

	cr_assert(eq(int, has_clsact(pair.local_if), 0), "no clsact before");
	dp = open_datapath();
	cr_assert(eq(int, mm_datapath__attach_tc(dp, pair.local_ifindex), 0));
	cr_assert(eq(int, meshmon_filters(pair.local_if, "ingress"), 1));
	cr_assert(eq(int, meshmon_filters(pair.local_if, "egress"), 1));
	cr_assert(eq(int, count_lines("mm_tc_ingress", "tc filter show dev %s ingress",
				      pair.local_if), 1));
	cr_assert(eq(int, count_lines("mm_tc_egress", "tc filter show dev %s egress",
				      pair.local_if), 1));
	cr_assert(eq(int, has_clsact(pair.local_if), 1));
	/* Transparent: traffic still flows. */
	cr_assert(eq(int, mm_test_sh("ping -c 1 -W 2 10.199.0.2 >/dev/null"), 0));

	close_datapath(dp);
	cr_assert(eq(int, meshmon_filters(pair.local_if, "ingress"), 0));
	cr_assert(eq(int, meshmon_filters(pair.local_if, "egress"), 0));
	cr_assert(eq(int, has_clsact(pair.local_if), 0), "clsact created by meshmon is gone");
	mm_datapath__free(NULL);
}

Test(tc_attach, detach_then_free)
{
	struct mm_datapath *dp = open_datapath();

	cr_assert(eq(int, mm_datapath__attach_tc(dp, pair.local_ifindex), 0));
	cr_assert(eq(int, mm_datapath__detach_tc(dp, pair.local_ifindex), 0));
	cr_assert(eq(int, meshmon_filters(pair.local_if, "ingress"), 0));
	cr_assert(eq(int, meshmon_filters(pair.local_if, "egress"), 0));
	cr_assert(eq(int, has_clsact(pair.local_if), 0));
	/* Detaching what is not attached is an error, not a crash. */
	cr_assert(lt(int, mm_datapath__detach_tc(dp, pair.local_ifindex), 0));
	close_datapath(dp);
	cr_assert(eq(int, mm_test_sh("ping -c 1 -W 2 10.199.0.2 >/dev/null"), 0));
}

Test(tc_attach, attach_to_missing_interface_fails)
{
	struct mm_datapath *dp = open_datapath();

	cr_assert(lt(int, mm_datapath__attach_tc(dp, 999999), 0));
	close_datapath(dp);
}

#define INSN(c, d, s_, o, i) \
	((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s_), .off = (o), .imm = (i) })

/*
 * Another tool's tc filter: counts packets in an array map and returns
 * TC_ACT_UNSPEC. Attached at a lower priority than meshmon's (runs after it).
 */
static int foreign_filter(int ifindex, int *map_fd)
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

static __u64 foreign_count(int map_fd)
{
	__u32 key = 0;
	__u64 v = 0;

	cr_assert(eq(int, bpf_map_lookup_elem(map_fd, &key, &v), 0));
	return v;
}

Test(tc_attach, foreign_clsact_and_filters_survive)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = pair.local_ifindex,
		    .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, q, .handle = 1, .priority = 0xf000);
	struct mm_datapath *dp;
	int map_fd, prog_fd = foreign_filter(pair.local_ifindex, &map_fd);
	__u64 before, after;

	dp = open_datapath();
	cr_assert(eq(int, mm_datapath__attach_tc(dp, pair.local_ifindex), 0));
	cr_assert(eq(int, meshmon_filters(pair.local_if, "ingress"), 1));
	before = foreign_count(map_fd);
	cr_assert(eq(int, mm_test_sh("ping -c 2 -i 0.2 -W 2 10.199.0.2 >/dev/null"), 0));
	after = foreign_count(map_fd);
	/* TC_ACT_UNSPEC: filters behind meshmon's still see the packets. */
	cr_assert(ge(u64, after - before, 2), "the filter behind meshmon saw the replies");

	close_datapath(dp);
	cr_assert(eq(int, meshmon_filters(pair.local_if, "ingress"), 0));
	cr_assert(eq(int, meshmon_filters(pair.local_if, "egress"), 0));
	cr_assert(eq(int, has_clsact(pair.local_if), 1), "a clsact meshmon did not create stays");
	cr_assert(eq(int, bpf_tc_query(&hook, &q), 0), "the foreign filter stays");
	cr_assert(eq(int, count_lines("mmt_foreign", "tc filter show dev %s ingress",
				      pair.local_if), 1));
	close(prog_fd);
	close(map_fd);
}

/* A meshmon that died without detaching: its filters stay in the kernel. */
static void attach_and_die(void)
{
	pid_t pid;
	int status;

	fflush(NULL);
	pid = fork();
	cr_assert(ge(int, pid, 0));
	if (pid == 0) {
		struct mm_config cfg;
		struct mm_datapath *dp;

		mm_config__defaults(&cfg);
		dp = mm_datapath__open(&cfg);
		if (!dp || mm_datapath__attach_tc(dp, pair.local_ifindex) != 0)
			_exit(1);
		raise(SIGKILL);
		_exit(2);
	}
	cr_assert(eq(int, waitpid(pid, &status, 0), pid));
	cr_assert(eq(int, WIFSIGNALED(status) ? WTERMSIG(status) : -1, SIGKILL),
		  "the crashing loader attached (status %#x)", status);
}

Test(tc_attach, restart_after_crash_replaces_stale_filters)
{
	struct mm_datapath *dp;
	struct mm_test_ring *ring;
	struct matched req;

	attach_and_die();
	cr_assert(eq(int, meshmon_filters(pair.local_if, "ingress"), 1), "stale filter stays");
	cr_assert(eq(int, meshmon_filters(pair.local_if, "egress"), 1));
	attach_and_die();
	/* Two crashed runs: the second replaced the first's filters. */
	cr_assert(eq(int, meshmon_filters(pair.local_if, "ingress"), 1));
	cr_assert(eq(int, meshmon_filters(pair.local_if, "egress"), 1));

	dp = open_datapath();
	cr_assert(eq(int, mm_datapath__attach_tc(dp, pair.local_ifindex), 0));
	cr_assert(eq(int, meshmon_filters(pair.local_if, "ingress"), 1), "replaced, not stacked");
	cr_assert(eq(int, meshmon_filters(pair.local_if, "egress"), 1));

	/* The live filter is ours: its records reach our ring. */
	ring = open_ring(dp);
	cr_assert(eq(int, mm_test_sh("ping -c 2 -i 0.2 -W 2 10.199.0.2 >/dev/null"), 0));
	mm_test_ring_collect(ring, (size_t)-1, 300);
	match(ring, MM_POINT_TO_NETWORK, 4, IPPROTO_ICMP, "10.199.0.1", "10.199.0.2", 8, &req);
	cr_assert(eq(sz, req.n, 2), "each request traced once, by the new datapath");
	close_ring(ring);

	close_datapath(dp);
	cr_assert(eq(int, meshmon_filters(pair.local_if, "ingress"), 0));
	cr_assert(eq(int, meshmon_filters(pair.local_if, "egress"), 0));
}

Test(tc_attach, two_handles_on_one_interface_do_not_stack)
{
	struct mm_datapath *a = open_datapath(), *b = open_datapath();

	cr_assert(eq(int, mm_datapath__attach_tc(a, pair.local_ifindex), 0));
	cr_assert(eq(int, mm_datapath__attach_tc(b, pair.local_ifindex), 0));
	cr_assert(eq(int, meshmon_filters(pair.local_if, "ingress"), 1));
	cr_assert(eq(int, meshmon_filters(pair.local_if, "egress"), 1));
	close_datapath(b);
	close_datapath(a);
	cr_assert(eq(int, meshmon_filters(pair.local_if, "ingress"), 0));
	cr_assert(eq(int, meshmon_filters(pair.local_if, "egress"), 0));
	cr_assert(eq(int, mm_test_sh("ping -c 1 -W 2 10.199.0.2 >/dev/null"), 0));
}
