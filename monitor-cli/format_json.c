// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * JSON output of `meshmon monitor`: one object per event, lost notice or
 * reconnect notice, keys
 * as documented in docs/cli.md (stable: scripts depend on them). Written with
 * the shared writer (json.h).
 */
#include <inttypes.h>
#include <netinet/in.h>
#include <string.h>

#include "dissect.h"
#include "format_common.h"
#include "format_json.h"
#include "json.h"
#include "names.h"

/* Times, addresses and names are strings of the CLI's own making: no escaping (json.h). */
static void time_value(struct mm_json *j, uint64_t ns)
{
	char ts[40];

	mm_json__str_plain(j, ts, mm_fmt_time(ns, ts, sizeof(ts)));
}

/* A name from a table, or the number as a string when the table has none. */
static void name_value(struct mm_json *j, const char *name, unsigned int value)
{
	if (name)
		mm_json__str_plain(j, name, strlen(name));
	else
		mm_json__u64_str(j, value);
}

static void addr_value(struct mm_json *j, const ProtobufCBinaryData *a)
{
	char buf[64];
	size_t n = mm_fmt_addr(a->data, a->len, buf, sizeof(buf));

	if (n)
		mm_json__str_plain(j, buf, n);
	else
		mm_json__null(j);
}

/*
 * "key":value with the key a literal (MM_JSON_KEY): the keys as documented
 * in docs/cli.md. Hex values are of bytes (captured packets, the raw bytes
 * of a name); a name is from a table, or the number as a string.
 */
#define KV_U64(j, k, v) (MM_JSON_KEY(j, k), mm_json__u64(j, v))
#define KV_BOOL(j, k, v) (MM_JSON_KEY(j, k), mm_json__bool(j, v))
#define KV_STR(j, k, v) (MM_JSON_KEY(j, k), mm_json__str(j, v))
#define KV_STR_OR_NULL(j, k, v) \
	(MM_JSON_KEY(j, k), (v) && *(v) ? mm_json__str(j, v) : mm_json__null(j))
#define KV_NULL(j, k) (MM_JSON_KEY(j, k), mm_json__null(j))
#define KV_TIME(j, k, ns) (MM_JSON_KEY(j, k), time_value(j, ns))
#define KV_NAME(j, k, name, v) (MM_JSON_KEY(j, k), name_value(j, name, v))
#define KV_ADDR(j, k, a) (MM_JSON_KEY(j, k), addr_value(j, a))
#define KV_HEX(j, k, b) (MM_JSON_KEY(j, k), mm_json__hex(j, (b)->data, (b)->len))

/*
 * "node" leads every line that comes from one agent (events, lost notices, the
 * reconnect notice), so streams of several nodes can be merged: the name in
 * the agent's Hello, null when it sent none.
 */
static void put_node(struct mm_json *j, const struct mm_fmt *f)
{
	KV_STR_OR_NULL(j, "node", f->node);
}

static void put_tuple(struct mm_json *j, const Meshmon__V1__Tuple *t)
{
	MM_JSON_KEY(j, "tuple");
	if (!t) {
		mm_json__null(j);
		return;
	}
	mm_json__obj_open(j);
	KV_ADDR(j, "src", &t->src);
	KV_ADDR(j, "dst", &t->dst);
	KV_U64(j, "sport", t->sport);
	KV_U64(j, "dport", t->dport);
	if (t->proto || t->src.len)
		KV_NAME(j, "proto", mm_ip_proto_name(t->proto), t->proto);
	else
		KV_NULL(j, "proto");
	KV_U64(j, "proto_num", t->proto);
	KV_U64(j, "ethertype", t->ethertype);
	mm_json__obj_close(j);
}

static void mac_value(struct mm_json *j, const uint8_t mac[6])
{
	char buf[32];

	mm_json__str_plain(j, buf, mm_mac_str(mac, buf, sizeof(buf)));
}

static void ipv4_value(struct mm_json *j, const uint8_t ip[4])
{
	char buf[64];

	mm_json__str_plain(j, buf, mm_fmt_addr(ip, 4, buf, sizeof(buf)));
}

/*
 * "arp":{...} for an ARP frame (Ethernet and IPv4, also inside VLAN tags),
 * from the captured bytes: events with an IP tuple never carry one, so only
 * the rare others are dissected.
 */
static void put_arp(struct mm_json *j, const Meshmon__V1__Event *ev)
{
	const uint8_t *b = ev->captured.data;
	struct mm_pkt_summary s;
	unsigned int et;

	if ((ev->tuple && ev->tuple->src.len) ||
	    ev->layer != MESHMON__V1__CAPTURE_LAYER__CAPTURE_LAYER_ETHERNET || ev->captured.len < 14)
		return;
	/* Capture events have no tuple: only ARP or a VLAN tag is worth a dissection. */
	et = (unsigned int)b[12] << 8 | b[13];
	if (et != MM_ETH_P_ARP && !mm_ethertype_is_vlan(et))
		return;
	mm_dissect(ev->captured.data, ev->captured.len, MM_DISSECT_ETHERNET, 0, 0, &s, NULL, NULL);
	if (!s.has_arp)
		return;
	MM_JSON_KEY(j, "arp");
	mm_json__obj_open(j);
	KV_NAME(j, "op", mm_arp_op_name(s.arp.op), s.arp.op);
	KV_U64(j, "op_code", s.arp.op);
	MM_JSON_KEY(j, "sender_mac");
	mac_value(j, s.arp.sender_mac);
	MM_JSON_KEY(j, "sender_ip");
	ipv4_value(j, s.arp.sender_ip);
	MM_JSON_KEY(j, "target_mac");
	mac_value(j, s.arp.target_mac);
	MM_JSON_KEY(j, "target_ip");
	ipv4_value(j, s.arp.target_ip);
	mm_json__obj_close(j);
}

static void put_tcp_flags(struct mm_json *j, uint32_t flags)
{
	int i;

	MM_JSON_KEY(j, "tcp_flags");
	mm_json__arr_open(j);
	for (i = 0; i < 8; i++)
		if (flags & (1u << i))
			mm_json__str_plain(j, mm_tcp_flag_names[i], 3);
	mm_json__arr_close(j);
}

/* "pid", "comm" and, only when the agent had to replace bytes of the name, "comm_raw". */
static void json_process(struct mm_json *j, uint32_t pid, const char *comm,
			 const ProtobufCBinaryData *comm_raw)
{
	KV_U64(j, "pid", pid);
	KV_STR(j, "comm", comm);
	if (comm_raw->len)
		KV_HEX(j, "comm_raw", comm_raw);
}

static void json_trace(struct mm_json *j, const Meshmon__V1__Event *ev)
{
	const Meshmon__V1__Trace *t = ev->trace;

	KV_NAME(j, "point", mm_trace_point_name(t->point), t->point);
	KV_NAME(j, "state", mm_trace_state_name(t->state), t->state);
	put_tcp_flags(j, t->tcp_flags);
	if (ev->tuple && (ev->tuple->proto == IPPROTO_ICMP || ev->tuple->proto == IPPROTO_ICMPV6)) {
		int fam = ev->tuple->proto == IPPROTO_ICMPV6 ? 6 : 4;
		const char *n = mm_icmp_type_name(fam, t->icmp_type);

		KV_U64(j, "icmp_type", t->icmp_type);
		KV_U64(j, "icmp_code", t->icmp_code);
		MM_JSON_KEY(j, "icmp_name");
		if (n)
			mm_json__str_plain(j, n, strlen(n));
		else
			mm_json__null(j);
	}
	if (t->parse_error)
		KV_NAME(j, "parse_error", mm_parse_error_text(t->parse_error), t->parse_error);
	KV_U64(j, "folded", t->folded);
	/* Endpoint traces: the socket the packet met and its process (pid 0: unknown). */
	if (ev->source == MESHMON__V1__SOURCE__SOURCE_CGROUP_SKB) {
		json_process(j, t->pid, t->comm, &t->comm_raw);
		KV_U64(j, "cgroup_id", t->cgroup_id);
		KV_U64(j, "socket_cookie", t->socket_cookie);
		KV_U64(j, "netns", t->netns);
	}
}

/* "0x..." as %" PRIx64 " wrote it. */
static void location_value(struct mm_json *j, uint64_t v)
{
	static const char hex[] = "0123456789abcdef";
	char buf[20], *p = buf + sizeof(buf) - 1;

	*p = '\0';
	do {
		*--p = hex[v & 0xf];
		v >>= 4;
	} while (v);
	*--p = 'x';
	*--p = '0';
	mm_json__str_plain(j, p, (size_t)(buf + sizeof(buf) - 1 - p));
}

static void json_drop(struct mm_json *j, const Meshmon__V1__Event *ev)
{
	const Meshmon__V1__Drop *d = ev->drop;
	bool kernel = ev->source == MESHMON__V1__SOURCE__SOURCE_KERNEL;

	KV_STR_OR_NULL(j, "reason", d->reason);
	KV_U64(j, "reason_code", d->reason_code);
	KV_STR_OR_NULL(j, "reason_text", d->reason_text);
	MM_JSON_KEY(j, "source");
	if (kernel)
		mm_json__str_plain(j, "kernel", 6);
	else
		mm_json__str_plain(j, "datapath", 8);
	KV_STR_OR_NULL(j, "file", d->file);
	KV_U64(j, "line", d->line);
	KV_NAME(j, "point", mm_trace_point_name(d->point), d->point);
	if (d->reason_code == MESHMON__V1__DROP_REASON__DROP_REASON_POLICY_DENIED && !kernel)
		KV_U64(j, "rule", d->ext_error);
	KV_U64(j, "ext_error", d->ext_error);
	KV_U64(j, "folded", d->folded);
	if (kernel) {
		KV_U64(j, "netns", d->netns);
		/* The symbol when the agent knew it, else the address as before. */
		if (d->symbol && d->symbol[0]) {
			KV_STR(j, "location", d->symbol);
		} else {
			MM_JSON_KEY(j, "location");
			location_value(j, d->location);
		}
		MM_JSON_KEY(j, "location_addr");
		location_value(j, d->location);
	}
}

static void json_debug(struct mm_json *j, const Meshmon__V1__Event *ev)
{
	const Meshmon__V1__Debug *d = ev->debug;

	KV_NAME(j, "subtype", mm_debug_type_name(d->subtype), d->subtype);
	KV_STR(j, "message", d->message);
	MM_JSON_KEY(j, "args");
	mm_json__arr_open(j);
	mm_json__u64(j, d->arg1);
	mm_json__u64(j, d->arg2);
	mm_json__u64(j, d->arg3);
	mm_json__arr_close(j);
}

static void json_tcp_probe(struct mm_json *j, const Meshmon__V1__Event *ev)
{
	const Meshmon__V1__TcpProbe *p = ev->tcp_probe;

	KV_NAME(j, "direction", mm_probe_direction_name(p->direction), p->direction);
	KV_NAME(j, "state", mm_probe_state_name(p->state), p->state);
	json_process(j, p->pid, p->comm, &p->comm_raw);
	KV_U64(j, "bytes_sent", p->bytes_sent);
	KV_U64(j, "bytes_received", p->bytes_received);
	KV_U64(j, "segs_in", p->segs_in);
	KV_U64(j, "segs_out", p->segs_out);
	KV_U64(j, "data_segs_in", p->data_segs_in);
	KV_U64(j, "data_segs_out", p->data_segs_out);
	KV_U64(j, "srtt_us", p->srtt_us);
	KV_U64(j, "min_rtt_us", p->min_rtt_us);
	KV_U64(j, "retrans", p->total_retrans);
	KV_U64(j, "snd_cwnd", p->snd_cwnd);
	KV_U64(j, "lost_out", p->lost_out);
	KV_U64(j, "delivered", p->delivered);
	KV_U64(j, "duration_ns", p->duration_ns);
	KV_BOOL(j, "conn_success", p->conn_success);
	KV_BOOL(j, "preexisting", p->preexisting);
	if (p->start_time_ns)
		KV_TIME(j, "start_time", p->start_time_ns);
	else
		KV_NULL(j, "start_time");
	KV_U64(j, "cgroup_id", p->cgroup_id);
	KV_U64(j, "netns", p->netns);
	/* The kernel's name, and its number for scripts that compare states. */
	KV_NAME(j, "tcp_state", mm_tcp_state_name(p->tcp_state), p->tcp_state);
	KV_U64(j, "tcp_state_code", p->tcp_state);
	if (p->socket_cookie)
		KV_U64(j, "socket_cookie", p->socket_cookie);
	/* Only when a socket-layer translator rewrote the connect (trace-sock). */
	if (p->orig_dst.len) {
		KV_ADDR(j, "orig_dst", &p->orig_dst);
		KV_U64(j, "orig_dport", p->orig_dport);
	}
}

/* "trace_sock":{...}: its own object, since the event's "hook" is the program's. */
static void json_trace_sock(struct mm_json *j, const Meshmon__V1__Event *ev)
{
	const Meshmon__V1__TraceSock *k = ev->trace_sock;

	MM_JSON_KEY(j, "trace_sock");
	mm_json__obj_open(j);
	KV_NAME(j, "hook", mm_sock_hook_name(k->hook), k->hook);
	KV_ADDR(j, "orig_dst", &k->orig_dst);
	KV_U64(j, "orig_dport", k->orig_dport);
	json_process(j, k->pid, k->comm, &k->comm_raw);
	KV_U64(j, "socket_cookie", k->socket_cookie);
	KV_U64(j, "cgroup_id", k->cgroup_id);
	KV_U64(j, "netns", k->netns);
	mm_json__obj_close(j);
}

/* "verdict": "allow" | "deny", "rule": the deny rule's id, null when none matched. */
static void json_policy_verdict(struct mm_json *j, const Meshmon__V1__Event *ev)
{
	const Meshmon__V1__PolicyVerdict *v = ev->policy_verdict;
	const char *verdict = v->verdict == MESHMON__V1__VERDICT__VERDICT_ALLOWED  ? "allow"
			      : v->verdict == MESHMON__V1__VERDICT__VERDICT_DENIED ? "deny"
										   : NULL;

	KV_NAME(j, "point", mm_trace_point_name(v->point), v->point);
	KV_NAME(j, "verdict", verdict, v->verdict);
	MM_JSON_KEY(j, "rule");
	if (v->rule_id)
		mm_json__u64(j, v->rule_id);
	else
		mm_json__null(j);
	put_tcp_flags(j, v->tcp_flags);
	KV_U64(j, "folded", v->folded);
}

void mm_json_event(const struct mm_fmt *f, const Meshmon__V1__Event *ev)
{
	struct mm_json j;

	mm_json__init(&j, f->out);
	mm_json__obj_open(&j);
	put_node(&j, f);
	KV_TIME(&j, "time", ev->time_ns);
	KV_U64(&j, "cpu", ev->cpu);
	KV_NAME(&j, "type", mm_event_type_name(ev->type), ev->type);
	KV_NAME(&j, "hook", mm_source_name(ev->source), ev->source);
	KV_U64(&j, "ifindex", ev->ifindex);
	KV_STR_OR_NULL(&j, "ifname", ev->ifname);
	if (ev->ifname_raw.len)
		KV_HEX(&j, "ifname_raw", &ev->ifname_raw);
	KV_U64(&j, "flow_id", ev->flow_id);
	put_tuple(&j, ev->tuple);
	put_arp(&j, ev);
	KV_U64(&j, "len", ev->len);
	KV_U64(&j, "cap_len", ev->cap_len);
	switch (ev->detail_case) {
	case MESHMON__V1__EVENT__DETAIL_TRACE:
		json_trace(&j, ev);
		break;
	case MESHMON__V1__EVENT__DETAIL_DROP:
		json_drop(&j, ev);
		break;
	case MESHMON__V1__EVENT__DETAIL_DEBUG:
		json_debug(&j, ev);
		break;
	case MESHMON__V1__EVENT__DETAIL_CAPTURE:
		KV_NAME(&j, "point", mm_trace_point_name(ev->capture->point), ev->capture->point);
		break;
	case MESHMON__V1__EVENT__DETAIL_TCP_PROBE:
		json_tcp_probe(&j, ev);
		break;
	case MESHMON__V1__EVENT__DETAIL_POLICY_VERDICT:
		json_policy_verdict(&j, ev);
		break;
	case MESHMON__V1__EVENT__DETAIL_TRACE_SOCK:
		json_trace_sock(&j, ev);
		break;
	default:
		break;
	}
	if (f->hex && ev->captured.len)
		KV_HEX(&j, "captured_hex", &ev->captured);
	if (ev->out_of_order) /* only when set: it arrived after the agent's reorder window */
		KV_BOOL(&j, "out_of_order", true);
	mm_json__obj_close(&j);
	mm_json__end_line(&j);
}

void mm_json_lost(const struct mm_fmt *f, const Meshmon__V1__LostNotice *l)
{
	struct mm_json j;

	mm_json__init(&j, f->out);
	mm_json__obj_open(&j);
	put_node(&j, f);
	KV_TIME(&j, "time", l->last_time_ns);
	MM_JSON_KEY(&j, "cpu");
	if (l->cpu == MM_CPU_NONE)
		mm_json__null(&j);
	else
		mm_json__u64(&j, l->cpu);
	KV_STR(&j, "type", "lost");
	KV_STR(&j, "source", mm_loss_source_key(l->source));
	KV_U64(&j, "count", l->count);
	/* "type" names the object ("lost"); only a type's own rate limit has a record type */
	if (l->type && mm_event_type_name(l->type))
		KV_STR(&j, "record_type", mm_event_type_name(l->type));
	KV_TIME(&j, "first_time", l->first_time_ns);
	KV_TIME(&j, "last_time", l->last_time_ns);
	mm_json__obj_close(&j);
	mm_json__end_line(&j);
}

void mm_json_reconnected(const struct mm_fmt *f, const struct mm_gap *g)
{
	struct mm_json j;

	mm_json__init(&j, f->out);
	mm_json__obj_open(&j);
	put_node(&j, f);
	KV_STR(&j, "type", "reconnected");
	KV_TIME(&j, "gap_start", g->start_ns);
	KV_TIME(&j, "gap_end", g->end_ns);
	KV_U64(&j, "down_ns", g->down_ns);
	mm_json__obj_close(&j);
	mm_json__end_line(&j);
}
