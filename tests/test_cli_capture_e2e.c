// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * `meshmon capture` end to end: the real CLI against the real agent on a
 * veth pair, real traffic, the pcap read back by tshark. A capture of one TCP
 * flow with a 1,500-byte snap length while other flows run holds exactly that
 * flow's packets, whole (the payload is what was sent); -c ends a capture by
 * itself; two captures at once with different filters each get their own.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli_agent.h"
#include "harness.h"
#include "harness_agent.h"

#ifndef MESHMON_CLI_PATH
#error "MESHMON_CLI_PATH must name the built meshmon"
#endif

#define PEER "10.199.0.2"

static void setup(void)
{
	cli_agent_prepare("cli-capture");
	/*
	 * One segment per skb, as on the wire (no GSO super-packets), and frames
	 * of at most 1,414 bytes: each fits the 1,500-byte snap length whole.
	 */
	cr_assert(eq(int, mm_test_sh("ip link set %s mtu 1400 gso_max_segs 1", pair.local_if), 0));
	cli_agent_start();
}

TestSuite(cli_capture_e2e, .init = setup, .fini = cli_agent_teardown, .timeout = 120);

/*
 * Starts `meshmon capture ARGS -w DIR/NAME.pcap` in the background, its
 * stderr in DIR/NAME.err, and waits for the agent to have started it (the
 * "Capturing" note). Returns its pid.
 */
static pid_t start_capture(const char *name, const char *args)
{
	char cmd[2048], pidfile[600];
	FILE *f;
	int pid = 0;

	snprintf(pidfile, sizeof(pidfile), "%s/%s.pid", agent.dir, name);
	/*
	 * No LeakSanitizer check at this capture's exit (ASAN_OPTIONS of the ASan
	 * build; the plain build ignores it): under load its stop-the-world
	 * tracer was seen to vanish, leaving the exiting capture spinning in the
	 * sanitizer until the test timed out. test_cli_client runs meshmon
	 * capture through its whole life with the leak check on.
	 */
	snprintf(cmd, sizeof(cmd),
		 "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 "
		 "timeout 60 %s capture %s -w %s/%s.pcap --socket %s 2>%s/%s.err & echo $! > %s",
		 MESHMON_CLI_PATH, args, agent.dir, name, agent.sock_path, agent.dir, name, pidfile);
	cr_assert(eq(int, system(cmd), 0));
	f = fopen(pidfile, "r");
	cr_assert(f != NULL);
	cr_assert(eq(int, fscanf(f, "%d", &pid), 1));
	fclose(f);
	cr_assert(eq(int,
		     mm_test_sh("for i in $(seq 300); do grep -q '^Capturing with rule' %s/%s.err && exit 0; "
				"sleep 0.05; done; cat %s/%s.err >&2; exit 1",
				agent.dir, name, agent.dir, name),
		     0), "the capture %s did not start", name);
	return pid;
}

/* Waits until tshark finds at least n packets matching filter in NAME.pcap (10 s at most). */
static void wait_packets(const char *name, const char *filter, int n)
{
	cr_assert(eq(int,
		     mm_test_sh("for i in $(seq 200); do "
				"[ $(tshark -r %s/%s.pcap -Y '%s' 2>/dev/null | wc -l) -ge %d ] && exit 0; "
				"sleep 0.05; done; exit 1",
				agent.dir, name, filter, n),
		     0), "%s: fewer than %d packets matching %s", name, n, filter);
}

/* Ctrl-C to the capture (the `timeout` wrapper forwards it); waits for it to be gone. */
static void end_capture(pid_t pid)
{
	cr_assert(eq(int, kill(pid, SIGINT), 0));
	/* not our child (the shell's, reaped by init): gone when kill finds nothing */
	while (kill(pid, 0) == 0)
		usleep(20000);
}

/* The number of packets in NAME.pcap that match filter, as tshark reads them. */
static int count_packets(const char *name, const char *filter)
{
	char cmd[600], buf[32] = "";
	FILE *p;

	snprintf(cmd, sizeof(cmd), "tshark -r %s/%s.pcap %s%s%s 2>/dev/null | wc -l", agent.dir,
		 name, *filter ? "-Y '" : "", filter, *filter ? "'" : "");
	p = popen(cmd, "r");
	cr_assert(p != NULL);
	cr_assert(fgets(buf, sizeof(buf), p) != NULL);
	cr_assert(eq(int, pclose(p), 0));
	return atoi(buf);
}

/* Listeners on the peer for ports (space-separated), data to the first. */
static void listen_on_peer(const char *ports)
{
	cr_assert(eq(int,
		     mm_test_pair_sh(&pair, "for p in %s; do (timeout 20 nc -l $p >/dev/null &); done",
				     ports),
		     0));
	/* until the peer listens on every port */
	cr_assert(eq(int,
		     mm_test_pair_sh(&pair, "for i in $(seq 200); do n=0; for p in %s; do "
					    "ss -Hltn sport = :$p | grep -q . || n=1; done; "
					    "[ $n = 0 ] && exit 0; sleep 0.05; done; exit 1",
				     ports),
		     0));
}

Test(cli_capture_e2e, one_flow_whole_while_others_run)
{
	pid_t pid;

	cr_assert(eq(int, mm_test_sh("seq 1 3889 > %s/flow.txt", agent.dir), 0));
	pid = start_capture("one", "--related-to " PEER ":7001 --proto tcp -s 1500");
	listen_on_peer("7001 7002");
	/* 20,000 bytes to 7001, the same to 7002 and pings meanwhile */
	cr_assert(eq(int,
		     mm_test_sh("ping -c 3 -i 0.1 -q " PEER " >/dev/null & "
				"nc -N -w 5 " PEER " 7002 < %s/flow.txt & "
				"nc -N -w 5 " PEER " 7001 < %s/flow.txt; wait",
				agent.dir, agent.dir),
		     0));
	/* the flow is over once both FINs and the last ACK are in */
	wait_packets("one", "tcp.flags.fin == 1", 2);
	end_capture(pid);
	cr_assert(eq(int, mm_test_sh("grep -q 'capture ended: interrupted' %s/one.err", agent.dir),
		     0));

	/* that flow's packets, and nothing else: no 7002, no ICMP */
	cr_expect(gt(int, count_packets("one", ""), 10));
	cr_expect(eq(int, count_packets("one", "!(tcp.port == 7001)"), 0));
	cr_expect(eq(int, count_packets("one", "tcp.port == 7001 && tcp.flags.syn == 1"), 2));
	/* whole: no frame cut by the snap length */
	cr_expect(eq(int, count_packets("one", "frame.cap_len < frame.len"), 0));
	/* every packet the CLI counted is in the file */
	cr_assert(eq(int,
		     mm_test_sh("grep -qx \"$(tshark -r %s/one.pcap 2>/dev/null | wc -l) packets captured\" %s/one.err",
				agent.dir, agent.dir),
		     0));
	/* the payload toward 7001, in the file's order, is the file that was sent */
	cr_assert(eq(int,
		     mm_test_sh("tshark -r %s/one.pcap -Y 'tcp.dstport == 7001 && tcp.len > 0' "
				"-T fields -e tcp.payload 2>/dev/null | tr -d ':\\n' > %s/got.hex && "
				"od -An -tx1 -v %s/flow.txt | tr -d ' \\n' > %s/sent.hex && "
				"cmp %s/got.hex %s/sent.hex",
				agent.dir, agent.dir, agent.dir, agent.dir, agent.dir, agent.dir),
		     0), "the captured payload differs from what was sent");
}

Test(cli_capture_e2e, count_ends_the_capture)
{
	char cmd[1024];
	int st;

	/* pings in the background until the capture has its 4 packets */
	cr_assert(eq(int, mm_test_sh("(ping -c 40 -i 0.1 -q " PEER " >/dev/null 2>&1 &)"), 0));
	snprintf(cmd, sizeof(cmd),
		 "timeout 30 %s capture --related-to " PEER " --proto icmp -c 4 -w %s/count.pcap "
		 "--socket %s 2>%s/count.err",
		 MESHMON_CLI_PATH, agent.dir, agent.sock_path, agent.dir);
	st = system(cmd);
	{
		int exited = WIFEXITED(st), code = WEXITSTATUS(st);

		cr_assert(exited);
		cr_assert(eq(int, code, 0), "see %s/count.err", agent.dir);
	}
	cr_expect(eq(int, count_packets("count", ""), 4));
	cr_expect(eq(int, count_packets("count", "icmp"), 4));
	cr_expect(eq(int,
		     mm_test_sh("grep -qx '4 packets captured' %s/count.err && "
				"grep -qx 'capture ended: packet budget spent' %s/count.err",
				agent.dir, agent.dir),
		     0));
}

Test(cli_capture_e2e, two_captures_each_get_their_own)
{
	pid_t tcp, icmp;

	tcp = start_capture("tcp", "--related-to " PEER ":7001 -s 1500");
	icmp = start_capture("icmp", "--proto icmp --direction egress");
	listen_on_peer("7001");
	cr_assert(eq(int,
		     mm_test_sh("ping -c 5 -i 0.1 -q " PEER " >/dev/null & "
				"echo hello | nc -N -w 5 " PEER " 7001; wait"),
		     0));
	wait_packets("tcp", "tcp.flags.fin == 1", 2);
	wait_packets("icmp", "icmp", 5);
	end_capture(tcp);
	end_capture(icmp);

	cr_expect(gt(int, count_packets("tcp", ""), 4));
	cr_expect(eq(int, count_packets("tcp", "!(tcp.port == 7001)"), 0));
	/* egress only: the 5 requests, not the replies */
	cr_expect(eq(int, count_packets("icmp", ""), 5));
	cr_expect(eq(int, count_packets("icmp", "icmp.type == 8"), 5));
}
