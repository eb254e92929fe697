// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Decoding raw datapath records into protocol events (decode.h).
 */
#include <errno.h>
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

const char *mm_ifname_cache__lookup(void *arg, unsigned int ifindex)
{
	struct mm_ifname_cache *c = arg;
	unsigned int i = ifindex % MM_IFNAME_CACHE_SLOTS;

	if (!ifindex)
		return NULL;
	if (c->slot[i].ifindex == ifindex)
		return c->slot[i].name;
	if (!if_indextoname(ifindex, c->slot[i].name)) {
		c->slot[i].ifindex = 0;
		return NULL;
	}
	c->slot[i].ifindex = ifindex;
	return c->slot[i].name;
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
}

static void copy_str(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
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
		out->heap_cap = malloc(cap->cap_len);
		if (!out->heap_cap)
			return -ENOMEM;
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

static void fill_ifname(const struct mm_decode_ctx *ctx, struct mm_decoded *out,
			unsigned int ifindex)
{
	const char *name = NULL;

	out->ev.ifindex = ifindex;
	if (ifindex && ctx->ifname)
		name = ctx->ifname(ctx->ifname_arg, ifindex);
	copy_str(out->ifname, sizeof(out->ifname), name);
	out->ev.ifname = out->ifname;
}

static uint64_t wall(const struct mm_decode_ctx *ctx, uint64_t ktime)
{
	/* modulo 2^64: no signed overflow on garbage ktime */
	return ktime + (uint64_t)ctx->wall_offset_ns;
}

/* Fixed size and layout version of each record type; 0 for types we cannot decode. */
static size_t fixed_size(unsigned int type, unsigned int *version)
{
	switch (type) {
	case MM_EVENT_TRACE:
		*version = MM_TRACE_VERSION;
		return sizeof(struct mm_trace_record);
	case MM_EVENT_DROP:
		*version = MM_DROP_VERSION;
		return sizeof(struct mm_drop_record);
	case MM_EVENT_CAPTURE:
		*version = MM_CAPTURE_VERSION;
		return sizeof(struct mm_capture_record);
	case MM_EVENT_DEBUG:
		*version = MM_DEBUG_VERSION;
		return sizeof(struct mm_debug_record);
	case MM_EVENT_TCP_PROBE:
		*version = MM_TCP_PROBE_VERSION;
		return sizeof(struct mm_tcp_probe_record);
	default:
		return 0;
	}
}

int mm_decode(const struct mm_decode_ctx *ctx, const void *data, size_t size, int cpu,
	      struct mm_decoded *out)
{
	const uint8_t *bytes = data;
	struct mm_notify_hdr hdr;
	unsigned int version = 0;
	size_t fixed;
	union {
		struct mm_trace_record trace;
		struct mm_drop_record drop;
		struct mm_capture_record capture;
		struct mm_debug_record debug;
		struct mm_tcp_probe_record probe;
	} r;

	mm_decoded__release(out);
	memset(&out->view, 0, sizeof(out->view));
	meshmon__v1__event__init(&out->ev);
	out->ifname[0] = '\0';

	if (size < sizeof(hdr))
		return MM_DECODE_SHORT;
	memcpy(&hdr, data, sizeof(hdr));
	fixed = fixed_size(hdr.type, &version);
	if (!fixed || hdr.version != version)
		return MM_DECODE_UNKNOWN;
	if (size < fixed)
		return MM_DECODE_SHORT;
	memcpy(&r, data, fixed);

	if (hdr.type == MM_EVENT_TRACE || hdr.type == MM_EVENT_DROP ||
	    hdr.type == MM_EVENT_CAPTURE) {
		/* trace, drop and capture all start with hdr + mm_capture_hdr */
		if (size - fixed < r.trace.cap.cap_len)
			return MM_DECODE_SHORT;
		if (fill_capture(out, &r.trace.cap, bytes + fixed))
			return -ENOMEM;
		out->view.point = hdr.subtype;
	}

	out->ev.time_ns = wall(ctx, hdr.ktime_ns);
	out->ev.ktime_ns = hdr.ktime_ns;
	out->ev.cpu = (uint32_t)cpu;
	out->ev.type = (Meshmon__V1__EventType)hdr.type;
	out->ev.source = (Meshmon__V1__Source)hdr.source;
	out->ev.flow_id = hdr.flow_id;
	out->view.type = hdr.type;
	out->ev.ifname = out->ifname;

	switch (hdr.type) {
	case MM_EVENT_TRACE: {
		Meshmon__V1__Trace *t = &out->d.trace;

		meshmon__v1__trace__init(t);
		fill_tuple(out, &r.trace.tuple);
		fill_ifname(ctx, out, r.trace.ifindex);
		t->point = (Meshmon__V1__TracePoint)hdr.subtype;
		t->state = (Meshmon__V1__TraceState)r.trace.state;
		t->tcp_flags = r.trace.tcp_flags;
		t->icmp_type = r.trace.icmp_type;
		t->icmp_code = r.trace.icmp_code;
		t->parse_error = (Meshmon__V1__ParseError)r.trace.parse_error;
		t->folded = r.trace.folded;
		out->ev.detail_case = MESHMON__V1__EVENT__DETAIL_TRACE;
		out->ev.trace = t;
		break;
	}
	case MM_EVENT_DROP: {
		Meshmon__V1__Drop *d = &out->d.drop;
		const char *name = NULL, *text = NULL;

		meshmon__v1__drop__init(d);
		fill_tuple(out, &r.drop.tuple);
		fill_ifname(ctx, out, r.drop.ifindex);
		d->point = (Meshmon__V1__TracePoint)hdr.subtype;
		d->reason_code = r.drop.reason;
		if (hdr.source == MM_SOURCE_KERNEL) {
			if (ctx->kernel_drop_reason_name)
				name = ctx->kernel_drop_reason_name(r.drop.reason);
			text = name;
		} else {
			name = mm_drop_reason_name(r.drop.reason);
			text = mm_drop_reason_text(r.drop.reason);
		}
		copy_str(out->reason, sizeof(out->reason), name);
		copy_str(out->reason_text, sizeof(out->reason_text), text);
		d->reason = out->reason;
		d->reason_text = out->reason_text;
		d->ext_error = r.drop.ext_error;
		copy_str(out->file, sizeof(out->file),
			 r.drop.file ? mm_source_file_name(r.drop.file) : NULL);
		d->file = out->file;
		d->file_id = r.drop.file;
		d->line = r.drop.line;
		d->folded = r.drop.folded;
		d->netns = r.drop.netns;
		d->location = r.drop.location;
		out->ev.detail_case = MESHMON__V1__EVENT__DETAIL_DROP;
		out->ev.drop = d;
		break;
	}
	case MM_EVENT_CAPTURE: {
		Meshmon__V1__Capture *c = &out->d.capture;

		meshmon__v1__capture__init(c);
		fill_ifname(ctx, out, r.capture.ifindex);
		c->point = (Meshmon__V1__TracePoint)hdr.subtype;
		out->ev.detail_case = MESHMON__V1__EVENT__DETAIL_CAPTURE;
		out->ev.capture = c;
		break;
	}
	case MM_EVENT_DEBUG: {
		Meshmon__V1__Debug *g = &out->d.debug;
		const char *fmt = mm_debug_format(hdr.subtype);
		uint32_t args[3] = {r.debug.arg1, r.debug.arg2, r.debug.arg3};

		meshmon__v1__debug__init(g);
		fill_ifname(ctx, out, r.debug.ifindex);
		g->subtype = (Meshmon__V1__DebugType)hdr.subtype;
		g->arg1 = args[0];
		g->arg2 = args[1];
		g->arg3 = args[2];
		out->message[0] = '\0';
		if (fmt && mm_debug_message(out->message, sizeof(out->message), fmt, args) < 0)
			out->message[0] = '\0';
		g->message = out->message;
		out->ev.detail_case = MESHMON__V1__EVENT__DETAIL_DEBUG;
		out->ev.debug = g;
		break;
	}
	case MM_EVENT_TCP_PROBE: {
		Meshmon__V1__TcpProbe *p = &out->d.probe;

		meshmon__v1__tcp_probe__init(p);
		fill_tuple(out, &r.probe.tuple);
		fill_ifname(ctx, out, r.probe.ifindex);
		p->state = (Meshmon__V1__ProbeState)hdr.subtype;
		p->direction = (Meshmon__V1__ProbeDirection)r.probe.direction;
		p->conn_success = !!(r.probe.flags & MM_PROBE_F_CONN_SUCCESS);
		p->preexisting = !!(r.probe.flags & MM_PROBE_F_PREEXISTING);
		p->pid = r.probe.pid;
		memcpy(out->comm, r.probe.comm, sizeof(r.probe.comm));
		out->comm[sizeof(r.probe.comm)] = '\0';
		p->comm = out->comm;
		p->start_time_ns = r.probe.start_ns ? wall(ctx, r.probe.start_ns) : 0;
		p->duration_ns = r.probe.duration_ns;
		p->bytes_sent = r.probe.bytes_sent;
		p->bytes_received = r.probe.bytes_received;
		p->segs_in = r.probe.segs_in;
		p->segs_out = r.probe.segs_out;
		p->data_segs_in = r.probe.data_segs_in;
		p->data_segs_out = r.probe.data_segs_out;
		p->srtt_us = r.probe.srtt_us;
		/* The kernel's "no sample yet" is ~0U (TCP_INFO shows the same); the
		 * protocol says 0. */
		p->min_rtt_us = r.probe.min_rtt_us == UINT32_MAX ? 0 : r.probe.min_rtt_us;
		p->snd_cwnd = r.probe.snd_cwnd;
		p->total_retrans = r.probe.total_retrans;
		p->lost_out = r.probe.lost_out;
		p->delivered = r.probe.delivered;
		p->cgroup_id = r.probe.cgroup_id;
		p->netns = r.probe.netns;
		p->tcp_state = r.probe.tcp_state;
		out->ev.detail_case = MESHMON__V1__EVENT__DETAIL_TCP_PROBE;
		out->ev.tcp_probe = p;
		break;
	}
	}
	return 0;
}
