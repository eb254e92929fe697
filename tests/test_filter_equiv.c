// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * mm_filter__match against a naive reference matcher written here from
 * docs/protocol.md ("Filters"): a scan of every value, prefixes compared bit
 * by bit on the unmasked addresses of the Subscribe. Random Subscribes within
 * the limits (fixed seed) and random event views near their addresses (IPv4
 * and IPv6, every prefix length 0..32 / 0..128, ports 0..65535, protocols
 * 0..255, nested and duplicate CIDRs, port-only endpoints, drop reasons of
 * meshmon and of a stand-in kernel table, TCP flag masks, interface names,
 * owner pids, comms and cgroup ids, exclude filters and a time window), plus a few fixed cases of nested
 * blocks, where the sorted-set matcher could go wrong.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "filter.h"
#include "protocol.h"
#include "records.h"

#define NV MM_FILTER_MAX_VALUES

/* ---- the reference ---- */

static bool ref_prefix(const uint8_t *net, unsigned int len, const uint8_t *a)
{
	for (unsigned int b = 0; b < len; b++) {
		unsigned int shift = 7 - b % 8;

		if (((net[b / 8] >> shift) & 1) != ((a[b / 8] >> shift) & 1))
			return false;
	}
	return true;
}

static bool ref_is_ip(const struct mm_event_view *v)
{
	return v->family == MM_FAMILY_IPV4 || v->family == MM_FAMILY_IPV6;
}

/* docs/protocol.md: ports are TCP's, UDP's and SCTP's; an ICMP echo id is not one. */
static bool ref_has_ports(const struct mm_event_view *v)
{
	return v->proto == 6 || v->proto == 17 || v->proto == 132;
}

/*
 * The stand-in kernel table: "K<n>" is value n (n < 10), and the kernel also
 * has a POLICY_DENIED, value 9, so that name is meshmon's and the kernel's.
 */
static int fake_kernel_reason(const char *name)
{
	int v;
	char end;

	if (!strcmp(name, "POLICY_DENIED"))
		return 9;
	if (sscanf(name, "K%d%c", &v, &end) != 1 || v < 0 || v >= 10)
		return -ENOENT;
	return v;
}

/* A drop event's reason: meshmon's reason 1 is POLICY_DENIED, the kernel's n is K<n>. */
static bool ref_reason(const char *name, const struct mm_event_view *v)
{
	unsigned int n;
	char end;

	if (v->type != MM_EVENT_DROP || !v->drop_key)
		return false;
	if (!strcasecmp(name, "POLICY_DENIED"))
		return v->drop_key == (0x4000 | 1) || v->drop_key == (0x8000 | 9);
	return (sscanf(name, "K%u%c", &n, &end) == 1 || sscanf(name, "k%u%c", &n, &end) == 1) &&
	       v->drop_key == (0x8000 | n);
}

static bool ref_side(const Meshmon__V1__Endpoint *ep, const struct mm_event_view *v, bool src)
{
	if (!ref_is_ip(v))
		return false;
	if (ep->port && !ref_has_ports(v))
		return false;
	if (ep->address.len) {
		uint8_t fam = ep->address.len == 4 ? MM_FAMILY_IPV4 : MM_FAMILY_IPV6;

		if (fam != v->family ||
		    !ref_prefix(ep->address.data, ep->prefix_len, src ? v->src : v->dst))
			return false;
	}
	return !ep->port || ep->port == (src ? v->sport : v->dport);
}

/* Any endpoint of eps[0..n) on the source side (sides & 1) or the destination side (sides & 2). */
static bool ref_any(Meshmon__V1__Endpoint *const *eps, size_t n, const struct mm_event_view *v,
		    int sides)
{
	for (size_t i = 0; i < n; i++)
		if (((sides & 1) && ref_side(eps[i], v, true)) ||
		    ((sides & 2) && ref_side(eps[i], v, false)))
			return true;
	return false;
}

static bool ref_flow(const Meshmon__V1__FlowFilter *ff, const struct mm_event_view *v)
{
	bool ok;

	if (ff->n_source && !ref_any(ff->source, ff->n_source, v, 1))
		return false;
	if (ff->n_destination && !ref_any(ff->destination, ff->n_destination, v, 2))
		return false;
	if (ff->n_either && !ref_any(ff->either, ff->n_either, v, 3))
		return false;
	ok = !ff->n_protocols;
	for (size_t i = 0; i < ff->n_protocols && ref_is_ip(v); i++)
		ok |= ff->protocols[i] == v->proto;
	if (!ok)
		return false;
	ok = !ff->n_ports;
	for (size_t i = 0; i < ff->n_ports && ref_is_ip(v) && ref_has_ports(v); i++)
		ok |= ff->ports[i] == v->sport || ff->ports[i] == v->dport;
	if (!ok)
		return false;
	ok = !ff->n_drop_reasons;
	for (size_t i = 0; i < ff->n_drop_reasons; i++)
		ok |= ref_reason(ff->drop_reasons[i], v);
	if (!ok)
		return false;
	ok = !ff->n_tcp_flags;
	for (size_t i = 0; i < ff->n_tcp_flags && v->has_tcp_flags; i++)
		ok |= (v->tcp_flags & ff->tcp_flags[i]) == ff->tcp_flags[i];
	if (!ok)
		return false;
	ok = !ff->n_interfaces;
	for (size_t i = 0; i < ff->n_interfaces; i++)
		ok |= !strcmp(ff->interfaces[i], v->ifname);
	if (!ok)
		return false;
	/* The owner: what mm_event_view__set_owner() left in the view (0 and "" for none). */
	ok = !ff->n_pids;
	for (size_t i = 0; i < ff->n_pids; i++)
		ok |= ff->pids[i] == v->owner_pid;
	if (!ok)
		return false;
	ok = !ff->n_cgroup_ids;
	for (size_t i = 0; i < ff->n_cgroup_ids; i++)
		ok |= ff->cgroup_ids[i] == v->owner_cgroup_id;
	if (!ok)
		return false;
	ok = !ff->n_comms;
	for (size_t i = 0; i < ff->n_comms; i++)
		ok |= !strcmp(ff->comms[i], v->owner_comm);
	return ok;
}

static int ref_match(const Meshmon__V1__Subscribe *s, const struct mm_event_view *v)
{
	bool ok = !s->n_types;

	for (size_t i = 0; i < s->n_types; i++)
		ok |= (unsigned int)s->types[i] == v->type;
	if (!ok)
		return 0;
	if (v->type == MM_EVENT_TRACE && s->n_points) {
		ok = false;
		for (size_t i = 0; i < s->n_points; i++)
			ok |= (unsigned int)s->points[i] == v->point;
		if (!ok)
			return 0;
	}
	if (v->time_ns < s->since_ns || (s->until_ns && v->time_ns > s->until_ns))
		return 0;
	for (size_t i = 0; i < s->n_exclude; i++)
		if (ref_flow(s->exclude[i], v))
			return 0;
	for (size_t i = 0; i < s->n_filters; i++)
		if (ref_flow(s->filters[i], v))
			return 1;
	return !s->n_filters;
}

/* ---- random Subscribes ---- */

static uint64_t rng = 0x66696c7465722121ull;

static uint32_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (uint32_t)((rng * 0x2545f4914f6cdd1dull) >> 32);
}

static uint32_t below(uint32_t n)
{
	return rnd() % n;
}

struct rflow {
	Meshmon__V1__FlowFilter ff;
	Meshmon__V1__Endpoint ep[3][NV];
	Meshmon__V1__Endpoint *epp[3][NV];
	uint8_t addr[3][NV][16];
	uint32_t protos[NV], ports[NV], masks[NV], pids[NV];
	uint64_t cgroup_ids[NV];
	char *reasons[NV], *ifnames[NV], *comms[NV];
};
static struct rflow rf[MM_SUBSCRIBE_MAX_FILTERS];
static Meshmon__V1__FlowFilter *rfp[MM_SUBSCRIBE_MAX_FILTERS];
static Meshmon__V1__Subscribe rsub;
static Meshmon__V1__EventType rtypes[4];
static Meshmon__V1__TracePoint rpoints[3];

/* Two bases per family, so that a Subscribe's CIDRs nest, repeat and are near the views. */
static uint8_t base[2][2][16];
/* Neighbours too, so that an off-by-one in a port lookup shows. */
static const uint16_t port_pool[] = {52, 53, 54, 80, 81, 443, 8080, 1, 2, 65534, 65535};
#define N_PORT_POOL (sizeof(port_pool) / sizeof(port_pool[0]))

/* Names a Subscribe may hold and an event may carry, with near misses. */
static char *const reason_pool[] = {"POLICY_DENIED", "policy_denied", "K0", "K1", "K2", "k3", "K9"};
static char *const ifname_pool[] = {"eth0", "eth1", "veth-a", "lo", "eth"};
#define N_REASON_POOL (sizeof(reason_pool) / sizeof(reason_pool[0]))
#define N_IFNAME_POOL (sizeof(ifname_pool) / sizeof(ifname_pool[0]))
/* Owners: a Subscribe takes the values after the first (0 and "" mean none), a view any. */
static const uint32_t pid_pool[] = {0, 1, 2, 4242, 4243, 65536 + 4242, UINT32_MAX};
static const uint64_t cgroup_pool[] = {0, 1, 7, 0x100000007ull, 1ull << 40, UINT64_MAX};
static char *const comm_pool[] = {"", "curl", "cur", "curl2", "nginx", "a23456789012345"};
#define N_OF(pool) (sizeof(pool) / sizeof(pool[0]))

static uint32_t rnd_port(void)
{
	return below(3) ? port_pool[below(N_PORT_POOL)] : 1 + below(65535);
}

static uint32_t rnd_proto(void)
{
	static const uint8_t pool[] = {
	    IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_ICMPV6, 0, 63, 64, 127, 128, 255};

	return below(3) ? pool[below(sizeof(pool))] : below(256);
}

/* A copy of a base address with some bits flipped at or after bit from. */
static void near_base(uint8_t *a, int v6, unsigned int from)
{
	unsigned int bits = v6 ? 128 : 32, flips = below(3);

	memcpy(a, base[v6][below(2)], 16);
	for (unsigned int i = 0; i < flips && from < bits; i++) {
		unsigned int b = from + below(bits - from);

		a[b / 8] ^= (uint8_t)(0x80 >> (b % 8));
	}
}

static void rnd_endpoint(Meshmon__V1__Endpoint *ep, uint8_t *a)
{
	uint32_t kind = below(10);
	int v6 = kind > 5;

	meshmon__v1__endpoint__init(ep);
	ep->port = below(2) ? 0 : rnd_port();
	if (kind == 0) { /* port only */
		ep->port = rnd_port();
		return;
	}
	ep->prefix_len = below(v6 ? 129 : 33);
	near_base(a, v6, below(v6 ? 128 : 32));
	ep->address.data = a;
	ep->address.len = v6 ? 16 : 4;
}

/* Mostly a few values, sometimes up to the limit. */
static size_t rnd_count(void)
{
	uint32_t r = below(20);

	return r < 9 ? 0 : r < 18 ? 1 + below(4) : 1 + below(NV);
}

static void rnd_flow(struct rflow *f)
{
	size_t *n[3] = {&f->ff.n_source, &f->ff.n_destination, &f->ff.n_either};

	meshmon__v1__flow_filter__init(&f->ff);
	f->ff.source = f->epp[0];
	f->ff.destination = f->epp[1];
	f->ff.either = f->epp[2];
	for (int s = 0; s < 3; s++) {
		*n[s] = rnd_count();
		for (size_t j = 0; j < *n[s]; j++) {
			rnd_endpoint(&f->ep[s][j], f->addr[s][j]);
			f->epp[s][j] = &f->ep[s][j];
		}
	}
	f->ff.protocols = f->protos;
	f->ff.n_protocols = rnd_count();
	for (size_t j = 0; j < f->ff.n_protocols; j++)
		f->protos[j] = rnd_proto();
	f->ff.ports = f->ports;
	f->ff.n_ports = rnd_count();
	for (size_t j = 0; j < f->ff.n_ports; j++)
		f->ports[j] = rnd_port();
	/* The new fields less often, so the tuple's fields still decide many views. */
	f->ff.drop_reasons = f->reasons;
	f->ff.n_drop_reasons = below(3) ? 0 : rnd_count();
	for (size_t j = 0; j < f->ff.n_drop_reasons; j++)
		f->reasons[j] = reason_pool[below(N_REASON_POOL)];
	f->ff.tcp_flags = f->masks;
	f->ff.n_tcp_flags = below(3) ? 0 : rnd_count();
	for (size_t j = 0; j < f->ff.n_tcp_flags; j++)
		f->masks[j] = 1u << below(8) | (below(2) ? 1u << below(8) : 0);
	f->ff.interfaces = f->ifnames;
	f->ff.n_interfaces = below(3) ? 0 : rnd_count();
	for (size_t j = 0; j < f->ff.n_interfaces; j++)
		f->ifnames[j] = ifname_pool[below(N_IFNAME_POOL)];
	f->ff.pids = f->pids;
	f->ff.n_pids = below(3) ? 0 : rnd_count();
	for (size_t j = 0; j < f->ff.n_pids; j++)
		f->pids[j] = pid_pool[1 + below(N_OF(pid_pool) - 1)];
	f->ff.cgroup_ids = f->cgroup_ids;
	f->ff.n_cgroup_ids = below(3) ? 0 : rnd_count();
	for (size_t j = 0; j < f->ff.n_cgroup_ids; j++)
		f->cgroup_ids[j] = cgroup_pool[1 + below(N_OF(cgroup_pool) - 1)];
	f->ff.comms = f->comms;
	f->ff.n_comms = below(3) ? 0 : rnd_count();
	for (size_t j = 0; j < f->ff.n_comms; j++)
		f->comms[j] = comm_pool[1 + below(N_OF(comm_pool) - 1)];
}

static void rnd_subscribe(void)
{
	static const Meshmon__V1__EventType types[] = {1, 2, 3, 4, 5, 7, 8};

	for (int v6 = 0; v6 < 2; v6++)
		for (int i = 0; i < 2; i++)
			for (int b = 0; b < 16; b++)
				base[v6][i][b] = (uint8_t)rnd();
	meshmon__v1__subscribe__init(&rsub);
	rsub.types = rtypes;
	rsub.n_types = below(4) ? 0 : 1 + below(4);
	for (size_t i = 0; i < rsub.n_types; i++)
		rtypes[i] = types[below(7)];
	rsub.points = rpoints;
	rsub.n_points = below(4) ? 0 : 1 + below(3);
	for (size_t i = 0; i < rsub.n_points; i++)
		rpoints[i] = 1 + below(7);
	rsub.filters = rfp;
	rsub.n_filters = below(10) ? below(5) : 1 + below(MM_SUBSCRIBE_MAX_FILTERS);
	rsub.n_exclude = below(3) ? 0 : below(MM_SUBSCRIBE_MAX_FILTERS - rsub.n_filters + 1) % 4;
	rsub.exclude = rfp + rsub.n_filters;
	for (size_t k = 0; k < rsub.n_filters + rsub.n_exclude; k++) {
		rnd_flow(&rf[k]);
		rfp[k] = &rf[k].ff;
	}
	/* A window over the views' times 0..10000 now and then. */
	rsub.since_ns = below(4) ? 0 : below(5000);
	rsub.until_ns = below(4) ? 0 : rsub.since_ns + below(8000);
}

/* A view near the Subscribe's addresses: a base with bits flipped anywhere. */
static void rnd_view(struct mm_event_view *v)
{
	static const uint8_t types[] = {MM_EVENT_TRACE,	  MM_EVENT_TRACE, MM_EVENT_DROP,
					MM_EVENT_CAPTURE, MM_EVENT_DEBUG, MM_EVENT_TCP_PROBE};
	uint32_t fam = below(20);
	int v6 = fam >= 10;

	memset(v, 0, sizeof(*v));
	v->type = types[below(6)];
	v->point = (uint8_t)below(8);
	v->family = fam == 0 ? MM_FAMILY_NONE : v6 ? MM_FAMILY_IPV6 : MM_FAMILY_IPV4;
	near_base(v->src, v6, below(v6 ? 129 : 33));
	near_base(v->dst, v6, below(v6 ? 129 : 33));
	if (!v6) { /* bytes past an IPv4 address must not count */
		for (int b = 4; b < 16; b++)
			v->src[b] = v->dst[b] = (uint8_t)rnd();
	}
	v->sport = (uint16_t)(below(2) ? rnd_port() : below(65536));
	v->dport = (uint16_t)(below(2) ? rnd_port() : below(65536));
	v->proto = (uint8_t)rnd_proto();
	if (v->type == MM_EVENT_DROP) {
		static const uint16_t keys[] = {0x4001, 0x4002, 0x8000, 0x8001, 0x8002,
						0x8003, 0x8009, 0x8004, 0};

		v->drop_key = keys[below(sizeof(keys) / sizeof(keys[0]))];
	}
	if (v->type == MM_EVENT_TRACE && v->proto == IPPROTO_TCP && v->family != MM_FAMILY_NONE) {
		v->has_tcp_flags = 1;
		v->tcp_flags = (uint8_t)rnd();
	}
	if (below(5))
		strcpy(v->ifname, ifname_pool[below(N_IFNAME_POOL)]);
	if (v->type == MM_EVENT_TCP_PROBE || (v->type == MM_EVENT_TRACE && below(2))) {
		v->owner_pid = pid_pool[below(N_OF(pid_pool))];
		v->owner_cgroup_id = cgroup_pool[below(N_OF(cgroup_pool))];
		strcpy(v->owner_comm, comm_pool[below(N_OF(comm_pool))]);
	}
	v->time_ns = below(10001);
}

/* Whether v passes the types and points of rsub: then the FlowFilters decide. */
static bool ref_flows_decide(const struct mm_event_view *v)
{
	Meshmon__V1__Subscribe open = rsub;

	open.n_filters = 0;
	open.n_exclude = 0;
	return rsub.n_filters && ref_match(&open, v);
}

Test(filter_equiv, random_subscribes_match_the_reference)
{
	const int subs = 3000, views = 300;
	uint64_t decided = 0, hits = 0;
	struct mm_event_view v;
	struct mm_filter f;
	char err[256];

	mm_filter__set_kernel_drop_reasons(fake_kernel_reason);
	for (int i = 0; i < subs; i++) {
		rnd_subscribe();
		cr_assert(eq(int, mm_filter__compile(&f, &rsub, err, sizeof(err)), 0),
			  "subscribe %d: %s", i, err);
		for (int j = 0; j < views; j++) {
			int want, got;

			rnd_view(&v);
			want = ref_match(&rsub, &v);
			got = mm_filter__match(&f, &v);
			if (got != want)
				mm_filter__release(&f);
			cr_assert(eq(int, got, want), "subscribe %d (%zu filters), view %d", i,
				  rsub.n_filters, j);
			if (ref_flows_decide(&v)) {
				decided++;
				hits += (uint64_t)want;
			}
		}
		mm_filter__release(&f);
	}
	/* Where the FlowFilters decide, both outcomes are common: the comparison means something.
	 */
	cr_log_info("FlowFilters decided %" PRIu64 " views, %" PRIu64 " matched", decided, hits);
	cr_expect(gt(u64, hits, decided / 10), "%" PRIu64 " of %" PRIu64, hits, decided);
	cr_expect(lt(u64, hits, decided - decided / 10), "%" PRIu64 " of %" PRIu64, hits, decided);
}

/* ---- fixed cases: nested, duplicate and port-specific blocks in one field ---- */

static void fixed_ep(int side, const char *addr, unsigned int len, unsigned int port)
{
	struct rflow *f = &rf[0];
	size_t *n[3] = {&f->ff.n_source, &f->ff.n_destination, &f->ff.n_either};
	Meshmon__V1__Endpoint *ep = &f->ep[side][*n[side]];
	uint8_t *a = f->addr[side][*n[side]];

	meshmon__v1__endpoint__init(ep);
	if (*addr) {
		ep->address.len = inet_pton(AF_INET, addr, a) == 1 ? 4 : 16;
		cr_assert(ep->address.len == 4 || inet_pton(AF_INET6, addr, a) == 1, "%s", addr);
		ep->address.data = a;
	}
	ep->prefix_len = len;
	ep->port = port;
	f->epp[side][(*n[side])++] = ep;
}

static void fixed_setup(void)
{
	meshmon__v1__subscribe__init(&rsub);
	meshmon__v1__flow_filter__init(&rf[0].ff);
	rf[0].ff.source = rf[0].epp[0];
	rf[0].ff.destination = rf[0].epp[1];
	rf[0].ff.either = rf[0].epp[2];
	rfp[0] = &rf[0].ff;
	rsub.filters = rfp;
	rsub.n_filters = 1;
}

/* The source side of an event from addr:port; checks the matcher and the reference agree. */
static int from(const struct mm_filter *f, const char *addr, unsigned int port)
{
	struct mm_event_view v = {.type = MM_EVENT_TRACE, .proto = IPPROTO_TCP, .dport = 9};
	int got;

	v.family = inet_pton(AF_INET, addr, v.src) == 1 ? MM_FAMILY_IPV4 : MM_FAMILY_IPV6;
	cr_assert(v.family == MM_FAMILY_IPV4 || inet_pton(AF_INET6, addr, v.src) == 1);
	v.sport = (uint16_t)port;
	got = mm_filter__match(f, &v);
	cr_expect(eq(int, got, ref_match(&rsub, &v)), "%s port %u", addr, port);
	return got;
}

Test(filter_equiv, nested_and_duplicate_blocks)
{
	struct mm_filter f;
	char err[256];

	fixed_setup();
	fixed_ep(0, "10.1.2.0", 24, 0);
	fixed_ep(0, "10.0.0.0", 8, 0); /* holds the /24 */
	fixed_ep(0, "10.0.0.0", 8, 0); /* a duplicate */
	fixed_ep(0, "10.1.2.3", 32, 80);
	fixed_ep(0, "10.1.0.0", 16, 80);
	fixed_ep(0, "10.1.5.0", 24, 80);
	fixed_ep(0, "10.2.0.0", 16, 443);
	fixed_ep(0, "2001:db8::", 32, 0);
	fixed_ep(0, "2001:db8:1::", 48, 0);
	fixed_ep(0, "::", 0, 22);
	fixed_ep(0, "", 0, 7);
	cr_assert(eq(int, mm_filter__compile(&f, &rsub, err, sizeof(err)), 0), "%s", err);
	cr_expect(eq(int, from(&f, "10.5.0.0", 1), 1), "the /8 after the /24 it holds");
	cr_expect(eq(int, from(&f, "10.255.255.255", 1), 1));
	cr_expect(eq(int, from(&f, "11.0.0.0", 1), 0));
	cr_expect(eq(int, from(&f, "9.255.255.255", 1), 0));
	cr_expect(eq(int, from(&f, "172.16.0.1", 80), 0));
	cr_expect(eq(int, from(&f, "172.16.0.1", 7), 1), "the port-only endpoint");
	cr_expect(eq(int, from(&f, "2001:db8:ffff::1", 1), 1));
	cr_expect(eq(int, from(&f, "2001:db9::", 1), 0));
	cr_expect(eq(int, from(&f, "fe80::1", 22), 1), "::/0 port 22");
	cr_expect(eq(int, from(&f, "fe80::1", 23), 0));
	cr_expect(eq(int, from(&f, "10.0.0.1", 22), 1), "an IPv4 tuple in 10/8 anyway");
	mm_filter__release(&f);

	fixed_setup();
	fixed_ep(0, "10.1.2.0", 24, 80);
	fixed_ep(0, "10.1.0.0", 16, 80);
	fixed_ep(0, "10.2.0.0", 16, 443);
	fixed_ep(0, "10.1.2.0", 24, 443);
	cr_assert(eq(int, mm_filter__compile(&f, &rsub, err, sizeof(err)), 0), "%s", err);
	cr_expect(eq(int, from(&f, "10.1.9.9", 80), 1));
	cr_expect(eq(int, from(&f, "10.1.9.9", 443), 0));
	cr_expect(eq(int, from(&f, "10.1.2.9", 443), 1));
	cr_expect(eq(int, from(&f, "10.2.0.1", 443), 1));
	cr_expect(eq(int, from(&f, "10.2.0.1", 80), 0));
	cr_expect(eq(int, from(&f, "10.3.0.1", 443), 0));
	cr_expect(eq(int, from(&f, "10.0.255.255", 80), 0));
	mm_filter__release(&f);
}
