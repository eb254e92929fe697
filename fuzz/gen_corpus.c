// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * fuzz-gen-corpus DIR: writes the seed corpora of the fuzz targets into
 * DIR/<target>/ (the committed ones are fuzz/corpus/). Run once when a format
 * changes; the fuzzers grow their own corpora from these. Each file is a few
 * hundred bytes at most: valid frames of every ClientMessage and
 * ServerMessage kind, records of every type (the events of the client corpus
 * are those records decoded and packed by the agent's own code), and valid
 * and invalid rules, endpoints and numbers. Deterministic: the same bytes on
 * every run.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "decode.h"
#include "framing.h"
#include "harness_packet.h"
#include "names.h"
#include "records.h"

static const char *root;

static void put(const char *target, const char *name, const void *data, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, target);
	if (mkdir(path, 0755) && errno != EEXIST) {
		perror(path);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/%s/%s", root, target, name);
	f = fopen(path, "wb");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f)) {
		perror(path);
		exit(1);
	}
}

/* A growing byte string: a mode byte, then frames or text. */
struct bytes {
	uint8_t b[8192];
	size_t n;
};

static void add(struct bytes *s, const void *p, size_t n)
{
	if (s->n + n > sizeof(s->b))
		abort();
	memcpy(s->b + s->n, p, n);
	s->n += n;
}

static void add_frame(struct bytes *s, const ProtobufCMessage *m)
{
	uint8_t *buf;
	size_t len;

	if (mm_frame__encode(m, &buf, &len))
		abort();
	add(s, buf, len);
	free(buf);
}

static void add_str(struct bytes *s, const char *text)
{
	add(s, text, strlen(text));
}

/* ------------------------------------------------------------- ClientMessages */

/* Long on purpose: the client corpus as one table of seeds, one or two lines each. */
static void client_corpus(void)
{
	static const char *t = "fuzz_frame_subscribe";
	Meshmon__V1__ClientMessage cm = MESHMON__V1__CLIENT_MESSAGE__INIT;
	Meshmon__V1__Subscribe sub = MESHMON__V1__SUBSCRIBE__INIT;
	Meshmon__V1__StatusRequest req = MESHMON__V1__STATUS_REQUEST__INIT;
	Meshmon__V1__EventType types[] = { MESHMON__V1__EVENT_TYPE__EVENT_TYPE_DROP,
					   MESHMON__V1__EVENT_TYPE__EVENT_TYPE_TRACE,
					   MESHMON__V1__EVENT_TYPE__EVENT_TYPE_TCP_PROBE };
	Meshmon__V1__TracePoint points[] = { MESHMON__V1__TRACE_POINT__TRACE_POINT_FROM_NETWORK,
					     MESHMON__V1__TRACE_POINT__TRACE_POINT_TO_STACK };
	uint8_t net10[4] = { 10, 0, 0, 0 }, fd00[16] = { 0xfd }, bad5[5] = { 1, 2, 3, 4, 5 };
	Meshmon__V1__Endpoint src = MESHMON__V1__ENDPOINT__INIT, dst = MESHMON__V1__ENDPOINT__INIT,
			      either = MESHMON__V1__ENDPOINT__INIT;
	Meshmon__V1__Endpoint *srcs[] = { &src }, *dsts[] = { &dst }, *eithers[] = { &either };
	Meshmon__V1__FlowFilter ff = MESHMON__V1__FLOW_FILTER__INIT,
				ff2 = MESHMON__V1__FLOW_FILTER__INIT;
	Meshmon__V1__FlowFilter *ffs[] = { &ff, &ff2 };
	uint32_t protos[] = { 6, 17 }, ports[] = { 53, 8080 };
	struct bytes s;
	uint8_t huge[4] = { 0xff, 0xff, 0xff, 0xff };

	cm.msg_case = MESHMON__V1__CLIENT_MESSAGE__MSG_SUBSCRIBE;
	cm.subscribe = &sub;

	/* Mode byte: 0 = one read, N = reads of N bytes. */
	s = (struct bytes){ .b = { 0 }, .n = 1 };
	add_frame(&s, &cm.base);
	put(t, "subscribe_empty", s.b, s.n);

	sub.n_types = 3;
	sub.types = types;
	sub.n_points = 2;
	sub.points = points;
	s = (struct bytes){ .b = { 1 }, .n = 1 };
	add_frame(&s, &cm.base);
	put(t, "subscribe_types_points", s.b, s.n);

	src.address.data = net10;
	src.address.len = 4;
	src.prefix_len = 8;
	src.port = 80;
	dst.address.data = fd00;
	dst.address.len = 16;
	dst.prefix_len = 64;
	either.port = 443;
	ff.n_source = 1;
	ff.source = srcs;
	ff.n_protocols = 2;
	ff.protocols = protos;
	ff2.n_destination = 1;
	ff2.destination = dsts;
	ff2.n_either = 1;
	ff2.either = eithers;
	ff2.n_ports = 2;
	ff2.ports = ports;
	sub.n_filters = 2;
	sub.filters = ffs;
	sub.replay = 100;
	s = (struct bytes){ .b = { 7 }, .n = 1 };
	add_frame(&s, &cm.base);
	put(t, "subscribe_flows", s.b, s.n);

	/* The filters of issue 12: drop reasons, TCP flags, interfaces, exclude, a time window. */
	{
		char *reasons[] = { "POLICY_DENIED", "policy_denied" }, *ifnames[] = { "eth0" };
		uint32_t masks[] = { 0x02, 0x12 }, port53[] = { 53 };
		Meshmon__V1__FlowFilter ex = MESHMON__V1__FLOW_FILTER__INIT, *exs[] = { &ex };

		ff.n_drop_reasons = 2;
		ff.drop_reasons = reasons;
		ff.n_tcp_flags = 2;
		ff.tcp_flags = masks;
		ff2.n_interfaces = 1;
		ff2.interfaces = ifnames;
		ex.n_ports = 1;
		ex.ports = port53;
		sub.n_exclude = 1;
		sub.exclude = exs;
		sub.since_ns = 1796144400000000000ull;
		sub.until_ns = 1796148000000000000ull;
		sub.history_only = 1;
		s = (struct bytes){ .b = { 5 }, .n = 1 };
		add_frame(&s, &cm.base);
		put(t, "subscribe_hubble_filters", s.b, s.n);
		ff.n_drop_reasons = ff.n_tcp_flags = ff2.n_interfaces = sub.n_exclude = 0;
		sub.since_ns = sub.until_ns = 0;
		sub.history_only = 0;
	}

	/* Invalid subscriptions: an address of 5 bytes, a prefix too long, port 0 in ports. */
	src.address.data = bad5;
	src.address.len = 5;
	s = (struct bytes){ .b = { 0 }, .n = 1 };
	add_frame(&s, &cm.base);
	src.address.data = net10;
	src.address.len = 4;
	src.prefix_len = 33;
	add_frame(&s, &cm.base);
	put(t, "subscribe_invalid", s.b, s.n);

	cm.msg_case = MESHMON__V1__CLIENT_MESSAGE__MSG_STATUS_REQUEST;
	cm.status_request = &req;
	s = (struct bytes){ .b = { 1 }, .n = 1 };
	add_frame(&s, &cm.base);
	put(t, "status_request", s.b, s.n);

	/* Two messages in one read, then a length past the maximum. */
	cm.msg_case = MESHMON__V1__CLIENT_MESSAGE__MSG_SUBSCRIBE;
	sub.n_filters = 0;
	s = (struct bytes){ .b = { 3 }, .n = 1 };
	add_frame(&s, &cm.base);
	cm.msg_case = MESHMON__V1__CLIENT_MESSAGE__MSG_STATUS_REQUEST;
	add_frame(&s, &cm.base);
	add(&s, huge, sizeof(huge));
	put(t, "two_then_oversized", s.b, s.n);

	/*
	 * Found by the repacking check: a FlowFilter with field number 0 in a two-byte
	 * tag, which protobuf-c 1.4 keeps and packs back unreadably.
	 */
	{
		static const uint8_t field0[] = { 0, 0, 0, 0, 18, 0x0a, 0x10, 0x1a, 0x0c, 0x28,
						  0x35, 0x81, 0x00, 1, 2, 3, 4, 5, 6, 7, 8, 0x20,
						  0x05 };

		put(t, "subscribe_field0_two_byte_tag", field0, sizeof(field0));
	}

	/* A frame cut short, and an empty message (no member of the oneof). */
	s = (struct bytes){ .b = { 0, 0, 0, 0, 0, 0, 0, 0, 9, 0x0a }, .n = 10 };
	put(t, "empty_then_truncated", s.b, s.n);
}

/* ------------------------------------------------------------- records */

static uint64_t ktime = 5000000000ull;

static void hdr(struct mm_notify_hdr *h, unsigned int type, unsigned int subtype,
		unsigned int source)
{
	h->type = (uint8_t)type;
	h->subtype = (uint8_t)subtype;
	h->source = (uint8_t)source;
	h->version = (uint8_t)mm_record_layout(type)->version;
	h->flow_id = 0x614e9723;
	h->ktime_ns = ktime += 1000;
}

static void tuple_of(struct mm_tuple *t, const struct mm_test_pkt_spec *p)
{
	memset(t, 0, sizeof(*t));
	t->family = (uint8_t)p->family;
	t->proto = p->proto;
	t->sport = p->sport;
	t->dport = p->dport;
	t->ethertype = p->family == 6 ? 0x86dd : p->family == 4 ? 0x0800 : p->ethertype;
	if (p->family) {
		inet_pton(p->family == 6 ? AF_INET6 : AF_INET, p->src, t->saddr);
		inet_pton(p->family == 6 ? AF_INET6 : AF_INET, p->dst, t->daddr);
	}
}

/* A record with cap_len bytes of pkt (from offset skip) appended. */
static size_t with_capture(uint8_t *out, const void *rec, size_t size, const uint8_t *pkt,
			   size_t cap_len, unsigned int layer)
{
	struct mm_capture_hdr cap = { .len_orig = (uint32_t)cap_len + 20,
				      .cap_len = (uint16_t)cap_len,
				      .layer = (uint8_t)layer };

	memcpy(out, rec, size);
	memcpy(out + sizeof(struct mm_notify_hdr), &cap, sizeof(cap));
	memcpy(out + size, pkt, cap_len);
	return size + cap_len;
}

struct record {
	const char *name;
	uint8_t b[2048];
	size_t n;
};

#define MAX_RECORDS 32
static struct record records[MAX_RECORDS];
static size_t n_records;

static struct record *new_record(const char *name)
{
	struct record *r = &records[n_records++];

	if (n_records > MAX_RECORDS)
		abort();
	r->name = name;
	return r;
}

/* Long on purpose: one seed record per case, in a row, so the corpus reads as a list. */
static void build_records(void)
{
	const struct mm_test_pkt_spec tcp4 = { .family = 4, .proto = IPPROTO_TCP,
					       .src = "10.0.0.1", .dst = "10.0.0.2",
					       .sport = 41510, .dport = 80,
					       .tcp_flags = MM_TCP_SYN, .payload_len = 8 };
	const struct mm_test_pkt_spec udp6 = { .family = 6, .proto = IPPROTO_UDP,
					       .src = "fd00::1", .dst = "fd00::2", .sport = 53,
					       .dport = 5353, .payload_len = 4 };
	const struct mm_test_pkt_spec icmp4 = { .family = 4, .proto = IPPROTO_ICMP,
						.src = "10.0.0.1", .dst = "10.0.0.2",
						.icmp_type = 8, .icmp_id = 7 };
	const struct mm_test_pkt_spec arp = { .family = 0, .ethertype = 0x0806, .payload_len = 28 };
	uint8_t pkt[512];
	size_t plen;
	struct record *r;

	{
		struct mm_trace_record t = { 0 };

		hdr(&t.hdr, MM_EVENT_TRACE, MM_POINT_FROM_NETWORK, MM_SOURCE_TC);
		tuple_of(&t.tuple, &tcp4);
		t.ifindex = 4;
		t.state = MM_STATE_NEW;
		t.tcp_flags = MM_TCP_SYN;
		plen = mm_test_pkt_build(pkt, sizeof(pkt), &tcp4);
		r = new_record("trace_tcp4");
		r->n = with_capture(r->b, &t, sizeof(t), pkt, plen, MM_LAYER_ETHERNET);

		hdr(&t.hdr, MM_EVENT_TRACE, MM_POINT_TO_NETWORK, MM_SOURCE_TC);
		tuple_of(&t.tuple, &udp6);
		t.ifindex = 0x80000000u | 0xfe41; /* a name of raw bytes */
		t.state = MM_STATE_REPLY;
		t.tcp_flags = 0;
		t.folded = 3;
		plen = mm_test_pkt_build(pkt, sizeof(pkt), &udp6);
		r = new_record("trace_udp6");
		r->n = with_capture(r->b, &t, sizeof(t), pkt, plen, MM_LAYER_ETHERNET);

		hdr(&t.hdr, MM_EVENT_TRACE, MM_POINT_TO_STACK, MM_SOURCE_TC);
		tuple_of(&t.tuple, &icmp4);
		t.ifindex = 7;
		t.icmp_type = 8;
		t.parse_error = MM_PARSE_TRUNCATED_L4;
		plen = mm_test_pkt_build(pkt, sizeof(pkt), &icmp4);
		r = new_record("trace_icmp4_truncated");
		r->n = with_capture(r->b, &t, sizeof(t), pkt, 36, MM_LAYER_ETHERNET);
	}
	{
		/* An endpoint trace: the owner after the trace, bytes from the IP header. */
		struct mm_endpoint_trace_record e = { 0 };

		hdr(&e.trace.hdr, MM_EVENT_TRACE, MM_POINT_TO_ENDPOINT, MM_SOURCE_CGROUP_SKB);
		tuple_of(&e.trace.tuple, &tcp4);
		e.trace.ifindex = 1;
		e.trace.state = MM_STATE_NEW;
		e.trace.tcp_flags = MM_TCP_SYN;
		e.owner.cgroup_id = 12345;
		e.owner.cookie = 0x2a;
		e.owner.pid = 4242;
		e.owner.netns = 4026531840u;
		memcpy(e.owner.comm, "curl\xff", 6);
		plen = mm_test_pkt_build(pkt, sizeof(pkt), &tcp4);
		r = new_record("trace_endpoint_tcp4");
		r->n = with_capture(r->b, &e, sizeof(e), pkt + 14, plen - 14, MM_LAYER_NETWORK);
	}
	{
		struct mm_drop_record d = { 0 };

		hdr(&d.hdr, MM_EVENT_DROP, MM_POINT_FROM_NETWORK, MM_SOURCE_TC);
		tuple_of(&d.tuple, &tcp4);
		d.ifindex = 4;
		d.reason = MM_DROP_POLICY_DENIED;
		d.ext_error = 2;
		d.file = MM_FILE_DENY_BPF_H;
		d.line = 120;
		plen = mm_test_pkt_build(pkt, sizeof(pkt), &tcp4);
		r = new_record("drop_policy");
		r->n = with_capture(r->b, &d, sizeof(d), pkt, plen, MM_LAYER_ETHERNET);

		/* A kernel drop: the UDP header onwards, no tuple from the datapath. */
		hdr(&d.hdr, MM_EVENT_DROP, MM_POINT_KERNEL, MM_SOURCE_KERNEL);
		tuple_of(&d.tuple, &udp6);
		d.reason = 3;
		d.ext_error = 0;
		d.file = 0;
		d.line = 0;
		d.netns = 4026531840u;
		d.location = 0xffffffff81abcdefull;
		plen = mm_test_pkt_build(pkt, sizeof(pkt), &udp6);
		r = new_record("drop_kernel_transport");
		r->n = with_capture(r->b, &d, sizeof(d), pkt + 14 + 40, plen - 14 - 40,
				    MM_LAYER_TRANSPORT);

		hdr(&d.hdr, MM_EVENT_DROP, MM_POINT_KERNEL, MM_SOURCE_KERNEL);
		tuple_of(&d.tuple, &tcp4);
		d.reason = 1234;
		plen = mm_test_pkt_build(pkt, sizeof(pkt), &tcp4);
		r = new_record("drop_kernel_network");
		r->n = with_capture(r->b, &d, sizeof(d), pkt + 14, plen - 14, MM_LAYER_NETWORK);
	}
	{
		struct mm_capture_record c = { 0 };

		hdr(&c.hdr, MM_EVENT_CAPTURE, MM_POINT_TO_NETWORK, MM_SOURCE_TC);
		c.ifindex = 5;
		plen = mm_test_pkt_build(pkt, sizeof(pkt), &arp);
		r = new_record("capture_arp");
		r->n = with_capture(r->b, &c, sizeof(c), pkt, plen, MM_LAYER_ETHERNET);
	}
	for (unsigned int sub = 1; sub <= 6; sub++) {
		static const char *names[7] = { "", "debug_1", "debug_2", "debug_3",
						"debug_4", "debug_5", "debug_6" };
		struct mm_debug_record g = { 0 };

		hdr(&g.hdr, MM_EVENT_DEBUG, sub, MM_SOURCE_TC);
		g.ifindex = sub == 1 ? 4 : 0;
		g.arg1 = 1;
		g.arg2 = 4;
		g.arg3 = 0x614e9723;
		r = new_record(names[sub]);
		memcpy(r->b, &g, sizeof(g));
		r->n = sizeof(g);
	}
	{
		struct mm_tcp_probe_record p = { 0 };

		hdr(&p.hdr, MM_EVENT_TCP_PROBE, MM_PROBE_CLOSED, MM_SOURCE_SOCKOPS);
		tuple_of(&p.tuple, &tcp4);
		p.direction = MM_PROBE_DIR_OUTBOUND;
		p.flags = MM_PROBE_F_CONN_SUCCESS;
		p.tcp_state = 7;
		p.pid = 4242;
		memcpy(p.comm, "curl", 4);
		p.start_ns = 4000000000ull;
		p.duration_ns = 1500000000ull;
		p.bytes_sent = 1234;
		p.bytes_received = 567890;
		p.segs_in = 40;
		p.segs_out = 20;
		p.srtt_us = 350;
		p.min_rtt_us = UINT32_MAX;
		p.snd_cwnd = 10;
		p.cgroup_id = 12345;
		p.netns = 4026531840u;
		r = new_record("tcp_probe_closed");
		memcpy(r->b, &p, sizeof(p));
		r->n = sizeof(p);

		hdr(&p.hdr, MM_EVENT_TCP_PROBE, MM_PROBE_OPEN, MM_SOURCE_TCP_ITER);
		p.flags = MM_PROBE_F_PREEXISTING | MM_PROBE_F_CONN_SUCCESS;
		p.direction = MM_PROBE_DIR_INBOUND;
		memcpy(p.comm, "nginx: worker p", 15); /* 16 bytes, no NUL */
		p.comm[15] = 'x';
		r = new_record("tcp_probe_preexisting");
		memcpy(r->b, &p, sizeof(p));
		r->n = sizeof(p);

		/*
		 * comm is whatever the process set (prctl PR_SET_NAME), cut by the
		 * kernel at 15 bytes: bytes that are not UTF-8, and "abcdefghijklmnö"
		 * cut inside its last character. Inputs of the expected UTF-8 finding.
		 */
		hdr(&p.hdr, MM_EVENT_TCP_PROBE, MM_PROBE_PERIODIC, MM_SOURCE_CGROUP_SKB);
		p.flags = MM_PROBE_F_CONN_SUCCESS;
		memset(p.comm, 0, sizeof(p.comm));
		memcpy(p.comm, "curl\xff\xfe", 6);
		r = new_record("tcp_probe_comm_not_utf8");
		memcpy(r->b, &p, sizeof(p));
		r->n = sizeof(p);
		memcpy(p.comm, "abcdefghijklmn\xc3", 16);
		r = new_record("tcp_probe_comm_cut_utf8");
		memcpy(r->b, &p, sizeof(p));
		r->n = sizeof(p);
	}
}

static void decode_corpus(void)
{
	static const char *t = "fuzz_decode";
	uint8_t b[2100];

	/* Mode 0x80: the bytes as they are. */
	for (size_t i = 0; i < n_records; i++) {
		b[0] = 0x80;
		memcpy(b + 1, records[i].b, records[i].n);
		put(t, records[i].name, b, records[i].n + 1);
	}
	/* Mode 0x08 (type trace, cap_len clamped) over a record of garbage header. */
	b[0] = 0x08;
	memset(b + 1, 0x41, 100);
	put(t, "shaped_trace_clamped", b, 101);
	/* Too short, a version from the future. */
	b[0] = 0x80;
	memcpy(b + 1, records[0].b, 10);
	put(t, "short", b, 11);
	memcpy(b + 1, records[0].b, records[0].n);
	b[1 + 3] = 99;
	put(t, "unknown_version", b, records[0].n + 1);
	/* 0xff: mm_debug_message(): size 32, args 1 2 3, a format. */
	{
		static const uint8_t dbg[] = { 0xff, 32, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0,
					       'a', '=', '%', 'u', ' ', 'b', '=', '%', 'x', ' ',
					       '%', '%', ' ', 'c', '=', '%', 'u' };

		put(t, "debug_message_format", dbg, sizeof(dbg));
	}
}

/* ------------------------------------------------------------- ServerMessages */

static const struct mm_ifname *ifname_of(void *arg, unsigned int ifindex)
{
	static struct mm_ifname e;

	(void)arg;
	if (ifindex != 4 && ifindex != 7)
		return NULL;
	mm_ifname__set(&e, ifindex == 4 ? "veth0" : "eth1");
	return &e;
}

static const char *kernel_reason(unsigned int reason)
{
	return reason == 3 ? "NO_SOCKET" : NULL;
}

static void add_event(struct bytes *s, const struct record *r)
{
	static const struct mm_decode_ctx ctx = {
		.wall_offset_ns = 1795326020ll * 1000000000ll,
		.kernel_drop_reason_name = kernel_reason,
		.ifname = ifname_of,
	};
	Meshmon__V1__ServerMessage sm = MESHMON__V1__SERVER_MESSAGE__INIT;
	struct mm_decoded *d = calloc(1, sizeof(*d));

	if (!d || mm_decode(&ctx, r->b, r->n, 2, d))
		abort();
	sm.msg_case = MESHMON__V1__SERVER_MESSAGE__MSG_EVENT;
	sm.event = &d->ev;
	add_frame(s, &sm.base);
	mm_decoded__release(d);
	free(d);
}

static void add_hello(struct bytes *s, uint32_t capture_len)
{
	Meshmon__V1__ServerMessage sm = MESHMON__V1__SERVER_MESSAGE__INIT;
	Meshmon__V1__Hello h = MESHMON__V1__HELLO__INIT;

	h.protocol_version = MM_PROTOCOL_VERSION;
	h.agent_version = "0.1.0 (git 54ae7d5-dirty)";
	h.num_cpus = 4;
	h.pages_per_cpu = 64;
	h.page_size = 4096;
	h.capture_len = capture_len;
	sm.msg_case = MESHMON__V1__SERVER_MESSAGE__MSG_HELLO;
	sm.hello = &h;
	add_frame(s, &sm.base);
}

/*
 * Long on purpose: the server corpus as one table of seeds, a few lines each.
 * fuzz_client_format and fuzz_unpack read the same layout and share it.
 */
static void server_corpus(const char *t)
{
	Meshmon__V1__ServerMessage sm = MESHMON__V1__SERVER_MESSAGE__INIT;
	Meshmon__V1__LostNotice lost = MESHMON__V1__LOST_NOTICE__INIT;
	Meshmon__V1__Status st = MESHMON__V1__STATUS__INIT;
	Meshmon__V1__Error er = MESHMON__V1__ERROR__INIT;
	Meshmon__V1__LossCounter lc[2] = { MESHMON__V1__LOSS_COUNTER__INIT,
					   MESHMON__V1__LOSS_COUNTER__INIT };
	Meshmon__V1__LossCounter *lcs[2] = { &lc[0], &lc[1] };
	Meshmon__V1__EventTypeCount ec[2] = { MESHMON__V1__EVENT_TYPE_COUNT__INIT,
					      MESHMON__V1__EVENT_TYPE_COUNT__INIT };
	Meshmon__V1__EventTypeCount *ecs[2] = { &ec[0], &ec[1] };
	char *ifaces[2] = { "veth0", "eth1" };
	struct bytes s;
	char name[64];

	/* Mode byte 0: the pcap snap length is the Hello's. One event per file. */
	for (size_t i = 0; i < n_records; i++) {
		s = (struct bytes){ .b = { 0 }, .n = 1 };
		add_hello(&s, 128);
		add_event(&s, &records[i]);
		snprintf(name, sizeof(name), "hello_%s", records[i].name);
		put(t, name, s.b, s.n);
	}
	/* Every event in one stream, a small snap length (mode bit 0: 4 * 8 + 1 bytes). */
	s = (struct bytes){ .b = { 0x11 }, .n = 1 };
	add_hello(&s, 0);
	for (size_t i = 0; i < n_records; i++)
		add_event(&s, &records[i]);
	put(t, "stream_all_events", s.b, s.n);

	lost.source = MESHMON__V1__LOSS_SOURCE__LOSS_SOURCE_RING;
	lost.cpu = 2;
	lost.count = 17;
	lost.first_time_ns = 1795326020ull * 1000000000ull;
	lost.last_time_ns = lost.first_time_ns + 5000000000ull;
	sm.msg_case = MESHMON__V1__SERVER_MESSAGE__MSG_LOST;
	sm.lost = &lost;
	s = (struct bytes){ .b = { 0 }, .n = 1 };
	add_hello(&s, 128);
	add_frame(&s, &sm.base);
	lost.source = MESHMON__V1__LOSS_SOURCE__LOSS_SOURCE_QUEUE;
	lost.cpu = MM_CPU_NONE;
	add_frame(&s, &sm.base);
	put(t, "hello_lost", s.b, s.n);

	st.agent_version = "0.1.0";
	st.protocol_version = 1;
	st.num_cpus = 2;
	st.pages_per_cpu = 64;
	st.page_size = 4096;
	st.uptime_ns = 3723000000000ull;
	st.listeners = 3;
	st.events_read = 1000;
	lc[0].source = MESHMON__V1__LOSS_SOURCE__LOSS_SOURCE_RING;
	lc[0].cpu = 1;
	lc[0].count = 5;
	lc[1].source = MESHMON__V1__LOSS_SOURCE__LOSS_SOURCE_RATE_LIMIT;
	lc[1].cpu = MM_CPU_NONE;
	lc[1].count = 9;
	st.n_losses = 2;
	st.losses = lcs;
	st.n_interfaces = 2;
	st.interfaces = ifaces;
	st.cgroup = "/sys/fs/cgroup/unified/meshmon";
	st.rate_limit_per_sec = 1000;
	st.rate_limit_burst = 100;
	st.aggregation = MESHMON__V1__AGGREGATION_LEVEL__AGGREGATION_LEVEL_MEDIUM;
	st.aggregation_name = "medium";
	st.aggregation_interval_ns = 5000000000ull;
	st.capture_len = 128;
	ec[0].type = MESHMON__V1__EVENT_TYPE__EVENT_TYPE_TRACE;
	ec[0].count = 990;
	ec[1].type = 42;
	ec[1].count = 10;
	st.n_event_counts = 2;
	st.event_counts = ecs;
	st.tc_attach = "tcx";
	sm.msg_case = MESHMON__V1__SERVER_MESSAGE__MSG_STATUS;
	sm.status = &st;
	s = (struct bytes){ .b = { 0 }, .n = 1 };
	add_hello(&s, 128);
	add_frame(&s, &sm.base);
	put(t, "hello_status", s.b, s.n);

	er.code = MESHMON__V1__ERROR_CODE__ERROR_CODE_INVALID_SUBSCRIPTION;
	er.message = "invalid subscription: filter 0: source prefix length 33 exceeds 32";
	sm.msg_case = MESHMON__V1__SERVER_MESSAGE__MSG_ERROR;
	sm.error = &er;
	s = (struct bytes){ .b = { 0 }, .n = 1 };
	add_hello(&s, 128);
	add_frame(&s, &sm.base);
	put(t, "hello_error", s.b, s.n);

	/* A message kind from a newer agent (field 99), then a truncated frame. */
	{
		static const uint8_t newer[] = { 0, 0, 0, 0, 3, 0x9a, 0x06, 0x00, 0, 0, 1 };

		put(t, "newer_kind_truncated", newer, sizeof(newer));
	}
}

/* ------------------------------------------------------------- text */

static void text_corpus(void)
{
	static const struct {
		uint8_t sel;
		const char *text;
	} parsers[] = {
		{ 0, "10.0.0.0/8" }, { 0, "10.0.0.1:80" }, { 0, "[fd00::1]:443" },
		{ 0, "fd00::/64" }, { 0, ":53" }, { 0, "10.0.0.1:0" }, { 0, "[fd00::1" },
		/* "::1" and "::/0" were once taken for ":PORT" (found by fuzz_parsers) */
		{ 0, "::ffff:10.0.0.1" }, { 0, "::1" }, { 0, "::/0" },
		{ 1, "\x00" "192.168.0.0/16" }, { 1, "\x02" "fe80::1%eth0/64" },
		{ 1, "\x01" "10.1.2.3/33" },
		{ 2, "tcp" }, { 2, "ICMPv6" }, { 2, "255" }, { 2, "256" }, { 2, "-1" },
		{ 4, "\x01\x41" "abcdefghijklmnop" }, { 4, "\x00\x17" "\x0a\x01\xff\xff" },
		{ 5, "trace" }, { 5, "from-network" }, { 5, "maximum" }, { 5, "ingress" },
		{ 6, "2026-12-01T17:00:00Z" }, { 6, "2026-12-01 18:00:00.123456789+01:00" },
		{ 6, "2024-02-29T23:59:59.5-00:30" }, { 6, "1h30m" }, { 6, "30s" },
	};
	static const struct {
		uint8_t errlen;
		const char *text;
	} rules[] = {
		{ 160, "proto=tcp,src=10.0.0.0/8,dst=10.1.0.2/32,sport=1,dport=8080,dir=ingress" },
		{ 160, "proto=udp,dst=fd00::/64,dir=egress" },
		{ 160, "src=10.0.0.1,dst=fd00::1" },
		{ 8, "proto=bogus" },
		{ 0, "dport=0" },
		{ 160, ",,proto=17,,dir=any" },
		{ 160, "proto=tcp,proto=udp" },
		{ 1, "sport=65536" },
	};
	static const char *const sel_names[7] = { "endpoint", "cidr",  "ipproto", "u64",
						  "prefix",   "names", "time" };
	struct bytes s;
	char name[32];

	for (size_t i = 0; i < sizeof(parsers) / sizeof(parsers[0]); i++) {
		/* selector 1's text starts with a family byte that may be NUL */
		size_t n = parsers[i].sel == 1 ? 1 + strlen(parsers[i].text + 1)
			 : parsers[i].sel == 4 ? 2 + strlen(parsers[i].text + 2)
					       : strlen(parsers[i].text);

		s = (struct bytes){ .b = { parsers[i].sel }, .n = 1 };
		add(&s, parsers[i].text, n);
		snprintf(name, sizeof(name), "%s_%zu", sel_names[parsers[i].sel], i);
		put("fuzz_parsers", name, s.b, s.n);
	}
	/* selector 3: min 1, max 65535 (little-endian u64s), then the number */
	{
		uint64_t b[2] = { 1, 65535 };
		const char *nums[] = { "65535", "0", "65536", "007", "18446744073709551616" };

		for (size_t i = 0; i < 5; i++) {
			s = (struct bytes){ .b = { 3 }, .n = 1 };
			add(&s, b, sizeof(b));
			add_str(&s, nums[i]);
			snprintf(name, sizeof(name), "u64_%zu", i);
			put("fuzz_parsers", name, s.b, s.n);
		}
	}
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		s = (struct bytes){ .b = { rules[i].errlen }, .n = 1 };
		add_str(&s, rules[i].text);
		snprintf(name, sizeof(name), "rule_%zu", i);
		put("fuzz_deny", name, s.b, s.n);
	}
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR (writes DIR/<target>/...)\n", argv[0]);
		return 2;
	}
	root = argv[1];
	if (mkdir(root, 0755) && errno != EEXIST) {
		perror(root);
		return 1;
	}
	client_corpus();
	build_records();
	decode_corpus();
	server_corpus("fuzz_client_format");
	server_corpus("fuzz_unpack");
	text_corpus();
	return 0;
}
