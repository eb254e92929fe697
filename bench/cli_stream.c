// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The recorded stream of meshmon-cli-bench (see cli_stream.h).
 *
 * The generator fills the same protobuf structs as the agent's decoder
 * (agent/decode.c: names and reasons as the agent copies them, "" for an
 * absent string, the captured bytes with their layer) from a fixed-seed PRNG,
 * so every run plays the same bytes. The mix, per mille of the frames:
 *
 *   trace 560: a pool of 512 flows (80% IPv4, 20% IPv6; 75% TCP, 20% UDP,
 *              5% ICMP), 8 interfaces, every packet >= 128 bytes so 128 are
 *              captured (the agent's default capture length), mostly
 *              established TCP with ACK or PSH,ACK; 5 of them ARP (not IP);
 *   drop 150:  80 datapath (policy denied, file and line, rule id), 70 kernel
 *              (kfree_skb reasons by name, netns, location; 128 bytes captured
 *              from the IP or the transport header);
 *   tcp_probe 150: open, periodic and closed reports of the TCP flows, with
 *              process names, counters, RTTs and durations;
 *   debug 100: the agent's formatted messages (1 in 10 left to the client);
 *   capture 39: no tuple, 128 bytes captured;
 *   lost 1:    ring, queue and rate limit notices.
 *
 * Times are those of 4 CPUs whose rings the agent drains in batches: each
 * CPU's clock advances 2-38 us per event (200,000 events/s in all), batches
 * of 1-32 events from one CPU, so times step back by up to a few hundred us
 * between batches and cross a second every 200,000 events.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_stream.h"
#include "framing.h"
#include "harness_packet.h"

#define N_FLOWS	  512
#define N_CPUS	  4
#define CAPTURE	  128
/* 2026-12-01T10:00:00Z */
#define STREAM_T0 (1796119200ull * 1000000000ull)

static const char *const kind_names[CLI_KINDS] = {
	[CLI_TRACE_V4_TCP] = "trace IPv4 TCP",
	[CLI_TRACE_V4_UDP] = "trace IPv4 UDP",
	[CLI_TRACE_V4_ICMP] = "trace IPv4 ICMP",
	[CLI_TRACE_V6_TCP] = "trace IPv6 TCP",
	[CLI_TRACE_V6_UDP] = "trace IPv6 UDP",
	[CLI_TRACE_V6_ICMP] = "trace IPv6 ICMPv6",
	[CLI_TRACE_OTHER] = "trace not IP",
	[CLI_DROP_DATAPATH] = "drop datapath",
	[CLI_DROP_KERNEL] = "drop kernel",
	[CLI_TCP_PROBE] = "tcp_probe",
	[CLI_DEBUG] = "debug",
	[CLI_CAPTURE] = "capture",
	[CLI_LOST] = "lost notice",
	[CLI_OTHER] = "other",
};

const char *cli_frame_kind_name(enum cli_frame_kind k)
{
	return k < CLI_KINDS ? kind_names[k] : "?";
}

/* --- the PRNG ---------------------------------------------------------- */

struct rng {
	uint64_t s;
};

static uint32_t rnd(struct rng *r)
{
	/* xorshift64* */
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return (uint32_t)((r->s * 0x2545f4914f6cdd1dull) >> 32);
}

/* Uniform in [lo, hi]. */
static uint32_t between(struct rng *r, uint32_t lo, uint32_t hi)
{
	return lo + rnd(r) % (hi - lo + 1);
}

/* --- the flows --------------------------------------------------------- */

struct iface {
	uint32_t ifindex;
	const char *name;
};

static const struct iface ifaces[] = {
	{ 2, "eth0" },		  { 3, "eth1" },	    { 7, "lxc3f2a1b0c9d8e" },
	{ 9, "lxc_health" },	  { 12, "veth1a2b3c4d" },   { 14, "lxc8e7d6c5b4a39" },
	{ 21, "cilium_host" },	  { 33, "vxlan.calico" },
};

/* One packet of a flow for each TCP flag combination the stream uses. */
static const uint8_t tcp_flag_sets[] = { 0x10, 0x18, 0x02, 0x12, 0x11, 0x04 };
#define N_FLAG_SETS sizeof(tcp_flag_sets)

struct flow {
	int family;
	uint8_t proto;
	char src[48], dst[48];
	uint8_t sa[16], da[16];
	uint16_t sport, dport;
	uint32_t flow_id;
	const struct iface *ifc;
	/* Ethernet frames: [flag set] for TCP, [0] for UDP, [0]/[1] echo request/reply. */
	uint8_t pkt[N_FLAG_SETS][1600];
	size_t pkt_len[N_FLAG_SETS];
	/* tcp_probe */
	uint32_t pid;
	const char *comm;
	uint64_t start_ns;
};

static const char *const comms[] = {
	"curl", "nginx: worker", "envoy", "postgres", "redis-server", "java", "python3",
	"node", "coredns", "kubelet",
};

static const uint16_t server_ports[] = { 443, 80, 53, 8080, 5432, 6379, 9090, 8443 };

static void flow_addrs(struct rng *r, struct flow *f)
{
	uint32_t a = rnd(r), b = rnd(r);

	if (f->family == 4) {
		snprintf(f->src, sizeof(f->src), "10.%u.%u.%u", 244 + a % 4, (a >> 8) & 0xff,
			 1 + (a >> 16) % 254);
		if (b % 4 == 0)
			snprintf(f->dst, sizeof(f->dst), "104.198.%u.%u", (b >> 8) & 0xff,
				 1 + (b >> 16) % 254);
		else
			snprintf(f->dst, sizeof(f->dst), "10.%u.%u.%u", b % 2 ? 96 : 244,
				 (b >> 8) & 0xff, 1 + (b >> 16) % 254);
	} else {
		snprintf(f->src, sizeof(f->src), "fd00:10:244:%x::%x", a % 16, (a >> 8) & 0xffff);
		if (b % 4 == 0)
			snprintf(f->dst, sizeof(f->dst), "2001:db8:%x::%x", (b >> 4) & 0xfff,
				 (b >> 16) & 0xffff);
		else
			snprintf(f->dst, sizeof(f->dst), "fd00:10:96::%x", (b >> 8) & 0xffff);
	}
	inet_pton(f->family == 6 ? AF_INET6 : AF_INET, f->src, f->sa);
	inet_pton(f->family == 6 ? AF_INET6 : AF_INET, f->dst, f->da);
}

static int flow_build(struct rng *r, struct flow *f, uint32_t i)
{
	struct mm_test_pkt_spec spec;
	uint32_t p = rnd(r) % 100;
	size_t k, n = 1;

	memset(f, 0, sizeof(*f));
	f->family = rnd(r) % 5 ? 4 : 6;
	f->proto = p < 75 ? IPPROTO_TCP : p < 95 ? IPPROTO_UDP
			   : f->family == 6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
	flow_addrs(r, f);
	f->sport = (uint16_t)between(r, 32768, 60999);
	f->dport = server_ports[rnd(r) % (sizeof(server_ports) / sizeof(server_ports[0]))];
	f->flow_id = 0x61000000u + i * 7919u;
	f->ifc = &ifaces[rnd(r) % (sizeof(ifaces) / sizeof(ifaces[0]))];
	f->pid = between(r, 300, 4000000);
	f->comm = comms[rnd(r) % (sizeof(comms) / sizeof(comms[0]))];
	f->start_ns = STREAM_T0 - (uint64_t)between(r, 1, 3600000) * 1000000ull;
	if (f->proto == IPPROTO_TCP)
		n = N_FLAG_SETS;
	else if (f->proto != IPPROTO_UDP)
		n = 2;
	for (k = 0; k < n; k++) {
		memset(&spec, 0, sizeof(spec));
		spec.family = f->family;
		spec.proto = f->proto;
		spec.src = f->src;
		spec.dst = f->dst;
		spec.sport = f->sport;
		spec.dport = f->dport;
		/* >= 128 bytes on the wire, so the capture is full. */
		spec.payload_len = between(r, 100, 1400);
		if (f->proto == IPPROTO_TCP) {
			spec.tcp_flags = tcp_flag_sets[k];
		} else if (f->proto != IPPROTO_UDP) {
			spec.icmp_type = f->family == 6 ? (k ? 129 : 128) : (k ? 0 : 8);
			spec.icmp_id = f->sport;
			spec.payload_len = 100;
		}
		f->pkt_len[k] = mm_test_pkt_build(f->pkt[k], sizeof(f->pkt[k]), &spec);
		if (!f->pkt_len[k])
			return -EINVAL;
	}
	return 0;
}

/* --- one event --------------------------------------------------------- */

/* Everything an Event points at, as the agent's struct mm_decoded holds it. */
struct ev_buf {
	Meshmon__V1__ServerMessage msg;
	Meshmon__V1__Event ev;
	Meshmon__V1__Tuple tuple;
	Meshmon__V1__Trace trace;
	Meshmon__V1__Drop drop;
	Meshmon__V1__Debug debug;
	Meshmon__V1__Capture capture;
	Meshmon__V1__TcpProbe probe;
	Meshmon__V1__LostNotice lost;
	char message[128];
	uint8_t arp[64];
};

static void set_tuple(struct ev_buf *b, const struct flow *f, bool reverse)
{
	size_t alen = f->family == 6 ? 16 : 4;

	meshmon__v1__tuple__init(&b->tuple);
	b->tuple.src.data = (uint8_t *)(reverse ? f->da : f->sa);
	b->tuple.dst.data = (uint8_t *)(reverse ? f->sa : f->da);
	b->tuple.src.len = b->tuple.dst.len = alen;
	if (f->proto == IPPROTO_TCP || f->proto == IPPROTO_UDP) {
		b->tuple.sport = reverse ? f->dport : f->sport;
		b->tuple.dport = reverse ? f->sport : f->dport;
	} else {
		b->tuple.sport = f->sport; /* the echo identifier */
	}
	b->tuple.proto = f->proto;
	b->tuple.ethertype = f->family == 6 ? 0x86dd : 0x0800;
	b->ev.tuple = &b->tuple;
}

/* The first CAPTURE bytes from offset off of the frame, at layer. */
static void set_capture(struct ev_buf *b, const uint8_t *pkt, size_t len, size_t off,
			Meshmon__V1__CaptureLayer layer)
{
	size_t n = len - off < CAPTURE ? len - off : CAPTURE;

	b->ev.captured.data = (uint8_t *)pkt + off;
	b->ev.captured.len = n;
	b->ev.cap_len = (uint32_t)n;
	b->ev.len = (uint32_t)(len - off);
	b->ev.layer = layer;
}

static void set_ifname(struct ev_buf *b, const struct iface *ifc)
{
	b->ev.ifindex = ifc ? ifc->ifindex : 0;
	b->ev.ifname = (char *)(ifc ? ifc->name : "");
}

static enum cli_frame_kind trace_kind(const struct flow *f)
{
	static const enum cli_frame_kind v4[] = { CLI_TRACE_V4_TCP, CLI_TRACE_V4_UDP,
						  CLI_TRACE_V4_ICMP };
	static const enum cli_frame_kind v6[] = { CLI_TRACE_V6_TCP, CLI_TRACE_V6_UDP,
						  CLI_TRACE_V6_ICMP };
	int i = f->proto == IPPROTO_TCP ? 0 : f->proto == IPPROTO_UDP ? 1 : 2;

	return f->family == 6 ? v6[i] : v4[i];
}

static enum cli_frame_kind gen_trace(struct rng *r, struct ev_buf *b, const struct flow *f)
{
	static const uint32_t states[10] = { 2, 2, 2, 2, 2, 2, 2, 1, 3, 4 };
	uint32_t point = between(r, 1, 4), k = 0, x = rnd(r) % 100;
	bool reverse = point == 2 || point == 4;

	if (x < 3)
		point = 5 + x; /* kernel, from-socket, to-socket */
	b->ev.type = MESHMON__V1__EVENT_TYPE__EVENT_TYPE_TRACE;
	b->ev.source = point >= 6 ? MESHMON__V1__SOURCE__SOURCE_CGROUP_SKB
				  : point == 5 ? MESHMON__V1__SOURCE__SOURCE_KERNEL
					       : MESHMON__V1__SOURCE__SOURCE_TC;
	b->ev.flow_id = f->flow_id + reverse;
	set_ifname(b, f->ifc);
	meshmon__v1__trace__init(&b->trace);
	b->ev.detail_case = MESHMON__V1__EVENT__DETAIL_TRACE;
	b->ev.trace = &b->trace;
	b->trace.point = point;
	b->trace.state = states[rnd(r) % 10];
	b->trace.folded = rnd(r) % 4 ? 0 : between(r, 1, 40);
	if (f->proto == IPPROTO_TCP) {
		x = rnd(r) % 100;
		k = x < 50 ? 0 : x < 85 ? 1 : x < 90 ? 2 : x < 94 ? 3 : x < 98 ? 4 : 5;
		b->trace.tcp_flags = tcp_flag_sets[k];
	} else if (f->proto != IPPROTO_UDP) {
		k = reverse;
		b->trace.icmp_type = f->family == 6 ? (k ? 129 : 128) : (k ? 0 : 8);
	}
	set_tuple(b, f, false);
	set_capture(b, f->pkt[k], f->pkt_len[k], 0,
		    MESHMON__V1__CAPTURE_LAYER__CAPTURE_LAYER_ETHERNET);
	return trace_kind(f);
}

static enum cli_frame_kind gen_arp(struct rng *r, struct ev_buf *b)
{
	static const struct mm_test_pkt_spec arp = { .family = 0, .ethertype = 0x0806,
						     .payload_len = 28 };
	size_t n = mm_test_pkt_build(b->arp, sizeof(b->arp), &arp);

	b->ev.type = MESHMON__V1__EVENT_TYPE__EVENT_TYPE_TRACE;
	b->ev.source = MESHMON__V1__SOURCE__SOURCE_TC;
	b->ev.flow_id = 0;
	set_ifname(b, &ifaces[rnd(r) % 2]);
	meshmon__v1__trace__init(&b->trace);
	b->ev.detail_case = MESHMON__V1__EVENT__DETAIL_TRACE;
	b->ev.trace = &b->trace;
	b->trace.point = 1;
	b->trace.parse_error = MESHMON__V1__PARSE_ERROR__PARSE_ERROR_NOT_IP;
	meshmon__v1__tuple__init(&b->tuple);
	b->tuple.ethertype = 0x0806;
	b->ev.tuple = &b->tuple;
	set_capture(b, b->arp, n, 0, MESHMON__V1__CAPTURE_LAYER__CAPTURE_LAYER_ETHERNET);
	return CLI_TRACE_OTHER;
}

static enum cli_frame_kind gen_drop_datapath(struct rng *r, struct ev_buf *b, const struct flow *f)
{
	bool deny_h = rnd(r) % 2;

	b->ev.type = MESHMON__V1__EVENT_TYPE__EVENT_TYPE_DROP;
	b->ev.source = MESHMON__V1__SOURCE__SOURCE_TC;
	b->ev.flow_id = f->flow_id;
	set_ifname(b, f->ifc);
	meshmon__v1__drop__init(&b->drop);
	b->ev.detail_case = MESHMON__V1__EVENT__DETAIL_DROP;
	b->ev.drop = &b->drop;
	b->drop.point = between(r, 1, 2);
	b->drop.reason_code = MESHMON__V1__DROP_REASON__DROP_REASON_POLICY_DENIED;
	b->drop.reason = "POLICY_DENIED";
	b->drop.reason_text = "Policy denied";
	b->drop.ext_error = between(r, 1, 64);
	b->drop.file = deny_h ? "deny.bpf.h" : "tc_monitor.bpf.c";
	b->drop.file_id = deny_h ? 2 : 1;
	b->drop.line = deny_h ? 57 : 123;
	b->drop.folded = rnd(r) % 4 ? 0 : between(r, 1, 9);
	set_tuple(b, f, false);
	set_capture(b, f->pkt[0], f->pkt_len[0], 0,
		    MESHMON__V1__CAPTURE_LAYER__CAPTURE_LAYER_ETHERNET);
	return CLI_DROP_DATAPATH;
}

/* Names and numbers of the running kernel's enum skb_drop_reason (6.x). */
static const struct {
	uint32_t code;
	const char *name;
} kernel_reasons[] = {
	{ 2, "NOT_SPECIFIED" },	      { 3, "NO_SOCKET" },	 { 5, "TCP_CSUM" },
	{ 8, "NETFILTER_DROP" },      { 9, "OTHERHOST" },	 { 16, "SOCKET_RCVBUFF" },
	{ 31, "TCP_OLD_DATA" },	      { 36, "TCP_INVALID_SEQUENCE" }, { 44, "TCP_OFOMERGE" },
	{ 65, "NEIGH_FAILED" },
};

static enum cli_frame_kind gen_drop_kernel(struct rng *r, struct ev_buf *b, const struct flow *f)
{
	uint32_t k = rnd(r) % (sizeof(kernel_reasons) / sizeof(kernel_reasons[0]));
	size_t l3 = 14, l4 = 14 + (f->family == 6 ? 40 : 20);
	bool transport = rnd(r) % 3 == 0 && f->proto == IPPROTO_UDP;

	b->ev.type = MESHMON__V1__EVENT_TYPE__EVENT_TYPE_DROP;
	b->ev.source = MESHMON__V1__SOURCE__SOURCE_KERNEL;
	b->ev.flow_id = 0;
	set_ifname(b, rnd(r) % 4 ? f->ifc : NULL);
	meshmon__v1__drop__init(&b->drop);
	b->ev.detail_case = MESHMON__V1__EVENT__DETAIL_DROP;
	b->ev.drop = &b->drop;
	b->drop.point = 5;
	b->drop.reason_code = kernel_reasons[k].code;
	b->drop.reason = (char *)kernel_reasons[k].name;
	b->drop.reason_text = (char *)kernel_reasons[k].name;
	b->drop.netns = 4026531840u + between(r, 0, 200);
	b->drop.location = 0xffffffff81000000ull + (rnd(r) & 0xfffff0u);
	set_tuple(b, f, rnd(r) % 2);
	if (transport)
		set_capture(b, f->pkt[0], f->pkt_len[0], l4,
			    MESHMON__V1__CAPTURE_LAYER__CAPTURE_LAYER_TRANSPORT);
	else
		set_capture(b, f->pkt[0], f->pkt_len[0], l3,
			    MESHMON__V1__CAPTURE_LAYER__CAPTURE_LAYER_NETWORK);
	return CLI_DROP_KERNEL;
}

static enum cli_frame_kind gen_tcp_probe(struct rng *r, struct ev_buf *b, const struct flow *f,
					 uint64_t now)
{
	Meshmon__V1__TcpProbe *p = &b->probe;
	uint32_t x = rnd(r) % 100;

	b->ev.type = MESHMON__V1__EVENT_TYPE__EVENT_TYPE_TCP_PROBE;
	b->ev.source = MESHMON__V1__SOURCE__SOURCE_SOCKOPS;
	b->ev.flow_id = 0;
	set_ifname(b, NULL);
	meshmon__v1__tcp_probe__init(p);
	b->ev.detail_case = MESHMON__V1__EVENT__DETAIL_TCP_PROBE;
	b->ev.tcp_probe = p;
	p->state = x < 20 ? 1 : x < 80 ? 2 : 3;
	p->direction = rnd(r) % 3 ? 1 : 2;
	set_tuple(b, f, p->direction == 2);
	p->conn_success = rnd(r) % 50 != 0;
	p->preexisting = rnd(r) % 100 == 0;
	if (p->preexisting) {
		b->ev.source = MESHMON__V1__SOURCE__SOURCE_TCP_ITER;
		p->comm = "";
	} else {
		p->pid = f->pid;
		p->comm = (char *)f->comm;
		p->start_time_ns = f->start_ns;
	}
	p->duration_ns = now > f->start_ns ? now - f->start_ns : 1000;
	p->bytes_sent = (uint64_t)rnd(r) * between(r, 1, 64);
	p->bytes_received = (uint64_t)rnd(r) * between(r, 1, 256);
	p->segs_out = between(r, 2, 4000000);
	p->segs_in = between(r, 1, 4000000);
	p->data_segs_out = p->segs_out / 2;
	p->data_segs_in = p->segs_in / 2;
	p->srtt_us = p->conn_success ? between(r, 30, 250000) : 0;
	p->min_rtt_us = p->srtt_us ? between(r, 20, p->srtt_us) : 0;
	p->snd_cwnd = between(r, 10, 2000);
	p->total_retrans = rnd(r) % 4 ? 0 : between(r, 1, 300);
	p->lost_out = p->total_retrans % 7;
	p->delivered = p->segs_out - p->lost_out;
	p->cgroup_id = 4000 + f->pid % 977;
	p->netns = 4026531840u + f->pid % 200;
	p->tcp_state = p->state == 3 ? 7 : 1;
	return CLI_TCP_PROBE;
}

static enum cli_frame_kind gen_debug(struct rng *r, struct ev_buf *b, const struct flow *f)
{
	uint32_t sub = rnd(r) % 4 ? 1 : 3;

	b->ev.type = MESHMON__V1__EVENT_TYPE__EVENT_TYPE_DEBUG;
	b->ev.source = MESHMON__V1__SOURCE__SOURCE_TC;
	b->ev.flow_id = f->flow_id;
	set_ifname(b, f->ifc);
	meshmon__v1__debug__init(&b->debug);
	b->ev.detail_case = MESHMON__V1__EVENT__DETAIL_DEBUG;
	b->ev.debug = &b->debug;
	b->debug.subtype = sub;
	if (sub == 1) {
		b->debug.arg1 = between(r, 0, 4);
		b->debug.arg2 = f->ifc->ifindex;
		b->debug.arg3 = f->flow_id;
		snprintf(b->message, sizeof(b->message),
			 "Flow lookup: state=%u ifindex=%u flow=0x%x", b->debug.arg1,
			 b->debug.arg2, b->debug.arg3);
	} else {
		b->debug.arg1 = between(r, 1, 64);
		b->debug.arg2 = f->proto;
		b->debug.arg3 = f->dport;
		snprintf(b->message, sizeof(b->message), "Deny rule %u matched: proto=%u dport=%u",
			 b->debug.arg1, b->debug.arg2, b->debug.arg3);
	}
	/* The agent formats every known subtype; an empty message is formatted by the client. */
	if (rnd(r) % 10 == 0)
		b->message[0] = '\0';
	b->debug.message = b->message;
	return CLI_DEBUG;
}

static enum cli_frame_kind gen_capture(struct rng *r, struct ev_buf *b, const struct flow *f)
{
	b->ev.type = MESHMON__V1__EVENT_TYPE__EVENT_TYPE_CAPTURE;
	b->ev.source = MESHMON__V1__SOURCE__SOURCE_TC;
	b->ev.flow_id = f->flow_id;
	set_ifname(b, f->ifc);
	meshmon__v1__capture__init(&b->capture);
	b->ev.detail_case = MESHMON__V1__EVENT__DETAIL_CAPTURE;
	b->ev.capture = &b->capture;
	b->capture.point = between(r, 1, 2);
	set_capture(b, f->pkt[0], f->pkt_len[0], 0,
		    MESHMON__V1__CAPTURE_LAYER__CAPTURE_LAYER_ETHERNET);
	return CLI_CAPTURE;
}

static void gen_lost(struct rng *r, struct ev_buf *b, uint64_t now)
{
	static const uint32_t sources[] = { 2, 4, 3, 1 };
	uint32_t s = sources[rnd(r) % 4];

	meshmon__v1__lost_notice__init(&b->lost);
	b->msg.msg_case = MESHMON__V1__SERVER_MESSAGE__MSG_LOST;
	b->msg.lost = &b->lost;
	b->lost.source = s;
	b->lost.cpu = s == 4 || s == 3 ? 0xffffffffu : rnd(r) % N_CPUS;
	b->lost.count = between(r, 1, 5000);
	b->lost.first_time_ns = now - between(r, 1000, 900000) * 1000ull;
	b->lost.last_time_ns = now;
}

/* --- the stream -------------------------------------------------------- */

static int append(struct cli_stream *s, size_t *cap, const Meshmon__V1__ServerMessage *m)
{
	size_t need = mm_frame__size(&m->base);
	long n;

	if (s->len + need > *cap) {
		size_t c = *cap ? *cap : 1 << 20;
		uint8_t *nb;

		while (c < s->len + need)
			c *= 2;
		nb = realloc(s->buf, c);
		if (!nb)
			return -ENOMEM;
		s->buf = nb;
		*cap = c;
	}
	n = mm_frame__pack(&m->base, s->buf + s->len, *cap - s->len);
	if (n < 0)
		return (int)n;
	s->len += (size_t)n;
	return 0;
}

static int set_hello(struct cli_stream *s, uint32_t capture_len)
{
	Meshmon__V1__ServerMessage m = MESHMON__V1__SERVER_MESSAGE__INIT;
	Meshmon__V1__Hello h = MESHMON__V1__HELLO__INIT;

	h.protocol_version = MM_PROTOCOL_VERSION;
	h.agent_version = "0.1.0";
	h.num_cpus = N_CPUS;
	h.pages_per_cpu = 64;
	h.page_size = 4096;
	h.capture_len = capture_len;
	m.msg_case = MESHMON__V1__SERVER_MESSAGE__MSG_HELLO;
	m.hello = &h;
	s->capture_len = capture_len;
	return mm_frame__encode(&m.base, &s->hello, &s->hello_len);
}

static int alloc_index(struct cli_stream *s, size_t n)
{
	s->off = calloc(n + 1, sizeof(*s->off));
	s->event_type = calloc(n ? n : 1, 1);
	return s->off && s->event_type ? 0 : -ENOMEM;
}

int cli_stream__generate(struct cli_stream *s, size_t n, uint64_t seed)
{
	static struct flow flows[N_FLOWS];
	uint64_t cpu_t[N_CPUS];
	struct rng r = { seed ? seed : 1 };
	struct ev_buf b;
	size_t i, cap = 0, batch = 0;
	uint32_t cpu = 0, x;
	enum cli_frame_kind k;
	const struct flow *f;
	int rc;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < N_FLOWS; i++)
		if ((rc = flow_build(&r, &flows[i], (uint32_t)i)))
			return rc;
	for (i = 0; i < N_CPUS; i++)
		cpu_t[i] = STREAM_T0 + between(&r, 0, 300) * 1000ull;
	if ((rc = set_hello(s, CAPTURE)) || (rc = alloc_index(s, n)))
		goto fail;
	for (i = 0; i < n; i++) {
		if (!batch) {
			cpu = rnd(&r) % N_CPUS;
			batch = between(&r, 1, 32);
		}
		batch--;
		cpu_t[cpu] += between(&r, 2, 38) * 1000ull + rnd(&r) % 1000;
		memset(&b, 0, sizeof(b));
		meshmon__v1__server_message__init(&b.msg);
		meshmon__v1__event__init(&b.ev);
		b.msg.msg_case = MESHMON__V1__SERVER_MESSAGE__MSG_EVENT;
		b.msg.event = &b.ev;
		b.ev.time_ns = cpu_t[cpu];
		b.ev.ktime_ns = cpu_t[cpu] - STREAM_T0 + 86400000000000ull;
		b.ev.cpu = cpu;
		f = &flows[rnd(&r) % N_FLOWS];
		x = rnd(&r) % 1000;
		if (x < 555)
			k = gen_trace(&r, &b, f);
		else if (x < 560)
			k = gen_arp(&r, &b);
		else if (x < 640)
			k = gen_drop_datapath(&r, &b, f);
		else if (x < 710)
			k = gen_drop_kernel(&r, &b, f);
		else if (x < 860)
			k = gen_tcp_probe(&r, &b, f->proto == IPPROTO_TCP ? f : &flows[0],
					  cpu_t[cpu]);
		else if (x < 960)
			k = gen_debug(&r, &b, f);
		else if (x < 999)
			k = gen_capture(&r, &b, f);
		else
			k = CLI_LOST, gen_lost(&r, &b, cpu_t[cpu]);
		s->off[i] = s->len;
		s->event_type[i] = k == CLI_LOST ? 0 : (uint8_t)b.ev.type;
		s->kinds[k]++;
		if ((rc = append(s, &cap, &b.msg)))
			goto fail;
	}
	s->off[n] = s->len;
	s->n_frames = n;
	return 0;
fail:
	cli_stream__free(s);
	return rc;
}

static enum cli_frame_kind kind_of(const Meshmon__V1__ServerMessage *m)
{
	const Meshmon__V1__Event *e = m->event;
	int fam;

	if (m->msg_case == MESHMON__V1__SERVER_MESSAGE__MSG_LOST)
		return CLI_LOST;
	if (m->msg_case != MESHMON__V1__SERVER_MESSAGE__MSG_EVENT)
		return CLI_OTHER;
	switch (e->detail_case) {
	case MESHMON__V1__EVENT__DETAIL_TRACE:
		if (!e->tuple || (e->tuple->src.len != 4 && e->tuple->src.len != 16))
			return CLI_TRACE_OTHER;
		fam = e->tuple->src.len == 16;
		if (e->tuple->proto == IPPROTO_TCP)
			return fam ? CLI_TRACE_V6_TCP : CLI_TRACE_V4_TCP;
		if (e->tuple->proto == IPPROTO_UDP)
			return fam ? CLI_TRACE_V6_UDP : CLI_TRACE_V4_UDP;
		return fam ? CLI_TRACE_V6_ICMP : CLI_TRACE_V4_ICMP;
	case MESHMON__V1__EVENT__DETAIL_DROP:
		return e->source == MESHMON__V1__SOURCE__SOURCE_KERNEL ? CLI_DROP_KERNEL
								       : CLI_DROP_DATAPATH;
	case MESHMON__V1__EVENT__DETAIL_TCP_PROBE:
		return CLI_TCP_PROBE;
	case MESHMON__V1__EVENT__DETAIL_DEBUG:
		return CLI_DEBUG;
	case MESHMON__V1__EVENT__DETAIL_CAPTURE:
		return CLI_CAPTURE;
	default:
		return CLI_OTHER;
	}
}

static int read_all(const char *path, uint8_t **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 1 << 20, n = 0, got;
	uint8_t *buf = malloc(cap), *nb;
	int err;

	if (!f || !buf) {
		err = f ? ENOMEM : errno;
		free(buf);
		if (f)
			fclose(f);
		return -err;
	}
	while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				fclose(f);
				return -ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
	}
	err = ferror(f) ? EIO : 0;
	fclose(f);
	if (err) {
		free(buf);
		return -err;
	}
	*out = buf;
	*len = n;
	return 0;
}

/* The payload length of the frame at p (with at least 4 bytes left), or -1 past end. */
static long frame_at(const uint8_t *p, size_t left)
{
	uint32_t n;

	if (left < MM_FRAME_HDR)
		return -1;
	n = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	if (n > MM_FRAME_MAX || left - MM_FRAME_HDR < n)
		return -1;
	return (long)n;
}

int cli_stream__load(struct cli_stream *s, const char *path, size_t n)
{
	Meshmon__V1__ServerMessage *m;
	uint8_t *file = NULL, *kind = NULL;
	size_t len = 0, pos, count = 0, i, rec_len;
	long pl;
	int rc;

	memset(s, 0, sizeof(*s));
	if ((rc = read_all(path, &file, &len)))
		return rc;
	rc = -EBADMSG;
	pl = frame_at(file, len);
	m = pl < 0 ? NULL : mm_frame__unpack_server(file + MM_FRAME_HDR, (size_t)pl);
	if (!m || m->msg_case != MESHMON__V1__SERVER_MESSAGE__MSG_HELLO) {
		mm_frame__free_server(m);
		free(file);
		return rc;
	}
	s->capture_len = m->hello->capture_len;
	mm_frame__free_server(m);
	s->hello_len = MM_FRAME_HDR + (size_t)pl;
	for (pos = s->hello_len; pos < len; pos += MM_FRAME_HDR + (size_t)pl, count++)
		if ((pl = frame_at(file + pos, len - pos)) < 0)
			goto fail;
	if (!count)
		goto fail;
	rc = -ENOMEM;
	if (!n)
		n = count;
	rec_len = len - s->hello_len;
	s->hello = malloc(s->hello_len);
	kind = malloc(count);
	/* Past the recording the stream plays it again from the start. */
	s->buf = malloc(rec_len * ((n + count - 1) / count));
	if (!s->hello || !kind || !s->buf || alloc_index(s, n))
		goto fail;
	memcpy(s->hello, file, s->hello_len);
	rc = -EBADMSG;
	for (i = 0, pos = s->hello_len; i < n; i++) {
		if (pos >= len)
			pos = s->hello_len;
		pl = frame_at(file + pos, len - pos);
		if (i < count) {
			m = mm_frame__unpack_server(file + pos + MM_FRAME_HDR, (size_t)pl);
			if (!m)
				goto fail;
			s->event_type[i] = m->msg_case == MESHMON__V1__SERVER_MESSAGE__MSG_EVENT
						   ? (uint8_t)m->event->type
						   : 0;
			kind[i] = (uint8_t)kind_of(m);
			mm_frame__free_server(m);
		} else {
			s->event_type[i] = s->event_type[i % count];
		}
		s->kinds[kind[i % count]]++;
		s->off[i] = s->len;
		memcpy(s->buf + s->len, file + pos, MM_FRAME_HDR + (size_t)pl);
		s->len += MM_FRAME_HDR + (size_t)pl;
		pos += MM_FRAME_HDR + (size_t)pl;
	}
	s->off[n] = s->len;
	s->n_frames = n;
	free(kind);
	free(file);
	return 0;
fail:
	free(kind);
	free(file);
	cli_stream__free(s);
	return rc;
}

int cli_stream__save(const struct cli_stream *s, const char *path)
{
	FILE *f = fopen(path, "wb");
	int err = 0;

	if (!f)
		return -errno;
	if (fwrite(s->hello, 1, s->hello_len, f) != s->hello_len ||
	    fwrite(s->buf, 1, s->len, f) != s->len)
		err = -EIO;
	if (fclose(f) && !err)
		err = -errno;
	return err;
}

int cli_stream__select(const struct cli_stream *s, uint64_t type_mask, uint8_t **buf,
		       size_t *len, size_t *frames)
{
	uint8_t *out = malloc(s->len ? s->len : 1);
	size_t i, n = 0, k = 0, start, end;

	if (!out)
		return -ENOMEM;
	/* Runs of consecutive frames that pass are copied at once. */
	for (i = 0; i < s->n_frames; i = end) {
		bool pass = !s->event_type[i] || (type_mask >> s->event_type[i] & 1);

		for (end = i + 1; end < s->n_frames; end++) {
			bool p = !s->event_type[end] || (type_mask >> s->event_type[end] & 1);

			if (p != pass)
				break;
		}
		if (!pass)
			continue;
		start = s->off[i];
		memcpy(out + n, s->buf + start, s->off[end] - start);
		n += s->off[end] - start;
		k += end - i;
	}
	*buf = out;
	*len = n;
	*frames = k;
	return 0;
}

void cli_stream__free(struct cli_stream *s)
{
	if (!s)
		return;
	free(s->hello);
	free(s->buf);
	free(s->off);
	free(s->event_type);
	memset(s, 0, sizeof(*s));
}
