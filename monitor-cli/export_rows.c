// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Event and loss rows in JSONEachRow (see export_rows.h). Only the columns
 * that an event of its type has are written; ClickHouse fills the others with
 * their defaults. Names come from the shared tables (abi/names.h), or the
 * number as a string when a newer agent sends a value this build does not
 * know. Addresses are text ("10.0.0.1", "fd00::1"), as people write them in
 * a WHERE clause.
 */
#include <string.h>

#include "export_rows.h"
#include "format_common.h"
#include "ipproto.h"
#include "names.h"
#include "protocol.h"

#define NS_PER_S 1000000000ull

#define KV_U64(j, k, v) (MM_JSON_KEY(j, k), mm_json__u64(j, v))
#define KV_STR(j, k, v) (MM_JSON_KEY(j, k), mm_json__str(j, v))
#define KV_NAME(j, k, name, v) (MM_JSON_KEY(j, k), name_value(j, name, v))

static void name_value(struct mm_json *j, const char *name, unsigned int value)
{
	if (name)
		mm_json__str_plain(j, name, strlen(name));
	else
		mm_json__u64_str(j, value);
}

/* A non-zero counter only: a column a row leaves out is 0 anyway, and the line is shorter. */
static void kv_u64_nz(struct mm_json *j, const char *quoted, size_t n, uint64_t v)
{
	if (!v)
		return;
	mm_json__key_raw(j, quoted, n);
	mm_json__u64(j, v);
}
#define KV_NZ(j, k, v) kv_u64_nz(j, "\"" k "\":", sizeof(k) + 2, v)

static void kv_addr(struct mm_json *j, const char *quoted, size_t n, const ProtobufCBinaryData *a)
{
	char buf[64];
	size_t len = mm_fmt_addr(a->data, a->len, buf, sizeof(buf));

	if (!len)
		return;
	mm_json__key_raw(j, quoted, n);
	mm_json__str_plain(j, buf, len);
}
#define KV_ADDR(j, k, a) kv_addr(j, "\"" k "\":", sizeof(k) + 2, a)

/*
 * The captured bytes as they are, in a String column: ClickHouse's JSON
 * parser takes any byte inside a string and keeps it, so only the quote, the
 * backslash and the control characters are escaped (\u00XX is that one byte
 * for XX < 0x80). The line is not UTF-8 then, which JSONEachRow does not ask
 * for; length(captured) is cap_len.
 */
static void captured_value(struct mm_json *j, const ProtobufCBinaryData *b)
{
	static const char hex[] = "0123456789abcdef";
	struct mm_line *l = &j->line;
	size_t i;

	mm_json__value_prefix(j);
	mm_line__c(l, '"');
	for (i = 0; i < b->len; i++) {
		uint8_t c = b->data[i];

		if (c == '"' || c == '\\') {
			mm_line__c(l, '\\');
			mm_line__c(l, (char)c);
		} else if (c < 0x20 || c == 0x7f) {
			char *u = mm_line__reserve(l, 6);

			memcpy(u, "\\u00", 4);
			u[4] = hex[c >> 4];
			u[5] = hex[c & 0xf];
			mm_line__commit(l, 6);
		} else {
			mm_line__c(l, (char)c);
		}
	}
	mm_line__c(l, '"');
	mm_json__value_done(j);
}

static void put_common(struct mm_json *j, const char *node, uint64_t time_ns, const char *type)
{
	mm_json__obj_open(j);
	KV_U64(j, "time", time_ns / NS_PER_S);
	KV_U64(j, "time_ns", time_ns);
	KV_STR(j, "node", node);
	KV_STR(j, "type", type);
}

static void put_tuple(struct mm_json *j, const Meshmon__V1__Tuple *t)
{
	if (!t)
		return;
	KV_ADDR(j, "src", &t->src);
	KV_ADDR(j, "dst", &t->dst);
	KV_NZ(j, "sport", t->sport);
	KV_NZ(j, "dport", t->dport);
	KV_NZ(j, "proto", t->proto);
	KV_NZ(j, "ethertype", t->ethertype);
}

static void put_point(struct mm_json *j, unsigned int point)
{
	if (point)
		KV_NAME(j, "point", mm_trace_point_name(point), point);
}

static void put_owner(struct mm_json *j, uint32_t pid, const char *comm, uint64_t cgroup_id,
		      uint64_t cookie)
{
	KV_NZ(j, "pid", pid);
	if (comm && *comm)
		KV_STR(j, "comm", comm);
	KV_NZ(j, "cgroup_id", cgroup_id);
	KV_NZ(j, "socket_cookie", cookie);
}

static void put_trace(struct mm_json *j, const Meshmon__V1__Trace *t)
{
	put_point(j, t->point);
	KV_NAME(j, "state", mm_trace_state_name(t->state), t->state);
	KV_NZ(j, "tcp_flags", t->tcp_flags);
	KV_NZ(j, "icmp_type", t->icmp_type);
	KV_NZ(j, "icmp_code", t->icmp_code);
	KV_NZ(j, "folded", t->folded);
	put_owner(j, t->pid, t->comm, t->cgroup_id, t->socket_cookie);
}

static void put_drop(struct mm_json *j, const Meshmon__V1__Drop *d)
{
	put_point(j, d->point);
	if (d->reason && *d->reason)
		KV_STR(j, "drop_reason", d->reason);
	else
		KV_NAME(j, "drop_reason", NULL, d->reason_code);
	KV_NZ(j, "drop_reason_code", d->reason_code);
	if (d->file && *d->file)
		KV_STR(j, "drop_file", d->file);
	KV_NZ(j, "drop_line", d->line);
	KV_NZ(j, "drop_location", d->location);
	if (d->symbol && *d->symbol)
		KV_STR(j, "drop_symbol", d->symbol);
	KV_NZ(j, "ext_error", d->ext_error);
	KV_NZ(j, "folded", d->folded);
	KV_NZ(j, "netns", d->netns);
}

static void put_probe(struct mm_json *j, const Meshmon__V1__TcpProbe *p)
{
	KV_NAME(j, "probe_state", mm_probe_state_name(p->state), p->state);
	KV_NAME(j, "probe_direction", mm_probe_direction_name(p->direction), p->direction);
	put_owner(j, p->pid, p->comm, p->cgroup_id, p->socket_cookie);
	KV_NZ(j, "start_time_ns", p->start_time_ns);
	KV_NZ(j, "duration_ns", p->duration_ns);
	KV_NZ(j, "bytes_sent", p->bytes_sent);
	KV_NZ(j, "bytes_received", p->bytes_received);
	KV_NZ(j, "segs_in", p->segs_in);
	KV_NZ(j, "segs_out", p->segs_out);
	KV_NZ(j, "data_segs_in", p->data_segs_in);
	KV_NZ(j, "data_segs_out", p->data_segs_out);
	KV_NZ(j, "srtt_us", p->srtt_us);
	KV_NZ(j, "min_rtt_us", p->min_rtt_us);
	KV_NZ(j, "snd_cwnd", p->snd_cwnd);
	KV_NZ(j, "total_retrans", p->total_retrans);
	KV_NZ(j, "lost_out", p->lost_out);
	KV_NZ(j, "delivered", p->delivered);
	KV_NZ(j, "tcp_state", p->tcp_state);
	KV_NZ(j, "netns", p->netns);
	KV_ADDR(j, "orig_dst", &p->orig_dst);
	KV_NZ(j, "orig_dport", p->orig_dport);
}

static void put_verdict(struct mm_json *j, const Meshmon__V1__PolicyVerdict *v)
{
	const char *verdict = v->verdict == MESHMON__V1__VERDICT__VERDICT_ALLOWED  ? "allow"
			      : v->verdict == MESHMON__V1__VERDICT__VERDICT_DENIED ? "deny"
										   : NULL;

	put_point(j, v->point);
	KV_NAME(j, "verdict", verdict, v->verdict);
	KV_NZ(j, "rule_id", v->rule_id);
	KV_NZ(j, "folded", v->folded);
	KV_NZ(j, "tcp_flags", v->tcp_flags);
}

static void put_trace_sock(struct mm_json *j, const Meshmon__V1__TraceSock *s)
{
	const char *hook = s->hook == MESHMON__V1__SOCKET_HOOK__SOCKET_HOOK_CONNECT   ? "connect"
			   : s->hook == MESHMON__V1__SOCKET_HOOK__SOCKET_HOOK_SENDMSG ? "sendmsg"
										      : NULL;

	KV_NAME(j, "sock_hook", hook, s->hook);
	KV_ADDR(j, "orig_dst", &s->orig_dst);
	KV_NZ(j, "orig_dport", s->orig_dport);
	put_owner(j, s->pid, s->comm, s->cgroup_id, s->socket_cookie);
	KV_NZ(j, "netns", s->netns);
}

static void put_detail(struct mm_json *j, const Meshmon__V1__Event *ev)
{
	switch (ev->detail_case) {
	case MESHMON__V1__EVENT__DETAIL_TRACE:
		put_trace(j, ev->trace);
		break;
	case MESHMON__V1__EVENT__DETAIL_DROP:
		put_drop(j, ev->drop);
		break;
	case MESHMON__V1__EVENT__DETAIL_DEBUG:
		if (ev->debug->message && *ev->debug->message)
			KV_STR(j, "debug_message", ev->debug->message);
		break;
	case MESHMON__V1__EVENT__DETAIL_CAPTURE:
		put_point(j, ev->capture->point);
		KV_NZ(j, "rule_id", ev->capture->rule_id);
		break;
	case MESHMON__V1__EVENT__DETAIL_TCP_PROBE:
		put_probe(j, ev->tcp_probe);
		break;
	case MESHMON__V1__EVENT__DETAIL_POLICY_VERDICT:
		put_verdict(j, ev->policy_verdict);
		break;
	case MESHMON__V1__EVENT__DETAIL_TRACE_SOCK:
		put_trace_sock(j, ev->trace_sock);
		break;
	default:
		break; /* a detail this build does not know: the common columns still go */
	}
}

void mm_export_row__event(struct mm_json *j, const char *node, const Meshmon__V1__Event *ev)
{
	const char *type = mm_event_type_name(ev->type);
	char num[24];

	if (!type) {
		snprintf(num, sizeof(num), "%u", (unsigned int)ev->type);
		type = num;
	}
	put_common(j, node, ev->time_ns, type);
	if (ev->source)
		KV_NAME(j, "source", mm_source_name(ev->source), ev->source);
	KV_U64(j, "cpu", ev->cpu);
	KV_NZ(j, "ifindex", ev->ifindex);
	if (ev->ifname && *ev->ifname)
		KV_STR(j, "ifname", ev->ifname);
	KV_NZ(j, "flow_id", ev->flow_id);
	put_tuple(j, ev->tuple);
	KV_NZ(j, "len", ev->len);
	KV_NZ(j, "cap_len", ev->cap_len);
	if (ev->captured.len) {
		MM_JSON_KEY(j, "captured");
		captured_value(j, &ev->captured);
	}
	KV_NZ(j, "out_of_order", ev->out_of_order);
	put_detail(j, ev);
	mm_json__obj_close(j);
	mm_json__end_line(j);
}

void mm_export_row__loss(struct mm_json *j, const char *node, const struct mm_export_loss *l)
{
	put_common(j, node, l->last_ns, "loss");
	KV_U64(j, "cpu", l->cpu);
	KV_STR(j, "loss_source", l->source);
	if (l->type)
		KV_STR(j, "loss_type", l->type);
	KV_U64(j, "loss_count", l->count);
	KV_U64(j, "loss_first_ns", l->first_ns);
	KV_U64(j, "loss_last_ns", l->last_ns);
	mm_json__obj_close(j);
	mm_json__end_line(j);
}

void mm_export_loss__from_notice(struct mm_export_loss *l, const Meshmon__V1__LostNotice *n)
{
	*l = (struct mm_export_loss){
		.source = mm_loss_source_key(n->source),
		.cpu = n->cpu,
		.type = n->type ? mm_event_type_name(n->type) : NULL,
		.count = n->count,
		.first_ns = n->first_time_ns,
		.last_ns = n->last_time_ns,
	};
}
