// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * meshmon-filter-bench: what a listener's filter costs per event.
 *
 * mm_filter__match (agent/filter.h) runs once per event per subscriber, in
 * the agent's one event loop, so its cost is paid by every client. This runs
 * it over one fixed stream of decoded event views (a fixed-seed PRNG: 3/4
 * IPv4, 1/4 IPv6; 70% TCP, 25% UDP, 5% ICMP; a drop every 16th event, half
 * of them NO_SOCKET; four interfaces; TCP events with SYN, ACK, PSH|ACK or
 * FIN|ACK) with:
 *
 *   (a) no filter;
 *   (b) a typical filter: one FlowFilter {protocols: [tcp], ports: [443]};
 *   (c) the largest allowed filter: 64 FlowFilters, each with 64 source, 64
 *       destination and 64 either endpoints, 64 ports and 64 protocols. Every
 *       value is chosen to miss until the last: in FlowFilters 0..62 the
 *       protocols and ports lists end with the stream's values, but no
 *       endpoint matches; in FlowFilter 63 each field matches only at its
 *       last value. The endpoints mix both families and prefix lengths
 *       16..32 (IPv4) and 32..125 (IPv6), some with a port;
 *   (d) the kinds of field beyond the tuple, as `meshmon monitor` sends
 *       them: {drop reasons NO_SOCKET, POLICY_DENIED; interface veth1} or
 *       {TCP flags SYN; interface eth0}, and --not {protocol udp};
 *   (e) the largest filter of those kinds: 64 FlowFilters, the even ones
 *       with 64 drop reasons, the odd ones with 64 TCP flag masks, each
 *       with 64 interfaces; every value misses until the last, which
 *       matches only in FlowFilters 62 and 63;
 *   (h) the hostile Subscribe the limits answer: one FlowFilter with
 *       1,000,000 protocol values (it fits in a 1 MiB frame), refused by
 *       an agent that enforces the limits.
 *
 * Each row runs passes over the stream until --min-ms have passed. It prints
 * ns/event and events/s per row, the ratio to (a), how many events matched
 * (so the work cannot be optimised away, and as a check) and the heap the
 * compiled filter holds (glibc mallinfo2 before and after compiling). Only
 * ratios within one run mean much on a shared machine.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <malloc.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bench_machine.h"
#include "filter.h"
#include "kernel_drop_reasons.h"
#include "protocol.h"
#include "records.h"

#define N_VIEWS	       4096u
#define FLOWS	       MM_SUBSCRIBE_MAX_FILTERS
#define VALUES	       MM_FILTER_MAX_VALUES
#define HOSTILE_PROTOS 1000000u

enum { SRC, DST, EITHER };

static struct mm_event_view views[N_VIEWS];
static uint64_t rng = 0x6d6573686d6f6e31ull; /* fixed seed: the same stream every run */

static uint32_t rnd(void)
{
	/* xorshift64* */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (uint32_t)((rng * 0x2545f4914f6cdd1dull) >> 32);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Addresses of the stream: IPv4 in 10.0.0.0/8, IPv6 in fd00::/8. */
static void gen_addr(uint8_t *a, int v6)
{
	uint32_t r = rnd();

	memset(a, 0, 16);
	a[0] = v6 ? 0xfd : 10;
	for (int i = 1; i < (v6 ? 16 : 4); i++, r = rnd())
		a[i] = (uint8_t)r;
}

/* The kernel's NO_SOCKET: its value comes from the running kernel's BTF. */
static int no_socket;

static void gen_view(struct mm_event_view *v, uint32_t i)
{
	static const uint16_t dports[] = {443, 80, 53, 8080, 22, 5432};
	static const char ifnames[4][5] = {"eth0", "eth1", "veth", "lo"};
	static const uint8_t tcp_flags[] = {MM_TCP_SYN, MM_TCP_ACK, MM_TCP_PSH | MM_TCP_ACK,
					    MM_TCP_FIN | MM_TCP_ACK};
	uint32_t r = rnd() % 20;
	int v6 = i % 4 == 3;

	memset(v, 0, sizeof(*v));
	v->type = i % 16 == 15 ? MM_EVENT_DROP : MM_EVENT_TRACE;
	v->point = v->type == MM_EVENT_DROP ? MM_POINT_KERNEL : MM_POINT_FROM_NETWORK;
	v->family = v6 ? MM_FAMILY_IPV6 : MM_FAMILY_IPV4;
	gen_addr(v->src, v6);
	gen_addr(v->dst, v6);
	v->proto = r < 14 ? IPPROTO_TCP : r < 19 ? IPPROTO_UDP : v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
	memcpy(v->ifname, ifnames[rnd() % 4], 5);
	if (v->type == MM_EVENT_DROP)
		v->drop_key = rnd() % 2 ? mm_drop_key(1, (uint32_t)no_socket) :
					  mm_drop_key(0, MM_DROP_POLICY_DENIED);
	if (v->type == MM_EVENT_TRACE && v->proto == IPPROTO_TCP) {
		v->has_tcp_flags = 1;
		v->tcp_flags = tcp_flags[rnd() % 4];
	}
	if (r < 19) {
		v->sport = (uint16_t)(32768 + rnd() % 28232);
		r = rnd() % 8;
		v->dport = r < 6 ? dports[r] : (uint16_t)(1024 + rnd() % 30000);
	}
}

/* A Subscribe whose pieces are all static: built by the functions below. */
struct bench_ep {
	Meshmon__V1__Endpoint ep;
	uint8_t addr[16];
};
struct bench_flow {
	Meshmon__V1__FlowFilter ff;
	struct bench_ep eps[3][VALUES];
	Meshmon__V1__Endpoint *epp[3][VALUES];
	uint32_t protos[VALUES], ports[VALUES];
};
static struct bench_flow flows[FLOWS];
static Meshmon__V1__FlowFilter *flowp[FLOWS];

static void set_ep(struct bench_ep *b, const char *addr, unsigned int prefix, unsigned int port)
{
	meshmon__v1__endpoint__init(&b->ep);
	b->ep.address.data = b->addr;
	b->ep.address.len = inet_pton(AF_INET, addr, b->addr) == 1 ? 4 : 16;
	if (b->ep.address.len == 16 && inet_pton(AF_INET6, addr, b->addr) != 1)
		abort();
	b->ep.prefix_len = prefix;
	b->ep.port = port;
}

/*
 * Endpoint j of a field that no event of the stream matches: 198.18.0.0/15
 * and 2001:db8::/32 (benchmarking and documentation ranges) are not in it.
 */
static void set_missing_ep(struct bench_ep *b, unsigned int flow, unsigned int side, unsigned int j)
{
	char a[64];
	unsigned int port = j % 4 == 0 ? 9000 + j : 0;

	if (j % 2 == 0) {
		snprintf(a, sizeof(a), "198.%u.%u.%u", 18 + side % 2, flow, j);
		set_ep(b, a, 16 + (j / 2) % 17, port);
	} else {
		snprintf(a, sizeof(a), "2001:db8:%x:%x::%x", side, flow, j);
		set_ep(b, a, 32 + (j / 2) * 3, port);
	}
}

/* Flow k of filter (c). */
static void build_largest_flow(unsigned int k)
{
	static const char *const last_ep[3] = {"10.0.0.0", "10.128.0.0", "10.0.0.0"};
	static const unsigned int last_len[3] = {9, 9, 8};
	static const uint32_t last_ports[] = {22, 53, 80, 8080, 443};
	static const uint32_t last_protos[] = {IPPROTO_ICMPV6, IPPROTO_ICMP, IPPROTO_UDP,
					       IPPROTO_TCP};
	struct bench_flow *f = &flows[k];

	meshmon__v1__flow_filter__init(&f->ff);
	for (unsigned int s = 0; s < 3; s++) {
		for (unsigned int j = 0; j < VALUES; j++) {
			if (k == FLOWS - 1 && j == VALUES - 1)
				set_ep(&f->eps[s][j], last_ep[s], last_len[s], 0);
			else
				set_missing_ep(&f->eps[s][j], k, s, j);
			f->epp[s][j] = &f->eps[s][j].ep;
		}
	}
	for (unsigned int j = 0; j < VALUES; j++) {
		f->ports[j] = j < VALUES - 5 ? 1000 + j : last_ports[j - (VALUES - 5)];
		f->protos[j] = j < VALUES - 4 ? 130 + j : last_protos[j - (VALUES - 4)];
	}
	f->ff.source = f->epp[SRC];
	f->ff.destination = f->epp[DST];
	f->ff.either = f->epp[EITHER];
	f->ff.n_source = f->ff.n_destination = f->ff.n_either = VALUES;
	f->ff.ports = f->ports;
	f->ff.protocols = f->protos;
	f->ff.n_ports = f->ff.n_protocols = VALUES;
	flowp[k] = &f->ff;
}

/* FlowFilter k of filter (e): the stream's values only last, and only in the last two. */
static char *missing_names[VALUES];
static char *last_reason_names[VALUES], *last_ifnames[VALUES];
static char *no_socket_name = "NO_SOCKET", *eth0 = "eth0";
static uint32_t missing_masks[VALUES], last_masks[VALUES];
static Meshmon__V1__FlowFilter kinds[FLOWS];
static Meshmon__V1__FlowFilter *kindsp[FLOWS];
static char *reason_names[VALUES];

static int build_kind_values(void)
{
	unsigned int n = 0;

	/* 63 kernel reasons other than NO_SOCKET, from the running kernel's table. */
	for (unsigned int v = 2; v < 1024 && n < VALUES - 1; v++) {
		const char *name = mm_kernel_drop_reason_name(v);

		if (name && (int)v != no_socket)
			reason_names[n++] = (char *)name;
	}
	if (n < VALUES - 1)
		return -ENOENT;
	for (unsigned int j = 0; j < VALUES; j++) {
		char buf[16];

		snprintf(buf, sizeof(buf), "nomatch%u", j);
		missing_names[j] = strdup(buf);
		if (!missing_names[j])
			return -ENOMEM;
		/* URG or ECE with other bits: no packet of the stream has either. */
		missing_masks[j] = (j < 32 ? MM_TCP_URG : MM_TCP_ECE) | (j % 32);
		last_masks[j] = j < VALUES - 1 ? missing_masks[j] : MM_TCP_SYN;
		last_ifnames[j] = j < VALUES - 1 ? missing_names[j] : eth0;
	}
	memcpy(last_reason_names, reason_names, sizeof(reason_names));
	last_reason_names[VALUES - 1] = no_socket_name;
	return 0;
}

static void build_kind_flow(unsigned int k)
{
	Meshmon__V1__FlowFilter *f = &kinds[k];
	int last = k >= FLOWS - 2;

	meshmon__v1__flow_filter__init(f);
	if (k % 2 == 0) {
		f->drop_reasons = last ? last_reason_names : reason_names;
		f->n_drop_reasons = last ? VALUES : VALUES - 1;
	} else {
		f->tcp_flags = last ? last_masks : missing_masks;
		f->n_tcp_flags = VALUES;
	}
	f->interfaces = last ? last_ifnames : missing_names;
	f->n_interfaces = VALUES;
	kindsp[k] = f;
}

struct row {
	const char *name;
	Meshmon__V1__Subscribe sub;
	size_t values; /* repeated values in the Subscribe, all fields */
};

#define N_ROWS 6

static void build_rows(struct row *rows, uint32_t *hostile)
{
	static uint32_t tcp = IPPROTO_TCP, https = 443, udp = IPPROTO_UDP, syn = MM_TCP_SYN;
	static char *reasons[] = {"NO_SOCKET", "POLICY_DENIED"}, *veth = "veth", *eth = "eth0";
	static Meshmon__V1__FlowFilter typical, hostile_ff, beyond[2], not_udp;
	static Meshmon__V1__FlowFilter *typicalp = &typical, *hostilep = &hostile_ff;
	static Meshmon__V1__FlowFilter *beyondp[2] = {&beyond[0], &beyond[1]}, *not_udpp = &not_udp;

	for (int i = 0; i < N_ROWS; i++)
		meshmon__v1__subscribe__init(&rows[i].sub);
	rows[0].name = "(a) no filter";
	rows[1].name = "(b) typical: tcp, port 443";
	meshmon__v1__flow_filter__init(&typical);
	typical.protocols = &tcp;
	typical.n_protocols = 1;
	typical.ports = &https;
	typical.n_ports = 1;
	rows[1].sub.filters = &typicalp;
	rows[1].sub.n_filters = 1;
	rows[1].values = 2;
	rows[2].name = "(c) largest: 64 x (3x64 ep, 64 ports, 64 protos)";
	for (unsigned int k = 0; k < FLOWS; k++)
		build_largest_flow(k);
	rows[2].sub.filters = flowp;
	rows[2].sub.n_filters = FLOWS;
	rows[2].values = (size_t)FLOWS * 5 * VALUES;
	rows[3].name = "(d) reasons+iface | flags+iface, --not udp";
	meshmon__v1__flow_filter__init(&beyond[0]);
	beyond[0].drop_reasons = reasons;
	beyond[0].n_drop_reasons = 2;
	beyond[0].interfaces = &veth;
	beyond[0].n_interfaces = 1;
	meshmon__v1__flow_filter__init(&beyond[1]);
	beyond[1].tcp_flags = &syn;
	beyond[1].n_tcp_flags = 1;
	beyond[1].interfaces = &eth;
	beyond[1].n_interfaces = 1;
	meshmon__v1__flow_filter__init(&not_udp);
	not_udp.protocols = &udp;
	not_udp.n_protocols = 1;
	rows[3].sub.filters = beyondp;
	rows[3].sub.n_filters = 2;
	rows[3].sub.exclude = &not_udpp;
	rows[3].sub.n_exclude = 1;
	rows[3].values = 7;
	rows[4].name = "(e) largest: 64 x (64 reasons|flags, 64 ifaces)";
	for (unsigned int k = 0; k < FLOWS; k++)
		build_kind_flow(k);
	rows[4].sub.filters = kindsp;
	rows[4].sub.n_filters = FLOWS;
	rows[4].values = (size_t)FLOWS * 2 * VALUES - FLOWS / 2 + 1;
	rows[5].name = "(h) hostile: 1 x 1,000,000 protos";
	meshmon__v1__flow_filter__init(&hostile_ff);
	for (uint32_t i = 0; i < HOSTILE_PROTOS; i++)
		hostile[i] = i < HOSTILE_PROTOS - 1 ? 100 + i % 100 : IPPROTO_TCP;
	hostile_ff.protocols = hostile;
	hostile_ff.n_protocols = HOSTILE_PROTOS;
	rows[5].sub.filters = &hostilep;
	rows[5].sub.n_filters = 1;
	rows[5].values = HOSTILE_PROTOS;
}

struct result {
	uint64_t events, matched, heap;
	double ns_per_event;
	int refused;
	char err[160];
};

/* Compiles r's Subscribe and runs passes over the stream for min_ms. */
static int run_row(const struct row *r, unsigned int min_ms, struct result *res)
{
	struct mm_filter f;
	struct mallinfo2 m0, m1;
	uint64_t t0, t1, end;
	int ret;

	memset(res, 0, sizeof(*res));
	m0 = mallinfo2();
	ret = mm_filter__compile(&f, &r->sub, res->err, sizeof(res->err));
	m1 = mallinfo2();
	if (ret == -EINVAL) {
		res->refused = 1;
		return 0;
	}
	if (ret)
		return ret;
	/* In use: small chunks plus mmap()ed ones (large arrays). */
	res->heap = m1.uordblks + m1.hblkhd - m0.uordblks - m0.hblkhd;
	t0 = now_ns();
	end = t0 + (uint64_t)min_ms * 1000000ull;
	do {
		for (uint32_t i = 0; i < N_VIEWS; i++)
			res->matched += (uint64_t)mm_filter__match(&f, &views[i]);
		res->events += N_VIEWS;
		t1 = now_ns();
	} while (t1 < end);
	res->ns_per_event = (double)(t1 - t0) / (double)res->events;
	mm_filter__release(&f);
	return 0;
}

static void print_row(const struct row *r, const struct result *res, double base_ns)
{
	if (res->refused) {
		printf("%-50s %8zu  refused: %s\n", r->name, r->values, res->err);
		return;
	}
	printf("%-50s %8zu %9" PRIu64 " %6.1f%% %9.1f %12.0f %8.2f %9" PRIu64 "\n", r->name,
	       r->values, res->events, 100.0 * (double)res->matched / (double)res->events,
	       res->ns_per_event, 1e9 / res->ns_per_event, res->ns_per_event / base_ns, res->heap);
}

static void usage(FILE *out)
{
	fprintf(out, "usage: meshmon-filter-bench [--min-ms MS]\n"
		     "  --min-ms MS   run each filter over the stream for at least MS ms (500)\n");
}

static int parse_args(int argc, char **argv, unsigned int *min_ms)
{
	static const struct option longopts[] = {
	    {"min-ms", required_argument, NULL, 'm'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "m:h", longopts, NULL)) != -1) {
		char *end;
		unsigned long v;

		if (c == 'h') {
			usage(stdout);
			exit(0);
		}
		if (c != 'm')
			return -EINVAL;
		errno = 0;
		v = strtoul(optarg, &end, 10);
		if (errno || *end || v == 0 || v > 600000)
			return -EINVAL;
		*min_ms = (unsigned int)v;
	}
	return optind == argc ? 0 : -EINVAL;
}

int main(int argc, char **argv)
{
	struct row rows[N_ROWS];
	struct result res[N_ROWS];
	unsigned int min_ms = 500;
	uint32_t *hostile = malloc(HOSTILE_PROTOS * sizeof(*hostile));

	if (!hostile || parse_args(argc, argv, &min_ms)) {
		usage(stderr);
		return 2;
	}
	no_socket = mm_kernel_drop_reason_value("NO_SOCKET");
	if (no_socket < 0 || build_kind_values()) {
		fprintf(stderr, "meshmon-filter-bench: the kernel's drop reasons are not readable "
				"from /sys/kernel/btf/vmlinux\n");
		return 1;
	}
	mm_filter__set_kernel_drop_reasons(mm_kernel_drop_reason_value);
	for (uint32_t i = 0; i < N_VIEWS; i++)
		gen_view(&views[i], i);
	build_rows(rows, hostile);
	mm_bench_print_machine();
	printf("stream: %u event views (3/4 IPv4, 1/4 IPv6; 70%% TCP, 25%% UDP, 5%% ICMP), each "
	       "row at least %u ms\n\n",
	       N_VIEWS, min_ms);
	printf("%-50s %8s %9s %7s %9s %12s %8s %9s\n", "filter", "values", "events", "matched",
	       "ns/event", "events/s", "x (a)", "heap B");
	for (int i = 0; i < N_ROWS; i++) {
		if (run_row(&rows[i], min_ms, &res[i])) {
			fprintf(stderr, "%s: compile: out of memory\n", rows[i].name);
			return 1;
		}
		print_row(&rows[i], &res[i], res[0].ns_per_event);
	}
	printf("\n(c)/(a) = %.2f, (e)/(a) = %.2f; heap B = what the compiled filter holds "
	       "(mallinfo2)\n",
	       res[2].ns_per_event / res[0].ns_per_event, res[4].ns_per_event / res[0].ns_per_event);
	free(hostile);
	return 0;
}
