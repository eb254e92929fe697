// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Compiling and matching listener filters (filter.h). Combination rules, as
 * `hubble observe`: within a FlowFilter different fields are ANDed and the
 * repeated values of one field ORed; FlowFilters are ORed.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"
#include "filter.h"
#include "names.h"
#include "textparse.h"

/* An invalid subscription: the reason in err. */
#define fail(err, errlen, ...) mm_errorf(err, errlen, -EINVAL, __VA_ARGS__)

static int compile_endpoints(struct mm_filter_endpoint **out, size_t *n_out,
			     Meshmon__V1__Endpoint *const *eps, size_t n, const char *what,
			     size_t idx, char *err, size_t errlen)
{
	struct mm_filter_endpoint *v;

	*out = NULL;
	*n_out = 0;
	if (!n)
		return 0;
	v = calloc(n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const Meshmon__V1__Endpoint *ep = eps[i];
		size_t alen = ep->address.len;
		unsigned int max = alen == 4 ? 32 : 128;

		if (alen != 0 && alen != 4 && alen != 16) {
			free(v);
			return fail(err, errlen,
				    "filter %zu: %s address of %zu bytes (want 4 or 16)", idx, what,
				    alen);
		}
		if (alen && ep->prefix_len > max) {
			free(v);
			return fail(err, errlen, "filter %zu: %s prefix length %u exceeds %u", idx,
				    what, ep->prefix_len, max);
		}
		if (ep->port > 65535) {
			free(v);
			return fail(err, errlen, "filter %zu: %s port %u out of range", idx, what,
				    ep->port);
		}
		if (alen == 0 && ep->port == 0) {
			free(v);
			return fail(err, errlen,
				    "filter %zu: %s endpoint has neither address nor port", idx,
				    what);
		}
		v[i].port = (uint16_t)ep->port;
		if (alen) {
			v[i].family = alen == 4 ? MM_FAMILY_IPV4 : MM_FAMILY_IPV6;
			v[i].prefix_len = (uint8_t)ep->prefix_len;
			memcpy(v[i].addr, ep->address.data, alen);
			mm_prefix_mask(v[i].addr, alen, ep->prefix_len);
		}
	}
	*out = v;
	*n_out = n;
	return 0;
}

static void flow_release(struct mm_flow_filter *ff)
{
	free(ff->src);
	free(ff->dst);
	free(ff->either);
	free(ff->protos);
	free(ff->ports);
}

static int compile_flow(struct mm_flow_filter *ff, const Meshmon__V1__FlowFilter *in, size_t idx,
			char *err, size_t errlen)
{
	int ret;

	ret = compile_endpoints(&ff->src, &ff->n_src, in->source, in->n_source, "source", idx, err,
				errlen);
	if (!ret)
		ret = compile_endpoints(&ff->dst, &ff->n_dst, in->destination, in->n_destination,
					"destination", idx, err, errlen);
	if (!ret)
		ret = compile_endpoints(&ff->either, &ff->n_either, in->either, in->n_either,
					"either", idx, err, errlen);
	if (ret)
		return ret;
	if (in->n_protocols) {
		ff->protos = calloc(in->n_protocols, sizeof(*ff->protos));
		if (!ff->protos)
			return -ENOMEM;
		for (size_t i = 0; i < in->n_protocols; i++) {
			if (in->protocols[i] > 255)
				return fail(err, errlen, "filter %zu: protocol %u out of range",
					    idx, in->protocols[i]);
			ff->protos[i] = (uint8_t)in->protocols[i];
		}
		ff->n_protos = in->n_protocols;
	}
	if (in->n_ports) {
		ff->ports = calloc(in->n_ports, sizeof(*ff->ports));
		if (!ff->ports)
			return -ENOMEM;
		for (size_t i = 0; i < in->n_ports; i++) {
			if (in->ports[i] == 0 || in->ports[i] > 65535)
				return fail(err, errlen, "filter %zu: port %u out of range", idx,
					    in->ports[i]);
			ff->ports[i] = (uint16_t)in->ports[i];
		}
		ff->n_ports = in->n_ports;
	}
	return 0;
}

void mm_filter__release(struct mm_filter *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n_flows; i++)
		flow_release(&f->flows[i]);
	free(f->flows);
	memset(f, 0, sizeof(*f));
}

int mm_filter__compile(struct mm_filter *f, const Meshmon__V1__Subscribe *sub, char *err,
		       size_t errlen)
{
	int ret;

	memset(f, 0, sizeof(*f));
	if (err && errlen)
		err[0] = '\0';
	f->replay = sub->replay;
	f->types = sub->n_types ? 0 : ~0ull;
	for (size_t i = 0; i < sub->n_types; i++) {
		int t = sub->types[i];

		if (t <= 0 || t >= 64 || !mm_event_type_name((unsigned int)t))
			return fail(err, errlen, "unknown event type %d", t);
		f->types |= 1ull << t;
	}
	f->points = sub->n_points ? 0 : ~0ull;
	for (size_t i = 0; i < sub->n_points; i++) {
		int p = sub->points[i];

		if (p <= 0 || p >= 64 || !mm_trace_point_name((unsigned int)p))
			return fail(err, errlen, "unknown trace point %d", p);
		f->points |= 1ull << p;
	}
	if (!sub->n_filters)
		return 0;
	f->flows = calloc(sub->n_filters, sizeof(*f->flows));
	if (!f->flows)
		return -ENOMEM;
	f->n_flows = sub->n_filters;
	for (size_t i = 0; i < sub->n_filters; i++) {
		ret = compile_flow(&f->flows[i], sub->filters[i], i, err, errlen);
		if (ret) {
			mm_filter__release(f);
			return ret;
		}
	}
	return 0;
}

static bool addr_in(const struct mm_filter_endpoint *ep, uint8_t family, const uint8_t *addr)
{
	return ep->family == family && mm_prefix_match(ep->addr, ep->prefix_len, addr);
}

/* One endpoint against one side of the tuple. */
static bool endpoint_match(const struct mm_filter_endpoint *ep, const struct mm_event_view *ev,
			   bool src_side)
{
	if (ev->family != MM_FAMILY_IPV4 && ev->family != MM_FAMILY_IPV6)
		return false;
	if (ep->family != MM_FAMILY_NONE && !addr_in(ep, ev->family, src_side ? ev->src : ev->dst))
		return false;
	if (ep->port && ep->port != (src_side ? ev->sport : ev->dport))
		return false;
	return true;
}

static bool any_endpoint(const struct mm_filter_endpoint *eps, size_t n,
			 const struct mm_event_view *ev, int side /* 0 src, 1 dst, 2 either */)
{
	for (size_t i = 0; i < n; i++) {
		if ((side != 1 && endpoint_match(&eps[i], ev, true)) ||
		    (side != 0 && endpoint_match(&eps[i], ev, false)))
			return true;
	}
	return false;
}

static bool flow_match(const struct mm_flow_filter *ff, const struct mm_event_view *ev)
{
	bool is_ip = ev->family == MM_FAMILY_IPV4 || ev->family == MM_FAMILY_IPV6;

	if (ff->n_src && !any_endpoint(ff->src, ff->n_src, ev, 0))
		return false;
	if (ff->n_dst && !any_endpoint(ff->dst, ff->n_dst, ev, 1))
		return false;
	if (ff->n_either && !any_endpoint(ff->either, ff->n_either, ev, 2))
		return false;
	if (ff->n_protos) {
		bool ok = false;

		for (size_t i = 0; is_ip && i < ff->n_protos && !ok; i++)
			ok = ff->protos[i] == ev->proto;
		if (!ok)
			return false;
	}
	if (ff->n_ports) {
		bool ok = false;

		for (size_t i = 0; is_ip && i < ff->n_ports && !ok; i++)
			ok = ff->ports[i] == ev->sport || ff->ports[i] == ev->dport;
		if (!ok)
			return false;
	}
	return true;
}

int mm_filter__match(const struct mm_filter *f, const struct mm_event_view *ev)
{
	if (ev->type >= 64 || !(f->types & (1ull << ev->type)))
		return 0;
	if (ev->type == MM_EVENT_TRACE && (ev->point >= 64 || !(f->points & (1ull << ev->point))))
		return 0;
	if (!f->n_flows)
		return 1;
	for (size_t i = 0; i < f->n_flows; i++)
		if (flow_match(&f->flows[i], ev))
			return 1;
	return 0;
}
