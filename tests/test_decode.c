// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The record decoder (agent/decode.h): one raw record of each type, built
 * here, into an Event checked field by field; short records, unknown types and
 * layout versions, and captures running past the record are rejected. comm
 * and ifname come out valid UTF-8 with the raw bytes beside them only when
 * the source was not.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "framing.h"
#include "names.h"
#include "utf8.h"

#define FFFD MM_UTF8_REPLACEMENT

#define OFFSET 1000000000000000000ll /* wall - monotonic */

static const char *kernel_reason(unsigned int reason)
{
	return reason == 3 ? "NO_SOCKET" : NULL;
}

static const struct mm_ifname *fake_ifname(void *arg, unsigned int ifindex)
{
	static struct mm_ifname e;

	(void)arg;
	if (ifindex == 8)
		mm_ifname__set(&e, "\xffveth\xc3"); /* the kernel allows any byte but '/', ':' and space */
	else if (ifindex == 7)
		mm_ifname__set(&e, "veth-test");
	else
		return NULL;
	return &e;
}

static const struct mm_decode_ctx ctx = {
	.wall_offset_ns = OFFSET,
	.kernel_drop_reason_name = kernel_reason,
	.ifname = fake_ifname,
};

static struct mm_decoded out;

static void fini(void)
{
	mm_decoded__release(&out);
	memset(&out, 0, sizeof(out));
}

TestSuite(decode, .fini = fini);

static void hdr(struct mm_notify_hdr *h, unsigned int type, unsigned int subtype,
		unsigned int source, unsigned int version)
{
	h->type = type;
	h->subtype = subtype;
	h->source = source;
	h->version = version;
	h->flow_id = 0x614e9723;
	h->ktime_ns = 123456789;
}

static void tuple4(struct mm_tuple *t)
{
	inet_pton(AF_INET, "10.0.0.1", &t->saddr[0]);
	inet_pton(AF_INET, "10.0.0.2", &t->daddr[0]);
	t->sport = 41510;
	t->dport = 80;
	t->family = MM_FAMILY_IPV4;
	t->proto = IPPROTO_TCP;
	t->ethertype = 0x0800;
}

/* Record + captured bytes at an odd address, as perf data may be. */
static uint8_t *unaligned(const void *rec, size_t size, const void *cap, size_t cap_len,
			  uint8_t **base)
{
	*base = malloc(size + cap_len + 1);
	memcpy(*base + 1, rec, size);
	if (cap_len)
		memcpy(*base + 1 + size, cap, cap_len);
	return *base + 1;
}

static void expect_common(unsigned int type, unsigned int source, int cpu)
{
	cr_expect(eq(u64, out.ev.ktime_ns, 123456789));
	cr_expect(eq(u64, out.ev.time_ns, 123456789 + OFFSET));
	cr_expect(eq(u32, out.ev.cpu, (uint32_t)cpu));
	cr_expect(eq(int, out.ev.type, (int)type));
	cr_expect(eq(int, out.ev.source, (int)source));
	cr_expect(eq(u32, out.ev.flow_id, 0x614e9723));
	cr_expect(eq(u8, out.view.type, type));
}

static void expect_tuple4(void)
{
	static const uint8_t src[4] = { 10, 0, 0, 1 }, dst[4] = { 10, 0, 0, 2 };

	cr_assert(out.ev.tuple != NULL);
	cr_assert(eq(sz, out.ev.tuple->src.len, 4));
	cr_assert(eq(sz, out.ev.tuple->dst.len, 4));
	cr_expect(eq(int, memcmp(out.ev.tuple->src.data, src, 4), 0));
	cr_expect(eq(int, memcmp(out.ev.tuple->dst.data, dst, 4), 0));
	cr_expect(eq(u32, out.ev.tuple->sport, 41510));
	cr_expect(eq(u32, out.ev.tuple->dport, 80));
	cr_expect(eq(u32, out.ev.tuple->proto, IPPROTO_TCP));
	cr_expect(eq(u32, out.ev.tuple->ethertype, 0x0800));
	cr_expect(eq(u8, out.view.family, MM_FAMILY_IPV4));
	cr_expect(eq(int, memcmp(out.view.src, src, 4), 0));
	cr_expect(eq(int, memcmp(out.view.dst, dst, 4), 0));
	cr_expect(eq(u16, out.view.sport, 41510));
	cr_expect(eq(u16, out.view.dport, 80));
	cr_expect(eq(u8, out.view.proto, IPPROTO_TCP));
}

/* The decoded event packs and unpacks to the same thing. */
static void expect_packs(void)
{
	Meshmon__V1__ServerMessage m = MESHMON__V1__SERVER_MESSAGE__INIT;
	uint8_t *buf;
	size_t len;

	m.msg_case = MESHMON__V1__SERVER_MESSAGE__MSG_EVENT;
	m.event = &out.ev;
	cr_assert(eq(int, mm_frame__encode_server(&m, &buf, &len), 0));
	Meshmon__V1__ServerMessage *got = mm_frame__unpack_server(buf + 4, len - 4);
	cr_assert(got != NULL);
	cr_expect(eq(int, got->event->detail_case, out.ev.detail_case));
	cr_expect(eq(u64, got->event->time_ns, out.ev.time_ns));
	mm_frame__free_server(got);
	free(buf);
}

Test(decode, trace)
{
	struct mm_trace_record r = { 0 };
	uint8_t cap[20], *base;

	for (size_t i = 0; i < sizeof(cap); i++)
		cap[i] = (uint8_t)i;
	hdr(&r.hdr, MM_EVENT_TRACE, MM_POINT_TO_STACK, MM_SOURCE_TC, MM_TRACE_VERSION);
	r.cap.len_orig = 74;
	r.cap.cap_len = sizeof(cap);
	r.cap.layer = MM_LAYER_ETHERNET;
	tuple4(&r.tuple);
	r.ifindex = 7;
	r.state = MM_STATE_NEW;
	r.tcp_flags = MM_TCP_SYN;
	r.icmp_type = 8;
	r.icmp_code = 1;
	r.parse_error = MM_PARSE_TRUNCATED_L4;
	r.folded = 9;

	uint8_t *p = unaligned(&r, sizeof(r), cap, sizeof(cap), &base);

	cr_assert(eq(int, mm_decode(&ctx, p, sizeof(r) + sizeof(cap), 2, &out), 0));
	expect_common(MM_EVENT_TRACE, MM_SOURCE_TC, 2);
	expect_tuple4();
	cr_expect(eq(u32, out.ev.ifindex, 7));
	cr_expect(eq(str, out.ev.ifname, "veth-test"));
	cr_expect(eq(u32, out.ev.len, 74));
	cr_expect(eq(u32, out.ev.cap_len, sizeof(cap)));
	cr_assert(eq(sz, out.ev.captured.len, sizeof(cap)));
	cr_expect(eq(int, memcmp(out.ev.captured.data, cap, sizeof(cap)), 0));
	cr_expect(eq(int, out.ev.layer, MESHMON__V1__CAPTURE_LAYER__CAPTURE_LAYER_ETHERNET));
	cr_assert(eq(int, out.ev.detail_case, MESHMON__V1__EVENT__DETAIL_TRACE));
	cr_expect(eq(int, out.ev.trace->point, MM_POINT_TO_STACK));
	cr_expect(eq(int, out.ev.trace->state, MM_STATE_NEW));
	cr_expect(eq(u32, out.ev.trace->tcp_flags, MM_TCP_SYN));
	cr_expect(eq(u32, out.ev.trace->icmp_type, 8));
	cr_expect(eq(u32, out.ev.trace->icmp_code, 1));
	cr_expect(eq(int, out.ev.trace->parse_error, MM_PARSE_TRUNCATED_L4));
	cr_expect(eq(u32, out.ev.trace->folded, 9));
	cr_expect(eq(u8, out.view.point, MM_POINT_TO_STACK));
	expect_packs();
	/* the decoded event does not point into the record */
	memset(base, 0xee, sizeof(r) + sizeof(cap) + 1);
	cr_expect(eq(int, memcmp(out.ev.captured.data, cap, sizeof(cap)), 0));
	cr_expect(eq(u32, out.ev.tuple->sport, 41510));
	free(base);
}

/* An endpoint trace (source cgroup_skb): the owner after the trace record, then the packet. */
Test(decode, endpoint_trace)
{
	struct mm_endpoint_trace_record r = { 0 };
	uint8_t cap[12], *base;

	for (size_t i = 0; i < sizeof(cap); i++)
		cap[i] = (uint8_t)(0x45 + i);
	hdr(&r.trace.hdr, MM_EVENT_TRACE, MM_POINT_TO_ENDPOINT, MM_SOURCE_CGROUP_SKB,
	    MM_TRACE_VERSION);
	r.trace.cap.len_orig = 60;
	r.trace.cap.cap_len = sizeof(cap);
	r.trace.cap.layer = MM_LAYER_NETWORK;
	tuple4(&r.trace.tuple);
	r.trace.ifindex = 7;
	r.trace.state = MM_STATE_REPLY;
	r.trace.tcp_flags = MM_TCP_ACK;
	r.owner.cgroup_id = 0x1122334455ull;
	r.owner.cookie = 0x8877665544332211ull;
	r.owner.pid = 4242;
	r.owner.netns = 4026531840u;
	memcpy(r.owner.comm, "curl", 5);

	uint8_t *p = unaligned(&r, sizeof(r), cap, sizeof(cap), &base);

	cr_assert(eq(int, mm_decode(&ctx, p, sizeof(r) + sizeof(cap), 1, &out), 0));
	expect_common(MM_EVENT_TRACE, MM_SOURCE_CGROUP_SKB, 1);
	expect_tuple4();
	cr_expect(eq(u32, out.ev.len, 60));
	cr_assert(eq(sz, out.ev.captured.len, sizeof(cap)), "the packet after the owner");
	cr_expect(eq(int, memcmp(out.ev.captured.data, cap, sizeof(cap)), 0));
	cr_expect(eq(int, out.ev.layer, MESHMON__V1__CAPTURE_LAYER__CAPTURE_LAYER_NETWORK));
	cr_assert(eq(int, out.ev.detail_case, MESHMON__V1__EVENT__DETAIL_TRACE));
	cr_expect(eq(int, out.ev.trace->point, MM_POINT_TO_ENDPOINT));
	cr_expect(eq(int, out.ev.trace->state, MM_STATE_REPLY));
	cr_expect(eq(u64, out.ev.trace->cgroup_id, 0x1122334455ull));
	cr_expect(eq(u64, out.ev.trace->socket_cookie, 0x8877665544332211ull));
	cr_expect(eq(u32, out.ev.trace->pid, 4242));
	cr_expect(eq(u32, out.ev.trace->netns, 4026531840u));
	cr_expect(eq(str, out.ev.trace->comm, "curl"));
	cr_expect(eq(sz, out.ev.trace->comm_raw.len, 0));
	cr_expect(eq(u8, out.view.point, MM_POINT_TO_ENDPOINT));
	expect_packs();
	free(base);

	/* A comm that is not UTF-8 (all 16 bytes, no NUL): sanitized, the raw bytes beside. */
	memset(r.owner.comm, 0xff, sizeof(r.owner.comm));
	r.trace.cap.cap_len = 0;
	cr_assert(eq(int, mm_decode(&ctx, &r, sizeof(r), 1, &out), 0));
	cr_expect(eq(sz, out.ev.trace->comm_raw.len, 16));
	cr_expect(mm_utf8_valid(out.ev.trace->comm, strlen(out.ev.trace->comm)));
	cr_expect(not(eq(ptr, strstr(out.ev.trace->comm, FFFD), NULL)));

	/* Short: the owner missing (a tc-sized record), or the packet past the end. */
	cr_expect(eq(int, mm_decode(&ctx, &r, sizeof(r.trace), 1, &out), MM_DECODE_SHORT));
	cr_expect(eq(int, mm_decode(&ctx, &r, sizeof(r) - 1, 1, &out), MM_DECODE_SHORT));
	r.trace.cap.cap_len = 1;
	cr_expect(eq(int, mm_decode(&ctx, &r, sizeof(r), 1, &out), MM_DECODE_SHORT));
	/* A tc trace stays 80 bytes and has no owner. */
	r.trace.hdr.source = MM_SOURCE_TC;
	r.trace.cap.cap_len = 0;
	cr_expect(eq(int, mm_decode(&ctx, &r, sizeof(r.trace), 1, &out), 0));
	cr_expect(eq(u32, out.ev.trace->pid, 0));
	cr_expect(eq(u64, out.ev.trace->socket_cookie, 0));
	cr_expect(eq(sz, mm_record_size(mm_record_layout(MM_EVENT_TRACE), MM_SOURCE_TC), 80));
	cr_expect(eq(sz, mm_record_size(mm_record_layout(MM_EVENT_TRACE), MM_SOURCE_CGROUP_SKB),
		     120));
}

Test(decode, trace_ipv6_and_not_ip)
{
	struct mm_trace_record r = { 0 };
	uint8_t want[16];

	hdr(&r.hdr, MM_EVENT_TRACE, MM_POINT_FROM_NETWORK, MM_SOURCE_TC, MM_TRACE_VERSION);
	inet_pton(AF_INET6, "2001:db8::1", r.tuple.saddr);
	inet_pton(AF_INET6, "2001:db8::2", r.tuple.daddr);
	r.tuple.family = MM_FAMILY_IPV6;
	r.tuple.proto = IPPROTO_UDP;
	r.tuple.ethertype = 0x86dd;
	r.ifindex = 99; /* no name known */
	cr_assert(eq(int, mm_decode(&ctx, &r, sizeof(r), 0, &out), 0));
	inet_pton(AF_INET6, "2001:db8::2", want);
	cr_assert(eq(sz, out.ev.tuple->dst.len, 16));
	cr_expect(eq(int, memcmp(out.ev.tuple->dst.data, want, 16), 0));
	cr_expect(eq(u8, out.view.family, MM_FAMILY_IPV6));
	cr_expect(eq(int, memcmp(out.view.dst, want, 16), 0));
	cr_expect(eq(str, out.ev.ifname, ""));
	cr_expect(eq(u32, out.ev.cap_len, 0));
	cr_expect(eq(int, out.ev.layer, 0));

	memset(&r.tuple, 0, sizeof(r.tuple));
	r.tuple.ethertype = 0x0806; /* ARP */
	r.parse_error = MM_PARSE_NOT_IP;
	cr_assert(eq(int, mm_decode(&ctx, &r, sizeof(r), 0, &out), 0));
	cr_expect(eq(sz, out.ev.tuple->src.len, 0));
	cr_expect(eq(sz, out.ev.tuple->dst.len, 0));
	cr_expect(eq(u32, out.ev.tuple->ethertype, 0x0806));
	cr_expect(eq(u8, out.view.family, MM_FAMILY_NONE));
	cr_expect(eq(int, out.ev.trace->parse_error, MM_PARSE_NOT_IP));
}

Test(decode, drop_datapath)
{
	struct mm_drop_record r = { 0 };
	uint8_t cap[4] = { 0x45, 0, 0, 0x54 }, *base;

	hdr(&r.hdr, MM_EVENT_DROP, MM_POINT_TO_NETWORK, MM_SOURCE_TC, MM_DROP_VERSION);
	r.cap.len_orig = 84;
	r.cap.cap_len = 4;
	r.cap.layer = MM_LAYER_NETWORK;
	tuple4(&r.tuple);
	r.ifindex = 7;
	r.reason = MM_DROP_POLICY_DENIED;
	r.ext_error = 12;
	r.file = MM_FILE_DENY_BPF_H;
	r.line = 321;
	r.folded = 4;
	r.netns = 4026531840u;
	r.location = 0;

	uint8_t *p = unaligned(&r, sizeof(r), cap, 4, &base);

	cr_assert(eq(int, mm_decode(&ctx, p, sizeof(r) + 4, 1, &out), 0));
	expect_common(MM_EVENT_DROP, MM_SOURCE_TC, 1);
	expect_tuple4();
	cr_expect(eq(str, out.ev.ifname, "veth-test"));
	cr_expect(eq(u32, out.ev.len, 84));
	cr_expect(eq(u32, out.ev.cap_len, 4));
	cr_expect(eq(int, memcmp(out.ev.captured.data, cap, 4), 0));
	cr_expect(eq(int, out.ev.layer, MESHMON__V1__CAPTURE_LAYER__CAPTURE_LAYER_NETWORK));
	cr_assert(eq(int, out.ev.detail_case, MESHMON__V1__EVENT__DETAIL_DROP));
	cr_expect(eq(int, out.ev.drop->point, MM_POINT_TO_NETWORK));
	cr_expect(eq(u32, out.ev.drop->reason_code, MM_DROP_POLICY_DENIED));
	cr_expect(eq(str, out.ev.drop->reason, "POLICY_DENIED"));
	cr_expect(eq(str, out.ev.drop->reason_text, "Policy denied"));
	cr_expect(eq(u32, out.ev.drop->ext_error, 12));
	cr_expect(eq(str, out.ev.drop->file, "deny.bpf.h"));
	cr_expect(eq(u32, out.ev.drop->file_id, MM_FILE_DENY_BPF_H));
	cr_expect(eq(u32, out.ev.drop->line, 321));
	cr_expect(eq(u32, out.ev.drop->folded, 4));
	cr_expect(eq(u32, out.ev.drop->netns, 4026531840u));
	cr_expect(eq(u64, out.ev.drop->location, 0));
	cr_expect(eq(u8, out.view.point, MM_POINT_TO_NETWORK));
	expect_packs();
	free(base);
}

Test(decode, policy_verdict)
{
	struct mm_policy_verdict_record r = { 0 };

	hdr(&r.hdr, MM_EVENT_POLICY_VERDICT, MM_POINT_FROM_NETWORK, MM_SOURCE_TC,
	    MM_POLICY_VERDICT_VERSION);
	tuple4(&r.tuple);
	r.ifindex = 7;
	r.verdict = MM_VERDICT_DENIED;
	r.rule_id = 30;
	r.tcp_flags = MM_TCP_SYN;
	r.folded = 2;
	cr_assert(eq(int, mm_decode(&ctx, &r, sizeof(r), 1, &out), 0));
	expect_common(MM_EVENT_POLICY_VERDICT, MM_SOURCE_TC, 1);
	expect_tuple4();
	cr_expect(eq(str, out.ev.ifname, "veth-test"));
	cr_expect(eq(u32, out.ev.cap_len, 0));
	cr_assert(eq(int, out.ev.detail_case, MESHMON__V1__EVENT__DETAIL_POLICY_VERDICT));
	cr_expect(eq(int, out.ev.policy_verdict->point, MESHMON__V1__TRACE_POINT__TRACE_POINT_FROM_NETWORK));
	cr_expect(eq(int, out.ev.policy_verdict->verdict, MESHMON__V1__VERDICT__VERDICT_DENIED));
	cr_expect(eq(u32, out.ev.policy_verdict->rule_id, 30));
	cr_expect(eq(u32, out.ev.policy_verdict->tcp_flags, MM_TCP_SYN));
	cr_expect(eq(u32, out.ev.policy_verdict->folded, 2));
	/* What the filters match: type, point and the TCP flags of the packet. */
	cr_expect(eq(u8, out.view.type, MM_EVENT_POLICY_VERDICT));
	cr_expect(eq(u8, out.view.point, MM_POINT_FROM_NETWORK));
	cr_expect(eq(u8, out.view.has_tcp_flags, 1));
	cr_expect(eq(u8, out.view.tcp_flags, MM_TCP_SYN));
	expect_packs();
}

Test(decode, drop_kernel)
{
	struct mm_drop_record r = { 0 };

	hdr(&r.hdr, MM_EVENT_DROP, MM_POINT_KERNEL, MM_SOURCE_KERNEL, MM_DROP_VERSION);
	tuple4(&r.tuple);
	r.reason = 3;
	r.location = 0xffffffff81abcdefull;
	r.netns = 4026532000u;
	cr_assert(eq(int, mm_decode(&ctx, &r, sizeof(r), 5, &out), 0));
	expect_common(MM_EVENT_DROP, MM_SOURCE_KERNEL, 5);
	cr_expect(eq(u32, out.ev.drop->reason_code, 3));
	cr_expect(eq(str, out.ev.drop->reason, "NO_SOCKET"));
	cr_expect(eq(str, out.ev.drop->reason_text, "NO_SOCKET"));
	cr_expect(eq(str, out.ev.drop->file, ""));
	cr_expect(eq(u64, out.ev.drop->location, 0xffffffff81abcdefull));
	cr_expect(eq(u32, out.ev.drop->netns, 4026532000u));
	/* a reason the callback does not know: empty name, code kept */
	r.reason = 4242;
	cr_assert(eq(int, mm_decode(&ctx, &r, sizeof(r), 5, &out), 0));
	cr_expect(eq(str, out.ev.drop->reason, ""));
	cr_expect(eq(u32, out.ev.drop->reason_code, 4242));
	/* no callback at all */
	struct mm_decode_ctx bare = { 0 };

	cr_assert(eq(int, mm_decode(&bare, &r, sizeof(r), 5, &out), 0));
	cr_expect(eq(str, out.ev.drop->reason, ""));
	cr_expect(eq(str, out.ev.ifname, ""));
}

/* A symbolizer that knows one address; the argument is passed through. */
static int fake_symbolize(void *arg, uint64_t addr, char *buf, size_t len)
{
	if (addr != 0xffffffff81abcdefull || arg != (void *)&fake_symbolize)
		return -ENOENT;
	if (len < sizeof("ping_rcv+0xab"))
		return -ENOSPC;
	strcpy(buf, "ping_rcv+0xab");
	return (int)strlen(buf);
}

Test(decode, drop_kernel_symbol)
{
	struct mm_decode_ctx sym = ctx;
	struct mm_drop_record r = { 0 };

	sym.symbolize = fake_symbolize;
	sym.symbolize_arg = (void *)&fake_symbolize;
	hdr(&r.hdr, MM_EVENT_DROP, MM_POINT_KERNEL, MM_SOURCE_KERNEL, MM_DROP_VERSION);
	r.reason = 3;
	r.location = 0xffffffff81abcdefull;
	cr_assert(eq(int, mm_decode(&sym, &r, sizeof(r), 0, &out), 0));
	cr_expect(eq(str, out.ev.drop->symbol, "ping_rcv+0xab"));
	cr_expect(eq(u64, out.ev.drop->location, 0xffffffff81abcdefull));
	/* unknown to the symbolizer: empty, the address still there */
	r.location = 0xffffffff81000000ull;
	cr_assert(eq(int, mm_decode(&sym, &r, sizeof(r), 0, &out), 0));
	cr_expect(eq(str, out.ev.drop->symbol, ""));
	cr_expect(eq(u64, out.ev.drop->location, 0xffffffff81000000ull));
	/* a tc drop is never symbolized (its site is file:line) */
	hdr(&r.hdr, MM_EVENT_DROP, MM_POINT_FROM_NETWORK, MM_SOURCE_TC, MM_DROP_VERSION);
	r.location = 0xffffffff81abcdefull;
	cr_assert(eq(int, mm_decode(&sym, &r, sizeof(r), 0, &out), 0));
	cr_expect(eq(str, out.ev.drop->symbol, ""));
}

Test(decode, capture)
{
	struct mm_capture_record r = { 0 };
	uint8_t cap[60], *base;

	memset(cap, 0xab, sizeof(cap));
	hdr(&r.hdr, MM_EVENT_CAPTURE, MM_POINT_FROM_NETWORK, MM_SOURCE_TC, MM_CAPTURE_VERSION);
	r.cap.len_orig = 1000;
	r.cap.cap_len = sizeof(cap);
	r.cap.layer = MM_LAYER_ETHERNET;
	r.ifindex = 7;

	uint8_t *p = unaligned(&r, sizeof(r), cap, sizeof(cap), &base);

	cr_assert(eq(int, mm_decode(&ctx, p, sizeof(r) + sizeof(cap), 3, &out), 0));
	expect_common(MM_EVENT_CAPTURE, MM_SOURCE_TC, 3);
	cr_expect(out.ev.tuple == NULL);
	cr_expect(eq(u8, out.view.family, MM_FAMILY_NONE));
	cr_expect(eq(u32, out.ev.ifindex, 7));
	cr_expect(eq(str, out.ev.ifname, "veth-test"));
	cr_expect(eq(u32, out.ev.len, 1000));
	cr_expect(eq(u32, out.ev.cap_len, 60));
	cr_expect(eq(int, memcmp(out.ev.captured.data, cap, sizeof(cap)), 0));
	cr_assert(eq(int, out.ev.detail_case, MESHMON__V1__EVENT__DETAIL_CAPTURE));
	cr_expect(eq(int, out.ev.capture->point, MM_POINT_FROM_NETWORK));
	expect_packs();
	free(base);
}

Test(decode, capture_longer_than_inline_buffer)
{
	size_t n = MM_CAPTURE_MAX + 500;
	struct mm_capture_record r = { 0 };
	uint8_t *cap = malloc(n), *base;

	for (size_t i = 0; i < n; i++)
		cap[i] = (uint8_t)(i * 7);
	hdr(&r.hdr, MM_EVENT_CAPTURE, MM_POINT_FROM_NETWORK, MM_SOURCE_TC, MM_CAPTURE_VERSION);
	r.cap.len_orig = (uint32_t)n;
	r.cap.cap_len = (uint16_t)n;
	r.cap.layer = MM_LAYER_ETHERNET;
	uint8_t *p = unaligned(&r, sizeof(r), cap, n, &base);

	cr_assert(eq(int, mm_decode(&ctx, p, sizeof(r) + n, 0, &out), 0));
	cr_assert(eq(sz, out.ev.captured.len, n));
	cr_expect(eq(int, memcmp(out.ev.captured.data, cap, n), 0));
	const uint8_t *first = out.ev.captured.data;

	/* decoding again into the same storage reuses its buffer: no allocation per event */
	cr_assert(eq(int, mm_decode(&ctx, p, sizeof(r) + n, 0, &out), 0));
	cr_expect(eq(ptr, (void *)out.ev.captured.data, (void *)first));
	cr_expect(eq(int, memcmp(out.ev.captured.data, cap, n), 0));
	free(base);
	free(cap);
}

Test(decode, debug)
{
	struct mm_debug_record r = { 0 };

	hdr(&r.hdr, MM_EVENT_DEBUG, MM_DBG_FLOW_LOOKUP, MM_SOURCE_TC, MM_DEBUG_VERSION);
	r.ifindex = 7;
	r.arg1 = 2;
	r.arg2 = 7;
	r.arg3 = 0x614e9723;
	cr_assert(eq(int, mm_decode(&ctx, &r, sizeof(r), 0, &out), 0));
	expect_common(MM_EVENT_DEBUG, MM_SOURCE_TC, 0);
	cr_expect(out.ev.tuple == NULL);
	cr_expect(eq(u8, out.view.family, MM_FAMILY_NONE));
	cr_expect(eq(u8, out.view.point, 0));
	cr_expect(eq(str, out.ev.ifname, "veth-test"));
	cr_assert(eq(int, out.ev.detail_case, MESHMON__V1__EVENT__DETAIL_DEBUG));
	cr_expect(eq(int, out.ev.debug->subtype, MM_DBG_FLOW_LOOKUP));
	cr_expect(eq(u32, out.ev.debug->arg1, 2));
	cr_expect(eq(u32, out.ev.debug->arg2, 7));
	cr_expect(eq(u32, out.ev.debug->arg3, 0x614e9723));
	cr_expect(eq(str, out.ev.debug->message, "Flow lookup: state=2 ifindex=7 flow=0x614e9723"));
	expect_packs();

	/* an unknown subtype still decodes, with an empty message */
	r.hdr.subtype = 200;
	cr_assert(eq(int, mm_decode(&ctx, &r, sizeof(r), 0, &out), 0));
	cr_expect(eq(str, out.ev.debug->message, ""));
	cr_expect(eq(u32, out.ev.debug->arg1, 2));
}

Test(decode, every_debug_format_is_valid)
{
	uint32_t args[3] = { 1, 2, 3 };
	char buf[160];

#define CHECK_FMT(name, value, s, fmt) \
	cr_expect(mm_debug_message(buf, sizeof(buf), fmt, args) > 0, "debug format %s", s);
	MM_DEBUG_TYPES(CHECK_FMT)
#undef CHECK_FMT
}

Test(decode, debug_message_formatter)
{
	uint32_t args[3] = { 10, 255, 3 };
	char buf[16];

	cr_expect(eq(int, mm_debug_message(buf, sizeof(buf), "a=%u b=%x %%", args), 11));
	cr_expect(eq(str, buf, "a=10 b=ff %"));
	cr_expect(eq(int, mm_debug_message(buf, sizeof(buf), "%s", args), -EINVAL));
	cr_expect(eq(int, mm_debug_message(buf, sizeof(buf), "%n", args), -EINVAL));
	cr_expect(eq(int, mm_debug_message(buf, sizeof(buf), "%08x", args), -EINVAL));
	cr_expect(eq(int, mm_debug_message(buf, sizeof(buf), "%u%u%u%u", args), -EINVAL));
	cr_expect(eq(int, mm_debug_message(buf, sizeof(buf), "trailing %", args), -EINVAL));
	/* truncation keeps the string terminated */
	cr_expect(eq(int, mm_debug_message(buf, 5, "%u%u%u", args), 4));
	cr_expect(eq(str, buf, "1025"));
}

Test(decode, tcp_probe)
{
	struct mm_tcp_probe_record r = { 0 };
	uint8_t *base;

	hdr(&r.hdr, MM_EVENT_TCP_PROBE, MM_PROBE_CLOSED, MM_SOURCE_SOCKOPS, MM_TCP_PROBE_VERSION);
	tuple4(&r.tuple);
	r.direction = MM_PROBE_DIR_OUTBOUND;
	r.flags = MM_PROBE_F_CONN_SUCCESS;
	r.tcp_state = 7;
	r.pid = 4242;
	memcpy(r.comm, "curl-with-a-long", 16); /* 16 bytes, no NUL */
	r.start_ns = 1000;
	r.duration_ns = 5000000000ull;
	r.bytes_sent = 1ull << 33;
	r.bytes_received = (1ull << 32) + 5;
	r.segs_in = 11;
	r.segs_out = 12;
	r.data_segs_in = 13;
	r.data_segs_out = 14;
	r.srtt_us = 150;
	r.min_rtt_us = 90;
	r.snd_cwnd = 10;
	r.total_retrans = 2;
	r.lost_out = 1;
	r.delivered = 20;
	r.cgroup_id = 0x123456789ull;
	r.netns = 4026531840u;
	r.ifindex = 0;

	uint8_t *p = unaligned(&r, sizeof(r), NULL, 0, &base);

	cr_assert(eq(int, mm_decode(&ctx, p, sizeof(r), 6, &out), 0));
	expect_common(MM_EVENT_TCP_PROBE, MM_SOURCE_SOCKOPS, 6);
	expect_tuple4();
	cr_expect(eq(u32, out.ev.ifindex, 0));
	cr_expect(eq(str, out.ev.ifname, ""));
	cr_expect(eq(u32, out.ev.cap_len, 0));
	cr_expect(eq(u8, out.view.point, 0));
	cr_assert(eq(int, out.ev.detail_case, MESHMON__V1__EVENT__DETAIL_TCP_PROBE));
	Meshmon__V1__TcpProbe *t = out.ev.tcp_probe;

	cr_expect(eq(int, t->state, MM_PROBE_CLOSED));
	cr_expect(eq(int, t->direction, MM_PROBE_DIR_OUTBOUND));
	cr_expect(eq(int, t->conn_success, 1));
	cr_expect(eq(int, t->preexisting, 0));
	cr_expect(eq(u32, t->pid, 4242));
	cr_expect(eq(str, t->comm, "curl-with-a-long"));
	cr_expect(eq(u64, t->start_time_ns, 1000 + OFFSET));
	cr_expect(eq(u64, t->duration_ns, 5000000000ull));
	cr_expect(eq(u64, t->bytes_sent, 1ull << 33));
	cr_expect(eq(u64, t->bytes_received, (1ull << 32) + 5));
	cr_expect(eq(u32, t->segs_in, 11));
	cr_expect(eq(u32, t->segs_out, 12));
	cr_expect(eq(u32, t->data_segs_in, 13));
	cr_expect(eq(u32, t->data_segs_out, 14));
	cr_expect(eq(u32, t->srtt_us, 150));
	cr_expect(eq(u32, t->min_rtt_us, 90));
	cr_expect(eq(u32, t->snd_cwnd, 10));
	cr_expect(eq(u32, t->total_retrans, 2));
	cr_expect(eq(u32, t->lost_out, 1));
	cr_expect(eq(u32, t->delivered, 20));
	cr_expect(eq(u64, t->cgroup_id, 0x123456789ull));
	cr_expect(eq(u32, t->netns, 4026531840u));
	cr_expect(eq(u32, t->tcp_state, 7));
	expect_packs();

	/* preexisting: no start time */
	r.flags = MM_PROBE_F_PREEXISTING;
	r.start_ns = 0;
	cr_assert(eq(int, mm_decode(&ctx, p, sizeof(r), 6, &out), 0));
	cr_expect(eq(int, out.ev.tcp_probe->preexisting, 0)); /* p still holds the old copy */
	memcpy(p, &r, sizeof(r));
	cr_assert(eq(int, mm_decode(&ctx, p, sizeof(r), 6, &out), 0));
	cr_expect(eq(int, out.ev.tcp_probe->preexisting, 1));
	cr_expect(eq(int, out.ev.tcp_probe->conn_success, 0));
	cr_expect(eq(u64, out.ev.tcp_probe->start_time_ns, 0));
	free(base);
}

/* A tcp_probe record with comm as the kernel would give it (16 bytes), decoded and packed. */
static Meshmon__V1__ServerMessage *decode_comm(const char *comm, size_t len, unsigned int ifindex)
{
	Meshmon__V1__ServerMessage m = MESHMON__V1__SERVER_MESSAGE__INIT;
	struct mm_tcp_probe_record r = { 0 };
	uint8_t *buf;
	size_t n;

	hdr(&r.hdr, MM_EVENT_TCP_PROBE, MM_PROBE_OPEN, MM_SOURCE_SOCKOPS, MM_TCP_PROBE_VERSION);
	tuple4(&r.tuple);
	r.ifindex = ifindex;
	memcpy(r.comm, comm, len);
	cr_assert(eq(int, mm_decode(&ctx, &r, sizeof(r), 0, &out), 0));
	cr_assert(mm_utf8_valid(out.ev.tcp_probe->comm, strlen(out.ev.tcp_probe->comm)));
	cr_assert(mm_utf8_valid(out.ev.ifname, strlen(out.ev.ifname)));
	m.msg_case = MESHMON__V1__SERVER_MESSAGE__MSG_EVENT;
	m.event = &out.ev;
	cr_assert(eq(int, mm_frame__encode_server(&m, &buf, &n), 0));
	Meshmon__V1__ServerMessage *got = mm_frame__unpack_server(buf + 4, n - 4);
	free(buf);
	cr_assert(got != NULL && got->event && got->event->tcp_probe);
	return got;
}

static void expect_bytes(const ProtobufCBinaryData *b, const char *want, size_t len)
{
	cr_assert(eq(sz, b->len, len));
	if (len) /* an empty field has no data pointer */
		cr_assert(eq(int, memcmp(b->data, want, len), 0));
}

/* comm is any process's to set: the string is valid UTF-8, the raw bytes ride beside it. */
Test(decode, tcp_probe_comm_is_valid_utf8)
{
	static const struct {
		const char *comm; /* the record's 16 bytes (the rest zero) */
		size_t len, raw_len;
		const char *want;
	} t[] = {
		{ "\xff\xfe", 2, 2, FFFD FFFD },
		/* prctl(PR_SET_NAME) keeps 15 bytes: cut inside the 3-byte U+20AC */
		{ "abcdefghijklm\xe2\x82", 15, 15, "abcdefghijklm" FFFD },
		{ "\xed\xa0\x80sh", 5, 5, FFFD FFFD FFFD "sh" },  /* a surrogate */
		{ "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 16, 16,
		  FFFD FFFD FFFD FFFD FFFD FFFD FFFD FFFD FFFD FFFD FFFD FFFD FFFD FFFD FFFD FFFD },
		/* valid: no raw */
		{ "caf\xc3\xa9-\xe2\x82\xac", 9, 0, "caf\xc3\xa9-\xe2\x82\xac" },
		{ "curl", 4, 0, "curl" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		Meshmon__V1__ServerMessage *got = decode_comm(t[i].comm, t[i].len, 0);
		const Meshmon__V1__TcpProbe *p = got->event->tcp_probe;

		cr_assert(eq(str, out.ev.tcp_probe->comm, (char *)t[i].want), "case %zu", i);
		expect_bytes(&out.ev.tcp_probe->comm_raw, t[i].comm, t[i].raw_len);
		/* and so on the wire */
		cr_assert(eq(str, p->comm, (char *)t[i].want), "case %zu", i);
		expect_bytes(&p->comm_raw, t[i].comm, t[i].raw_len);
		cr_assert(eq(sz, got->event->ifname_raw.len, 0));
		mm_frame__free_server(got);
	}
}

/* An interface name gets the same treatment; a clean event carries nothing extra. */
Test(decode, ifname_is_valid_utf8)
{
	Meshmon__V1__ServerMessage *got = decode_comm("\xff\xfe", 2, 8);

	cr_assert(eq(str, got->event->ifname, FFFD "veth" FFFD));
	expect_bytes(&got->event->ifname_raw, "\xffveth\xc3", 6);
	mm_frame__free_server(got);

	/* the next event into the same storage starts clean */
	got = decode_comm("curl", 4, 7);
	cr_assert(eq(str, got->event->ifname, "veth-test"));
	cr_assert(eq(sz, got->event->ifname_raw.len, 0));
	cr_assert(eq(sz, got->event->tcp_probe->comm_raw.len, 0));
	cr_assert(eq(sz, out.ev.ifname_raw.len, 0));
	cr_assert(eq(sz, out.ev.tcp_probe->comm_raw.len, 0));
	mm_frame__free_server(got);
}

Test(decode, short_records)
{
	struct mm_trace_record t = { 0 };
	struct mm_tcp_probe_record p = { 0 };
	struct mm_debug_record d = { 0 };

	hdr(&t.hdr, MM_EVENT_TRACE, 1, MM_SOURCE_TC, MM_TRACE_VERSION);
	hdr(&p.hdr, MM_EVENT_TCP_PROBE, 1, MM_SOURCE_SOCKOPS, MM_TCP_PROBE_VERSION);
	hdr(&d.hdr, MM_EVENT_DEBUG, 1, MM_SOURCE_TC, MM_DEBUG_VERSION);
	cr_expect(eq(int, mm_decode(&ctx, &t, 0, 0, &out), MM_DECODE_SHORT));
	cr_expect(eq(int, mm_decode(&ctx, &t, 15, 0, &out), MM_DECODE_SHORT));
	cr_expect(eq(int, mm_decode(&ctx, &t, sizeof(t) - 1, 0, &out), MM_DECODE_SHORT));
	cr_expect(eq(int, mm_decode(&ctx, &p, sizeof(p) - 1, 0, &out), MM_DECODE_SHORT));
	cr_expect(eq(int, mm_decode(&ctx, &d, sizeof(d) - 1, 0, &out), MM_DECODE_SHORT));
	cr_expect(eq(int, mm_decode(&ctx, &d, sizeof(d), 0, &out), 0));
}

Test(decode, cap_len_beyond_size)
{
	uint8_t buf[sizeof(struct mm_drop_record) + 10] = { 0 };
	struct mm_drop_record r = { 0 };

	hdr(&r.hdr, MM_EVENT_DROP, 1, MM_SOURCE_TC, MM_DROP_VERSION);
	r.cap.cap_len = 11;
	memcpy(buf, &r, sizeof(r));
	cr_expect(eq(int, mm_decode(&ctx, buf, sizeof(buf), 0, &out), MM_DECODE_SHORT));
	r.cap.cap_len = 65535;
	memcpy(buf, &r, sizeof(r));
	cr_expect(eq(int, mm_decode(&ctx, buf, sizeof(buf), 0, &out), MM_DECODE_SHORT));
	r.cap.cap_len = 10;
	memcpy(buf, &r, sizeof(r));
	cr_expect(eq(int, mm_decode(&ctx, buf, sizeof(buf), 0, &out), 0));
	cr_expect(eq(sz, out.ev.captured.len, 10));
}

Test(decode, unknown_types_and_versions)
{
	struct mm_trace_record r = { 0 };

	hdr(&r.hdr, 0, 0, MM_SOURCE_TC, 1);
	cr_expect(eq(int, mm_decode(&ctx, &r, sizeof(r), 0, &out), MM_DECODE_UNKNOWN));
	r.hdr.type = 6; /* a number no type has */
	cr_expect(eq(int, mm_decode(&ctx, &r, sizeof(r), 0, &out), MM_DECODE_UNKNOWN));
	r.hdr.type = 255;
	cr_expect(eq(int, mm_decode(&ctx, &r, sizeof(r), 0, &out), MM_DECODE_UNKNOWN));
	r.hdr.type = MM_EVENT_TRACE;
	r.hdr.version = MM_TRACE_VERSION + 1;
	cr_expect(eq(int, mm_decode(&ctx, &r, sizeof(r), 0, &out), MM_DECODE_UNKNOWN));
}

/* Every row of MM_RECORD_TYPES decodes at its size and version, and only then. */
Test(decode, every_record_type_of_the_table)
{
	static const struct {
		unsigned int type, version;
		size_t size;
		const char *name;
	} rows[] = {
#define X(type_, short_, struct_, version_, capture_) \
	{MM_EVENT_##type_, version_, sizeof(struct_), #short_},
		MM_RECORD_TYPES(X)
#undef X
	};
	uint8_t buf[512] = { 0 };

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct mm_record_layout *l = mm_record_layout(rows[i].type);
		struct mm_notify_hdr *h = (struct mm_notify_hdr *)buf;

		cr_assert(not(eq(ptr, (void *)l, NULL)), "%s", rows[i].name);
		cr_expect(eq(sz, l->size, rows[i].size), "%s", rows[i].name);
		cr_expect(eq(str, (char *)l->name, (char *)mm_event_type_name(rows[i].type)));
		memset(buf, 0, sizeof(buf));
		hdr(h, (uint8_t)rows[i].type, 1, MM_SOURCE_TC, (uint8_t)rows[i].version);
		cr_expect(eq(int, mm_decode(&ctx, buf, rows[i].size, 0, &out), 0), "%s",
			  rows[i].name);
		cr_expect(eq(u32, out.ev.type, rows[i].type), "%s", rows[i].name);
		cr_expect(not(eq(int, out.ev.detail_case, MESHMON__V1__EVENT__DETAIL__NOT_SET)),
			  "%s", rows[i].name);
		cr_expect(eq(int, mm_decode(&ctx, buf, rows[i].size - 1, 0, &out), MM_DECODE_SHORT),
			  "%s", rows[i].name);
		h->version = (uint8_t)(rows[i].version + 1);
		cr_expect(eq(int, mm_decode(&ctx, buf, rows[i].size, 0, &out), MM_DECODE_UNKNOWN),
			  "%s", rows[i].name);
	}
	cr_expect(eq(ptr, (void *)mm_record_layout(6), NULL));
	cr_expect(eq(ptr, (void *)mm_record_layout(0), NULL));
}

Test(decode, garbage_never_crashes)
{
	uint8_t buf[512];

	srand(1);
	for (int i = 0; i < 20000; i++) {
		size_t n = (size_t)rand() % sizeof(buf);

		for (size_t j = 0; j < n; j++)
			buf[j] = (uint8_t)rand();
		if (n)
			buf[0] = (uint8_t)(1 + rand() % 8);
		if (n > 3)
			buf[3] = 1;
		int ret = mm_decode(&ctx, buf, n, 0, &out);

		cr_assert(ret == 0 || ret == MM_DECODE_SHORT || ret == MM_DECODE_UNKNOWN);
	}
}

Test(decode, ifname_cache)
{
	struct mm_ifname_cache c;

	mm_ifname_cache__flush(&c);
	cr_expect(eq(str, (char *)mm_ifname_cache__lookup(&c, 1), "lo"));
	cr_expect(eq(str, (char *)mm_ifname_cache__lookup(&c, 1), "lo"));
	cr_expect(mm_ifname_cache__lookup(&c, 0) == NULL);
	cr_expect(mm_ifname_cache__lookup(&c, 0x7fffffff) == NULL);
}

Test(decode, clock_offset_sane)
{
	int64_t off = mm_clock_offset_ns();

	/* REALTIME is after 2020 and MONOTONIC is under a few years of uptime */
	cr_expect(off > 1500000000ll * 1000000000ll);
}

/* The filter's view: drop key, TCP flags (TCP traces only), the kernel's ifname bytes, time. */
Test(decode, view_carries_what_the_filters_match)
{
	struct mm_trace_record t = { 0 };
	struct mm_drop_record d = { 0 };

	hdr(&t.hdr, MM_EVENT_TRACE, MM_POINT_TO_STACK, MM_SOURCE_TC, MM_TRACE_VERSION);
	tuple4(&t.tuple);
	t.ifindex = 7;
	t.tcp_flags = MM_TCP_SYN | MM_TCP_ACK;
	cr_assert(eq(int, mm_decode(&ctx, &t, sizeof(t), 0, &out), 0));
	cr_expect(eq(u8, out.view.has_tcp_flags, 1));
	cr_expect(eq(u8, out.view.tcp_flags, MM_TCP_SYN | MM_TCP_ACK));
	cr_expect(eq(str, out.view.ifname, "veth-test"));
	cr_expect(eq(u64, out.view.time_ns, out.ev.time_ns));
	cr_expect(eq(u16, out.view.drop_key, 0), "a trace has no drop reason");
	t.tuple.proto = IPPROTO_UDP;
	t.tcp_flags = MM_TCP_SYN; /* whatever the record says: a UDP packet has no TCP flags */
	t.ifindex = 8;
	cr_assert(eq(int, mm_decode(&ctx, &t, sizeof(t), 0, &out), 0));
	cr_expect(eq(u8, out.view.has_tcp_flags, 0));
	cr_expect(eq(u8, out.view.tcp_flags, 0));
	cr_expect(eq(str, out.view.ifname, "\xffveth\xc3"), "the kernel's bytes, not the U+FFFD text");
	t.ifindex = 99; /* no name */
	cr_assert(eq(int, mm_decode(&ctx, &t, sizeof(t), 0, &out), 0));
	cr_expect(eq(str, out.view.ifname, ""));

	hdr(&d.hdr, MM_EVENT_DROP, MM_POINT_TO_NETWORK, MM_SOURCE_TC, MM_DROP_VERSION);
	tuple4(&d.tuple);
	d.reason = MM_DROP_POLICY_DENIED;
	cr_assert(eq(int, mm_decode(&ctx, &d, sizeof(d), 0, &out), 0));
	cr_expect(eq(u16, out.view.drop_key, mm_drop_key(0, MM_DROP_POLICY_DENIED)));
	cr_expect(eq(u8, out.view.has_tcp_flags, 0), "a drop carries no TCP flags");
	hdr(&d.hdr, MM_EVENT_DROP, MM_POINT_KERNEL, MM_SOURCE_KERNEL, MM_DROP_VERSION);
	d.reason = 3;
	cr_assert(eq(int, mm_decode(&ctx, &d, sizeof(d), 0, &out), 0));
	cr_expect(eq(u16, out.view.drop_key, MM_DROP_KEY_KERNEL | 3));
	cr_expect(ne(u16, mm_drop_key(1, 3), mm_drop_key(0, 3)), "two numbering spaces");
}
