// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * `meshmon` against the real meshmon-agent on a private network namespace
 * pair (tests/harness): filters reach the agent (only ICMP comes back while
 * TCP and UDP flow too), the JSON lines parse and carry the documented keys,
 * and the --pcap file read by libpcap holds the same packets as the trace
 * records printed beside it; --node-name reaches JSON lines, text lines
 * with --print-node-name, and status.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli_agent.h"
#include "harness.h"
#include "harness_agent.h"

#ifndef MESHMON_AGENT_PATH
#error "MESHMON_AGENT_PATH must name the built meshmon-agent"
#endif
#ifndef MESHMON_CLI_PATH
#error "MESHMON_CLI_PATH must name the built meshmon"
#endif

static void setup(void)
{
	cli_agent_setup("cli-e2e");
}

TestSuite(cli_e2e, .init = setup, .fini = cli_agent_teardown, .timeout = 120);

/* Mixed traffic in the background, after the monitor has subscribed. */
static void traffic(void)
{
	cr_assert(eq(int, mm_test_sh("(sleep 0.7; for i in 1 2 3; do nc -z -w1 10.199.0.2 80; "
				     "echo x | nc -u -w0 10.199.0.2 9; ping -c 2 -i 0.1 -W 1 10.199.0.2; done) "
				     ">/dev/null 2>&1 &"),
		     0));
}

Test(cli_e2e, json_count_and_proto_filter)
{
	char out[128];

	snprintf(out, sizeof(out), "%s/out.json", agent.dir);
	traffic();
	cr_assert(eq(int, mm_test_agent_cli(&agent, MESHMON_CLI_PATH, "monitor --json -c 8 --proto icmp", out), 0), "see %s/cli.err",
		  agent.dir);
	/* Exactly 8 lines, every one an ICMP trace of the pair with the documented keys. */
	cr_assert(eq(int, mm_test_jq("length == 8", out), 0));
	cr_assert(eq(int, mm_test_jq("all(.tuple.proto == \"icmp\")", out), 0));
	cr_assert(eq(int, mm_test_jq("all(.type == \"trace\" and has(\"time\") and has(\"cpu\") and has(\"ifindex\") and has(\"ifname\") and has(\"len\") and has(\"cap_len\") and has(\"point\") and has(\"state\") and (.tcp_flags | type == \"array\"))", out), 0));
	cr_assert(eq(int, mm_test_jq("all(.tuple.src == \"10.199.0.1\" or .tuple.src == \"10.199.0.2\")", out), 0));
	cr_assert(eq(int, mm_test_jq("any(.icmp_name == \"EchoRequest\") and any(.icmp_name == \"EchoReply\")", out), 0));
}

Test(cli_e2e, tcp_filter_sees_no_icmp)
{
	char out[128];

	snprintf(out, sizeof(out), "%s/out.json", agent.dir);
	traffic();
	/* Three connection attempts to a closed port: three SYNs towards it. */
	cr_assert(eq(int, mm_test_agent_cli(&agent, MESHMON_CLI_PATH, "monitor --json -c 3 --proto tcp --to 10.199.0.2:80", out), 0),
		  "see %s/cli.err", agent.dir);
	cr_assert(eq(int, mm_test_jq("length == 3 and all(.tuple.proto == \"tcp\" and .tuple.dst == \"10.199.0.2\" and .tuple.dport == 80 and .tcp_flags == [\"SYN\"])", out), 0));
	/* Either side: the RST replies come too. */
	traffic();
	cr_assert(eq(int, mm_test_agent_cli(&agent, MESHMON_CLI_PATH, "monitor --json -c 6 --proto tcp --related-to 10.199.0.2:80", out), 0),
		  "see %s/cli.err", agent.dir);
	cr_assert(eq(int, mm_test_jq("length == 6 and all(.tuple.proto == \"tcp\") and any(.tcp_flags == [\"SYN\"]) and any(.tcp_flags | index(\"RST\") != null)", out), 0));
}

Test(cli_e2e, text_lines)
{
	char out[128], cmd[1024];

	snprintf(out, sizeof(out), "%s/out.txt", agent.dir);
	traffic();
	cr_assert(eq(int, mm_test_agent_cli(&agent, MESHMON_CLI_PATH, "monitor -c 3 -t trace:to-network --proto icmp", out), 0));
	/* stdout holds the 3 events and nothing else; the header is on stderr (as Cilium's). */
	snprintf(cmd, sizeof(cmd),
		 "test $(wc -l < %s) = 3 && "
		 "test $(grep -c '^-> network flow 0x[0-9a-f]* state [a-z]* ifindex [0-9]* (%s): 10.199.0.1 -> 10.199.0.2 EchoRequest$' %s) = 3",
		 out, pair.local_if, out);
	cr_assert(eq(int, system(cmd), 0), "unexpected text in %s", out);
	snprintf(cmd, sizeof(cmd),
		 "test \"$(cat %s/cli.err)\" = \"$(grep -x 'Listening for events on [0-9]* CPUs with 64 pages of [0-9]* bytes per CPU' %s/cli.err)\" && "
		 "test $(wc -l < %s/cli.err) = 1",
		 agent.dir, agent.dir, agent.dir);
	cr_assert(eq(int, system(cmd), 0), "stderr is not the one header line: see %s/cli.err", agent.dir);
}

Test(cli_e2e, pcap_matches_trace_records)
{
	char out[128], pcap_path[128], errbuf[PCAP_ERRBUF_SIZE], args[256], line[4096];
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *rd;
	FILE *f;
	int n = 0;

	snprintf(out, sizeof(out), "%s/out.json", agent.dir);
	snprintf(pcap_path, sizeof(pcap_path), "%s/out.pcap", agent.dir);
	snprintf(args, sizeof(args), "monitor --json -c 6 --proto icmp --pcap %s", pcap_path);
	traffic();
	cr_assert(eq(int, mm_test_agent_cli(&agent, MESHMON_CLI_PATH, args, out), 0), "see %s/cli.err", agent.dir);
	rd = pcap_open_offline(pcap_path, errbuf);
	cr_assert(rd != NULL, "%s", errbuf);
	cr_assert(eq(int, pcap_datalink(rd), DLT_EN10MB));
	cr_assert(eq(int, pcap_snapshot(rd), 128));
	f = fopen(out, "r");
	cr_assert(f != NULL);
	while (pcap_next_ex(rd, &h, &data) == 1) {
		char want[256], ts[64];
		struct tm tm;
		time_t sec = h->ts.tv_sec;

		cr_assert(fgets(line, sizeof(line), f) != NULL, "more packets than trace records");
		n++;
		/* Same time (to the microsecond), lengths, and an ICMP packet of the pair. */
		gmtime_r(&sec, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(want, sizeof(want), "\"time\":\"%s.%06ld", ts, (long)h->ts.tv_usec);
		cr_assert(strstr(line, "\"time\":\"") != NULL, "%s", line);
		cr_assert(eq(int, strncmp(strstr(line, "\"time\":\""), want, strlen(want)), 0), "%s vs %s",
			  line, want);
		snprintf(want, sizeof(want), "\"len\":%u,\"cap_len\":%u,", h->len, h->caplen);
		cr_assert(strstr(line, want) != NULL, "%s lacks %s", line, want);
		cr_assert(ge(u32, h->caplen, 14 + 20 + 8));
		cr_assert(eq(int, data[12], 0x08));
		cr_assert(eq(int, data[13], 0x00));
		cr_assert(eq(int, data[14 + 9], 1)); /* IPPROTO_ICMP */
	}
	cr_assert(fgets(line, sizeof(line), f) == NULL, "more trace records than packets");
	fclose(f);
	pcap_close(rd);
	cr_assert(eq(int, n, 6));
}

Test(cli_e2e, status)
{
	char out[128], cmd[1024];

	snprintf(out, sizeof(out), "%s/status.json", agent.dir);
	cr_assert(eq(int, mm_test_agent_cli(&agent, MESHMON_CLI_PATH, "status --json", out), 0));
	cr_assert(eq(int, mm_test_jq(".[0] | .protocol_version == 1 and .capture_len == 128 and (.interfaces | length == 1) and (.lost | type == \"array\")", out), 0));
	snprintf(cmd, sizeof(cmd), "grep -q '\"interfaces\":\\[\"%s\"\\]' %s", pair.local_if, out);
	cr_assert(eq(int, system(cmd), 0));
}

/* The MAC address of ifname, in the caller's namespace or (peer) the pair's other one. */
static void mac_of(const char *ifname, bool peer, char *mac, size_t cap)
{
	char path[160], cmd[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.mac", agent.dir, ifname);
	snprintf(cmd, sizeof(cmd), "ip -br link show dev %s | awk '{print $3}' >%s", ifname, path);
	if (peer)
		cr_assert(eq(int, mm_test_pair_sh(&pair, "%s", cmd), 0));
	else
		cr_assert(eq(int, mm_test_sh("%s", cmd), 0));
	f = fopen(path, "r");
	cr_assert(f != NULL);
	cr_assert(fgets(mac, (int)cap, f) != NULL);
	fclose(f);
	mac[strcspn(mac, "\n")] = '\0';
	cr_assert(eq(sz, strlen(mac), 17), "no MAC for %s: '%s'", ifname, mac);
}

/*
 * `meshmon monitor ARGS` while the kernel resolves the peer's address again:
 * the neighbour entry flushed, then one ping, so a real ARP request leaves
 * and its reply comes back through the agent's interface. Returns the CLI's
 * exit status (Ctrl-C once the exchange is over: 0).
 */
static int run_cli_during_arp(const char *args, const char *out_path)
{
	char cmd[2048];
	int st;

	snprintf(cmd, sizeof(cmd),
		 "%s %s --socket %s >%s 2>%s/cli.err & pid=$!; "
		 "for i in $(seq 100); do grep -q '^Listening\\|\"error\"' %s/cli.err %s && break; sleep 0.05; done; "
		 "sleep 0.3; ip neigh flush dev %s; ping -c 1 -W 2 10.199.0.2 >/dev/null 2>&1; "
		 "sleep 0.5; kill -INT $pid; wait $pid",
		 MESHMON_CLI_PATH, args, agent.sock_path, out_path, agent.dir, agent.dir, out_path,
		 pair.local_if);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#define RFC3339_NS "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{9}Z"

/* Real ARP, captured by the agent, printed as ARP in tcpdump's words; --time on every line. */
Test(cli_e2e, arp_text_lines_with_time)
{
	char out[128], cmd[2048], local_mac[32], peer_mac[32];

	mac_of(pair.peer_if, true, peer_mac, sizeof(peer_mac));
	mac_of(pair.local_if, false, local_mac, sizeof(local_mac));
	snprintf(out, sizeof(out), "%s/arp.txt", agent.dir);
	cr_assert(eq(int, run_cli_during_arp("monitor -t trace --time", out), 0), "see %s/cli.err",
		  agent.dir);
	snprintf(cmd, sizeof(cmd),
		 "grep -qE '^" RFC3339_NS " -> network flow 0x[0-9a-f]+ state [a-z]+ ifindex %d \\(%s\\): ARP who-has 10\\.199\\.0\\.2 tell 10\\.199\\.0\\.1$' %s",
		 pair.local_ifindex, pair.local_if, out);
	cr_assert(eq(int, system(cmd), 0), "no ARP request line in %s", out);
	snprintf(cmd, sizeof(cmd),
		 "grep -qE '^" RFC3339_NS " <- network flow 0x[0-9a-f]+ state [a-z]+ ifindex %d \\(%s\\): ARP reply 10\\.199\\.0\\.2 is-at %s$' %s",
		 pair.local_ifindex, pair.local_if, peer_mac, out);
	cr_assert(eq(int, system(cmd), 0), "no ARP reply line (is-at %s) in %s", peer_mac, out);
	/* Every line has the time; nothing reads as an error; stdout has no header. */
	snprintf(cmd, sizeof(cmd),
		 "test $(grep -cvE '^" RFC3339_NS " ' %s) = 0 && ! grep -q 'parse error\\|Listening' %s",
		 out, out);
	cr_assert(eq(int, system(cmd), 0), "a line without its time, or a parse error, in %s", out);
}

/* The same exchange as JSON: the arp object with both sides' addresses. */
Test(cli_e2e, arp_json_object)
{
	char out[128], filter[640], local_mac[32], peer_mac[32];

	mac_of(pair.peer_if, true, peer_mac, sizeof(peer_mac));
	mac_of(pair.local_if, false, local_mac, sizeof(local_mac));
	snprintf(out, sizeof(out), "%s/arp.json", agent.dir);
	cr_assert(eq(int, run_cli_during_arp("monitor --json -t trace", out), 0), "see %s/cli.err",
		  agent.dir);
	snprintf(filter, sizeof(filter),
		 "any(.point == \"to-network\" and .tuple.ethertype == 2054 and .tuple.proto == null and "
		 ".arp == {\"op\":\"request\",\"op_code\":1,\"sender_mac\":\"%s\",\"sender_ip\":\"10.199.0.1\",\"target_mac\":\"00:00:00:00:00:00\",\"target_ip\":\"10.199.0.2\"})",
		 local_mac);
	cr_assert(eq(int, mm_test_jq(filter, out), 0), "no ARP request object in %s", out);
	snprintf(filter, sizeof(filter),
		 "any(.point == \"from-network\" and .parse_error == \"not IP\" and "
		 ".arp == {\"op\":\"reply\",\"op_code\":2,\"sender_mac\":\"%s\",\"sender_ip\":\"10.199.0.2\",\"target_mac\":\"%s\",\"target_ip\":\"10.199.0.1\"})",
		 peer_mac, local_mac);
	cr_assert(eq(int, mm_test_jq(filter, out), 0), "no ARP reply object in %s", out);
	/* Only ARP frames carry one. */
	cr_assert(eq(int, mm_test_jq("all(has(\"arp\") == (.tuple.ethertype == 2054))", out), 0), "%s", out);
}

/* --node-name reaches every JSON line, the text lines with --print-node-name, and status. */
Test(cli_e2e, node_name_everywhere)
{
	const char *extra[] = {"--node-name", "e2e-node.example", NULL};
	char out[128], cmd[1024];

	cr_assert(eq(int, mm_test_agent_stop(&agent, 5000), 0));
	cli_agent_start_with(extra);
	snprintf(out, sizeof(out), "%s/out.json", agent.dir);
	traffic();
	cr_assert(eq(int, mm_test_agent_cli(&agent, MESHMON_CLI_PATH, "monitor --json -c 4 --proto icmp", out), 0), "see %s/cli.err",
		  agent.dir);
	cr_expect(eq(int, mm_test_jq("length == 4 and all(.node == \"e2e-node.example\")", out), 0),
		  "see %s", out);
	snprintf(out, sizeof(out), "%s/out.txt", agent.dir);
	traffic();
	cr_assert(eq(int, mm_test_agent_cli(&agent, MESHMON_CLI_PATH, "monitor -c 3 --print-node-name --proto icmp", out), 0));
	snprintf(cmd, sizeof(cmd),
		 "test $(wc -l < %s) = 3 && test $(grep -c '^\\[e2e-node\\.example\\] [<-]' %s) = 3 && "
		 "grep -qx '\\[e2e-node\\.example\\] Listening for events on .*' %s/cli.err",
		 out, out, agent.dir);
	cr_expect(eq(int, system(cmd), 0), "see %s and %s/cli.err", out, agent.dir);
	snprintf(out, sizeof(out), "%s/status.json", agent.dir);
	cr_assert(eq(int, mm_test_agent_cli(&agent, MESHMON_CLI_PATH, "status --json", out), 0));
	cr_expect(eq(int, mm_test_jq(".[0].node == \"e2e-node.example\"", out), 0), "see %s", out);
	snprintf(out, sizeof(out), "%s/status.txt", agent.dir);
	cr_assert(eq(int, mm_test_agent_cli(&agent, MESHMON_CLI_PATH, "status", out), 0));
	snprintf(cmd, sizeof(cmd), "grep -qx 'Node: *e2e-node.example' %s", out);
	cr_expect(eq(int, system(cmd), 0), "see %s", out);
}
