// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The fixed protocol messages of the CLI tests (see cli_cases.h). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "cli_cases.h"
#include "harness_packet.h"

#define MAX_CASES 64

static struct cli_case cases[MAX_CASES];
static size_t n_cases;

static struct cli_case *new_case(const char *name, uint32_t cpu, uint32_t ifindex,
				 const char *ifname)
{
	struct cli_case *c = &cases[n_cases++];

	memset(c, 0, sizeof(*c));
	c->name = name;
	meshmon__v1__server_message__init(&c->msg);
	meshmon__v1__event__init(&c->ev);
	c->msg.msg_case = MESHMON__V1__SERVER_MESSAGE__MSG_EVENT;
	c->msg.event = &c->ev;
	c->ev.time_ns = CLI_T0 + n_cases * 1000ull;
	c->ev.ktime_ns = 5000000000ull + n_cases;
	c->ev.cpu = cpu;
	c->ev.ifindex = ifindex;
	c->ev.ifname = (char *)(ifname ? ifname : "");
	c->ev.source = MESHMON__V1__SOURCE__SOURCE_TC;
	return c;
}

/* Builds the frame of spec, the tuple and lengths; extra: bytes not captured. */
static void set_packet(struct cli_case *c, const struct mm_test_pkt_spec *spec, uint32_t extra)
{
	size_t n = mm_test_pkt_build(c->pkt, sizeof(c->pkt), spec);
	int af = spec->family == 6 ? AF_INET6 : AF_INET;
	size_t alen = spec->family == 6 ? 16 : 4;

	meshmon__v1__tuple__init(&c->tuple);
	c->ev.tuple = &c->tuple;
	c->ev.captured.data = c->pkt;
	c->ev.captured.len = n;
	c->ev.cap_len = (uint32_t)n;
	c->ev.len = (uint32_t)n + extra;
	c->ev.layer = MESHMON__V1__CAPTURE_LAYER__CAPTURE_LAYER_ETHERNET;
	if (spec->family == 0) {
		c->tuple.ethertype = spec->ethertype;
		return;
	}
	inet_pton(af, spec->src, c->src);
	inet_pton(af, spec->dst, c->dst);
	c->tuple.src.data = c->src;
	c->tuple.src.len = alen;
	c->tuple.dst.data = c->dst;
	c->tuple.dst.len = alen;
	c->tuple.proto = spec->proto;
	c->tuple.ethertype = spec->family == 6 ? 0x86dd : 0x0800;
	if (spec->proto == IPPROTO_ICMP || spec->proto == IPPROTO_ICMPV6) {
		c->tuple.sport = spec->icmp_id;
	} else {
		c->tuple.sport = spec->sport;
		c->tuple.dport = spec->dport;
	}
}

/*
 * The 28 bytes after the Ethernet header as an ARP packet for Ethernet and
 * IPv4: op, the frame's source MAC as the sender's, the target's MAC zero.
 */
static void set_arp(struct cli_case *c, uint16_t op, const char *sender, const char *target)
{
	uint8_t *a = c->pkt + 14;

	memset(a, 0, 28);
	a[1] = 1;    /* hardware type: Ethernet */
	a[2] = 0x08; /* protocol type: IPv4 */
	a[4] = 6;
	a[5] = 4;
	a[7] = (uint8_t)op;
	memcpy(a + 8, c->pkt + 6, 6);
	inet_pton(AF_INET, sender, a + 14);
	inet_pton(AF_INET, target, a + 24);
}

static struct cli_case *trace(const char *name, uint32_t point, uint32_t state,
			      const struct mm_test_pkt_spec *spec)
{
	struct cli_case *c = new_case(name, 1, 4, "veth0");

	c->ev.type = MESHMON__V1__EVENT_TYPE__EVENT_TYPE_TRACE;
	c->ev.flow_id = 0x614e9723u + (uint32_t)n_cases;
	meshmon__v1__trace__init(&c->trace);
	c->ev.detail_case = MESHMON__V1__EVENT__DETAIL_TRACE;
	c->ev.trace = &c->trace;
	c->trace.point = point;
	c->trace.state = state;
	if (spec) {
		set_packet(c, spec, 0);
		c->trace.tcp_flags = spec->tcp_flags;
		c->trace.icmp_type = spec->icmp_type;
		c->trace.icmp_code = spec->icmp_code;
	}
	return c;
}

/* A trace at an endpoint point: source cgroup_skb, the bytes from the network header. */
static struct cli_case *endpoint_trace(const char *name, uint32_t point, uint32_t state,
				       const struct mm_test_pkt_spec *spec)
{
	struct cli_case *c = trace(name, point, state, spec);

	c->ev.source = MESHMON__V1__SOURCE__SOURCE_CGROUP_SKB;
	c->ev.ifindex = 1;
	c->ev.ifname = "lo";
	c->ev.captured.data = c->pkt + 14;
	c->ev.captured.len -= 14;
	c->ev.cap_len -= 14;
	c->ev.len -= 14;
	c->ev.layer = MESHMON__V1__CAPTURE_LAYER__CAPTURE_LAYER_NETWORK;
	c->trace.cgroup_id = 12345;
	c->trace.socket_cookie = 0x2a + (uint64_t)n_cases;
	c->trace.netns = 4026531840u;
	return c;
}

static struct cli_case *probe(const char *name, uint32_t state, uint32_t dir)
{
	static const struct mm_test_pkt_spec tcp = { .family = 4, .proto = IPPROTO_TCP,
		.src = "10.199.0.1", .dst = "10.199.0.2", .sport = 41510, .dport = 8080 };
	struct cli_case *c = new_case(name, 3, 0, NULL);
	int af = AF_INET;

	c->ev.type = MESHMON__V1__EVENT_TYPE__EVENT_TYPE_TCP_PROBE;
	c->ev.source = MESHMON__V1__SOURCE__SOURCE_SOCKOPS;
	meshmon__v1__tuple__init(&c->tuple);
	c->ev.tuple = &c->tuple;
	inet_pton(af, tcp.src, c->src);
	inet_pton(af, tcp.dst, c->dst);
	c->tuple.src.data = dir == MESHMON__V1__PROBE_DIRECTION__PROBE_DIRECTION_INBOUND ? c->dst : c->src;
	c->tuple.dst.data = dir == MESHMON__V1__PROBE_DIRECTION__PROBE_DIRECTION_INBOUND ? c->src : c->dst;
	c->tuple.src.len = c->tuple.dst.len = 4;
	c->tuple.sport = dir == MESHMON__V1__PROBE_DIRECTION__PROBE_DIRECTION_INBOUND ? 8080 : 41510;
	c->tuple.dport = dir == MESHMON__V1__PROBE_DIRECTION__PROBE_DIRECTION_INBOUND ? 41510 : 8080;
	c->tuple.proto = IPPROTO_TCP;
	c->tuple.ethertype = 0x0800;
	meshmon__v1__tcp_probe__init(&c->probe);
	c->ev.detail_case = MESHMON__V1__EVENT__DETAIL_TCP_PROBE;
	c->ev.tcp_probe = &c->probe;
	c->probe.state = state;
	c->probe.direction = dir;
	c->probe.conn_success = 1;
	c->probe.pid = 4242;
	c->probe.comm = "curl";
	c->probe.start_time_ns = CLI_T0 - 1200000000ull;
	c->probe.srtt_us = 350;
	c->probe.min_rtt_us = 120;
	c->probe.snd_cwnd = 10;
	c->probe.cgroup_id = 12345;
	c->probe.netns = 4026531840u;
	c->probe.tcp_state = 1;
	return c;
}

static struct cli_case *verdict(const char *name, uint32_t point, uint32_t verdict,
				uint32_t rule_id, const struct mm_test_pkt_spec *spec)
{
	struct cli_case *c = new_case(name, 0, 4, "veth0");

	c->ev.type = MESHMON__V1__EVENT_TYPE__EVENT_TYPE_POLICY_VERDICT;
	c->ev.flow_id = 0x2b7e1516u + (uint32_t)n_cases;
	set_packet(c, spec, 0);
	/* A verdict carries no packet bytes. */
	c->ev.captured.data = NULL;
	c->ev.captured.len = 0;
	c->ev.cap_len = c->ev.len = 0;
	c->ev.layer = MESHMON__V1__CAPTURE_LAYER__CAPTURE_LAYER_UNSPECIFIED;
	meshmon__v1__policy_verdict__init(&c->verdict);
	c->ev.detail_case = MESHMON__V1__EVENT__DETAIL_POLICY_VERDICT;
	c->ev.policy_verdict = &c->verdict;
	c->verdict.point = point;
	c->verdict.verdict = verdict;
	c->verdict.rule_id = rule_id;
	c->verdict.tcp_flags = spec->tcp_flags;
	return c;
}

/* A trace-sock event: where the socket goes (tuple), what the application asked for (orig). */
static struct cli_case *trace_sock(const char *name, uint32_t source, uint32_t hook,
				   const struct mm_test_pkt_spec *spec, const char *orig,
				   uint32_t orig_dport)
{
	struct cli_case *c = new_case(name, 1, 0, NULL);

	c->ev.type = MESHMON__V1__EVENT_TYPE__EVENT_TYPE_TRACE_SOCK;
	c->ev.source = source;
	set_packet(c, spec, 0);
	/* A socket-side record carries no packet bytes. */
	c->ev.captured.data = NULL;
	c->ev.captured.len = 0;
	c->ev.cap_len = c->ev.len = 0;
	c->ev.layer = MESHMON__V1__CAPTURE_LAYER__CAPTURE_LAYER_UNSPECIFIED;
	meshmon__v1__trace_sock__init(&c->sock);
	c->ev.detail_case = MESHMON__V1__EVENT__DETAIL_TRACE_SOCK;
	c->ev.trace_sock = &c->sock;
	c->sock.hook = hook;
	inet_pton(spec->family == 6 ? AF_INET6 : AF_INET, orig, c->orig);
	c->sock.orig_dst.data = c->orig;
	c->sock.orig_dst.len = spec->family == 6 ? 16 : 4;
	c->sock.orig_dport = orig_dport;
	c->sock.pid = 4242;
	c->sock.comm = "curl";
	c->sock.socket_cookie = 0x2a;
	c->sock.cgroup_id = 12345;
	c->sock.netns = 4026531840u;
	return c;
}

static void lost(const char *name, uint32_t source, uint32_t cpu, uint64_t count)
{
	struct cli_case *c = &cases[n_cases++];

	memset(c, 0, sizeof(*c));
	c->name = name;
	meshmon__v1__server_message__init(&c->msg);
	meshmon__v1__lost_notice__init(&c->lost);
	c->msg.msg_case = MESHMON__V1__SERVER_MESSAGE__MSG_LOST;
	c->msg.lost = &c->lost;
	c->lost.source = source;
	c->lost.cpu = cpu;
	c->lost.count = count;
	c->lost.first_time_ns = CLI_T0 - 2000000000ull;
	c->lost.last_time_ns = CLI_T0 + n_cases * 1000ull;
}

/*
 * One long function on purpose: it is the table of cases, in the order of the
 * golden files, one or two lines a case; split up, the table would no longer
 * read as one.
 */
size_t cli_cases_build(struct cli_case **out)
{
	struct mm_test_pkt_spec s;
	struct cli_case *c;

	n_cases = 0;
#define SPEC(...) (s = (struct mm_test_pkt_spec){ __VA_ARGS__ }, &s)
#define TCP4(fl) SPEC(.family = 4, .proto = IPPROTO_TCP, .src = "10.60.0.182", \
		      .dst = "104.198.14.52", .sport = 41510, .dport = 80, .tcp_flags = (fl))
	/* Trace: every point and state, TCP flag combinations. */
	trace("trace from-network tcp SYN new", 1, 1, TCP4(0x02));
	c = trace("trace to-network tcp SYN,ACK reply", 2, 3,
		  SPEC(.family = 4, .proto = IPPROTO_TCP, .src = "104.198.14.52",
		       .dst = "10.60.0.182", .sport = 80, .dport = 41510, .tcp_flags = 0x12));
	c->trace.folded = 0;
	c = trace("trace from-stack tcp PSH,ACK established folded", 3, 2, TCP4(0x18));
	c->trace.folded = 7;
	trace("trace to-stack tcp FIN,ACK established", 4, 2, TCP4(0x11));
	trace("trace from-network tcp RST", 1, 2, TCP4(0x04));
	trace("trace to-socket tcp all flags related", 7, 4, TCP4(0xff));
	trace("trace from-socket tcp no flags unknown state", 6, 0, TCP4(0x00));
	trace("trace kernel point udp", 5, 1,
	      SPEC(.family = 4, .proto = IPPROTO_UDP, .src = "10.199.0.1", .dst = "10.199.0.2",
		   .sport = 5353, .dport = 53, .payload_len = 12));
	/* ICMP and ICMPv6. */
	trace("trace icmp EchoRequest", 2, 1,
	      SPEC(.family = 4, .proto = IPPROTO_ICMP, .src = "10.11.13.37", .dst = "10.11.101.61",
		   .icmp_type = 8, .icmp_id = 1234, .payload_len = 56));
	trace("trace icmp EchoReply", 1, 3,
	      SPEC(.family = 4, .proto = IPPROTO_ICMP, .src = "10.11.101.61", .dst = "10.11.13.37",
		   .icmp_type = 0, .icmp_id = 1234, .payload_len = 56));
	trace("trace icmp DestinationUnreachable port", 1, 4,
	      SPEC(.family = 4, .proto = IPPROTO_ICMP, .src = "10.199.0.2", .dst = "10.199.0.1",
		   .icmp_type = 3, .icmp_code = 3, .payload_len = 28));
	trace("trace icmp TimeExceeded", 1, 4,
	      SPEC(.family = 4, .proto = IPPROTO_ICMP, .src = "192.0.2.1", .dst = "10.199.0.1",
		   .icmp_type = 11, .payload_len = 28));
	trace("trace icmp unknown type 42", 1, 1,
	      SPEC(.family = 4, .proto = IPPROTO_ICMP, .src = "10.199.0.2", .dst = "10.199.0.1",
		   .icmp_type = 42));
	trace("trace icmpv6 EchoRequest", 2, 1,
	      SPEC(.family = 6, .proto = IPPROTO_ICMPV6, .src = "fd00:199::1", .dst = "fd00:199::2",
		   .icmp_type = 128, .icmp_id = 77, .payload_len = 16));
	trace("trace icmpv6 EchoReply", 1, 3,
	      SPEC(.family = 6, .proto = IPPROTO_ICMPV6, .src = "fd00:199::2", .dst = "fd00:199::1",
		   .icmp_type = 129, .icmp_id = 77, .payload_len = 16));
	trace("trace icmpv6 NeighborSolicitation", 2, 0,
	      SPEC(.family = 6, .proto = IPPROTO_ICMPV6, .src = "fe80::1", .dst = "ff02::1:ff00:2",
		   .icmp_type = 135, .payload_len = 16));
	trace("trace icmpv6 DestinationUnreachable", 1, 4,
	      SPEC(.family = 6, .proto = IPPROTO_ICMPV6, .src = "fd00:199::2", .dst = "fd00:199::1",
		   .icmp_type = 1, .icmp_code = 4, .payload_len = 48));
	/* IPv6 TCP and UDP: brackets and ports. */
	trace("trace ipv6 tcp SYN", 2, 1,
	      SPEC(.family = 6, .proto = IPPROTO_TCP, .src = "fd00::1", .dst = "fd00::2",
		   .sport = 50000, .dport = 80, .tcp_flags = 0x02));
	trace("trace ipv6 udp", 1, 2,
	      SPEC(.family = 6, .proto = IPPROTO_UDP, .src = "2001:db8::10", .dst = "2001:db8::20",
		   .sport = 4789, .dport = 4789, .payload_len = 20));
	/* Other IP protocol, non-IP, parse error, truncated capture. */
	trace("trace ipv4 gre", 1, 1,
	      SPEC(.family = 4, .proto = IPPROTO_GRE, .src = "10.0.0.1", .dst = "10.0.0.2",
		   .payload_len = 8));
	c = trace("trace non-IP arp", 1, 0, SPEC(.family = 0, .ethertype = 0x0806, .payload_len = 28));
	c->trace.parse_error = MESHMON__V1__PARSE_ERROR__PARSE_ERROR_NOT_IP;
	set_arp(c, 1, "10.0.0.1", "10.0.0.2");
	c = trace("trace parse error truncated l4", 1, 0,
		  SPEC(.family = 4, .proto = IPPROTO_TCP, .src = "10.0.0.1", .dst = "10.0.0.2",
		       .sport = 1, .dport = 2, .truncate_to = 14 + 20 + 6));
	c->trace.parse_error = MESHMON__V1__PARSE_ERROR__PARSE_ERROR_TRUNCATED_L4;
	c->tuple.sport = c->tuple.dport = 0;
	c->ev.len = 54;
	c = trace("trace capture shorter than packet", 2, 2,
		  SPEC(.family = 4, .proto = IPPROTO_TCP, .src = "10.60.0.182", .dst = "104.198.14.52",
		       .sport = 41510, .dport = 80, .tcp_flags = 0x18, .payload_len = 1400,
		       .truncate_to = 128));
	c->ev.len = 14 + 20 + 20 + 1400;
	c = trace("trace unknown point and state, no ifname", 99, 9, TCP4(0x10));
	c->ev.ifname = "";
	/* Drops: policy (datapath) and kernel. */
	c = new_case("drop policy denied tcp SYN", 0, 4, "veth0");
	c->ev.type = MESHMON__V1__EVENT_TYPE__EVENT_TYPE_DROP;
	c->ev.flow_id = 0x614e9723u;
	set_packet(c, TCP4(0x02), 0);
	meshmon__v1__drop__init(&c->drop);
	c->ev.detail_case = MESHMON__V1__EVENT__DETAIL_DROP;
	c->ev.drop = &c->drop;
	c->drop.point = 2;
	c->drop.reason_code = 1;
	c->drop.reason = "POLICY_DENIED";
	c->drop.reason_text = "Policy denied";
	c->drop.ext_error = 1;
	c->drop.file = "tc_monitor.bpf.c";
	c->drop.file_id = 1;
	c->drop.line = 123;
	c = new_case("drop policy denied icmpv6 from network", 2, 7, "eth-peer");
	c->ev.type = MESHMON__V1__EVENT_TYPE__EVENT_TYPE_DROP;
	c->ev.flow_id = 0xdeadbeefu;
	set_packet(c, SPEC(.family = 6, .proto = IPPROTO_ICMPV6, .src = "fd00:199::2",
			   .dst = "fd00:199::1", .icmp_type = 128, .icmp_id = 9, .payload_len = 8), 0);
	meshmon__v1__drop__init(&c->drop);
	c->ev.detail_case = MESHMON__V1__EVENT__DETAIL_DROP;
	c->ev.drop = &c->drop;
	c->drop.point = 1;
	c->drop.reason_code = 1;
	c->drop.reason = "POLICY_DENIED";
	c->drop.reason_text = "Policy denied";
	c->drop.ext_error = 3;
	c->drop.file = "deny.bpf.h";
	c->drop.file_id = 2;
	c->drop.line = 57;
	c->drop.folded = 2;
	c = new_case("kernel drop NO_SOCKET udp, transport layer capture", 3, 3, "veth1");
	c->ev.type = MESHMON__V1__EVENT_TYPE__EVENT_TYPE_DROP;
	c->ev.source = MESHMON__V1__SOURCE__SOURCE_KERNEL;
	set_packet(c, SPEC(.family = 4, .proto = IPPROTO_UDP, .src = "10.199.0.1",
			   .dst = "10.199.0.2", .sport = 40000, .dport = 9, .payload_len = 4), 0);
	/* The kernel drop site captured from the UDP header on. */
	c->ev.captured.data = c->pkt + 14 + 20;
	c->ev.captured.len = 8 + 4;
	c->ev.cap_len = 12;
	c->ev.len = 12;
	c->ev.layer = MESHMON__V1__CAPTURE_LAYER__CAPTURE_LAYER_TRANSPORT;
	meshmon__v1__drop__init(&c->drop);
	c->ev.detail_case = MESHMON__V1__EVENT__DETAIL_DROP;
	c->ev.drop = &c->drop;
	c->drop.point = 5;
	c->drop.reason_code = 3;
	c->drop.reason = "NO_SOCKET";
	c->drop.reason_text = "NO_SOCKET";
	c->drop.netns = 4026532845u;
	c->drop.location = 0xffffffff81c2a3b4ull;
	c->drop.symbol = "__udp4_lib_rcv+0x5a4";
	c = new_case("kernel drop unknown reason, no capture", 0, 2, "");
	c->ev.type = MESHMON__V1__EVENT_TYPE__EVENT_TYPE_DROP;
	c->ev.source = MESHMON__V1__SOURCE__SOURCE_KERNEL;
	c->ev.len = 60;
	meshmon__v1__drop__init(&c->drop);
	c->ev.detail_case = MESHMON__V1__EVENT__DETAIL_DROP;
	c->ev.drop = &c->drop;
	c->drop.point = 5;
	c->drop.reason_code = 999;
	/* Debug. */
	c = new_case("debug flow lookup with agent message", 0, 4, "veth0");
	c->ev.type = MESHMON__V1__EVENT_TYPE__EVENT_TYPE_DEBUG;
	meshmon__v1__debug__init(&c->debug);
	c->ev.detail_case = MESHMON__V1__EVENT__DETAIL_DEBUG;
	c->ev.debug = &c->debug;
	c->debug.subtype = 1;
	c->debug.arg1 = 1;
	c->debug.arg2 = 4;
	c->debug.arg3 = 0x614e9723u;
	c->debug.message = "Flow lookup: state=1 ifindex=4 flow=0x614e9723";
	c = new_case("debug rule match formatted locally", 1, 0, NULL);
	c->ev.type = MESHMON__V1__EVENT_TYPE__EVENT_TYPE_DEBUG;
	meshmon__v1__debug__init(&c->debug);
	c->ev.detail_case = MESHMON__V1__EVENT__DETAIL_DEBUG;
	c->ev.debug = &c->debug;
	c->debug.subtype = 3;
	c->debug.arg1 = 7;
	c->debug.arg2 = 6;
	c->debug.arg3 = 8080;
	/* Capture: no tuple, dissected from the bytes. */
	c = new_case("capture from-network", 1, 4, "veth0");
	c->ev.type = MESHMON__V1__EVENT_TYPE__EVENT_TYPE_CAPTURE;
	c->ev.flow_id = 0x1234u;
	set_packet(c, SPEC(.family = 4, .proto = IPPROTO_UDP, .src = "10.199.0.2",
			   .dst = "10.199.0.1", .sport = 53, .dport = 5353, .payload_len = 30), 0);
	c->ev.tuple = NULL;
	meshmon__v1__capture__init(&c->capture);
	c->ev.detail_case = MESHMON__V1__EVENT__DETAIL_CAPTURE;
	c->ev.capture = &c->capture;
	c->capture.point = 1;
	/* tcp_probe. */
	c = probe("tcp_probe open outbound", 1, 1);
	c->probe.segs_out = 2;
	c->probe.segs_in = 1;
	c->probe.duration_ns = 350000;
	c = probe("tcp_probe periodic inbound", 2, 2);
	c->probe.bytes_sent = 123456789ull;
	c->probe.bytes_received = 5000000000ull;
	c->probe.segs_in = 4000000;
	c->probe.segs_out = 3900000;
	c->probe.total_retrans = 12;
	c->probe.srtt_us = 1250;
	c->probe.min_rtt_us = 980;
	c->probe.duration_ns = 65000000000ull;
	c->probe.comm = "nginx: worker";
	c = probe("tcp_probe closed outbound", 3, 1);
	c->probe.bytes_sent = 517;
	c->probe.bytes_received = 3245;
	c->probe.segs_in = 12;
	c->probe.segs_out = 10;
	c->probe.data_segs_in = 4;
	c->probe.data_segs_out = 2;
	c->probe.delivered = 9;
	c->probe.duration_ns = 1234567890ull;
	c->probe.tcp_state = 7;
	c = probe("tcp_probe closed connect failed, odd comm", 3, 1);
	c->probe.conn_success = 0;
	c->probe.duration_ns = 3000000000ull;
	c->probe.comm = "we\"ird\\na\tme\x01";
	c->probe.srtt_us = 0;
	c->probe.min_rtt_us = 0;
	c->probe.tcp_state = 13; /* not in MM_TCP_STATES: printed as its number */
	c = probe("tcp_probe preexisting long-lived", 2, 2);
	c->probe.tcp_state = 8; /* CLOSE_WAIT */
	c->probe.preexisting = 1;
	c->probe.pid = 0;
	c->probe.comm = "";
	c->probe.start_time_ns = 0;
	c->probe.duration_ns = 7300000000000ull;
	c->probe.bytes_sent = 1;
	/* Policy verdicts: allowed by default, denied by a rule, folded. */
	verdict("policy-verdict egress allow tcp SYN", 2, 1, 0, TCP4(0x02));
	verdict("policy-verdict ingress deny rule udp", 1, 2, 20,
		SPEC(.family = 4, .proto = IPPROTO_UDP, .src = "10.199.0.2", .dst = "10.199.0.1",
		     .sport = 5353, .dport = 53, .payload_len = 12));
	c = verdict("policy-verdict ingress deny ipv6 folded", 1, 2, 10,
		    SPEC(.family = 6, .proto = IPPROTO_TCP, .src = "fd00:1::1", .dst = "fd00:2::2",
			 .sport = 40000, .dport = 443, .tcp_flags = 0x02));
	c->verdict.folded = 3;
	/* Added after the verdicts, so that the cases above keep their times and flow ids. */
	c = probe("tcp_probe open outbound through a socket LB", 1, 1);
	inet_pton(AF_INET, "10.96.0.10", c->orig);
	c->probe.orig_dst.data = c->orig;
	c->probe.orig_dst.len = 4;
	c->probe.orig_dport = 80;
	c->probe.socket_cookie = 0x2a;
	c->probe.duration_ns = 350000;
	/* Socket-layer translations (socket LB). */
	trace_sock("trace-sock connect tcp", MESHMON__V1__SOURCE__SOURCE_SOCKOPS, 1,
		   SPEC(.family = 4, .proto = IPPROTO_TCP, .src = "10.199.0.1", .dst = "10.199.0.2",
			.sport = 41510, .dport = 8080),
		   "10.96.0.10", 80);
	c = trace_sock("trace-sock sendmsg udp ipv6", MESHMON__V1__SOURCE__SOURCE_CGROUP_SKB, 2,
		       SPEC(.family = 6, .proto = IPPROTO_UDP, .src = "fd00:199::1",
			    .dst = "fd00:199::2", .sport = 5353, .dport = 53),
		       "fd00:96::a", 53);
	c->sock.comm = "dig";
	c->sock.socket_cookie = 0x1f00;
	/* Lost notices of every source. */
	/* Endpoint traces (cgroup_skb): the owner, bytes from the IP header, on lo (after
	 * the other events: the earlier cases keep their times and ids). */
	c = endpoint_trace("trace to-endpoint tcp SYN, owner known", 8, 1,
			   SPEC(.family = 4, .proto = IPPROTO_TCP, .src = "127.0.0.1",
				.dst = "127.0.0.1", .sport = 41510, .dport = 8080, .tcp_flags = 0x02));
	c->trace.pid = 4242;
	c->trace.comm = "curl";
	c = endpoint_trace("trace from-endpoint udp, owner unknown", 9, 3,
			   SPEC(.family = 6, .proto = IPPROTO_UDP, .src = "fd00::1", .dst = "fd00::2",
				.sport = 5353, .dport = 53, .payload_len = 12));
	c->trace.comm = "";
	lost("lost ring cpu 2", MESHMON__V1__LOSS_SOURCE__LOSS_SOURCE_RING, 2, 1234);
	lost("lost queue", MESHMON__V1__LOSS_SOURCE__LOSS_SOURCE_QUEUE, 0xffffffffu, 56);
	lost("lost datapath cpu 0", MESHMON__V1__LOSS_SOURCE__LOSS_SOURCE_DATAPATH, 0, 7);
	lost("lost rate limit", MESHMON__V1__LOSS_SOURCE__LOSS_SOURCE_RATE_LIMIT, 0xffffffffu, 1000);
#undef SPEC
#undef TCP4
	*out = cases;
	return n_cases;
}
