// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Kernel drops through the real agent (--kernel-drops on) and the real
 * `meshmon monitor`, in text, JSON and pcap:
 * - one record per drop: a packet meshmon's own deny rule drops is reported
 *   once (the tc `Policy denied` drop), never again as the kernel's TC_EGRESS
 *   drop, while a packet another (test-owned) tc program drops on the same
 *   hook still shows as a TC_EGRESS kernel drop; Status and /metrics count the
 *   merges;
 * - the location of a known drop (UDP to a closed port) is named by its
 *   symbol, the one /proc/kallsyms gives for the raw address;
 * - ICMPv6 behind a hop-by-hop header has proto 58 and matches --proto icmpv6.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip6.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli_agent.h"
#include "harness.h"
#include "harness_agent.h"

#ifndef MESHMON_CLI_PATH
#error "MESHMON_CLI_PATH must name the built meshmon"
#endif

#define PEER_MAC "02:00:00:00:99:02"

static void setup(void)
{
	cli_agent_prepare("cli-kdrops");
}

TestSuite(cli_kdrops, .init = setup, .fini = cli_agent_teardown, .timeout = 120);

/*
 * `meshmon ARGS` in the background, stdout to out. ARGS has a --count: the
 * monitor ends by itself once it has seen what the test expects (secs, then
 * SIGINT, is only the bound on a test that fails).
 */
static pid_t monitor_bg(const char *args, const char *out, int secs)
{
	char cmd[1024];
	pid_t pid;

	snprintf(cmd, sizeof(cmd), "exec timeout -k 3 -s INT %d %s %s --socket %s >%s 2>>%s/cli.err",
		 secs, MESHMON_CLI_PATH, args, agent.sock_path, out, agent.dir);
	pid = fork();
	cr_assert(ge(int, pid, 0));
	if (!pid) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* The monitor reached its --count and exited 0. */
static void monitor_wait(pid_t pid)
{
	int st, exited, code;

	cr_assert(eq(int, waitpid(pid, &st, 0), pid));
	exited = WIFEXITED(st);
	code = exited ? WEXITSTATUS(st) : -1;
	cr_assert(eq(int, code, 0), "the monitor did not see its count: see %s/cli.err", agent.dir);
}

/* jq -s FILTER on path is true. */
/* Lines of path containing every one of the needles (up to three, NULL-ended). */
static int lines_with(const char *path, const char *a, const char *b, const char *c)
{
	char line[4096];
	FILE *f = fopen(path, "r");
	int n = 0;

	cr_assert(f != NULL);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, a) && (!b || strstr(line, b)) && (!c || strstr(line, c)))
			n++;
	fclose(f);
	return n;
}

/*
 * pcap packets whose bytes hold marker, and the total. The classic format read
 * by hand (24-byte file header, 16-byte record headers, host byte order as
 * meshmon writes it): libpcap's header clashes with libbpf's struct bpf_insn.
 */
static int pcap_with(const char *path, const char *marker, int *total)
{
	unsigned char hdr[24], rec[16], data[65536];
	size_t mlen = strlen(marker);
	uint32_t caplen;
	FILE *f = fopen(path, "rb");
	int n = 0;

	cr_assert(f != NULL);
	cr_assert(eq(sz, fread(hdr, 1, sizeof(hdr), f), sizeof(hdr)));
	cr_assert(eq(u32, *(uint32_t *)hdr, 0xa1b2c3d4u));
	*total = 0;
	while (fread(rec, 1, sizeof(rec), f) == sizeof(rec)) {
		memcpy(&caplen, rec + 8, 4);
		cr_assert(le(u32, caplen, sizeof(data)));
		cr_assert(eq(sz, fread(data, 1, caplen, f), caplen));
		(*total)++;
		for (size_t i = 0; i + mlen <= caplen; i++)
			if (!memcmp(data + i, marker, mlen)) {
				n++;
				break;
			}
	}
	fclose(f);
	return n;
}

#define INSN(c, d, s_, o, i) \
	((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s_), .off = (o), .imm = (i) })

/*
 * Another tool's clsact filter on ifindex's egress that drops every packet
 * (TC_ACT_SHOT). The agent's TCX program runs before it and lets the packet
 * through, so what this one drops is a kernel TC_EGRESS drop that is not
 * meshmon's. Goes with the test's network namespace.
 */
static void foreign_dropper(int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = 1, .priority = 0xf000);
	const struct bpf_insn prog[] = {
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 2), /* TC_ACT_SHOT */
		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
	int pfd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "mmt_dropper", "GPL", prog, 2, NULL);

	cr_assert(ge(int, pfd, 0), "dropper prog: %s", strerror(errno));
	cr_assert(eq(int, bpf_tc_hook_create(&hook), 0));
	opts.prog_fd = pfd;
	cr_assert(eq(int, bpf_tc_attach(&hook, &opts), 0));
}

static void pin_cpu0(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	cr_assert(eq(int, sched_setaffinity(0, sizeof(set), &set), 0));
}

static void send_udp(const char *dst, int port, const char *payload)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	cr_assert(ge(int, fd, 0));
	inet_pton(AF_INET, dst, &sin.sin_addr);
	cr_assert(eq(long, sendto(fd, payload, strlen(payload), 0, (struct sockaddr *)&sin,
				  sizeof(sin)),
		     (long)strlen(payload)),
		  "sendto %s:%d: %s", dst, port, strerror(errno));
	close(fd);
}

#define DENIED	5
#define FOREIGN 3
/* What the monitors must see: each packet once, and the last foreign drop (port 7001). */
#define DROPS_SEEN "9"

Test(cli_kdrops, one_record_per_denied_packet_in_text_json_and_pcap)
{
	const char *extra[] = {"--kernel-drops", "on", "--deny", "proto=udp,dport=9999,dir=egress",
			       "--metrics", "127.0.0.1:19102", NULL};
	char out_json[128], out_text[128], pcap[128], status[160], payload[32], args[512];
	int total;
	pid_t mj, mt;

	cli_agent_start_with(extra);
	/* The dropper also drops ARP: the peer's address is resolved statically. */
	cr_assert(eq(int, mm_test_pair_sh(&pair, "ip link set dev %s address " PEER_MAC, pair.peer_if),
		     0));
	cr_assert(eq(int, mm_test_sh("ip neigh replace 10.199.0.2 lladdr " PEER_MAC
				     " dev %s nud permanent",
				     pair.local_if),
		     0));
	foreign_dropper(pair.local_ifindex);

	snprintf(out_json, sizeof(out_json), "%s/drops.json", agent.dir);
	snprintf(out_text, sizeof(out_text), "%s/drops.txt", agent.dir);
	snprintf(pcap, sizeof(pcap), "%s/drops.pcap", agent.dir);
	snprintf(args, sizeof(args), "monitor -t drop --proto udp -c " DROPS_SEEN " --json --pcap %s",
		 pcap);
	mj = monitor_bg(args, out_json, 15);
	mt = monitor_bg("monitor -t drop --proto udp -c " DROPS_SEEN, out_text, 15);
	usleep(1000 * 1000); /* both subscribed */
	/* One CPU sends, so every drop is on one ring, in sending order: a second
	 * record of a denied packet would come before the last foreign drop. */
	pin_cpu0();
	for (int i = 0; i < DENIED; i++) {
		snprintf(payload, sizeof(payload), "DENYME%02d", i);
		send_udp("10.199.0.2", 9999, payload); /* meshmon's deny rule */
		if (i < FOREIGN) {
			snprintf(payload, sizeof(payload), "FOREIGN%02d", i);
			send_udp("10.199.0.2", 7000, payload); /* the other tc program */
		}
	}
	send_udp("10.199.0.2", 7001, "LAST"); /* the other tc program, last */
	monitor_wait(mj);
	monitor_wait(mt);

	/* JSON: the denied packets once each, as meshmon's drop; the foreign ones as the kernel's. */
	cr_expect(eq(int, mm_test_jq("[.[] | select(.tuple.dport == 9999)] | length == 5", out_json), 0),
		  "one JSON drop per denied packet: see %s", out_json);
	cr_expect(eq(int, mm_test_jq("[.[] | select(.tuple.dport == 9999)] | all(.source == \"datapath\" and "
			     ".reason == \"POLICY_DENIED\")",
			     out_json),
		     0));
	cr_expect(eq(int, mm_test_jq("[.[] | select(.tuple.dport == 7000)] | length == 3 and "
			     "all(.source == \"kernel\" and .reason == \"TC_EGRESS\")",
			     out_json),
		     0),
		  "another program's tc drops stay kernel drops: see %s", out_json);
	cr_expect(eq(int, mm_test_jq("[.[] | select(.tuple.dport == 7001)] | length == 1", out_json), 0),
		  "the last drop seen: nothing was reported twice before it");

	/* Text: the same. */
	cr_expect(eq(int, lines_with(out_text, "xx drop", ":9999 udp", NULL), DENIED), "see %s",
		  out_text);
	cr_expect(eq(int, lines_with(out_text, "xx drop (Policy denied)", ":9999 udp", NULL), DENIED));
	cr_expect(eq(int, lines_with(out_text, "xx drop (TC_EGRESS)", ":7000 udp", NULL), FOREIGN));

	/* pcap: one packet per denied packet (and per foreign drop, captured from Ethernet on). */
	cr_expect(eq(int, pcap_with(pcap, "DENYME", &total), DENIED));
	cr_expect(eq(int, pcap_with(pcap, "FOREIGN", &total), FOREIGN));
	for (int i = 0; i < DENIED; i++) {
		snprintf(payload, sizeof(payload), "DENYME%02d", i);
		cr_expect(eq(int, pcap_with(pcap, payload, &total), 1), "%s once", payload);
	}

	/* Status counts the merged kernel drops (at least the denied packets: ARP is static). */
	snprintf(status, sizeof(status), "%s/status.json", agent.dir);
	snprintf(args, sizeof(args), "timeout 10 %s status --json --socket %s >%s", MESHMON_CLI_PATH,
		 agent.sock_path, status);
	cr_assert(eq(int, system(args), 0));
	cr_expect(eq(int, mm_test_jq(".[0].kernel_drops_merged == 5", status), 0), "see %s", status);
	snprintf(status, sizeof(status), "%s/metrics.txt", agent.dir);
	cr_assert(eq(int, mm_test_sh("curl -sf http://127.0.0.1:19102/metrics > %s", status), 0));
	cr_expect(eq(int, mm_test_sh("grep -q '^meshmon_kernel_drops_merged_total 5$' %s", status), 0),
		  "see %s", status);
}

/* The function holding addr in /proc/kallsyms (the last text symbol at or below it), read here. */
static void kallsyms_function(unsigned long long addr, char *name, size_t len,
			      unsigned long long *start)
{
	char line[512], sym[256], type;
	unsigned long long a, best = 0;
	FILE *f = fopen("/proc/kallsyms", "r");

	cr_assert(f != NULL);
	name[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %255s", &a, &type, sym) != 3)
			continue;
		if (strchr("tTwW", type) && a <= addr && a > best) {
			best = a;
			snprintf(name, len, "%s", sym);
		}
	}
	fclose(f);
	*start = best;
}

/* One value of the first JSON line of path selected by filter, as text. */
static void jq_value(const char *filter, const char *path, char *out, size_t len)
{
	char cmd[1024];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "jq -r -s '%s' %s | head -1", filter, path);
	p = popen(cmd, "r");
	cr_assert(p != NULL);
	out[0] = '\0';
	if (!fgets(out, (int)len, p))
		out[0] = '\0';
	out[strcspn(out, "\n")] = '\0';
	pclose(p);
}

Test(cli_kdrops, udp_to_closed_port_names_the_function)
{
	const char *extra[] = {"--kernel-drops", "on", NULL};
	char out_json[128], out_text[128], symbol[256], addr_text[64], fn[256], want[300], text[320];
	struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons(7777)};
	unsigned long long addr, start;
	int fd;
	pid_t mj, mt;

	cli_agent_start_with(extra);
	snprintf(out_json, sizeof(out_json), "%s/udp.json", agent.dir);
	snprintf(out_text, sizeof(out_text), "%s/udp.txt", agent.dir);
	mj = monitor_bg("monitor -t drop --proto udp --port 7777 -c 1 --json", out_json, 15);
	mt = monitor_bg("monitor -t drop --proto udp --port 7777 -c 1", out_text, 15);
	usleep(1000 * 1000);
	fd = mm_test_pair_socket(&pair, AF_INET, SOCK_DGRAM);
	cr_assert(ge(int, fd, 0));
	inet_pton(AF_INET, "10.199.0.1", &dst.sin_addr); /* nothing listens there */
	cr_assert(eq(long, sendto(fd, "x", 1, 0, (struct sockaddr *)&dst, sizeof(dst)), 1L));
	close(fd);
	monitor_wait(mj);
	monitor_wait(mt);

	jq_value(".[] | select(.tuple.dport == 7777 and .reason == \"NO_SOCKET\") | .location",
		 out_json, symbol, sizeof(symbol));
	jq_value(".[] | select(.tuple.dport == 7777 and .reason == \"NO_SOCKET\") | .location_addr",
		 out_json, addr_text, sizeof(addr_text));
	cr_assert(not(eq(str, addr_text, "")), "no NO_SOCKET drop to port 7777: see %s", out_json);
	cr_assert(eq(int, strncmp(addr_text, "0x", 2), 0));
	addr = strtoull(addr_text, NULL, 16);
	cr_assert(not(eq(u64, addr, 0)));
	/* Looked up independently: the same function, at the same offset. */
	kallsyms_function(addr, fn, sizeof(fn), &start);
	cr_assert(not(eq(str, fn, "")));
	snprintf(want, sizeof(want), "%s+0x%llx", fn, addr - start);
	cr_expect(eq(str, symbol, want), "location of %s", addr_text);
	cr_expect(strstr(fn, "udp") != NULL, "a UDP receive function frees it: %s", fn);
	/* Text shows the symbol instead of the address. */
	snprintf(text, sizeof(text), "location %s:", want);
	cr_expect(eq(int, lines_with(out_text, "xx drop (NO_SOCKET)", text, ":7777 udp"), 1),
		  "want '%s' in %s", text, out_text);
	cr_expect(eq(int, lines_with(out_text, "xx drop (NO_SOCKET)", addr_text, NULL), 0),
		  "without -v no raw address");
}

/*
 * An ICMPv6 echo reply behind a hop-by-hop header, to the host itself: ping_rcv
 * finds no ping socket and frees it (NO_SOCKET). The kernel-drop parser walks
 * the hop-by-hop header to the ICMPv6 header.
 */
Test(cli_kdrops, icmpv6_behind_hop_by_hop_is_proto_58)
{
	const char *extra[] = {"--kernel-drops", "on", NULL};
	/* next header (set by the kernel), length 0 (8 bytes), PadN of 4 bytes */
	const unsigned char hbh[8] = {0, 0, 1, 4, 0, 0, 0, 0};
	struct icmp6_hdr reply = {.icmp6_type = ICMP6_ECHO_REPLY};
	struct sockaddr_in6 dst = {.sin6_family = AF_INET6};
	char out_json[128], out_text[128];
	int fd;
	pid_t mj, mt;

	cli_agent_start_with(extra);
	snprintf(out_json, sizeof(out_json), "%s/icmp6.json", agent.dir);
	snprintf(out_text, sizeof(out_text), "%s/icmp6.txt", agent.dir);
	/* the first ICMPv6 drop from fd00:199::1: ping_rcv's, while sendto() runs */
	mj = monitor_bg("monitor -t drop --proto icmpv6 --from fd00:199::1 -c 1 --json", out_json, 15);
	mt = monitor_bg("monitor -t drop --proto icmpv6 --from fd00:199::1 -c 1", out_text, 15);
	usleep(1000 * 1000);
	fd = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6); /* the kernel sums it */
	cr_assert(ge(int, fd, 0), "%s", strerror(errno));
	cr_assert(eq(int, setsockopt(fd, IPPROTO_IPV6, IPV6_HOPOPTS, hbh, sizeof(hbh)), 0), "%s",
		  strerror(errno));
	reply.icmp6_id = htons(0x4d4d);
	reply.icmp6_seq = htons(1);
	inet_pton(AF_INET6, "fd00:199::1", &dst.sin6_addr);
	cr_assert(eq(long, sendto(fd, &reply, sizeof(reply), 0, (struct sockaddr *)&dst,
				  sizeof(dst)),
		     (long)sizeof(reply)),
		  "%s", strerror(errno));
	close(fd);
	monitor_wait(mj);
	monitor_wait(mt);

	cr_expect(eq(int, mm_test_jq("[.[] | select(.reason == \"NO_SOCKET\" and .tuple.sport == 19789)] "
			     "| length == 1 and all(.source == \"kernel\" and .tuple.src == "
			     "\"fd00:199::1\" and .tuple.proto == \"icmpv6\" and .tuple.proto_num == 58)",
			     out_json),
		     0),
		  "see %s", out_json);
	cr_expect(eq(int, lines_with(out_text, "xx drop (NO_SOCKET)", "fd00:199::1 -> fd00:199::1",
				     "EchoReply"),
		     1),
		  "see %s", out_text);
}
