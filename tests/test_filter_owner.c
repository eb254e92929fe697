// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Owner filters (FlowFilter pids, comms, cgroup_ids; agent/filter.h) on
 * decoded events of each kind that has an owner: a TcpProbe, a Trace at an
 * endpoint point, a TraceSock, each built here as the decoder would fill it
 * and turned into the filter's view by mm_event_view__set_owner(). Events
 * without an owner (a tc trace, even one whose owner fields were set, drops,
 * captures, debug) match no owner filter; exact comm matching on the
 * kernel's bytes (raw ones when they are not UTF-8); AND with the other
 * fields, OR across values, exclude (--not); pid 0 and cgroup 0 refused;
 * and a real tcp_probe record through mm_decode() gets its owner.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "decode.h"
#include "filter.h"
#include "records.h"

#define MAXN 4
static Meshmon__V1__FlowFilter flows[MAXN];
static Meshmon__V1__FlowFilter *flowp[MAXN];
static uint32_t pids[MAXN][MAXN], ports[MAXN][MAXN];
static uint64_t cgroup_ids[MAXN][MAXN];
static char *comms[MAXN][MAXN];
static Meshmon__V1__Subscribe sub;
static struct mm_filter filt;
static char err[256];

static void setup(void)
{
	meshmon__v1__subscribe__init(&sub);
	for (int i = 0; i < MAXN; i++) {
		meshmon__v1__flow_filter__init(&flows[i]);
		flows[i].pids = pids[i];
		flows[i].comms = comms[i];
		flows[i].cgroup_ids = cgroup_ids[i];
		flows[i].ports = ports[i];
		flowp[i] = &flows[i];
	}
	sub.filters = flowp;
	memset(&filt, 0, sizeof(filt));
	err[0] = '\0';
}

static void teardown(void)
{
	mm_filter__release(&filt);
}

TestSuite(filter_owner, .init = setup, .fini = teardown);

static void used(int i)
{
	if ((size_t)i + 1 > sub.n_filters)
		sub.n_filters = (size_t)i + 1;
}

static void add_pid(int i, uint32_t pid)
{
	pids[i][flows[i].n_pids++] = pid;
	used(i);
}

static void add_comm(int i, const char *comm)
{
	comms[i][flows[i].n_comms++] = (char *)comm;
	used(i);
}

static void add_cgroup(int i, uint64_t id)
{
	cgroup_ids[i][flows[i].n_cgroup_ids++] = id;
	used(i);
}

static void add_port(int i, uint32_t port)
{
	ports[i][flows[i].n_ports++] = port;
	used(i);
}

/* Flow filters [from, from + n) become the exclude list (--not); those before it the whitelist. */
static void exclude(int from, size_t n)
{
	sub.exclude = flowp + from;
	sub.n_exclude = n;
	sub.n_filters = (size_t)from;
}

static void compile(void)
{
	cr_assert(eq(int, mm_filter__compile(&filt, &sub, err, sizeof(err)), 0), "%s", err);
}

/* One decoded event of each kind, with the storage it points to. */
struct event {
	Meshmon__V1__Event ev;
	Meshmon__V1__Tuple tuple;
	Meshmon__V1__TcpProbe probe;
	Meshmon__V1__Trace trace;
	Meshmon__V1__TraceSock sock;
	Meshmon__V1__Drop drop;
	Meshmon__V1__Debug debug;
	Meshmon__V1__Capture capture;
	uint8_t src[4], dst[4];
	struct mm_event_view view;
};

enum kind { PROBE, ENDPOINT_IN, ENDPOINT_OUT, TRACE_SOCK, TC_TRACE, DROP, DEBUG, CAPTURE };

/* A TCP event 10.0.0.1:40000 -> 10.0.0.2:80 of kind k, owned by pid/comm/cgroup where it has one. */
static struct event *make(enum kind k, uint32_t pid, const char *comm, uint64_t cgroup_id)
{
	static struct event e;
	Meshmon__V1__Event *ev = &e.ev;

	memset(&e, 0, sizeof(e));
	meshmon__v1__event__init(ev);
	meshmon__v1__tuple__init(&e.tuple);
	inet_pton(AF_INET, "10.0.0.1", e.src);
	inet_pton(AF_INET, "10.0.0.2", e.dst);
	e.tuple.src = (ProtobufCBinaryData){4, e.src};
	e.tuple.dst = (ProtobufCBinaryData){4, e.dst};
	e.tuple.sport = 40000;
	e.tuple.dport = 80;
	e.tuple.proto = IPPROTO_TCP;
	ev->tuple = &e.tuple;
	switch (k) {
	case PROBE:
		meshmon__v1__tcp_probe__init(&e.probe);
		e.probe.pid = pid;
		e.probe.comm = (char *)comm;
		e.probe.cgroup_id = cgroup_id;
		ev->type = MESHMON__V1__EVENT_TYPE__EVENT_TYPE_TCP_PROBE;
		ev->detail_case = MESHMON__V1__EVENT__DETAIL_TCP_PROBE;
		ev->tcp_probe = &e.probe;
		break;
	case ENDPOINT_IN:
	case ENDPOINT_OUT:
	case TC_TRACE:
		meshmon__v1__trace__init(&e.trace);
		e.trace.point = k == ENDPOINT_IN  ? MESHMON__V1__TRACE_POINT__TRACE_POINT_TO_ENDPOINT
				: k == ENDPOINT_OUT ? MESHMON__V1__TRACE_POINT__TRACE_POINT_FROM_ENDPOINT
						    : MESHMON__V1__TRACE_POINT__TRACE_POINT_TO_STACK;
		/* Filled even for the tc trace: only the point decides whether it is an owner. */
		e.trace.pid = pid;
		e.trace.comm = (char *)comm;
		e.trace.cgroup_id = cgroup_id;
		ev->type = MESHMON__V1__EVENT_TYPE__EVENT_TYPE_TRACE;
		ev->detail_case = MESHMON__V1__EVENT__DETAIL_TRACE;
		ev->trace = &e.trace;
		break;
	case TRACE_SOCK:
		meshmon__v1__trace_sock__init(&e.sock);
		e.sock.pid = pid;
		e.sock.comm = (char *)comm;
		e.sock.cgroup_id = cgroup_id;
		ev->type = MESHMON__V1__EVENT_TYPE__EVENT_TYPE_TRACE_SOCK;
		ev->detail_case = MESHMON__V1__EVENT__DETAIL_TRACE_SOCK;
		ev->trace_sock = &e.sock;
		break;
	case DROP:
		meshmon__v1__drop__init(&e.drop);
		ev->type = MESHMON__V1__EVENT_TYPE__EVENT_TYPE_DROP;
		ev->detail_case = MESHMON__V1__EVENT__DETAIL_DROP;
		ev->drop = &e.drop;
		break;
	case DEBUG:
		meshmon__v1__debug__init(&e.debug);
		ev->type = MESHMON__V1__EVENT_TYPE__EVENT_TYPE_DEBUG;
		ev->detail_case = MESHMON__V1__EVENT__DETAIL_DEBUG;
		ev->debug = &e.debug;
		break;
	case CAPTURE:
		meshmon__v1__capture__init(&e.capture);
		ev->type = MESHMON__V1__EVENT_TYPE__EVENT_TYPE_CAPTURE;
		ev->detail_case = MESHMON__V1__EVENT__DETAIL_CAPTURE;
		ev->capture = &e.capture;
		break;
	}
	/* The view as the decoder leaves it: the tuple, then the owner from the Event. */
	e.view.type = (uint8_t)ev->type;
	e.view.family = MM_FAMILY_IPV4;
	memcpy(e.view.src, e.src, 4);
	memcpy(e.view.dst, e.dst, 4);
	e.view.sport = 40000;
	e.view.dport = 80;
	e.view.proto = IPPROTO_TCP;
	/* Garbage where set_owner must write: it sets every owner field itself. */
	e.view.owner_pid = 0xdead;
	e.view.owner_cgroup_id = 0xbeef;
	memset(e.view.owner_comm, 'x', sizeof(e.view.owner_comm));
	mm_event_view__set_owner(&e.view, ev);
	return &e;
}

static int match(const struct event *e)
{
	return mm_filter__match(&filt, &e->view);
}

static const enum kind owned[] = {PROBE, ENDPOINT_IN, ENDPOINT_OUT, TRACE_SOCK};
static const char *const owned_name[] = {"tcp_probe", "to-endpoint trace", "from-endpoint trace",
					 "trace-sock"};
static const enum kind unowned[] = {TC_TRACE, DROP, DEBUG, CAPTURE};
static const char *const unowned_name[] = {"tc trace", "drop", "debug", "capture"};
#define N_KINDS 4

Test(filter_owner, the_view_carries_the_owner_of_each_kind)
{
	for (int i = 0; i < N_KINDS; i++) {
		const struct event *e = make(owned[i], 4242, "curl", 0x100000007ull);

		cr_expect(eq(u32, e->view.owner_pid, 4242), "%s", owned_name[i]);
		cr_expect(eq(u64, e->view.owner_cgroup_id, 0x100000007ull), "%s", owned_name[i]);
		cr_expect(eq(int, memcmp(e->view.owner_comm, "curl\0\0\0\0\0\0\0\0\0\0\0\0", 16), 0),
			  "%s: NUL-padded", owned_name[i]);
	}
	for (int i = 0; i < N_KINDS; i++) {
		const struct event *e = make(unowned[i], 4242, "curl", 0x100000007ull);
		static const char zero[16];

		cr_expect(eq(u32, e->view.owner_pid, 0), "%s", unowned_name[i]);
		cr_expect(eq(u64, e->view.owner_cgroup_id, 0), "%s", unowned_name[i]);
		cr_expect(eq(int, memcmp(e->view.owner_comm, zero, 16), 0), "%s", unowned_name[i]);
	}
}

Test(filter_owner, pid_selects_its_events_of_each_kind)
{
	add_pid(0, 4242);
	add_pid(0, 7);
	compile();
	for (int i = 0; i < N_KINDS; i++) {
		cr_expect(eq(int, match(make(owned[i], 4242, "curl", 9)), 1), "%s", owned_name[i]);
		cr_expect(eq(int, match(make(owned[i], 7, "curl", 9)), 1), "%s: values ORed",
			  owned_name[i]);
		cr_expect(eq(int, match(make(owned[i], 4243, "curl", 9)), 0), "%s", owned_name[i]);
		cr_expect(eq(int, match(make(owned[i], 0, "curl", 9)), 0), "%s: pid unknown",
			  owned_name[i]);
		cr_expect(eq(int, match(make(unowned[i], 4242, "curl", 9)), 0), "%s has no owner",
			  unowned_name[i]);
	}
}

Test(filter_owner, comm_is_an_exact_match)
{
	add_comm(0, "curl");
	add_comm(0, "nginx: worker");
	compile();
	for (int i = 0; i < N_KINDS; i++) {
		cr_expect(eq(int, match(make(owned[i], 1, "curl", 9)), 1), "%s", owned_name[i]);
		cr_expect(eq(int, match(make(owned[i], 1, "nginx: worker", 9)), 1), "%s",
			  owned_name[i]);
		cr_expect(eq(int, match(make(owned[i], 1, "cur", 9)), 0), "%s: a prefix of it",
			  owned_name[i]);
		cr_expect(eq(int, match(make(owned[i], 1, "curl2", 9)), 0), "%s: it is a prefix",
			  owned_name[i]);
		cr_expect(eq(int, match(make(owned[i], 1, "CURL", 9)), 0), "%s: case counts",
			  owned_name[i]);
		cr_expect(eq(int, match(make(owned[i], 1, "", 9)), 0), "%s: no comm",
			  owned_name[i]);
		cr_expect(eq(int, match(make(unowned[i], 1, "curl", 9)), 0), "%s has no owner",
			  unowned_name[i]);
	}
}

/* A comm that is not UTF-8 is matched on the kernel's bytes, which comm_raw carries. */
Test(filter_owner, comm_matches_the_kernels_bytes)
{
	static char raw_name[] = "a\xff" "b";
	struct event *e;

	add_comm(0, raw_name);
	compile();
	e = make(PROBE, 1, "a\xef\xbf\xbd" "b", 9); /* what the decoder puts in comm: U+FFFD */
	e->probe.comm_raw = (ProtobufCBinaryData){3, (uint8_t *)raw_name};
	mm_event_view__set_owner(&e->view, &e->ev);
	cr_expect(eq(int, match(e), 1));
	e = make(PROBE, 1, "a\xef\xbf\xbd" "b", 9);
	cr_expect(eq(int, match(e), 0), "the sanitized text is not the kernel's name");
}

Test(filter_owner, cgroup_id_selects_its_events_of_each_kind)
{
	add_cgroup(0, 0x100000007ull);
	compile();
	for (int i = 0; i < N_KINDS; i++) {
		cr_expect(eq(int, match(make(owned[i], 1, "a", 0x100000007ull)), 1), "%s",
			  owned_name[i]);
		cr_expect(eq(int, match(make(owned[i], 1, "a", 7)), 0),
			  "%s: the low 32 bits are not the id", owned_name[i]);
		cr_expect(eq(int, match(make(owned[i], 1, "a", 0)), 0), "%s", owned_name[i]);
		cr_expect(eq(int, match(make(unowned[i], 1, "a", 0x100000007ull)), 0),
			  "%s has no owner", unowned_name[i]);
	}
}

/* Fields ANDed within a FlowFilter, FlowFilters ORed. */
Test(filter_owner, combines_with_the_other_fields)
{
	add_pid(0, 10);
	add_comm(0, "curl");
	add_cgroup(0, 5);
	add_port(0, 80);
	add_pid(1, 20);
	compile();
	cr_expect(eq(int, match(make(PROBE, 10, "curl", 5)), 1));
	cr_expect(eq(int, match(make(PROBE, 10, "wget", 5)), 0), "comm differs");
	cr_expect(eq(int, match(make(PROBE, 10, "curl", 6)), 0), "cgroup differs");
	cr_expect(eq(int, match(make(PROBE, 11, "curl", 5)), 0), "pid differs");
	struct event *e = make(PROBE, 10, "curl", 5);

	e->view.dport = 81;
	cr_expect(eq(int, match(e), 0), "port differs");
	cr_expect(eq(int, match(make(TRACE_SOCK, 20, "any", 99)), 1), "the second FlowFilter");
}

/* --not --pid 10: every event but pid 10's, those without an owner included. */
Test(filter_owner, exclude_inverts)
{
	add_pid(0, 10);
	exclude(0, 1);
	compile();
	for (int i = 0; i < N_KINDS; i++) {
		cr_expect(eq(int, match(make(owned[i], 10, "a", 1)), 0), "%s", owned_name[i]);
		cr_expect(eq(int, match(make(owned[i], 11, "a", 1)), 1), "%s", owned_name[i]);
		cr_expect(eq(int, match(make(unowned[i], 10, "a", 1)), 1), "%s", unowned_name[i]);
	}
	mm_filter__release(&filt);
	setup();
	add_comm(0, "curl");
	add_cgroup(1, 5);
	exclude(1, 1);
	compile();
	cr_expect(eq(int, match(make(ENDPOINT_IN, 1, "curl", 4)), 1));
	cr_expect(eq(int, match(make(ENDPOINT_IN, 1, "curl", 5)), 0), "--comm curl --not --cgroup");
	cr_expect(eq(int, match(make(ENDPOINT_IN, 1, "wget", 4)), 0));
}

Test(filter_owner, zero_pid_and_cgroup_are_refused)
{
	add_pid(0, 0);
	cr_assert(eq(int, mm_filter__compile(&filt, &sub, err, sizeof(err)), -EINVAL));
	cr_expect(eq(str, err, "filter 0: pid 0 is no process"));
	setup();
	add_comm(0, "curl");
	add_cgroup(1, 0);
	exclude(1, 1);
	cr_assert(eq(int, mm_filter__compile(&filt, &sub, err, sizeof(err)), -EINVAL));
	/* FlowFilters are numbered filters first, then exclude. */
	cr_expect(eq(str, err, "filter 1: cgroup id 0 is no cgroup"));
	cr_expect(eq(ptr, filt.flows, NULL), "nothing is kept of a refused Subscribe");
}

/* A tcp_probe record from the ring: mm_decode() leaves its owner in the view. */
Test(filter_owner, decoded_tcp_probe_record_has_its_owner)
{
	static const struct mm_decode_ctx ctx = {0};
	static struct mm_decoded out;
	struct mm_tcp_probe_record r = {0};

	r.hdr.type = MM_EVENT_TCP_PROBE;
	r.hdr.subtype = MM_PROBE_OPEN;
	r.hdr.source = MM_SOURCE_SOCKOPS;
	r.hdr.version = MM_TCP_PROBE_VERSION;
	r.tuple.family = MM_FAMILY_IPV4;
	r.tuple.proto = IPPROTO_TCP;
	r.pid = 4242;
	memcpy(r.comm, "curl", 5);
	r.cgroup_id = 0x100000007ull;
	add_pid(0, 4242);
	add_comm(0, "curl");
	add_cgroup(0, 0x100000007ull);
	compile();
	cr_assert(eq(int, mm_decode(&ctx, &r, sizeof(r), 0, &out), 0));
	cr_expect(eq(int, mm_filter__match(&filt, &out.view), 1));
	r.pid = 4243;
	cr_assert(eq(int, mm_decode(&ctx, &r, sizeof(r), 0, &out), 0));
	cr_expect(eq(int, mm_filter__match(&filt, &out.view), 0));
	mm_decoded__release(&out);
}
