// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * fuzz_decode: raw perf ring bytes into the agent's decoder, mm_decode(). The
 * first input byte is the mode, the rest the record:
 * - bit 7 clear: the record's header is made valid for type (mode & 7) % 5 of
 *   MM_RECORD_TYPES (type and layout version set), so most inputs get past the
 *   header into the per-type decoders; bit 3 also clamps cap_len to the bytes
 *   there are; bit 4 makes the source KERNEL, or CGROUP_SKB with bit 6 also
 *   set (an endpoint trace: its longer fixed part, mm_record_size);
 * - bit 7 set: the bytes as they are (any type, version, length);
 * - 0xff: mm_debug_message() instead, with a buffer size, three arguments and
 *   a format string of the fuzzer's (the formats of the table are fixed, the
 *   formatter must still be safe).
 * Interface names come from the fuzzer too: a process may name an interface
 * any bytes but NUL, '/', ':' and white space. The callback returns the four
 * bytes of an ifindex with the top bit set as its name, "veth<N>" otherwise.
 *
 * Invariants: the result is the one the record's length, type and version
 * call for; a decoded Event carries the captured bytes exactly, a tuple of 0,
 * 4 or 16 byte addresses, the type in its filter view, strings terminated
 * within their buffers and valid UTF-8 (protobuf strings must be: clients in
 * other languages reject the whole message otherwise); the Event packs,
 * frames and unpacks to the same fields, and the hub's one-pass packer
 * (proto/onepass.h) writes the same bytes as protobuf-c; decoding again into
 * the same storage works.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "decode.h"
#include "filter.h"
#include "framing.h"
#include "names.h"

static bool check_utf8 = true;
static struct mm_filter filters[3];

static const char *kernel_reason(unsigned int reason)
{
	/* Kernel BTF names are C identifiers (the kernel checks them at load). */
	switch (reason) {
	case 2: return "NOT_SPECIFIED";
	case 3: return "NO_SOCKET";
	case 77: return "TCP_CSUM";
	default: return NULL;
	}
}

static const struct mm_ifname *fuzz_ifname(void *arg, unsigned int ifindex)
{
	static char name[IF_NAMESIZE];
	static struct mm_ifname e;

	(void)arg;
	if (ifindex & 0x80000000u) {
		memcpy(name, &ifindex, 4); /* a name of the fuzzer's bytes, NUL-terminated */
		name[4] = '\0';
	} else if (ifindex % 7 == 0) {
		return NULL; /* gone */
	} else {
		snprintf(name, sizeof(name), "veth%u", ifindex);
	}
	mm_ifname__set(&e, name); /* what the agent's cache does on a lookup */
	return &e;
}

static const struct mm_decode_ctx ctx = {
	.wall_offset_ns = 1795326020ll * 1000000000ll,
	.kernel_drop_reason_name = kernel_reason,
	.ifname = fuzz_ifname,
};

/* A few listener filters to run each decoded view through. */
static void compile_filters(void)
{
	static uint8_t net10[4] = { 10, 0, 0, 0 };
	static Meshmon__V1__Endpoint ep = MESHMON__V1__ENDPOINT__INIT;
	static Meshmon__V1__Endpoint *eps[1] = { &ep };
	static Meshmon__V1__FlowFilter ff = MESHMON__V1__FLOW_FILTER__INIT;
	static Meshmon__V1__FlowFilter *ffs[1] = { &ff };
	static Meshmon__V1__EventType types[2] = { MESHMON__V1__EVENT_TYPE__EVENT_TYPE_DROP,
						   MESHMON__V1__EVENT_TYPE__EVENT_TYPE_TRACE };
	static uint32_t ports[1] = { 80 };
	Meshmon__V1__Subscribe all = MESHMON__V1__SUBSCRIBE__INIT;
	Meshmon__V1__Subscribe by_type = MESHMON__V1__SUBSCRIBE__INIT;
	Meshmon__V1__Subscribe by_flow = MESHMON__V1__SUBSCRIBE__INIT;

	ep.address.data = net10;
	ep.address.len = 4;
	ep.prefix_len = 8;
	ff.n_either = 1;
	ff.either = eps;
	ff.n_ports = 1;
	ff.ports = ports;
	by_type.n_types = 2;
	by_type.types = types;
	by_flow.n_filters = 1;
	by_flow.filters = ffs;
	if (mm_filter__compile(&filters[0], &all, NULL, 0) ||
	    mm_filter__compile(&filters[1], &by_type, NULL, 0) ||
	    mm_filter__compile(&filters[2], &by_flow, NULL, 0))
		abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	compile_filters();
	return 0;
}

/* What mm_decode() must return for these bytes. */
static int expected_result(const uint8_t *rec, size_t size)
{
	const struct mm_record_layout *l;
	struct mm_notify_hdr h;
	struct mm_capture_hdr cap;
	size_t fixed;

	if (size < sizeof(h))
		return MM_DECODE_SHORT;
	memcpy(&h, rec, sizeof(h));
	l = mm_record_layout(h.type);
	if (!l || h.version != l->version)
		return MM_DECODE_UNKNOWN;
	/* the source's fixed part: longer for endpoint traces (MM_RECORD_SOURCE_LAYOUTS) */
	fixed = mm_record_size(l, h.source);
	if (size < fixed)
		return MM_DECODE_SHORT;
	if (l->has_capture) {
		memcpy(&cap, rec + sizeof(h), sizeof(cap));
		if (cap.cap_len > size - fixed)
			return MM_DECODE_SHORT;
	}
	return 0;
}

static void check_str(const char *what, const char *s, size_t cap)
{
	size_t n;

	FUZZ_CHECK(s != NULL, "%s is NULL", what);
	n = strnlen(s, cap);
	FUZZ_CHECK(n < cap, "%s not terminated within %zu bytes", what, cap);
	if (check_utf8)
		FUZZ_CHECK(fuzz_utf8_valid(s, n), "%s is not valid UTF-8 (%zu bytes)", what, n);
}

static void check_strings(const struct mm_decoded *d)
{
	const Meshmon__V1__Event *ev = &d->ev;

	check_str("ifname", ev->ifname, sizeof(((struct mm_ifname *)0)->name));
	switch (ev->detail_case) {
	case MESHMON__V1__EVENT__DETAIL_DROP:
		check_str("drop reason", ev->drop->reason, sizeof(d->reason));
		check_str("drop reason text", ev->drop->reason_text, sizeof(d->reason_text));
		check_str("drop file", ev->drop->file, sizeof(d->file));
		break;
	case MESHMON__V1__EVENT__DETAIL_DEBUG:
		check_str("debug message", ev->debug->message, sizeof(d->message));
		break;
	case MESHMON__V1__EVENT__DETAIL_TCP_PROBE:
		check_str("comm", ev->tcp_probe->comm, sizeof(d->comm));
		break;
	case MESHMON__V1__EVENT__DETAIL_TRACE:
		/* set for endpoint traces only (source cgroup_skb) */
		if (ev->trace->comm)
			check_str("trace comm", ev->trace->comm, sizeof(d->comm));
		break;
	default:
		break;
	}
}

static void check_event(const struct mm_decoded *d, const uint8_t *rec, size_t size)
{
	const Meshmon__V1__Event *ev = &d->ev;
	const struct mm_record_layout *l = mm_record_layout(rec[0]);
	const Meshmon__V1__Tuple *t = ev->tuple;
	size_t fixed;

	FUZZ_CHECK(l != NULL, "decoded an unknown type %u", rec[0]);
	fixed = mm_record_size(l, rec[2]);
	FUZZ_CHECK(ev->type == rec[0] && d->view.type == rec[0], "type %u / view %u, record %u",
		   ev->type, d->view.type, rec[0]);
	FUZZ_CHECK(ev->detail_case != MESHMON__V1__EVENT__DETAIL__NOT_SET, "no detail");
	if (l->has_capture) {
		FUZZ_CHECK(ev->captured.len == ev->cap_len, "captured %zu, cap_len %u",
			   ev->captured.len, ev->cap_len);
		FUZZ_CHECK(fixed + ev->captured.len <= size, "capture past the record");
		FUZZ_CHECK(!ev->captured.len || !memcmp(ev->captured.data, rec + fixed,
							ev->captured.len),
			   "captured bytes differ");
	} else {
		FUZZ_CHECK(ev->captured.len == 0, "bytes captured by a type without capture");
	}
	if (t) {
		FUZZ_CHECK(t->src.len == t->dst.len, "address lengths %zu/%zu", t->src.len,
			   t->dst.len);
		FUZZ_CHECK(t->src.len == 0 || t->src.len == 4 || t->src.len == 16,
			   "address length %zu", t->src.len);
		FUZZ_CHECK((t->src.len == 0) == (d->view.family == MM_FAMILY_NONE),
			   "view family %u for %zu-byte addresses", d->view.family, t->src.len);
	}
	check_strings(d);
}

/* The agent's path on: the Event packed once, framed, read back by a client. */
static void check_roundtrip(const struct mm_decoded *d)
{
	static struct mm_frame_scratch scratch;
	Meshmon__V1__ServerMessage sm = MESHMON__V1__SERVER_MESSAGE__INIT;
	Meshmon__V1__ServerMessage *back;
	const Meshmon__V1__Event *ev = &d->ev, *e2;
	const uint8_t *fast;
	uint8_t *buf;
	size_t len;
	long n;

	sm.msg_case = MESHMON__V1__SERVER_MESSAGE__MSG_EVENT;
	sm.event = (Meshmon__V1__Event *)ev;
	FUZZ_CHECK(mm_frame__encode_server(&sm, &buf, &len) == 0, "encoding a decoded event");
	/* the hub's one-pass packer writes protobuf-c's bytes exactly */
	n = mm_frame_scratch__pack(&scratch, &sm.base, &fast);
	FUZZ_CHECK(n == (long)len && !memcmp(fast, buf, len),
		   "one-pass frame differs from protobuf-c's (%ld vs %zu bytes)", n, len);
	back = mm_frame__unpack_server(buf + MM_FRAME_HDR, len - MM_FRAME_HDR);
	FUZZ_CHECK(back && back->msg_case == MESHMON__V1__SERVER_MESSAGE__MSG_EVENT,
		   "a packed event does not unpack");
	e2 = back->event;
	FUZZ_CHECK(e2->time_ns == ev->time_ns && e2->type == ev->type &&
			   e2->detail_case == ev->detail_case &&
			   e2->captured.len == ev->captured.len && !strcmp(e2->ifname, ev->ifname),
		   "the event changed on the way");
	if (ev->detail_case == MESHMON__V1__EVENT__DETAIL_TCP_PROBE)
		FUZZ_CHECK(!strcmp(e2->tcp_probe->comm, ev->tcp_probe->comm), "comm changed");
	if (ev->detail_case == MESHMON__V1__EVENT__DETAIL_DROP)
		FUZZ_CHECK(!strcmp(e2->drop->reason, ev->drop->reason), "reason changed");
	mm_frame__free_server(back);
	free(buf);
}

static void decode_one(struct mm_decoded *out, const uint8_t *rec, size_t size, int cpu)
{
	int ret = mm_decode(&ctx, rec, size, cpu, out), want = expected_result(rec, size);

	FUZZ_CHECK(ret == want || ret == -ENOMEM, "mm_decode returned %d, want %d (%zu bytes)", ret,
		   want, size);
	if (ret)
		return;
	FUZZ_CHECK(out->ev.cpu == (uint32_t)cpu, "cpu");
	check_event(out, rec, size);
	check_roundtrip(out);
	for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
		int m = mm_filter__match(&filters[i], &out->view);

		FUZZ_CHECK(m == 0 || m == 1, "match returned %d", m);
	}
	/* docs/protocol.md: an empty Subscribe passes every event, whatever its point. */
	FUZZ_CHECK(mm_filter__match(&filters[0], &out->view) == 1,
		   "the empty Subscribe refused an event (point %u)", out->view.point);
}

static const unsigned int record_types[] = {
#define X(type_, short_, struct_, version_, capture_) MM_EVENT_##type_,
	MM_RECORD_TYPES(X)
#undef X
};

/* mm_debug_message() with the fuzzer's format into a buffer of exactly its size. */
static void fuzz_debug_message(const uint8_t *data, size_t size)
{
	uint32_t args[3] = { 0 };
	size_t bufsize;
	char *fmt, *buf;
	int ret;

	if (size < 1 + sizeof(args))
		return;
	bufsize = data[0];
	memcpy(args, data + 1, sizeof(args));
	data += 1 + sizeof(args);
	size -= 1 + sizeof(args);
	fmt = malloc(size + 1);
	buf = malloc(bufsize ? bufsize : 1);
	if (!fmt || !buf)
		abort();
	memcpy(fmt, data, size);
	fmt[size] = '\0';
	ret = mm_debug_message(buf, bufsize, fmt, args);
	if (bufsize == 0)
		FUZZ_CHECK(ret == -EINVAL, "size 0 returned %d", ret);
	else if (ret >= 0)
		FUZZ_CHECK((size_t)ret < bufsize && strlen(buf) == (size_t)ret,
			   "returned %d for a %zu-byte buffer", ret, bufsize);
	else
		FUZZ_CHECK(ret == -EINVAL && buf[0] == '\0', "returned %d", ret);
	free(fmt);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mm_decoded *out;
	uint8_t mode, *rec;
	int cpu;

	if (size < 1)
		return 0;
	mode = data[0];
	if (mode == 0xff) {
		fuzz_debug_message(data + 1, size - 1);
		return 0;
	}
	data++;
	size--;
	/* A copy of exactly size bytes at an odd address: ASan sees any overread. */
	rec = malloc(size + 1);
	out = calloc(1, sizeof(*out));
	if (!rec || !out)
		abort();
	rec++;
	memcpy(rec, data, size);
	if (!(mode & 0x80) && size >= sizeof(struct mm_notify_hdr)) {
		const struct mm_record_layout *l = mm_record_layout(
		    record_types[(mode & 7) % (sizeof(record_types) / sizeof(record_types[0]))]);

		size_t fixed;

		rec[0] = (uint8_t)l->type;
		rec[3] = (uint8_t)l->version;
		if (mode & 0x10)
			rec[2] = (mode & 0x40) ? MM_SOURCE_CGROUP_SKB : MM_SOURCE_KERNEL;
		fixed = mm_record_size(l, rec[2]);
		if ((mode & 0x08) && l->has_capture && size >= fixed) {
			struct mm_capture_hdr cap;

			memcpy(&cap, rec + sizeof(struct mm_notify_hdr), sizeof(cap));
			if (cap.cap_len > size - fixed)
				cap.cap_len = (uint16_t)(size - fixed);
			memcpy(rec + sizeof(struct mm_notify_hdr), &cap, sizeof(cap));
		}
	}
	cpu = (mode >> 5) & 3;
	decode_one(out, rec, size, cpu);
	/* Again into the same storage, shorter: what the previous decode held is released. */
	decode_one(out, rec, size / 2 + size / 4, cpu);
	decode_one(out, rec, size, cpu);
	mm_decoded__release(out);
	free(out);
	free(rec - 1);
	return 0;
}
