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

static void kv_time(struct mm_json *j, const char *key, uint64_t ns)
{
	char ts[40];

	mm_fmt_time(ns, ts, sizeof(ts));
	mm_json__kv_str(j, key, ts);
}

/* A name from a table, or the number as a string when the table has none. */
static void kv_name(struct mm_json *j, const char *key, const char *name, unsigned int value)
{
	mm_json__key(j, key);
	if (name)
		mm_json__str(j, name);
	else
		mm_json__u64_str(j, value);
}

static void kv_addr(struct mm_json *j, const char *key, const ProtobufCBinaryData *a)
{
	char buf[64];

	mm_fmt_addr(a->data, a->len, buf, sizeof(buf));
	mm_json__kv_str_or_null(j, key, buf);
}

/* "key":"<hex>" of bytes (captured packets, the raw bytes of a name). */
static void kv_hex(struct mm_json *j, const char *key, const ProtobufCBinaryData *b)
{
	mm_json__key(j, key);
	mm_json__hex(j, b->data, b->len);
}

static void put_tuple(struct mm_json *j, const Meshmon__V1__Tuple *t)
{
	mm_json__key(j, "tuple");
	if (!t) {
		mm_json__null(j);
		return;
	}
	mm_json__obj_open(j);
	kv_addr(j, "src", &t->src);
	kv_addr(j, "dst", &t->dst);
	mm_json__kv_u64(j, "sport", t->sport);
	mm_json__kv_u64(j, "dport", t->dport);
	if (t->proto || t->src.len)
		kv_name(j, "proto", mm_ip_proto_name(t->proto), t->proto);
	else
		mm_json__kv_str_or_null(j, "proto", NULL);
	mm_json__kv_u64(j, "proto_num", t->proto);
	mm_json__kv_u64(j, "ethertype", t->ethertype);
	mm_json__obj_close(j);
}

static void put_tcp_flags(struct mm_json *j, uint32_t flags)
{
	int i;

	mm_json__key(j, "tcp_flags");
	mm_json__arr_open(j);
	for (i = 0; i < 8; i++)
		if (flags & (1u << i))
			mm_json__str(j, mm_tcp_flag_names[i]);
	mm_json__arr_close(j);
}

static void json_trace(struct mm_json *j, const Meshmon__V1__Event *ev)
{
	const Meshmon__V1__Trace *t = ev->trace;

	kv_name(j, "point", mm_trace_point_name(t->point), t->point);
	kv_name(j, "state", mm_trace_state_name(t->state), t->state);
	put_tcp_flags(j, t->tcp_flags);
	if (ev->tuple && (ev->tuple->proto == IPPROTO_ICMP || ev->tuple->proto == IPPROTO_ICMPV6)) {
		int fam = ev->tuple->proto == IPPROTO_ICMPV6 ? 6 : 4;
		const char *n = mm_icmp_type_name(fam, t->icmp_type);

		mm_json__kv_u64(j, "icmp_type", t->icmp_type);
		mm_json__kv_u64(j, "icmp_code", t->icmp_code);
		mm_json__kv_str_or_null(j, "icmp_name", n);
	}
	if (t->parse_error)
		kv_name(j, "parse_error", mm_parse_error_text(t->parse_error), t->parse_error);
	mm_json__kv_u64(j, "folded", t->folded);
}

/* "location":"0x..." (%" PRIx64 "). */
static void kv_location(struct mm_json *j, uint64_t v)
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
	mm_json__key(j, "location");
	mm_json__str(j, p);
}

static void json_drop(struct mm_json *j, const Meshmon__V1__Event *ev)
{
	const Meshmon__V1__Drop *d = ev->drop;
	bool kernel = ev->source == MESHMON__V1__SOURCE__SOURCE_KERNEL;

	mm_json__kv_str_or_null(j, "reason", d->reason);
	mm_json__kv_u64(j, "reason_code", d->reason_code);
	mm_json__kv_str_or_null(j, "reason_text", d->reason_text);
	mm_json__kv_str(j, "source", kernel ? "kernel" : "datapath");
	mm_json__kv_str_or_null(j, "file", d->file);
	mm_json__kv_u64(j, "line", d->line);
	kv_name(j, "point", mm_trace_point_name(d->point), d->point);
	if (d->reason_code == MESHMON__V1__DROP_REASON__DROP_REASON_POLICY_DENIED && !kernel)
		mm_json__kv_u64(j, "rule", d->ext_error);
	mm_json__kv_u64(j, "ext_error", d->ext_error);
	mm_json__kv_u64(j, "folded", d->folded);
	if (kernel) {
		mm_json__kv_u64(j, "netns", d->netns);
		kv_location(j, d->location);
	}
}

static void json_debug(struct mm_json *j, const Meshmon__V1__Event *ev)
{
	const Meshmon__V1__Debug *d = ev->debug;

	kv_name(j, "subtype", mm_debug_type_name(d->subtype), d->subtype);
	mm_json__kv_str(j, "message", d->message);
	mm_json__key(j, "args");
	mm_json__arr_open(j);
	mm_json__u64(j, d->arg1);
	mm_json__u64(j, d->arg2);
	mm_json__u64(j, d->arg3);
	mm_json__arr_close(j);
}

static void json_tcp_probe(struct mm_json *j, const Meshmon__V1__Event *ev)
{
	const Meshmon__V1__TcpProbe *p = ev->tcp_probe;

	kv_name(j, "direction", mm_probe_direction_name(p->direction), p->direction);
	kv_name(j, "state", mm_probe_state_name(p->state), p->state);
	mm_json__kv_u64(j, "pid", p->pid);
	mm_json__kv_str(j, "comm", p->comm);
	/* Only when the agent had to replace bytes of the name with U+FFFD. */
	if (p->comm_raw.len)
		kv_hex(j, "comm_raw", &p->comm_raw);
	mm_json__kv_u64(j, "bytes_sent", p->bytes_sent);
	mm_json__kv_u64(j, "bytes_received", p->bytes_received);
	mm_json__kv_u64(j, "segs_in", p->segs_in);
	mm_json__kv_u64(j, "segs_out", p->segs_out);
	mm_json__kv_u64(j, "data_segs_in", p->data_segs_in);
	mm_json__kv_u64(j, "data_segs_out", p->data_segs_out);
	mm_json__kv_u64(j, "srtt_us", p->srtt_us);
	mm_json__kv_u64(j, "min_rtt_us", p->min_rtt_us);
	mm_json__kv_u64(j, "retrans", p->total_retrans);
	mm_json__kv_u64(j, "snd_cwnd", p->snd_cwnd);
	mm_json__kv_u64(j, "lost_out", p->lost_out);
	mm_json__kv_u64(j, "delivered", p->delivered);
	mm_json__kv_u64(j, "duration_ns", p->duration_ns);
	mm_json__kv_bool(j, "conn_success", p->conn_success);
	mm_json__kv_bool(j, "preexisting", p->preexisting);
	if (p->start_time_ns)
		kv_time(j, "start_time", p->start_time_ns);
	else
		mm_json__kv_str_or_null(j, "start_time", NULL);
	mm_json__kv_u64(j, "cgroup_id", p->cgroup_id);
	mm_json__kv_u64(j, "netns", p->netns);
	mm_json__kv_u64(j, "tcp_state", p->tcp_state);
}

void mm_json_event(const struct mm_fmt *f, const Meshmon__V1__Event *ev)
{
	struct mm_json j;

	mm_json__init(&j, f->out);
	mm_json__obj_open(&j);
	kv_time(&j, "time", ev->time_ns);
	mm_json__kv_u64(&j, "cpu", ev->cpu);
	kv_name(&j, "type", mm_event_type_name(ev->type), ev->type);
	kv_name(&j, "hook", mm_source_name(ev->source), ev->source);
	mm_json__kv_u64(&j, "ifindex", ev->ifindex);
	mm_json__kv_str_or_null(&j, "ifname", ev->ifname);
	if (ev->ifname_raw.len)
		kv_hex(&j, "ifname_raw", &ev->ifname_raw);
	mm_json__kv_u64(&j, "flow_id", ev->flow_id);
	put_tuple(&j, ev->tuple);
	mm_json__kv_u64(&j, "len", ev->len);
	mm_json__kv_u64(&j, "cap_len", ev->cap_len);
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
		kv_name(&j, "point", mm_trace_point_name(ev->capture->point), ev->capture->point);
		break;
	case MESHMON__V1__EVENT__DETAIL_TCP_PROBE:
		json_tcp_probe(&j, ev);
		break;
	default:
		break;
	}
	if (f->hex && ev->captured.len)
		kv_hex(&j, "captured_hex", &ev->captured);
	mm_json__obj_close(&j);
	mm_json__end_line(&j);
}

void mm_json_lost(const struct mm_fmt *f, const Meshmon__V1__LostNotice *l)
{
	struct mm_json j;

	mm_json__init(&j, f->out);
	mm_json__obj_open(&j);
	kv_time(&j, "time", l->last_time_ns);
	mm_json__key(&j, "cpu");
	if (l->cpu == MM_CPU_NONE)
		mm_json__null(&j);
	else
		mm_json__u64(&j, l->cpu);
	mm_json__kv_str(&j, "type", "lost");
	mm_json__kv_str(&j, "source", mm_loss_source_key(l->source));
	mm_json__kv_u64(&j, "count", l->count);
	kv_time(&j, "first_time", l->first_time_ns);
	kv_time(&j, "last_time", l->last_time_ns);
	mm_json__obj_close(&j);
	mm_json__end_line(&j);
}

void mm_json_reconnected(const struct mm_fmt *f, const struct mm_gap *g)
{
	struct mm_json j;

	mm_json__init(&j, f->out);
	mm_json__obj_open(&j);
	mm_json__kv_str(&j, "type", "reconnected");
	kv_time(&j, "gap_start", g->start_ns);
	kv_time(&j, "gap_end", g->end_ns);
	mm_json__kv_u64(&j, "down_ns", g->down_ns);
	mm_json__obj_close(&j);
	mm_json__end_line(&j);
}
