// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The limits of one Subscribe (proto/protocol.h, agent/filter.h): every limit
 * exactly at its bound compiles, one past it is refused with a reason naming
 * the limit; types and points take any number of values (duplicates too);
 * the hostile Subscribes the limits exist for are refused; filters and
 * exclude share one limit; names have a length limit (comms the kernel's 15
 * bytes); the largest allowed filter, owner fields included, holds at most
 * MM_FILTER_MAX_BYTES and still matches.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "protocol.h"
#include "records.h"

#define MAXF (MM_SUBSCRIBE_MAX_FILTERS + 1)
#define MAXV (MM_FILTER_MAX_VALUES + 1)

enum field {
	F_SOURCE,
	F_DESTINATION,
	F_EITHER,
	F_PROTOCOLS,
	F_PORTS,
	F_DROP_REASONS,
	F_TCP_FLAGS,
	F_INTERFACES,
	F_PIDS,
	F_COMMS,
	F_CGROUP_IDS,
	N_FIELDS
};

/* Kernel drop reason names for these tests: "R<n>" is value n, for n < 100. */
static int fake_kernel_reason(const char *name)
{
	int v;
	char end;

	if (sscanf(name, "R%d%c", &v, &end) != 1 || v < 0 || v >= 100)
		return -ENOENT;
	return v;
}

/* Room for one past every limit; filled by fill_flow(). */
struct lim_flow {
	Meshmon__V1__FlowFilter ff;
	Meshmon__V1__Endpoint ep[3][MAXV];
	Meshmon__V1__Endpoint *epp[3][MAXV];
	uint8_t addr[3][MAXV][16];
	uint32_t protos[MAXV], ports[MAXV], masks[MAXV], pids[MAXV];
	uint64_t cgroup_ids[MAXV];
	char names[3][MAXV][8]; /* drop reasons, interfaces, comms */
	char *namep[3][MAXV];
};
static struct lim_flow flows[MAXF];
static Meshmon__V1__FlowFilter *flowp[MAXF];
static Meshmon__V1__Subscribe sub;
static struct mm_filter filt;
static char err[256];

static void setup(void)
{
	memset(flows, 0, sizeof(flows));
	meshmon__v1__subscribe__init(&sub);
	sub.filters = flowp;
	for (int i = 0; i < MAXF; i++) {
		meshmon__v1__flow_filter__init(&flows[i].ff);
		flowp[i] = &flows[i].ff;
	}
	memset(&filt, 0, sizeof(filt));
	err[0] = '\0';
	mm_filter__set_kernel_drop_reasons(fake_kernel_reason);
}

static void teardown(void)
{
	mm_filter__release(&filt);
}

TestSuite(filter_limits, .init = setup, .fini = teardown);

/*
 * Endpoint j of side s of flow k: distinct IPv6 /128s within a field (nothing
 * to prune, so every endpoint is kept); either (s 2) has source's addresses;
 * odd j have port 1000 + j.
 */
static void fill_ep(struct lim_flow *f, int s, size_t j, size_t k)
{
	Meshmon__V1__Endpoint *ep = &f->ep[s][j];
	uint8_t *a = f->addr[s][j];

	meshmon__v1__endpoint__init(ep);
	memset(a, 0, 16);
	a[0] = 0x20;
	a[1] = s == 1;
	a[2] = (uint8_t)k;
	a[15] = (uint8_t)j;
	ep->address.data = a;
	ep->address.len = 16;
	ep->prefix_len = 128;
	ep->port = j % 2 ? 1000 + (uint32_t)j : 0;
	f->epp[s][j] = ep;
}

/* n values in every field of flow k. */
static void fill_flow(size_t k, size_t n)
{
	struct lim_flow *f = &flows[k];

	for (int s = 0; s < 3; s++)
		for (size_t j = 0; j < n; j++)
			fill_ep(f, s, j, k);
	for (size_t j = 0; j < n; j++) {
		f->protos[j] = (uint32_t)j;
		f->ports[j] = 1 + (uint32_t)j;
		f->masks[j] = 1 + (uint32_t)j;
		snprintf(f->names[0][j], sizeof(f->names[0][j]), "R%zu", j);
		snprintf(f->names[1][j], sizeof(f->names[1][j]), "if%zu", j);
		snprintf(f->names[2][j], sizeof(f->names[2][j]), "comm%zu", j);
		for (int k = 0; k < 3; k++)
			f->namep[k][j] = f->names[k][j];
		f->pids[j] = 1000 + (uint32_t)j;
		f->cgroup_ids[j] = (1ull << 40) + j;
	}
	f->ff.drop_reasons = f->namep[0];
	f->ff.interfaces = f->namep[1];
	f->ff.comms = f->namep[2];
	f->ff.tcp_flags = f->masks;
	f->ff.pids = f->pids;
	f->ff.cgroup_ids = f->cgroup_ids;
	f->ff.n_drop_reasons = f->ff.n_interfaces = f->ff.n_tcp_flags = n;
	f->ff.n_pids = f->ff.n_comms = f->ff.n_cgroup_ids = n;
	f->ff.source = f->epp[0];
	f->ff.destination = f->epp[1];
	f->ff.either = f->epp[2];
	f->ff.n_source = f->ff.n_destination = f->ff.n_either = n;
	f->ff.protocols = f->protos;
	f->ff.ports = f->ports;
	f->ff.n_protocols = f->ff.n_ports = n;
}

static size_t *field_count(Meshmon__V1__FlowFilter *ff, enum field fl)
{
	size_t *counts[N_FIELDS] = {&ff->n_source,	   &ff->n_destination, &ff->n_either,
				    &ff->n_protocols,	   &ff->n_ports,       &ff->n_drop_reasons,
				    &ff->n_tcp_flags,	   &ff->n_interfaces,  &ff->n_pids,
				    &ff->n_comms,	   &ff->n_cgroup_ids};

	return counts[fl];
}

static int compile(void)
{
	return mm_filter__compile(&filt, &sub, err, sizeof(err));
}

Test(filter_limits, the_limits_are_64)
{
	cr_expect(eq(int, MM_SUBSCRIBE_MAX_FILTERS, 64));
	cr_expect(eq(int, MM_FILTER_MAX_VALUES, 64));
}

Test(filter_limits, flowfilters_at_the_limit_and_one_past)
{
	sub.n_filters = MM_SUBSCRIBE_MAX_FILTERS;
	cr_assert(eq(int, compile(), 0), "%s", err);
	mm_filter__release(&filt);
	sub.n_filters = MM_SUBSCRIBE_MAX_FILTERS + 1;
	cr_assert(eq(int, compile(), -EINVAL));
	cr_expect(eq(str, err, "65 filters, over the limit of 64 FlowFilters per Subscribe"));
	cr_expect(eq(ptr, filt.flows, NULL), "nothing is kept of a refused Subscribe");
}

/* filters and exclude share the limit of 64 FlowFilters. */
Test(filter_limits, exclude_counts_with_filters)
{
	sub.n_filters = 32;
	sub.exclude = flowp + 32;
	sub.n_exclude = 32;
	cr_assert(eq(int, compile(), 0), "%s", err);
	cr_expect(eq(sz, filt.n_flows, 32));
	cr_expect(eq(sz, filt.n_exclude, 32));
	mm_filter__release(&filt);
	sub.n_exclude = 33;
	cr_assert(eq(int, compile(), -EINVAL));
	cr_expect(eq(str, err,
		     "32 filters and 33 exclude filters, over the limit of 64 FlowFilters per Subscribe"));
	sub.n_filters = 0;
	sub.n_exclude = 65;
	cr_assert(eq(int, compile(), -EINVAL));
	cr_expect(eq(str, err,
		     "0 filters and 65 exclude filters, over the limit of 64 FlowFilters per Subscribe"));
}

/* A drop reason name of at most 64 bytes, an interface name of 1 to 15: checked before lookup. */
Test(filter_limits, name_lengths)
{
	char name[MM_FILTER_MAX_NAME_LEN + 2];
	char *p = name;

	sub.n_filters = 1;
	flows[0].ff.drop_reasons = &p;
	flows[0].ff.n_drop_reasons = 1;
	memset(name, 'A', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	cr_assert(eq(int, compile(), -EINVAL));
	cr_expect(eq(str, err, "filter 0: a drop reason name over the limit of 64 bytes"));
	name[MM_FILTER_MAX_NAME_LEN] = '\0'; /* 64 bytes: within the limit, but unknown */
	cr_assert(eq(int, compile(), -EINVAL));
	cr_expect(eq(int, strncmp(err, "filter 0: unknown drop reason 'AAAA", 35), 0), "%s", err);

	flows[0].ff.n_drop_reasons = 0;
	flows[0].ff.interfaces = &p;
	flows[0].ff.n_interfaces = 1;
	strcpy(name, "a234567890123456"); /* 16 bytes */
	cr_assert(eq(int, compile(), -EINVAL));
	cr_expect(eq(str, err, "filter 0: interface name 'a234567890123456' is not 1 to 15 bytes"));
	name[15] = '\0';
	cr_assert(eq(int, compile(), 0), "%s", err);
	mm_filter__release(&filt);
	name[0] = '\0';
	cr_assert(eq(int, compile(), -EINVAL));
	cr_expect(eq(str, err, "filter 0: interface name '' is not 1 to 15 bytes"));
}

/* A comm of 1 to 15 bytes: the kernel's TASK_COMM_LEN less its NUL, so a longer one never matches. */
Test(filter_limits, comm_lengths)
{
	char name[32];
	char *p = name;

	sub.n_filters = 1;
	flows[0].ff.comms = &p;
	flows[0].ff.n_comms = 1;
	strcpy(name, "a234567890123456"); /* 16 bytes */
	cr_assert(eq(int, compile(), -EINVAL));
	cr_expect(eq(str, err,
		     "filter 0: comm 'a234567890123456' is not 1 to 15 bytes (the kernel's comm)"));
	name[15] = '\0';
	cr_assert(eq(int, compile(), 0), "%s", err);
	mm_filter__release(&filt);
	name[0] = '\0';
	cr_assert(eq(int, compile(), -EINVAL));
	cr_expect(eq(str, err, "filter 0: comm '' is not 1 to 15 bytes (the kernel's comm)"));
}

/* Arrays, not pointers: criterion copies parameters into another process. */
struct field_case {
	enum field field;
	char name[32];
};

ParameterizedTestParameters(filter_limits, values_per_field)
{
	static struct field_case cases[] = {
	    {F_SOURCE, "source endpoints"},
	    {F_DESTINATION, "destination endpoints"},
	    {F_EITHER, "either endpoints"},
	    {F_PROTOCOLS, "protocols"},
	    {F_PORTS, "ports"},
	    {F_DROP_REASONS, "drop reasons"},
	    {F_TCP_FLAGS, "tcp flag masks"},
	    {F_INTERFACES, "interfaces"},
	    {F_PIDS, "pids"},
	    {F_COMMS, "comms"},
	    {F_CGROUP_IDS, "cgroup ids"},
	};

	return cr_make_param_array(struct field_case, cases, sizeof(cases) / sizeof(cases[0]));
}

/* Every field full in every FlowFilter compiles; one value more in one field of the last does not.
 */
ParameterizedTest(struct field_case *c, filter_limits, values_per_field)
{
	char want[128];

	for (size_t k = 0; k < MM_SUBSCRIBE_MAX_FILTERS; k++)
		fill_flow(k, MM_FILTER_MAX_VALUES + 1);
	for (size_t k = 0; k < MM_SUBSCRIBE_MAX_FILTERS; k++)
		for (int fl = 0; fl < N_FIELDS; fl++)
			*field_count(&flows[k].ff, fl) = MM_FILTER_MAX_VALUES;
	sub.n_filters = MM_SUBSCRIBE_MAX_FILTERS;
	cr_assert(eq(int, compile(), 0), "%s", err);
	mm_filter__release(&filt);

	*field_count(&flows[63].ff, c->field) = MM_FILTER_MAX_VALUES + 1;
	cr_assert(eq(int, compile(), -EINVAL));
	snprintf(want, sizeof(want), "filter 63: 65 %s, over the limit of 64 values per field",
		 c->name);
	cr_expect(eq(str, err, want));
}

Test(filter_limits, types_and_points_take_any_number_of_duplicates)
{
	static Meshmon__V1__EventType types[1000];
	static Meshmon__V1__TracePoint points[1000];
	struct mm_event_view v = {.type = MM_EVENT_TRACE, .point = MM_POINT_TO_STACK};

	for (int i = 0; i < 1000; i++) {
		types[i] = i % 2 ? MESHMON__V1__EVENT_TYPE__EVENT_TYPE_TRACE
				 : MESHMON__V1__EVENT_TYPE__EVENT_TYPE_DROP;
		points[i] = MESHMON__V1__TRACE_POINT__TRACE_POINT_TO_STACK;
	}
	sub.types = types;
	sub.n_types = 1000;
	sub.points = points;
	sub.n_points = 1000;
	cr_assert(eq(int, compile(), 0), "%s", err);
	cr_expect(eq(int, mm_filter__match(&filt, &v), 1));
	v.point = MM_POINT_FROM_NETWORK;
	cr_expect(eq(int, mm_filter__match(&filt, &v), 0));
	mm_filter__release(&filt);
	types[999] = 6; /* not a value of the enum */
	cr_assert(eq(int, compile(), -EINVAL));
	cr_expect(eq(str, err, "unknown event type 6"));
}

/* The two reported attacks: a million protocols, half a million empty FlowFilters. */
Test(filter_limits, hostile_subscribes_are_refused)
{
	size_t n = 1000000;
	uint32_t *protos = calloc(n, sizeof(*protos));
	Meshmon__V1__FlowFilter **many = calloc(524284, sizeof(*many));

	cr_assert(protos && many);
	flows[0].ff.protocols = protos;
	flows[0].ff.n_protocols = n;
	sub.n_filters = 1;
	cr_assert(eq(int, compile(), -EINVAL));
	cr_expect(
	    eq(str, err, "filter 0: 1000000 protocols, over the limit of 64 values per field"));

	for (size_t i = 0; i < 524284; i++)
		many[i] = &flows[1].ff;
	sub.filters = many;
	sub.n_filters = 524284;
	cr_assert(eq(int, compile(), -EINVAL));
	cr_expect(eq(str, err, "524284 filters, over the limit of 64 FlowFilters per Subscribe"));
	free(protos);
	free(many);
}

Test(filter_limits, largest_filter_memory_is_bounded)
{
	for (size_t k = 0; k < MM_SUBSCRIBE_MAX_FILTERS; k++)
		fill_flow(k, MM_FILTER_MAX_VALUES);
	sub.n_filters = MM_SUBSCRIBE_MAX_FILTERS;
	cr_assert(eq(int, compile(), 0), "%s", err);
	cr_expect(le(sz, mm_filter__bytes(&filt), MM_FILTER_MAX_BYTES));
	cr_expect(le(sz, MM_FILTER_MAX_BYTES, (size_t)528 * 1024));
	/*
	 * Distinct /128s, ports and names: nothing pruned, the bound is reached
	 * but for the second key the bound allows each drop reason name, which
	 * only a name of both meshmon and the kernel takes (these are the kernel's).
	 */
	cr_expect(eq(sz, mm_filter__bytes(&filt),
		     MM_FILTER_MAX_BYTES - (size_t)MM_SUBSCRIBE_MAX_FILTERS * MM_FILTER_MAX_VALUES *
					       sizeof(uint16_t)));
}

static void set_tuple(struct mm_event_view *v, const uint8_t *src, unsigned int sport,
		      const uint8_t *dst, unsigned int dport, unsigned int proto)
{
	memcpy(v->src, src, 16);
	memcpy(v->dst, dst, 16);
	v->sport = (uint16_t)sport;
	v->dport = (uint16_t)dport;
	v->proto = (uint8_t)proto;
}

Test(filter_limits, largest_filter_still_matches)
{
	struct mm_event_view v = {.type = MM_EVENT_TRACE, .point = MM_POINT_FROM_NETWORK};
	const uint8_t *src62 = flows[63].addr[0][62], *dst63 = flows[63].addr[1][63];

	for (size_t k = 0; k < MM_SUBSCRIBE_MAX_FILTERS; k++) {
		fill_flow(k, MM_FILTER_MAX_VALUES);
		flows[k].ff.n_drop_reasons = 0; /* a trace event has no drop reason */
	}
	sub.n_filters = MM_SUBSCRIBE_MAX_FILTERS;
	cr_assert(eq(int, compile(), 0), "%s", err);
	v.family = MM_FAMILY_IPV6;
	v.has_tcp_flags = 1;
	v.tcp_flags = 0x41; /* holds masks 1, 64 and 65; 1 and 64 are in 1..64 */
	strcpy(v.ifname, "if63");
	/* The owner fields, filled by mm_event_view__set_owner() for events that have one. */
	v.owner_pid = 1063;
	v.owner_cgroup_id = (1ull << 40) + 63;
	strcpy(v.owner_comm, "comm63");
	/*
	 * Flow 63: source 62 (any port), destination 63 (port 1063), either 62 =
	 * source 62; protocol 6 (TCP, which has ports) is in 0..63.
	 */
	set_tuple(&v, src62, 64, dst63, 1063, IPPROTO_TCP);
	cr_expect(eq(int, mm_filter__match(&filt, &v), 1));
	set_tuple(&v, src62, 64, dst63, 1063, 64);
	cr_expect(eq(int, mm_filter__match(&filt, &v), 0), "protocol 64 is not in 0..63");
	set_tuple(&v, src62, 64, dst63, 1063, IPPROTO_ICMP);
	cr_expect(eq(int, mm_filter__match(&filt, &v), 0), "ICMP has no ports");
	set_tuple(&v, src62, 65, dst63, 1063, IPPROTO_TCP);
	cr_expect(eq(int, mm_filter__match(&filt, &v), 0), "neither port in 1..64");
	set_tuple(&v, src62, 64, dst63, 1062, IPPROTO_TCP);
	cr_expect(eq(int, mm_filter__match(&filt, &v), 0), "destination 63 wants port 1063");
	set_tuple(&v, flows[63].addr[1][62], 64, dst63, 1063, IPPROTO_TCP);
	cr_expect(eq(int, mm_filter__match(&filt, &v), 0), "not a source address");
	set_tuple(&v, flows[0].addr[0][62], 64, flows[0].addr[1][63], 1063, IPPROTO_TCP);
	cr_expect(eq(int, mm_filter__match(&filt, &v), 1), "flow 0 alike");
	strcpy(v.ifname, "if64");
	cr_expect(eq(int, mm_filter__match(&filt, &v), 0), "if64 is not in if0..if63");
	strcpy(v.ifname, "if0");
	v.owner_pid = 1064;
	cr_expect(eq(int, mm_filter__match(&filt, &v), 0), "pid 1064 is not in 1000..1063");
	v.owner_pid = 1000;
	v.owner_cgroup_id = 63;
	cr_expect(eq(int, mm_filter__match(&filt, &v), 0), "cgroup id 63 is not 2^40 + 0..63");
	v.owner_cgroup_id = 1ull << 40;
	strcpy(v.owner_comm, "comm64");
	cr_expect(eq(int, mm_filter__match(&filt, &v), 0), "comm64 is not in comm0..comm63");
	strcpy(v.owner_comm, "comm0");
	cr_expect(eq(int, mm_filter__match(&filt, &v), 1), "the other end of each owner set");
	v.tcp_flags = 0x80; /* holds only mask 128 */
	cr_expect(eq(int, mm_filter__match(&filt, &v), 0), "no mask of 1..64 within 0x80");
	v.tcp_flags = 0x41;
	v.family = MM_FAMILY_IPV4;
	cr_expect(eq(int, mm_filter__match(&filt, &v), 0), "IPv6 endpoints, an IPv4 tuple");
}
