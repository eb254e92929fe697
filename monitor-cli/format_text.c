// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Text output of `meshmon monitor`: one line per event in the shapes users of
 * `cilium-dbg monitor` and tcpdump know, more fields with -v, a dissection of
 * the captured bytes with -vv, a hex dump with --hex. Names of trace points,
 * states, parse errors and debug formats come from abi/names.h (the one
 * definition of the datapath tables).
 */
#include <inttypes.h>
#include <netinet/in.h>
#include <string.h>

#include "dissect.h"
#include "format_common.h"
#include "format_text.h"
#include "names.h"

#define COLOR_RED "\033[31m"
#define COLOR_YELLOW "\033[33m"
#define COLOR_RESET "\033[0m"

void mm_text_hello(const struct mm_fmt *f, const Meshmon__V1__Hello *h)
{
	fprintf(f->out, "Listening for events on %u CPUs with %u pages of %u bytes per CPU", h->num_cpus,
		h->pages_per_cpu, h->page_size);
	if (f->verbose) {
		fputs(" (agent ", f->out);
		mm_fmt_clean(f->out, h->agent_version);
		fprintf(f->out, ", protocol %u, capture %u bytes)", h->protocol_version,
			h->capture_len);
	}
	fputc('\n', f->out);
}

/* "ifindex 4 (veth0)", or "ifindex 4" with -n or no name. */
static void put_ifindex(const struct mm_fmt *f, const Meshmon__V1__Event *ev)
{
	fprintf(f->out, "ifindex %u", ev->ifindex);
	if (!f->numeric && ev->ifname && ev->ifname[0]) {
		fputs(" (", f->out);
		mm_fmt_clean(f->out, ev->ifname);
		fputc(')', f->out);
	}
}

/* The packet facts a line shows: from the tuple, the trace, or the captured bytes. */
struct pkt_view {
	bool ip;
	int family;
	uint8_t src[16], dst[16];
	uint32_t sport, dport, proto, ethertype;
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
	struct mm_pkt_summary s;

	memset(v, 0, sizeof(*v));
	/*
	 * The captured bytes are read only for what the event does not carry: the
	 * tuple (capture events have none), TCP flags and ICMP type (only traces
	 * carry them). A trace with a tuple, most of the stream, needs nothing.
	 */
	if (t && trace)
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
	if (trace) {
		v->no_ports = ev->trace->parse_error == MESHMON__V1__PARSE_ERROR__PARSE_ERROR_TRUNCATED_L4 ||
			      ev->trace->parse_error == MESHMON__V1__PARSE_ERROR__PARSE_ERROR_FRAGMENT;
		v->have_flags = true;
		v->tcp_flags = ev->trace->tcp_flags;
		v->have_icmp = true;
		v->icmp_type = ev->trace->icmp_type;
		v->icmp_code = ev->trace->icmp_code;
	} else if (s.has_l4 && s.proto == v->proto) {
		v->have_flags = true;
		v->tcp_flags = s.tcp_flags;
		v->have_icmp = true;
		v->icmp_type = s.icmp_type;
		v->icmp_code = s.icmp_code;
	}
}

static void put_endpoint(FILE *out, const struct pkt_view *v, const uint8_t *addr, uint32_t port,
			 bool ports)
{
	char a[64];

	mm_fmt_addr(addr, v->family == 6 ? 16 : 4, a, sizeof(a));
	if (!ports)
		fputs(a, out);
	else if (v->family == 6)
		fprintf(out, "[%s]:%u", a, port);
	else
		fprintf(out, "%s:%u", a, port);
}

/* "SRC -> DST proto ...": false when there is nothing to show. */
static bool put_tuple(FILE *out, const struct pkt_view *v)
{
	bool ports = !v->no_ports &&
		     (v->proto == IPPROTO_TCP || v->proto == IPPROTO_UDP || v->proto == IPPROTO_SCTP);
	const char *name;
	char flags[64];

	if (!v->ip) {
		if (!v->ethertype)
			return false;
		name = mm_ethertype_name(v->ethertype);
		fprintf(out, "ethertype 0x%04x%s%s%s", v->ethertype, name ? " (" : "",
			name ? name : "", name ? ")" : "");
		return true;
	}
	put_endpoint(out, v, v->src, v->sport, ports);
	fputs(" -> ", out);
	put_endpoint(out, v, v->dst, v->dport, ports);
	switch (v->proto) {
	case IPPROTO_TCP:
		fputs(" tcp", out);
		if (v->have_flags && v->tcp_flags) {
			mm_tcp_flags_str(v->tcp_flags, flags, sizeof(flags));
			fprintf(out, " %s", flags);
		}
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6: {
		int fam = v->proto == IPPROTO_ICMPV6 ? 6 : 4;

		if (!v->have_icmp) {
			fputs(fam == 6 ? " icmpv6" : " icmp", out);
			break;
		}
		name = mm_icmp_type_name(fam, v->icmp_type);
		if (name)
			fprintf(out, " %s", name);
		else
			fprintf(out, " %s type %u", fam == 6 ? "icmpv6" : "icmp", v->icmp_type);
		if (v->icmp_code)
			fprintf(out, " code %u", v->icmp_code);
		break;
	}
	default:
		name = mm_ip_proto_name(v->proto);
		if (name)
			fprintf(out, " %s", name);
		else
			fprintf(out, " proto %u", v->proto);
	}
	return true;
}

static void put_tuple_tail(FILE *out, const struct pkt_view *v)
{
	fputs(": ", out);
	if (!put_tuple(out, v))
		fputs("no packet headers", out);
}

/* "to network", "from stack", ... from the trace point's name. */
static void put_point_words(FILE *out, unsigned int point)
{
	const char *name = mm_trace_point_name(point);
	const char *dash;

	if (!name) {
		fprintf(out, "point %u", point);
		return;
	}
	dash = strchr(name, '-');
	if (dash)
		fprintf(out, "%.*s %s", (int)(dash - name), name, dash + 1);
	else
		fputs(name, out);
}

static void put_prefix(const struct mm_fmt *f, uint64_t time_ns, uint32_t cpu)
{
	char ts[40];

	if (!f->verbose)
		return;
	mm_fmt_time(time_ns, ts, sizeof(ts));
	fprintf(f->out, "%s ", ts);
	if (cpu != MM_CPU_NONE)
		fprintf(f->out, "CPU %02u: ", cpu);
}

static void put_common_verbose(const struct mm_fmt *f, const Meshmon__V1__Event *ev)
{
	const char *hook = mm_source_name(ev->source);

	if (!f->verbose)
		return;
	fprintf(f->out, ", len %u, cap_len %u", ev->len, ev->cap_len);
	if (hook)
		fprintf(f->out, ", hook %s", hook);
	else
		fprintf(f->out, ", hook %u", ev->source);
}

static void text_trace(const struct mm_fmt *f, const Meshmon__V1__Event *ev,
		       const struct pkt_view *v)
{
	const Meshmon__V1__Trace *tr = ev->trace;
	const char *arrow = mm_trace_point_arrow(tr->point);
	const char *peer = mm_trace_point_peer(tr->point);
	const char *state = mm_trace_state_name(tr->state);
	const char *perr;

	if (arrow)
		fprintf(f->out, "%s %s", arrow, peer);
	else
		fprintf(f->out, "?? point %u", tr->point);
	fprintf(f->out, " flow 0x%x", ev->flow_id);
	if (state)
		fprintf(f->out, " state %s ", state);
	else
		fprintf(f->out, " state %u ", tr->state);
	put_ifindex(f, ev);
	put_tuple_tail(f->out, v);
	if (tr->parse_error != MESHMON__V1__PARSE_ERROR__PARSE_ERROR_NONE) {
		perr = mm_parse_error_text(tr->parse_error);
		if (perr)
			fprintf(f->out, ", parse error: %s", perr);
		else
			fprintf(f->out, ", parse error %u", tr->parse_error);
	}
	if (f->verbose) {
		fprintf(f->out, ", folded %u", tr->folded);
		put_common_verbose(f, ev);
	}
}

static void text_drop(const struct mm_fmt *f, const Meshmon__V1__Event *ev,
		      const struct pkt_view *v)
{
	const Meshmon__V1__Drop *d = ev->drop;
	bool kernel = ev->source == MESHMON__V1__SOURCE__SOURCE_KERNEL;
	const char *reason = kernel ? (d->reason[0] ? d->reason : d->reason_text)
				    : (d->reason_text[0] ? d->reason_text : d->reason);

	if (f->color)
		fputs(COLOR_RED, f->out);
	if (reason && reason[0]) {
		fputs("xx drop (", f->out);
		mm_fmt_clean(f->out, reason);
		fputc(')', f->out);
	} else {
		fprintf(f->out, "xx drop (reason %u)", d->reason_code);
	}
	if (f->color)
		fputs(COLOR_RESET, f->out);
	if (kernel) {
		fputs(" kernel ", f->out);
		put_ifindex(f, ev);
		if (d->netns)
			fprintf(f->out, ", netns %u", d->netns);
		if (d->location)
			fprintf(f->out, ", location 0x%" PRIx64, d->location);
	} else {
		fprintf(f->out, " flow 0x%x ", ev->flow_id);
		put_point_words(f->out, d->point);
		fputc(' ', f->out);
		put_ifindex(f, ev);
		if (d->file[0]) {
			fputs(", file ", f->out);
			mm_fmt_clean(f->out, d->file);
			fprintf(f->out, ":%u", d->line);
		} else if (d->file_id) {
			fprintf(f->out, ", file id %u:%u", d->file_id, d->line);
		}
		if (d->reason_code == MESHMON__V1__DROP_REASON__DROP_REASON_POLICY_DENIED)
			fprintf(f->out, ", rule %u", d->ext_error);
		else if (d->ext_error)
			fprintf(f->out, ", ext_error %u", d->ext_error);
	}
	put_tuple_tail(f->out, v);
	if (f->verbose) {
		fprintf(f->out, ", reason_code %u, folded %u", d->reason_code, d->folded);
		put_common_verbose(f, ev);
	}
}

static void text_capture(const struct mm_fmt *f, const Meshmon__V1__Event *ev,
			 const struct pkt_view *v)
{
	fprintf(f->out, "-- capture flow 0x%x ", ev->flow_id);
	put_point_words(f->out, ev->capture->point);
	fputc(' ', f->out);
	put_ifindex(f, ev);
	put_tuple_tail(f->out, v);
	put_common_verbose(f, ev);
}

static void text_tcp_probe(const struct mm_fmt *f, const Meshmon__V1__Event *ev,
			   const struct pkt_view *v)
{
	const Meshmon__V1__TcpProbe *p = ev->tcp_probe;
	const char *state = mm_probe_state_name(p->state);
	const char *dir = mm_probe_direction_name(p->direction);
	char srtt[32], minrtt[32], dur[32], ts[40];

	if (state)
		fprintf(f->out, "== tcp_probe %s", state);
	else
		fprintf(f->out, "== tcp_probe state %u", p->state);
	if (dir)
		fprintf(f->out, " %s", dir);
	if (p->preexisting) {
		fputs(" preexisting", f->out);
	} else {
		fprintf(f->out, " pid %u (", p->pid);
		mm_fmt_clean(f->out, p->comm);
		fputc(')', f->out);
	}
	put_tuple_tail(f->out, v);
	/* 0 is "no RTT sample yet" (a connection that never got an answer). */
	if (p->srtt_us)
		mm_fmt_duration((uint64_t)p->srtt_us * 1000, srtt, sizeof(srtt));
	else
		snprintf(srtt, sizeof(srtt), "-");
	if (p->min_rtt_us)
		mm_fmt_duration((uint64_t)p->min_rtt_us * 1000, minrtt, sizeof(minrtt));
	else
		snprintf(minrtt, sizeof(minrtt), "-");
	mm_fmt_duration(p->duration_ns, dur, sizeof(dur));
	fprintf(f->out,
		", bytes sent %" PRIu64 " received %" PRIu64
		", segs out %u in %u, srtt %s, min rtt %s, retrans %u, duration %s",
		p->bytes_sent, p->bytes_received, p->segs_out, p->segs_in, srtt, minrtt,
		p->total_retrans, dur);
	if (!p->conn_success)
		fputs(", connect failed", f->out);
	if (f->verbose) {
		fprintf(f->out,
			", data segs out %u in %u, cwnd %u, lost %u, delivered %u, tcp_state %u, cgroup %" PRIu64
			", netns %u",
			p->data_segs_out, p->data_segs_in, p->snd_cwnd, p->lost_out, p->delivered,
			p->tcp_state, p->cgroup_id, p->netns);
		if (p->start_time_ns) {
			mm_fmt_time(p->start_time_ns, ts, sizeof(ts));
			fprintf(f->out, ", started %s", ts);
		}
		put_common_verbose(f, ev);
	}
}

/* Applies a debug format (only %u and %x with u32 arguments, see tables.h). */
static void put_debug_format(FILE *out, const char *fmt, const uint32_t args[3])
{
	int i = 0;

	for (; *fmt; fmt++) {
		if (fmt[0] == '%' && (fmt[1] == 'u' || fmt[1] == 'x') && i < 3) {
			fprintf(out, fmt[1] == 'u' ? "%u" : "%x", args[i++]);
			fmt++;
		} else if (fmt[0] == '%' && fmt[1] == '%') {
			fputc('%', out);
			fmt++;
		} else {
			fputc(*fmt, out);
		}
	}
}

static void text_debug(const struct mm_fmt *f, const Meshmon__V1__Event *ev)
{
	const Meshmon__V1__Debug *d = ev->debug;
	uint32_t args[3] = { d->arg1, d->arg2, d->arg3 };
	const char *fmt = mm_debug_format(d->subtype);

	/* Cilium's shape; -v puts the time in front. */
	if (!f->verbose)
		fprintf(f->out, "CPU %02u: ", ev->cpu);
	if (f->color)
		fputs(COLOR_YELLOW, f->out);
	fputs("DEBUG: ", f->out);
	if (f->color)
		fputs(COLOR_RESET, f->out);
	if (d->message[0])
		mm_fmt_clean(f->out, d->message);
	else if (fmt)
		put_debug_format(f->out, fmt, args);
	else
		fprintf(f->out, "subtype %u args %u %u %u", d->subtype, d->arg1, d->arg2, d->arg3);
	if (f->verbose && ev->ifindex) {
		fputs(", ", f->out);
		put_ifindex(f, ev);
	}
}

void mm_text_event(const struct mm_fmt *f, const Meshmon__V1__Event *ev)
{
	struct pkt_view v;
	const char *tn;

	put_prefix(f, ev->time_ns, ev->cpu);
	switch (ev->detail_case) {
	case MESHMON__V1__EVENT__DETAIL_TRACE:
		view_of(ev, &v);
		text_trace(f, ev, &v);
		break;
	case MESHMON__V1__EVENT__DETAIL_DROP:
		view_of(ev, &v);
		text_drop(f, ev, &v);
		break;
	case MESHMON__V1__EVENT__DETAIL_CAPTURE:
		view_of(ev, &v);
		text_capture(f, ev, &v);
		break;
	case MESHMON__V1__EVENT__DETAIL_TCP_PROBE:
		view_of(ev, &v);
		text_tcp_probe(f, ev, &v);
		break;
	case MESHMON__V1__EVENT__DETAIL_DEBUG:
		text_debug(f, ev);
		break;
	default:
		tn = mm_event_type_name(ev->type);
		if (tn)
			fprintf(f->out, "?? %s event without details", tn);
		else
			fprintf(f->out, "?? event of unknown type %u", ev->type);
		if (ev->ifindex) {
			fputc(' ', f->out);
			put_ifindex(f, ev);
		}
		break;
	}
	fputc('\n', f->out);
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

void mm_text_lost(const struct mm_fmt *f, const Meshmon__V1__LostNotice *l)
{
	char a[40], b[40];

	if (f->verbose) {
		mm_fmt_time(l->last_time_ns, a, sizeof(a));
		fprintf(f->out, "%s ", a);
	}
	if (l->cpu != MM_CPU_NONE)
		fprintf(f->out, "CPU %02u: ", l->cpu);
	fprintf(f->out, "Lost %" PRIu64 " events (%s)", l->count, mm_loss_source_name(l->source));
	if (f->verbose && l->first_time_ns) {
		mm_fmt_time(l->first_time_ns, a, sizeof(a));
		mm_fmt_time(l->last_time_ns, b, sizeof(b));
		fprintf(f->out, " between %s and %s", a, b);
	}
	fputc('\n', f->out);
}

/* In the shape of a lost notice, the same with or without -v: it carries its own times. */
void mm_text_reconnected(const struct mm_fmt *f, const struct mm_gap *g)
{
	char a[40], b[40];

	mm_fmt_time(g->start_ns, a, sizeof(a));
	mm_fmt_time(g->end_ns, b, sizeof(b));
	fprintf(f->out, "-- reconnected: events between %s and %s were not seen (agent restarted)\n",
		a, b);
}
