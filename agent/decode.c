// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Decoding raw datapath records into protocol events (decode.h).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decode.h"
#include "names.h"

int64_t mm_clock_offset_ns(void)
{
	struct timespec rt, mono;

	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	return ((int64_t)rt.tv_sec - mono.tv_sec) * 1000000000ll + (rt.tv_nsec - mono.tv_nsec);
}

void mm_ifname__set(struct mm_ifname *e, const char *kernel_name)
{
	size_t len = strnlen(kernel_name, IF_NAMESIZE);

	e->raw_len = 0;
	if (!mm_utf8_sanitize(e->name, sizeof(e->name), kernel_name, len))
		return;
	memcpy(e->raw, kernel_name, len);
	e->raw_len = len;
}

const struct mm_ifname *mm_ifname_cache__lookup(void *arg, unsigned int ifindex)
{
	struct mm_ifname_cache *c = arg;
	unsigned int i = ifindex % MM_IFNAME_CACHE_SLOTS;
	char name[IF_NAMESIZE + 1] = "";

	if (!ifindex)
		return NULL;
	if (c->slot[i].ifindex == ifindex)
		return &c->slot[i].name;
	if (!if_indextoname(ifindex, name)) {
		c->slot[i].ifindex = 0;
		return NULL;
	}
	mm_ifname__set(&c->slot[i].name, name);
	c->slot[i].ifindex = ifindex;
	return &c->slot[i].name;
}

void mm_ifname_cache__flush(struct mm_ifname_cache *c)
{
	memset(c, 0, sizeof(*c));
}

int mm_debug_message(char *buf, size_t size, const char *fmt, const uint32_t args[3])
{
	size_t n = 0;
	int argi = 0;

	if (!size)
		return -EINVAL;
	for (const char *p = fmt; *p; p++) {
		char tmp[16];
		const char *s = tmp;
		size_t l;

		if (*p != '%') {
			tmp[0] = *p;
			tmp[1] = '\0';
		} else if (p[1] == '%') {
			p++;
			strcpy(tmp, "%");
		} else if ((p[1] == 'u' || p[1] == 'x') && argi < 3) {
			snprintf(tmp, sizeof(tmp), p[1] == 'u' ? "%u" : "%x", args[argi++]);
			p++;
		} else {
			buf[0] = '\0';
			return -EINVAL;
		}
		l = strlen(s);
		if (n + l >= size)
			l = size - 1 - n; /* truncate */
		memcpy(buf + n, s, l);
		n += l;
	}
	buf[n] = '\0';
	return (int)n;
}

void mm_decoded__release(struct mm_decoded *out)
{
	if (!out)
		return;
	free(out->heap_cap);
	out->heap_cap = NULL;
	out->heap_cap_size = 0;
}

/*
 * Names from meshmon's tables (printable ASCII: test_names checks it) or the
 * kernel's BTF (C identifiers: the kernel's BTF checker refuses others), so a
 * plain copy keeps them valid UTF-8; only outside bytes need copy_outside().
 */
static void copy_str(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

/*
 * Bytes from outside (a comm any process sets, an interface name) into dst
 * as valid UTF-8. Only when they were not valid, the raw bytes (up to the
 * first NUL, at most raw_size) go to raw and the *_raw field points at them,
 * so a normal event carries nothing extra.
 */
static void copy_outside(char *dst, size_t size, const char *src, uint8_t *raw, size_t raw_size,
			 ProtobufCBinaryData *raw_field)
{
	size_t len = src ? strnlen(src, raw_size) : 0;

	if (!mm_utf8_sanitize(dst, size, src ? src : "", len))
		return;
	memcpy(raw, src, len);
	raw_field->data = raw;
	raw_field->len = len;
}

static int fill_capture(struct mm_decoded *out, const struct mm_capture_hdr *cap,
			const uint8_t *bytes)
{
	uint8_t *dst = out->inline_cap;

	out->ev.len = cap->len_orig;
	out->ev.cap_len = cap->cap_len;
	out->ev.layer = cap->cap_len ? (Meshmon__V1__CaptureLayer)cap->layer
				     : MESHMON__V1__CAPTURE_LAYER__CAPTURE_LAYER_UNSPECIFIED;
	if (cap->cap_len > sizeof(out->inline_cap)) {
		if (cap->cap_len > out->heap_cap_size) {
			uint8_t *grown = realloc(out->heap_cap, cap->cap_len);

			if (!grown)
				return -ENOMEM;
			out->heap_cap = grown;
			out->heap_cap_size = cap->cap_len;
		}
		dst = out->heap_cap;
	}
	memcpy(dst, bytes, cap->cap_len);
	out->ev.captured.data = dst;
	out->ev.captured.len = cap->cap_len;
	return 0;
}

static void fill_tuple(struct mm_decoded *out, const struct mm_tuple *t)
{
	struct mm_event_view *v = &out->view;
	size_t alen = t->family == MM_FAMILY_IPV4 ? 4 : t->family == MM_FAMILY_IPV6 ? 16 : 0;

	meshmon__v1__tuple__init(&out->tuple);
	memcpy(out->src, t->saddr, 16);
	memcpy(out->dst, t->daddr, 16);
	out->tuple.src.data = out->src;
	out->tuple.src.len = alen;
	out->tuple.dst.data = out->dst;
	out->tuple.dst.len = alen;
	out->tuple.sport = t->sport;
	out->tuple.dport = t->dport;
	out->tuple.proto = t->proto;
	out->tuple.ethertype = t->ethertype;
	out->ev.tuple = &out->tuple;

	v->family = alen ? t->family : MM_FAMILY_NONE;
	if (alen) {
		memcpy(v->src, out->src, alen);
		memcpy(v->dst, out->dst, alen);
		v->sport = t->sport;
		v->dport = t->dport;
		v->proto = t->proto;
	}
}

/* The name was made valid once, when the cache looked it up: pointed at, not copied. */
static void fill_ifname(const struct mm_decode_ctx *ctx, struct mm_decoded *out,
			unsigned int ifindex)
{
	const struct mm_ifname *e = NULL;

	out->ev.ifindex = ifindex;
	if (ifindex && ctx->ifname)
		e = ctx->ifname(ctx->ifname_arg, ifindex);
	if (!e)
		return; /* ev.ifname stays empty */
	/* The filter's copy: the kernel's bytes (at most IF_NAMESIZE - 1, NUL-padded). */
	if (e->raw_len)
		memcpy(out->view.ifname, e->raw,
		       e->raw_len < IF_NAMESIZE - 1 ? e->raw_len : IF_NAMESIZE - 1);
	else
		memcpy(out->view.ifname, e->name, strnlen(e->name, IF_NAMESIZE - 1));
	out->ev.ifname = (char *)e->name;
	if (e->raw_len) {
		out->ev.ifname_raw.data = (uint8_t *)e->raw;
		out->ev.ifname_raw.len = e->raw_len;
	}
}

static uint64_t wall(const struct mm_decode_ctx *ctx, uint64_t ktime)
{
	/* modulo 2^64: no signed overflow on garbage ktime */
	return ktime + (uint64_t)ctx->wall_offset_ns;
}

/*
 * One decoder per record type, named decode_<short name> after
 * MM_RECORD_TYPES. Each gets the record already copied out of the ring and
 * fills the Event's detail and the filter view.
 */
union mm_any_record {
#define X(type, short_, struct_, version, capture) struct_ short_;
	MM_RECORD_TYPES(X)
#undef X
#define X(type, source, short_, struct_) struct_ short_;
	MM_RECORD_SOURCE_LAYOUTS(X)
#undef X
};

_Static_assert(sizeof(((struct mm_sock_owner *)0)->comm) == MM_DECODE_COMM_LEN,
	       "one comm buffer holds either record's comm");

/* Endpoint traces (source CGROUP_SKB): the socket the packet met. */
static void decode_sock_owner(const struct mm_sock_owner *o, Meshmon__V1__Trace *t,
			      struct mm_decoded *out)
{
	t->cgroup_id = o->cgroup_id;
	t->socket_cookie = o->cookie;
	t->netns = o->netns;
	t->pid = o->pid;
	/* o->comm need not end in a NUL: copy_outside reads at most its 16 bytes. */
	copy_outside(out->comm, sizeof(out->comm), o->comm, out->comm_raw, sizeof(out->comm_raw),
		     &t->comm_raw);
	t->comm = out->comm;
}

static void decode_trace(const struct mm_decode_ctx *ctx, const union mm_any_record *r,
			 struct mm_decoded *out)
{
	Meshmon__V1__Trace *t = &out->d.trace;

	meshmon__v1__trace__init(t);
	fill_tuple(out, &r->trace.tuple);
	fill_ifname(ctx, out, r->trace.ifindex);
	t->point = (Meshmon__V1__TracePoint)r->trace.hdr.subtype;
	t->state = (Meshmon__V1__TraceState)r->trace.state;
	t->tcp_flags = r->trace.tcp_flags;
	out->view.has_tcp_flags = out->view.family != MM_FAMILY_NONE && out->view.proto == IPPROTO_TCP;
	out->view.tcp_flags = out->view.has_tcp_flags ? r->trace.tcp_flags : 0;
	t->icmp_type = r->trace.icmp_type;
	t->icmp_code = r->trace.icmp_code;
	t->parse_error = (Meshmon__V1__ParseError)r->trace.parse_error;
	t->folded = r->trace.folded;
	if (r->trace.hdr.source == MM_SOURCE_CGROUP_SKB)
		decode_sock_owner(&r->endpoint_trace.owner, t, out);
	out->ev.detail_case = MESHMON__V1__EVENT__DETAIL_TRACE;
	out->ev.trace = t;
}

static void decode_drop(const struct mm_decode_ctx *ctx, const union mm_any_record *r,
			struct mm_decoded *out)
{
	const struct mm_drop_record *rec = &r->drop;
	Meshmon__V1__Drop *d = &out->d.drop;
	const char *name = NULL, *text = NULL;

	meshmon__v1__drop__init(d);
	fill_tuple(out, &rec->tuple);
	fill_ifname(ctx, out, rec->ifindex);
	d->point = (Meshmon__V1__TracePoint)rec->hdr.subtype;
	d->reason_code = rec->reason;
	out->view.drop_key = mm_drop_key(rec->hdr.source == MM_SOURCE_KERNEL, rec->reason);
	/* Kernel drops carry the running kernel's enum skb_drop_reason (names from BTF). */
	if (rec->hdr.source == MM_SOURCE_KERNEL) {
		if (ctx->kernel_drop_reason_name)
			name = ctx->kernel_drop_reason_name(rec->reason);
		text = name;
	} else {
		name = mm_drop_reason_name(rec->reason);
		text = mm_drop_reason_text(rec->reason);
	}
	copy_str(out->reason, sizeof(out->reason), name);
	copy_str(out->reason_text, sizeof(out->reason_text), text);
	d->reason = out->reason;
	d->reason_text = out->reason_text;
	d->ext_error = rec->ext_error;
	copy_str(out->file, sizeof(out->file), rec->file ? mm_source_file_name(rec->file) : NULL);
	d->file = out->file;
	d->file_id = rec->file;
	d->line = rec->line;
	d->folded = rec->folded;
	d->netns = rec->netns;
	d->location = rec->location;
	out->symbol[0] = '\0';
	if (rec->hdr.source == MM_SOURCE_KERNEL && rec->location && ctx->symbolize &&
	    ctx->symbolize(ctx->symbolize_arg, rec->location, out->symbol, sizeof(out->symbol)) < 0)
		out->symbol[0] = '\0';
	d->symbol = out->symbol;
	out->ev.detail_case = MESHMON__V1__EVENT__DETAIL_DROP;
	out->ev.drop = d;
}

static void decode_capture(const struct mm_decode_ctx *ctx, const union mm_any_record *r,
			   struct mm_decoded *out)
{
	Meshmon__V1__Capture *c = &out->d.capture;

	meshmon__v1__capture__init(c);
	fill_ifname(ctx, out, r->capture.ifindex);
	c->point = (Meshmon__V1__TracePoint)r->capture.hdr.subtype;
	c->rule_id = r->capture.rule_id;
	out->view.rule_id = r->capture.rule_id;
	out->ev.detail_case = MESHMON__V1__EVENT__DETAIL_CAPTURE;
	out->ev.capture = c;
}

static void decode_debug(const struct mm_decode_ctx *ctx, const union mm_any_record *r,
			 struct mm_decoded *out)
{
	Meshmon__V1__Debug *g = &out->d.debug;
	const char *fmt = mm_debug_format(r->debug.hdr.subtype);
	uint32_t args[3] = {r->debug.arg1, r->debug.arg2, r->debug.arg3};

	meshmon__v1__debug__init(g);
	fill_ifname(ctx, out, r->debug.ifindex);
	g->subtype = (Meshmon__V1__DebugType)r->debug.hdr.subtype;
	g->arg1 = args[0];
	g->arg2 = args[1];
	g->arg3 = args[2];
	out->message[0] = '\0';
	if (fmt && mm_debug_message(out->message, sizeof(out->message), fmt, args) < 0)
		out->message[0] = '\0';
	g->message = out->message;
	out->ev.detail_case = MESHMON__V1__EVENT__DETAIL_DEBUG;
	out->ev.debug = g;
}

/*
 * The original destination of a translated connect into out->orig_dst, in the
 * tuple's family: its length (4 or 16), or 0 when there was no translation.
 */
static size_t fill_orig_dst(struct mm_decoded *out, const struct mm_tuple *t,
			    const __u32 orig[4], uint16_t orig_dport)
{
	size_t alen = t->family == MM_FAMILY_IPV4 ? 4 : t->family == MM_FAMILY_IPV6 ? 16 : 0;

	if (!orig_dport && !orig[0] && !orig[1] && !orig[2] && !orig[3])
		return 0;
	memcpy(out->orig_dst, orig, 16);
	return alen;
}

static void decode_tcp_probe(const struct mm_decode_ctx *ctx, const union mm_any_record *r,
			     struct mm_decoded *out)
{
	const struct mm_tcp_probe_record *rec = &r->tcp_probe;
	Meshmon__V1__TcpProbe *p = &out->d.probe;

	meshmon__v1__tcp_probe__init(p);
	fill_tuple(out, &rec->tuple);
	fill_ifname(ctx, out, rec->ifindex);
	p->state = (Meshmon__V1__ProbeState)rec->hdr.subtype;
	p->direction = (Meshmon__V1__ProbeDirection)rec->direction;
	p->conn_success = !!(rec->flags & MM_PROBE_F_CONN_SUCCESS);
	p->preexisting = !!(rec->flags & MM_PROBE_F_PREEXISTING);
	p->pid = rec->pid;
	/* rec->comm need not end in a NUL: copy_outside reads at most its 16 bytes. */
	copy_outside(out->comm, sizeof(out->comm), rec->comm, out->comm_raw, sizeof(out->comm_raw),
		     &p->comm_raw);
	p->comm = out->comm;
	p->start_time_ns = rec->start_ns ? wall(ctx, rec->start_ns) : 0;
	p->duration_ns = rec->duration_ns;
	p->bytes_sent = rec->bytes_sent;
	p->bytes_received = rec->bytes_received;
	p->segs_in = rec->segs_in;
	p->segs_out = rec->segs_out;
	p->data_segs_in = rec->data_segs_in;
	p->data_segs_out = rec->data_segs_out;
	p->srtt_us = rec->srtt_us;
	/* The kernel's "no sample yet" is ~0U (TCP_INFO shows the same); the protocol says 0. */
	p->min_rtt_us = rec->min_rtt_us == UINT32_MAX ? 0 : rec->min_rtt_us;
	p->snd_cwnd = rec->snd_cwnd;
	p->total_retrans = rec->total_retrans;
	p->lost_out = rec->lost_out;
	p->delivered = rec->delivered;
	p->cgroup_id = rec->cgroup_id;
	p->netns = rec->netns;
	p->tcp_state = rec->tcp_state;
	p->socket_cookie = rec->socket_cookie;
	p->orig_dst.len = fill_orig_dst(out, &rec->tuple, rec->orig_daddr, rec->orig_dport);
	p->orig_dst.data = p->orig_dst.len ? out->orig_dst : NULL;
	p->orig_dport = p->orig_dst.len ? rec->orig_dport : 0;
	out->ev.detail_case = MESHMON__V1__EVENT__DETAIL_TCP_PROBE;
	out->ev.tcp_probe = p;
}

static void decode_trace_sock(const struct mm_decode_ctx *ctx, const union mm_any_record *r,
			      struct mm_decoded *out)
{
	const struct mm_trace_sock_record *rec = &r->trace_sock;
	Meshmon__V1__TraceSock *k = &out->d.sock;

	(void)ctx;
	meshmon__v1__trace_sock__init(k);
	fill_tuple(out, &rec->tuple);
	k->hook = (Meshmon__V1__SocketHook)rec->hdr.subtype;
	k->orig_dst.len = fill_orig_dst(out, &rec->tuple, rec->orig_daddr, rec->orig_dport);
	k->orig_dst.data = k->orig_dst.len ? out->orig_dst : NULL;
	k->orig_dport = rec->orig_dport;
	k->pid = rec->owner.pid;
	copy_outside(out->comm, sizeof(out->comm), rec->owner.comm, out->comm_raw,
		     sizeof(out->comm_raw), &k->comm_raw);
	k->comm = out->comm;
	k->socket_cookie = rec->owner.cookie;
	k->cgroup_id = rec->owner.cgroup_id;
	k->netns = rec->owner.netns;
	out->ev.detail_case = MESHMON__V1__EVENT__DETAIL_TRACE_SOCK;
	out->ev.trace_sock = k;
}

_Static_assert(MM_VERDICT_ALLOWED == MESHMON__V1__VERDICT__VERDICT_ALLOWED &&
		       MM_VERDICT_DENIED == MESHMON__V1__VERDICT__VERDICT_DENIED,
	       "records.h MM_VERDICT_* are the protocol's Verdict values");

static void decode_policy_verdict(const struct mm_decode_ctx *ctx, const union mm_any_record *r,
				  struct mm_decoded *out)
{
	const struct mm_policy_verdict_record *rec = &r->policy_verdict;
	Meshmon__V1__PolicyVerdict *v = &out->d.verdict;

	meshmon__v1__policy_verdict__init(v);
	fill_tuple(out, &rec->tuple);
	fill_ifname(ctx, out, rec->ifindex);
	v->point = (Meshmon__V1__TracePoint)rec->hdr.subtype;
	v->verdict = (Meshmon__V1__Verdict)rec->verdict;
	v->rule_id = rec->rule_id;
	v->folded = rec->folded;
	v->tcp_flags = rec->tcp_flags;
	out->view.point = rec->hdr.subtype;
	out->view.has_tcp_flags = out->view.family != MM_FAMILY_NONE && out->view.proto == IPPROTO_TCP;
	out->view.tcp_flags = out->view.has_tcp_flags ? rec->tcp_flags : 0;
	out->ev.detail_case = MESHMON__V1__EVENT__DETAIL_POLICY_VERDICT;
	out->ev.policy_verdict = v;
}

typedef void (*decode_fn)(const struct mm_decode_ctx *ctx, const union mm_any_record *r,
			  struct mm_decoded *out);

static decode_fn decoder_of(unsigned int type)
{
	switch (type) {
#define X(type_, short_, struct_, version, capture) \
	case MM_EVENT_##type_:                      \
		return decode_##short_;
		MM_RECORD_TYPES(X)
#undef X
	default:
		return NULL;
	}
}

static void decode_header(const struct mm_decode_ctx *ctx, const struct mm_notify_hdr *hdr,
			  int cpu, struct mm_decoded *out)
{
	out->ev.time_ns = wall(ctx, hdr->ktime_ns);
	out->ev.ktime_ns = hdr->ktime_ns;
	out->ev.cpu = (uint32_t)cpu;
	out->ev.type = (Meshmon__V1__EventType)hdr->type;
	out->ev.source = (Meshmon__V1__Source)hdr->source;
	out->ev.flow_id = hdr->flow_id;
	out->view.type = hdr->type;
	out->view.time_ns = out->ev.time_ns;
	out->ev.ifname = (char *)""; /* until fill_ifname() */
}

int mm_decode(const struct mm_decode_ctx *ctx, const void *data, size_t size, int cpu,
	      struct mm_decoded *out)
{
	const struct mm_record_layout *layout;
	const uint8_t *bytes = data;
	struct mm_notify_hdr hdr;
	union mm_any_record r;
	decode_fn decode;
	size_t fixed;

	memset(&out->view, 0, sizeof(out->view));
	meshmon__v1__event__init(&out->ev);

	if (size < sizeof(hdr))
		return MM_DECODE_SHORT;
	memcpy(&hdr, data, sizeof(hdr));
	layout = mm_record_layout(hdr.type);
	decode = decoder_of(hdr.type);
	if (!layout || !decode || hdr.version != layout->version)
		return MM_DECODE_UNKNOWN;
	fixed = mm_record_size(layout, hdr.source);
	if (size < fixed)
		return MM_DECODE_SHORT;
	memcpy(&r, data, fixed);

	if (layout->has_capture) {
		/* every record with packet bytes starts with hdr + mm_capture_hdr */
		if (size - fixed < r.trace.cap.cap_len)
			return MM_DECODE_SHORT;
		if (fill_capture(out, &r.trace.cap, bytes + fixed))
			return -ENOMEM;
		out->view.point = hdr.subtype;
	}
	decode_header(ctx, &hdr, cpu, out);
	decode(ctx, &r, out);
	mm_event_view__set_owner(&out->view, &out->ev);
	return 0;
}
