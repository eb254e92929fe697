// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Text output of `meshmon monitor`: one line per event in the shapes users of
 * `cilium-dbg monitor` and tcpdump know, more fields with -v, a dissection of
 * the captured bytes with -vv, a hex dump with --hex. Names of trace points,
 * states, parse errors and debug formats come from abi/names.h (the one
 * definition of the datapath tables). Each event line is built in memory and
 * written with one fwrite (line.h).
 */
#include <inttypes.h>
#include <netinet/in.h>
#include <string.h>

#include "dissect.h"
#include "format_common.h"
#include "format_text.h"
#include "line.h"
#include "names.h"

#define COLOR_RED "\033[31m"
#define COLOR_YELLOW "\033[33m"
#define COLOR_RESET "\033[0m"

/* "[NODE] " with --print-node-name, as hubble's: what leads every line; nothing when no name. */
static void put_node(struct mm_line *l, const struct mm_fmt *f)
{
	if (!f->print_node || !f->node || !f->node[0])
		return;
	mm_line__c(l, '[');
	mm_line__clean(l, f->node);
	mm_line__lit(l, "] ");
}

/* The same for a line written with stdio. */
static void print_node(const struct mm_fmt *f)
{
	struct mm_line l;

	mm_line__init(&l, f->out);
	put_node(&l, f);
	mm_line__flush(&l);
}

void mm_text_hello(const struct mm_fmt *f, const Meshmon__V1__Hello *h)
{
	print_node(f);
	fprintf(f->out, "Listening for events on %u CPUs with %u pages of %u bytes per CPU", h->num_cpus,
		h->pages_per_cpu, h->page_size);
	if (f->verbose) {
		fputs(" (agent ", f->out);
		mm_fmt_clean(f->out, h->agent_version);
		fprintf(f->out, ", protocol %u, capture %u bytes", h->protocol_version,
			h->capture_len);
		if (h->node_name && h->node_name[0]) {
			fputs(", node ", f->out);
			mm_fmt_clean(f->out, h->node_name);
		}
		fputc(')', f->out);
	}
	fputc('\n', f->out);
}

/* "ifindex 4 (veth0)", or "ifindex 4" with -n or no name. */
static void put_ifindex(struct mm_line *l, const struct mm_fmt *f, const Meshmon__V1__Event *ev)
{
	mm_line__lit(l, "ifindex ");
	mm_line__u64(l, ev->ifindex);
	if (!f->numeric && ev->ifname && ev->ifname[0]) {
		mm_line__lit(l, " (");
		mm_line__clean(l, ev->ifname);
		mm_line__c(l, ')');
	}
}

/* The packet facts a line shows: from the tuple, the trace, or the captured bytes. */
struct pkt_view {
	bool ip;
	int family;
	uint8_t src[16], dst[16];
	uint32_t sport, dport, proto, ethertype;
	/* Not IP: the frame's own ethertype (a VLAN tag's, then ethertype is the inner one). */
	uint32_t outer_ethertype, vlan_id;
	bool has_arp;
	struct mm_arp arp;
	bool have_flags, have_icmp;
	bool no_ports; /* the transport header was not parsed */
	uint32_t tcp_flags, icmp_type, icmp_code;
};

static int layer_of(const Meshmon__V1__Event *ev)
{
	switch (ev->layer) {
	case MESHMON__V1__CAPTURE_LAYER__CAPTURE_LAYER_ETHERNET:
		return MM_DISSECT_ETHERNET;
	case MESHMON__V1__CAPTURE_LAYER__CAPTURE_LAYER_NETWORK:
		return MM_DISSECT_NETWORK;
	case MESHMON__V1__CAPTURE_LAYER__CAPTURE_LAYER_TRANSPORT:
		return MM_DISSECT_TRANSPORT;
	default:
		return MM_DISSECT_NONE;
	}
}

/* 4 or 6 when both addresses have that family's length; 0 otherwise (not IP, or bogus). */
static int tuple_family(const Meshmon__V1__Tuple *t)
{
	if (!t || t->src.len != t->dst.len)
		return 0;
	return t->src.len == 16 ? 6 : t->src.len == 4 ? 4 : 0;
}

static void view_of(const Meshmon__V1__Event *ev, struct pkt_view *v)
{
	const Meshmon__V1__Tuple *t = ev->tuple;
	bool trace = ev->detail_case == MESHMON__V1__EVENT__DETAIL_TRACE && ev->trace;
	bool verdict = ev->detail_case == MESHMON__V1__EVENT__DETAIL_POLICY_VERDICT &&
		       ev->policy_verdict;
	struct mm_pkt_summary s;

	memset(v, 0, sizeof(*v));
	/*
	 * The captured bytes are read only for what the event does not carry: the
	 * tuple (capture events have none), TCP flags and ICMP type (only traces
	 * carry them), what a non-IP frame is (ARP's addresses, VLAN tags). A
	 * trace or a policy verdict with an IP tuple, most of the stream, needs
	 * nothing.
	 */
	if (t && (trace || verdict) && tuple_family(t))
		memset(&s, 0, sizeof(s));
	else
		mm_dissect(ev->captured.data, ev->captured.len, layer_of(ev),
			   t ? (uint8_t)t->proto : 0, tuple_family(t), &s, NULL, NULL);
	if (t) {
		v->family = tuple_family(t);
		v->ip = v->family != 0;
		if (v->ip) {
			memcpy(v->src, t->src.data, t->src.len);
			memcpy(v->dst, t->dst.data, t->dst.len);
		}
		v->sport = t->sport;
		v->dport = t->dport;
		v->proto = t->proto;
		v->ethertype = t->ethertype;
	} else if (s.family) {
		v->ip = true;
		v->family = s.family;
		memcpy(v->src, s.src, 16);
		memcpy(v->dst, s.dst, 16);
		v->sport = s.sport;
		v->dport = s.dport;
		v->proto = s.proto;
		v->ethertype = s.ethertype;
	} else {
		v->ethertype = s.ethertype;
	}
	v->outer_ethertype = v->ethertype;
	if (!v->ip && s.outer_ethertype) {
		/* The bytes say more than the tuple's ethertype: tags, the inner type, ARP. */
		v->outer_ethertype = s.outer_ethertype;
		v->ethertype = s.ethertype;
		v->vlan_id = s.vlan_id;
		v->has_arp = s.has_arp;
		v->arp = s.arp;
	}
	if (trace) {
		v->no_ports = ev->trace->parse_error == MESHMON__V1__PARSE_ERROR__PARSE_ERROR_TRUNCATED_L4 ||
			      ev->trace->parse_error == MESHMON__V1__PARSE_ERROR__PARSE_ERROR_FRAGMENT;
		v->have_flags = true;
		v->tcp_flags = ev->trace->tcp_flags;
		v->have_icmp = true;
		v->icmp_type = ev->trace->icmp_type;
		v->icmp_code = ev->trace->icmp_code;
	} else if (verdict) {
		v->have_flags = true;
		v->tcp_flags = ev->policy_verdict->tcp_flags;
	} else if (s.has_l4 && s.proto == v->proto) {
		v->have_flags = true;
		v->tcp_flags = s.tcp_flags;
		v->have_icmp = true;
		v->icmp_type = s.icmp_type;
		v->icmp_code = s.icmp_code;
	}
}

static void put_endpoint(struct mm_line *l, const struct pkt_view *v, const uint8_t *addr,
			 uint32_t port, bool ports)
{
	char a[64];

	mm_fmt_addr(addr, v->family == 6 ? 16 : 4, a, sizeof(a));
	if (ports && v->family == 6)
		mm_line__c(l, '[');
	mm_line__str(l, a);
	if (!ports)
		return;
	if (v->family == 6)
		mm_line__c(l, ']');
	mm_line__c(l, ':');
	mm_line__u64(l, port);
}

/* " NAME" when the table has one, else " WHAT N". */
static void put_name_or(struct mm_line *l, const char *name, const char *what, size_t what_len,
			unsigned int value)
{
	mm_line__c(l, ' ');
	if (name) {
		mm_line__str(l, name);
		return;
	}
	mm_line__put(l, what, what_len);
	mm_line__u64(l, value);
}

/* "LLDP", or "ethertype 0x88b5" when the type has no name here. */
static void put_ethertype(struct mm_line *l, uint32_t ethertype)
{
	const char *name = mm_ethertype_name(ethertype);

	if (name) {
		mm_line__str(l, name);
		return;
	}
	mm_line__lit(l, "ethertype 0x");
	mm_line__hex_pad(l, ethertype, 4);
}

static void put_ipv4(struct mm_line *l, const uint8_t ip[4])
{
	char a[64];

	mm_fmt_addr(ip, 4, a, sizeof(a));
	mm_line__str(l, a);
}

static void put_mac(struct mm_line *l, const uint8_t mac[6])
{
	char m[64];

	mm_mac_str(mac, m, sizeof(m));
	mm_line__str(l, m);
}

/* In tcpdump's words: "ARP who-has 10.0.0.2 tell 10.0.0.1", "ARP reply 10.0.0.2 is-at MAC". */
static void put_arp(struct mm_line *l, const struct mm_arp *a)
{
	switch (a->op) {
	case MM_ARP_REQUEST:
		mm_line__lit(l, "ARP who-has ");
		put_ipv4(l, a->target_ip);
		mm_line__lit(l, " tell ");
		put_ipv4(l, a->sender_ip);
		return;
	case MM_ARP_REPLY:
		mm_line__lit(l, "ARP reply ");
		put_ipv4(l, a->sender_ip);
		mm_line__lit(l, " is-at ");
		put_mac(l, a->sender_mac);
		return;
	default:
		mm_line__lit(l, "ARP op ");
		mm_line__u64(l, a->op);
		mm_line__lit(l, ", sender ");
		put_ipv4(l, a->sender_ip);
		mm_line__c(l, ' ');
		put_mac(l, a->sender_mac);
		mm_line__lit(l, ", target ");
		put_ipv4(l, a->target_ip);
		mm_line__c(l, ' ');
		put_mac(l, a->target_mac);
	}
}

/*
 * A frame that is not IP, as what it is: "802.1Q vlan 7, " before the inner
 * type, ARP with its addresses, other types by name or number. False when
 * nothing is known.
 */
static bool put_non_ip(struct mm_line *l, const struct pkt_view *v)
{
	if (!v->outer_ethertype)
		return false;
	if (mm_ethertype_is_vlan(v->outer_ethertype)) {
		put_ethertype(l, v->outer_ethertype);
		mm_line__lit(l, " vlan ");
		mm_line__u64(l, v->vlan_id);
		mm_line__lit(l, ", ");
	}
	if (v->has_arp)
		put_arp(l, &v->arp);
	else
		put_ethertype(l, v->ethertype);
	return true;
}

/* "SRC -> DST proto ...": false when there is nothing to show. */
static bool put_tuple(struct mm_line *l, const struct pkt_view *v)
{
	bool ports = !v->no_ports &&
		     (v->proto == IPPROTO_TCP || v->proto == IPPROTO_UDP || v->proto == IPPROTO_SCTP);
	const char *name;
	char flags[64];

	if (!v->ip)
		return put_non_ip(l, v);
	put_endpoint(l, v, v->src, v->sport, ports);
	mm_line__lit(l, " -> ");
	put_endpoint(l, v, v->dst, v->dport, ports);
	switch (v->proto) {
	case IPPROTO_TCP:
		mm_line__lit(l, " tcp");
		if (v->have_flags && v->tcp_flags) {
			mm_tcp_flags_str(v->tcp_flags, flags, sizeof(flags));
			mm_line__c(l, ' ');
			mm_line__str(l, flags);
		}
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6: {
		int fam = v->proto == IPPROTO_ICMPV6 ? 6 : 4;

		if (!v->have_icmp) {
			if (fam == 6)
				mm_line__lit(l, " icmpv6");
			else
				mm_line__lit(l, " icmp");
			break;
		}
		name = mm_icmp_type_name(fam, v->icmp_type);
		if (fam == 6)
			put_name_or(l, name, "icmpv6 type ", 12, v->icmp_type);
		else
			put_name_or(l, name, "icmp type ", 10, v->icmp_type);
		if (v->icmp_code) {
			mm_line__lit(l, " code ");
			mm_line__u64(l, v->icmp_code);
		}
		break;
	}
	default:
		put_name_or(l, mm_ip_proto_name(v->proto), "proto ", 6, v->proto);
	}
	return true;
}

static void put_tuple_tail(struct mm_line *l, const struct pkt_view *v)
{
	mm_line__lit(l, ": ");
	if (!put_tuple(l, v))
		mm_line__lit(l, "no packet headers");
}

/* "to network", "from stack", ... from the trace point's name. */
static void put_point_words(struct mm_line *l, unsigned int point)
{
	const char *name = mm_trace_point_name(point);
	const char *dash;

	if (!name) {
		mm_line__lit(l, "point ");
		mm_line__u64(l, point);
		return;
	}
	dash = strchr(name, '-');
	if (dash) {
		mm_line__put(l, name, (size_t)(dash - name));
		mm_line__c(l, ' ');
		mm_line__str(l, dash + 1);
	} else {
		mm_line__str(l, name);
	}
}

static void put_time(struct mm_line *l, uint64_t ns)
{
	char ts[40];

	mm_fmt_time(ns, ts, sizeof(ts));
	mm_line__str(l, ts);
}

/* "CPU 01: " */
static void put_cpu(struct mm_line *l, uint32_t cpu)
{
	mm_line__lit(l, "CPU ");
	mm_line__u64_pad(l, cpu, 2);
	mm_line__lit(l, ": ");
}

/* "TIME CPU 01: " with -v; "TIME " with --time alone; nothing otherwise. */
static void put_prefix(struct mm_line *l, const struct mm_fmt *f, uint64_t time_ns, uint32_t cpu)
{
	if (!f->verbose && !f->time)
		return;
	put_time(l, time_ns);
	mm_line__c(l, ' ');
	if (f->verbose && cpu != MM_CPU_NONE)
		put_cpu(l, cpu);
}

/* ", NAME N" */
static void put_field(struct mm_line *l, const char *name, size_t name_len, uint64_t v)
{
	mm_line__put(l, name, name_len);
	mm_line__u64(l, v);
}

#define PUT_FIELD(l, name, v) put_field((l), "" name, sizeof(name) - 1, (v))

static void put_common_verbose(struct mm_line *l, const struct mm_fmt *f,
			       const Meshmon__V1__Event *ev)
{
	const char *hook = mm_source_name(ev->source);

	if (!f->verbose)
		return;
	PUT_FIELD(l, ", len ", ev->len);
	PUT_FIELD(l, ", cap_len ", ev->cap_len);
	mm_line__lit(l, ", hook ");
	if (hook)
		mm_line__str(l, hook);
	else
		mm_line__u64(l, ev->source);
}

/* Endpoint traces: " pid 123 (curl) cgroup 4567 cookie 0x2a", "pid unknown" when it is 0. */
static void put_sock_owner(struct mm_line *l, const Meshmon__V1__Trace *tr)
{
	if (tr->pid) {
		PUT_FIELD(l, " pid ", tr->pid);
		mm_line__lit(l, " (");
		mm_line__clean(l, tr->comm);
		mm_line__c(l, ')');
	} else {
		mm_line__lit(l, " pid unknown");
	}
	PUT_FIELD(l, " cgroup ", tr->cgroup_id);
	mm_line__lit(l, " cookie 0x");
	mm_line__hex(l, tr->socket_cookie);
}

static void text_trace(struct mm_line *l, const struct mm_fmt *f, const Meshmon__V1__Event *ev,
		       const struct pkt_view *v)
{
	const Meshmon__V1__Trace *tr = ev->trace;
	const char *arrow = mm_trace_point_arrow(tr->point);
	const char *peer = mm_trace_point_peer(tr->point);
	const char *state = mm_trace_state_name(tr->state);
	const char *perr;

	if (arrow) {
		mm_line__str(l, arrow);
		mm_line__c(l, ' ');
		mm_line__str(l, peer);
	} else {
		PUT_FIELD(l, "?? point ", tr->point);
	}
	mm_line__lit(l, " flow 0x");
	mm_line__hex(l, ev->flow_id);
	mm_line__lit(l, " state ");
	if (state)
		mm_line__str(l, state);
	else
		mm_line__u64(l, tr->state);
	mm_line__c(l, ' ');
	put_ifindex(l, f, ev);
	if (ev->source == MESHMON__V1__SOURCE__SOURCE_CGROUP_SKB)
		put_sock_owner(l, tr);
	put_tuple_tail(l, v);
	/* Not being IP is no error (the datapath says so too): the frame is described above. */
	if (tr->parse_error != MESHMON__V1__PARSE_ERROR__PARSE_ERROR_NONE &&
	    tr->parse_error != MESHMON__V1__PARSE_ERROR__PARSE_ERROR_NOT_IP) {
		perr = mm_parse_error_text(tr->parse_error);
		if (perr) {
			mm_line__lit(l, ", parse error: ");
			mm_line__str(l, perr);
		} else {
			PUT_FIELD(l, ", parse error ", tr->parse_error);
		}
	}
	if (f->verbose) {
		PUT_FIELD(l, ", folded ", tr->folded);
		if (ev->source == MESHMON__V1__SOURCE__SOURCE_CGROUP_SKB)
			PUT_FIELD(l, ", netns ", tr->netns);
		put_common_verbose(l, f, ev);
	}
}

static void text_drop(struct mm_line *l, const struct mm_fmt *f, const Meshmon__V1__Event *ev,
		      const struct pkt_view *v)
{
	const Meshmon__V1__Drop *d = ev->drop;
	bool kernel = ev->source == MESHMON__V1__SOURCE__SOURCE_KERNEL;
	const char *reason = kernel ? (d->reason[0] ? d->reason : d->reason_text)
				    : (d->reason_text[0] ? d->reason_text : d->reason);

	if (f->color)
		mm_line__lit(l, COLOR_RED);
	if (reason && reason[0]) {
		mm_line__lit(l, "xx drop (");
		mm_line__clean(l, reason);
		mm_line__c(l, ')');
	} else {
		PUT_FIELD(l, "xx drop (reason ", d->reason_code);
		mm_line__c(l, ')');
	}
	if (f->color)
		mm_line__lit(l, COLOR_RESET);
	if (kernel) {
		mm_line__lit(l, " kernel ");
		put_ifindex(l, f, ev);
		if (d->netns)
			PUT_FIELD(l, ", netns ", d->netns);
		if (d->symbol && d->symbol[0]) {
			/* ping_rcv+0xab; -v adds the address it stands for */
			mm_line__lit(l, ", location ");
			mm_line__clean(l, d->symbol);
			if (f->verbose && d->location) {
				mm_line__lit(l, " (0x");
				mm_line__hex(l, d->location);
				mm_line__c(l, ')');
			}
		} else if (d->location) {
			mm_line__lit(l, ", location 0x");
			mm_line__hex(l, d->location);
		}
	} else {
		mm_line__lit(l, " flow 0x");
		mm_line__hex(l, ev->flow_id);
		mm_line__c(l, ' ');
		put_point_words(l, d->point);
		mm_line__c(l, ' ');
		put_ifindex(l, f, ev);
		if (d->file[0]) {
			mm_line__lit(l, ", file ");
			mm_line__clean(l, d->file);
			mm_line__c(l, ':');
			mm_line__u64(l, d->line);
		} else if (d->file_id) {
			PUT_FIELD(l, ", file id ", d->file_id);
			mm_line__c(l, ':');
			mm_line__u64(l, d->line);
		}
		if (d->reason_code == MESHMON__V1__DROP_REASON__DROP_REASON_POLICY_DENIED)
			PUT_FIELD(l, ", rule ", d->ext_error);
		else if (d->ext_error)
			PUT_FIELD(l, ", ext_error ", d->ext_error);
	}
	put_tuple_tail(l, v);
	if (f->verbose) {
		PUT_FIELD(l, ", reason_code ", d->reason_code);
		PUT_FIELD(l, ", folded ", d->folded);
		put_common_verbose(l, f, ev);
	}
}

static void text_capture(struct mm_line *l, const struct mm_fmt *f, const Meshmon__V1__Event *ev,
			 const struct pkt_view *v)
{
	mm_line__lit(l, "-- capture flow 0x");
	mm_line__hex(l, ev->flow_id);
	mm_line__c(l, ' ');
	put_point_words(l, ev->capture->point);
	mm_line__c(l, ' ');
	put_ifindex(l, f, ev);
	put_tuple_tail(l, v);
	put_common_verbose(l, f, ev);
}

/*
 * As cilium-dbg monitor -t policy-verdict reads: "Policy verdict log: flow
 * 0x.. ifindex N (IF), ingress|egress, action allow|deny, match none|rule N:
 * TUPLE". ingress is the from-network point, egress to-network.
 */
static void text_policy_verdict(struct mm_line *l, const struct mm_fmt *f,
				const Meshmon__V1__Event *ev, const struct pkt_view *v)
{
	const Meshmon__V1__PolicyVerdict *pv = ev->policy_verdict;

	mm_line__lit(l, "Policy verdict log: flow 0x");
	mm_line__hex(l, ev->flow_id);
	mm_line__c(l, ' ');
	put_ifindex(l, f, ev);
	if (pv->point == MESHMON__V1__TRACE_POINT__TRACE_POINT_FROM_NETWORK) {
		mm_line__lit(l, ", ingress");
	} else if (pv->point == MESHMON__V1__TRACE_POINT__TRACE_POINT_TO_NETWORK) {
		mm_line__lit(l, ", egress");
	} else {
		mm_line__lit(l, ", ");
		put_point_words(l, pv->point);
	}
	switch (pv->verdict) {
	case MESHMON__V1__VERDICT__VERDICT_ALLOWED:
		mm_line__lit(l, ", action allow");
		break;
	case MESHMON__V1__VERDICT__VERDICT_DENIED:
		if (f->color)
			mm_line__lit(l, ", action " COLOR_RED "deny" COLOR_RESET);
		else
			mm_line__lit(l, ", action deny");
		break;
	default:
		PUT_FIELD(l, ", action ", pv->verdict);
	}
	if (pv->rule_id)
		PUT_FIELD(l, ", match rule ", pv->rule_id);
	else
		mm_line__lit(l, ", match none");
	put_tuple_tail(l, v);
	if (f->verbose) {
		PUT_FIELD(l, ", folded ", pv->folded);
		put_common_verbose(l, f, ev);
	}
}

/* "ADDR:PORT" ("[ADDR]:PORT" for IPv6) of a 4- or 16-byte address. */
static void put_addr_port(struct mm_line *l, const ProtobufCBinaryData *addr, uint32_t port)
{
	struct pkt_view v = { .family = addr->len == 16 ? 6 : 4 };

	put_endpoint(l, &v, addr->data, port, true);
}

/*
 * "trace-sock connect 10.96.0.10:80 -> 10.0.0.5:8080 tcp pid 123 (curl)
 * cookie 0x2a cgroup 4567": what the application asked for, then where the
 * socket really goes.
 */
static void text_trace_sock(struct mm_line *l, const struct mm_fmt *f,
			    const Meshmon__V1__Event *ev, const struct pkt_view *v)
{
	const Meshmon__V1__TraceSock *k = ev->trace_sock;
	const char *hook = mm_sock_hook_name(k->hook);

	mm_line__lit(l, "trace-sock ");
	if (hook)
		mm_line__str(l, hook);
	else
		PUT_FIELD(l, "hook ", k->hook);
	mm_line__c(l, ' ');
	if (k->orig_dst.len)
		put_addr_port(l, &k->orig_dst, k->orig_dport);
	else
		mm_line__c(l, '?');
	mm_line__lit(l, " -> ");
	if (v->ip)
		put_endpoint(l, v, v->dst, v->dport, true);
	else
		mm_line__c(l, '?');
	put_name_or(l, mm_ip_proto_name(v->proto), "proto ", 6, v->proto);
	PUT_FIELD(l, " pid ", k->pid);
	mm_line__lit(l, " (");
	mm_line__clean(l, k->comm);
	mm_line__lit(l, ") cookie 0x");
	mm_line__hex(l, k->socket_cookie);
	PUT_FIELD(l, " cgroup ", k->cgroup_id);
	if (f->verbose) {
		if (v->ip && v->sport) {
			mm_line__lit(l, ", from ");
			put_endpoint(l, v, v->src, v->sport, true);
		}
		PUT_FIELD(l, ", netns ", k->netns);
		put_common_verbose(l, f, ev);
	}
}

static void put_duration(struct mm_line *l, uint64_t ns)
{
	char d[32];

	mm_fmt_duration(ns, d, sizeof(d));
	mm_line__str(l, d);
}

/* An RTT in us: 0 is "no RTT sample yet" (a connection that never got an answer). */
static void put_rtt(struct mm_line *l, uint32_t us)
{
	if (us)
		put_duration(l, (uint64_t)us * 1000);
	else
		mm_line__c(l, '-');
}

static void text_tcp_probe(struct mm_line *l, const struct mm_fmt *f,
			   const Meshmon__V1__Event *ev, const struct pkt_view *v)
{
	const Meshmon__V1__TcpProbe *p = ev->tcp_probe;
	const char *state = mm_probe_state_name(p->state);
	const char *dir = mm_probe_direction_name(p->direction);

	mm_line__lit(l, "== tcp_probe ");
	if (state)
		mm_line__str(l, state);
	else
		PUT_FIELD(l, "state ", p->state);
	if (dir) {
		mm_line__c(l, ' ');
		mm_line__str(l, dir);
	}
	if (p->preexisting) {
		mm_line__lit(l, " preexisting");
	} else {
		PUT_FIELD(l, " pid ", p->pid);
		mm_line__lit(l, " (");
		mm_line__clean(l, p->comm);
		mm_line__c(l, ')');
	}
	put_tuple_tail(l, v);
	if (p->orig_dst.len) { /* a socket-layer translator rewrote the connect */
		mm_line__lit(l, ", orig dst ");
		put_addr_port(l, &p->orig_dst, p->orig_dport);
	}
	PUT_FIELD(l, ", bytes sent ", p->bytes_sent);
	PUT_FIELD(l, " received ", p->bytes_received);
	PUT_FIELD(l, ", segs out ", p->segs_out);
	PUT_FIELD(l, " in ", p->segs_in);
	mm_line__lit(l, ", srtt ");
	put_rtt(l, p->srtt_us);
	mm_line__lit(l, ", min rtt ");
	put_rtt(l, p->min_rtt_us);
	PUT_FIELD(l, ", retrans ", p->total_retrans);
	mm_line__lit(l, ", duration ");
	put_duration(l, p->duration_ns);
	if (!p->conn_success)
		mm_line__lit(l, ", connect failed");
	if (f->verbose) {
		PUT_FIELD(l, ", data segs out ", p->data_segs_out);
		PUT_FIELD(l, " in ", p->data_segs_in);
		PUT_FIELD(l, ", cwnd ", p->snd_cwnd);
		PUT_FIELD(l, ", lost ", p->lost_out);
		PUT_FIELD(l, ", delivered ", p->delivered);
		mm_line__lit(l, ", tcp_state");
		put_name_or(l, mm_tcp_state_name(p->tcp_state), "", 0, p->tcp_state);
		PUT_FIELD(l, ", cgroup ", p->cgroup_id);
		PUT_FIELD(l, ", netns ", p->netns);
		if (p->socket_cookie) {
			mm_line__lit(l, ", cookie 0x");
			mm_line__hex(l, p->socket_cookie);
		}
		if (p->start_time_ns) {
			mm_line__lit(l, ", started ");
			put_time(l, p->start_time_ns);
		}
		put_common_verbose(l, f, ev);
	}
}

/* Applies a debug format (only %u and %x with u32 arguments, see tables.h). */
static void put_debug_format(struct mm_line *l, const char *fmt, const uint32_t args[3])
{
	int i = 0;

	for (; *fmt; fmt++) {
		if (fmt[0] == '%' && (fmt[1] == 'u' || fmt[1] == 'x') && i < 3) {
			if (fmt[1] == 'u')
				mm_line__u64(l, args[i++]);
			else
				mm_line__hex(l, args[i++]);
			fmt++;
		} else if (fmt[0] == '%' && fmt[1] == '%') {
			mm_line__c(l, '%');
			fmt++;
		} else {
			mm_line__c(l, *fmt);
		}
	}
}

static void text_debug(struct mm_line *l, const struct mm_fmt *f, const Meshmon__V1__Event *ev)
{
	const Meshmon__V1__Debug *d = ev->debug;
	uint32_t args[3] = { d->arg1, d->arg2, d->arg3 };
	const char *fmt = mm_debug_format(d->subtype);

	/* Cilium's shape; -v puts the time in front. */
	if (!f->verbose)
		put_cpu(l, ev->cpu);
	if (f->color)
		mm_line__lit(l, COLOR_YELLOW);
	mm_line__lit(l, "DEBUG: ");
	if (f->color)
		mm_line__lit(l, COLOR_RESET);
	if (d->message[0]) {
		mm_line__clean(l, d->message);
	} else if (fmt) {
		put_debug_format(l, fmt, args);
	} else {
		PUT_FIELD(l, "subtype ", d->subtype);
		PUT_FIELD(l, " args ", d->arg1);
		PUT_FIELD(l, " ", d->arg2);
		PUT_FIELD(l, " ", d->arg3);
	}
	if (f->verbose && ev->ifindex) {
		mm_line__lit(l, ", ");
		put_ifindex(l, f, ev);
	}
}

void mm_text_event(const struct mm_fmt *f, const Meshmon__V1__Event *ev)
{
	struct mm_line l;
	struct pkt_view v;
	const char *tn;

	/* The line is built in memory and written at once (line.h). */
	mm_line__init(&l, f->out);
	put_node(&l, f);
	put_prefix(&l, f, ev->time_ns, ev->cpu);
	switch (ev->detail_case) {
	case MESHMON__V1__EVENT__DETAIL_TRACE:
		view_of(ev, &v);
		text_trace(&l, f, ev, &v);
		break;
	case MESHMON__V1__EVENT__DETAIL_DROP:
		view_of(ev, &v);
		text_drop(&l, f, ev, &v);
		break;
	case MESHMON__V1__EVENT__DETAIL_CAPTURE:
		view_of(ev, &v);
		text_capture(&l, f, ev, &v);
		break;
	case MESHMON__V1__EVENT__DETAIL_TCP_PROBE:
		view_of(ev, &v);
		text_tcp_probe(&l, f, ev, &v);
		break;
	case MESHMON__V1__EVENT__DETAIL_DEBUG:
		text_debug(&l, f, ev);
		break;
	case MESHMON__V1__EVENT__DETAIL_POLICY_VERDICT:
		view_of(ev, &v);
		text_policy_verdict(&l, f, ev, &v);
		break;
	case MESHMON__V1__EVENT__DETAIL_TRACE_SOCK:
		view_of(ev, &v);
		text_trace_sock(&l, f, ev, &v);
		break;
	default:
		tn = mm_event_type_name(ev->type);
		if (tn) {
			mm_line__lit(&l, "?? ");
			mm_line__str(&l, tn);
			mm_line__lit(&l, " event without details");
		} else {
			PUT_FIELD(&l, "?? event of unknown type ", ev->type);
		}
		if (ev->ifindex) {
			mm_line__c(&l, ' ');
			put_ifindex(&l, f, ev);
		}
		break;
	}
	if (ev->out_of_order) /* arrived after the agent's reorder window: earlier than the line above */
		mm_line__lit(&l, " [out of order]");
	mm_line__c(&l, '\n');
	mm_line__flush(&l);
	if (f->verbose >= 2 && ev->captured.len) {
		mm_dissect(ev->captured.data, ev->captured.len, layer_of(ev),
			   ev->tuple ? (uint8_t)ev->tuple->proto : 0, tuple_family(ev->tuple), NULL,
			   f->out, "    ");
		if (ev->cap_len < ev->len)
			fprintf(f->out, "    (captured %u of %u bytes)\n", ev->cap_len, ev->len);
	}
	if (f->hex && ev->captured.len)
		mm_hexdump(f->out, ev->captured.data, ev->captured.len, "    ");
}

/*
 * Built in memory and written at once, as an event line: the lost line often
 * goes to stderr (capture, --pcap -), which is unbuffered, where a line
 * written in pieces costs a write per piece and can interleave with others.
 */
void mm_text_lost(const struct mm_fmt *f, const Meshmon__V1__LostNotice *n)
{
	struct mm_line l;

	mm_line__init(&l, f->out);
	put_node(&l, f);
	if (f->verbose || f->time) {
		put_time(&l, n->last_time_ns);
		mm_line__c(&l, ' ');
	}
	if (n->cpu != MM_CPU_NONE)
		put_cpu(&l, n->cpu);
	mm_line__lit(&l, "Lost ");
	mm_line__u64(&l, n->count);
	mm_line__lit(&l, " events (");
	mm_line__str(&l, mm_loss_source_name(n->source));
	/* RATE_LIMIT of one record type's own limit: that type */
	if (n->type && mm_event_type_name(n->type)) {
		mm_line__lit(&l, ", ");
		mm_line__str(&l, mm_event_type_name(n->type));
	}
	mm_line__c(&l, ')');
	if (f->verbose && n->first_time_ns) {
		mm_line__lit(&l, " between ");
		put_time(&l, n->first_time_ns);
		mm_line__lit(&l, " and ");
		put_time(&l, n->last_time_ns);
	}
	mm_line__c(&l, '\n');
	mm_line__flush(&l);
}

/* In the shape of a lost notice, the same with or without -v: it carries its own times. */
void mm_text_reconnected(const struct mm_fmt *f, const struct mm_gap *g)
{
	char a[40], b[40];

	mm_fmt_time(g->start_ns, a, sizeof(a));
	mm_fmt_time(g->end_ns, b, sizeof(b));
	print_node(f);
	fprintf(f->out, "-- reconnected: events between %s and %s were not seen (agent restarted)\n",
		a, b);
}
