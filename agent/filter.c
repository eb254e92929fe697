// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Compiling and matching listener filters (filter.h). Combination rules, as
 * `hubble observe`: within a FlowFilter different fields are ANDed and the
 * repeated values of one field ORed; FlowFilters are ORed.
 *
 * Cost per event: the type and point bits, then at most
 * MM_SUBSCRIBE_MAX_FILTERS FlowFilters, each O(log MM_FILTER_MAX_VALUES)
 * (filter_sets.h), cheapest field first; never a scan of a field's values.
 * Memory: at most MM_FILTER_MAX_BYTES per compiled Subscribe.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "names.h"
#include "textparse.h"

/* An invalid subscription: the reason in err. */
#define fail(err, errlen, ...) mm_errorf(err, errlen, -EINVAL, __VA_ARGS__)

_Static_assert(MM_FILTER_MAX_BYTES <= 320 * 1024, "a compiled subscription stays within 320 KiB");

/* The limits of proto/protocol.h, checked before anything is allocated or parsed further. */
static int check_limits(const Meshmon__V1__Subscribe *sub, char *err, size_t errlen)
{
	if (sub->n_filters > MM_SUBSCRIBE_MAX_FILTERS)
		return fail(err, errlen,
			    "%zu filters, over the limit of %d FlowFilters per Subscribe",
			    sub->n_filters, MM_SUBSCRIBE_MAX_FILTERS);
	for (size_t i = 0; i < sub->n_filters; i++) {
		const Meshmon__V1__FlowFilter *in = sub->filters[i];
		const struct {
			const char *what;
			size_t n;
		} fields[] = {
		    {"source endpoints", in->n_source},
		    {"destination endpoints", in->n_destination},
		    {"either endpoints", in->n_either},
		    {"protocols", in->n_protocols},
		    {"ports", in->n_ports},
		};

		for (size_t j = 0; j < sizeof(fields) / sizeof(fields[0]); j++)
			if (fields[j].n > MM_FILTER_MAX_VALUES)
				return fail(
				    err, errlen,
				    "filter %zu: %zu %s, over the limit of %d values per field", i,
				    fields[j].n, fields[j].what, MM_FILTER_MAX_VALUES);
	}
	return 0;
}

static void flow_release(struct mm_flow_filter *ff)
{
	mm_ep_set__release(&ff->src);
	mm_ep_set__release(&ff->dst);
	mm_ep_set__release(&ff->either);
	mm_port_set__release(&ff->ports);
}

static int compile_protos_ports(struct mm_flow_filter *ff, const Meshmon__V1__FlowFilter *in,
				size_t idx, char *err, size_t errlen)
{
	uint16_t ports[MM_FILTER_MAX_VALUES];

	for (size_t i = 0; i < in->n_protocols; i++) {
		uint32_t p = in->protocols[i];

		if (p > 255)
			return fail(err, errlen, "filter %zu: protocol %u out of range", idx, p);
		ff->protos[p / 64] |= 1ull << (p % 64);
	}
	ff->has_protos = in->n_protocols > 0;
	for (size_t i = 0; i < in->n_ports; i++) {
		if (in->ports[i] == 0 || in->ports[i] > 65535)
			return fail(err, errlen, "filter %zu: port %u out of range", idx,
				    in->ports[i]);
		ports[i] = (uint16_t)in->ports[i];
	}
	return in->n_ports ? mm_port_set__build(&ff->ports, ports, in->n_ports) : 0;
}

/* On failure ff may hold some compiled fields: the caller releases it. */
static int compile_flow(struct mm_flow_filter *ff, const Meshmon__V1__FlowFilter *in, size_t idx,
			char *err, size_t errlen)
{
	int ret;

	ret = mm_ep_set__compile(&ff->src, in->source, in->n_source, "source", idx, err, errlen);
	if (!ret)
		ret = mm_ep_set__compile(&ff->dst, in->destination, in->n_destination,
					 "destination", idx, err, errlen);
	if (!ret)
		ret = mm_ep_set__compile(&ff->either, in->either, in->n_either, "either", idx, err,
					 errlen);
	if (!ret)
		ret = compile_protos_ports(ff, in, idx, err, errlen);
	return ret;
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

static int compile_types(struct mm_filter *f, const Meshmon__V1__Subscribe *sub, char *err,
			 size_t errlen)
{
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
	return 0;
}

int mm_filter__compile(struct mm_filter *f, const Meshmon__V1__Subscribe *sub, char *err,
		       size_t errlen)
{
	int ret;

	memset(f, 0, sizeof(*f));
	if (err && errlen)
		err[0] = '\0';
	f->replay = sub->replay;
	ret = check_limits(sub, err, errlen);
	if (!ret)
		ret = compile_types(f, sub, err, errlen);
	if (ret || !sub->n_filters)
		return ret;
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

size_t mm_filter__bytes(const struct mm_filter *f)
{
	size_t bytes = f->n_flows * sizeof(*f->flows);

	for (size_t i = 0; i < f->n_flows; i++) {
		const struct mm_flow_filter *ff = &f->flows[i];

		bytes += mm_ep_set__bytes(&ff->src) + mm_ep_set__bytes(&ff->dst) +
			 mm_ep_set__bytes(&ff->either) + ff->ports.n * sizeof(*ff->ports.v);
	}
	return bytes;
}

static bool flow_is_empty(const struct mm_flow_filter *ff)
{
	return !ff->has_protos && !ff->ports.n && !ff->src.given && !ff->dst.given &&
	       !ff->either.given;
}

/* ev has an IP tuple. Cheapest field first: the result is the same AND. */
static bool flow_match_ip(const struct mm_flow_filter *ff, const struct mm_event_view *ev)
{
	if (ff->has_protos && !((ff->protos[ev->proto / 64] >> (ev->proto % 64)) & 1))
		return false;
	if (ff->ports.n && !mm_port_set__has(&ff->ports, ev->sport) &&
	    !mm_port_set__has(&ff->ports, ev->dport))
		return false;
	if (ff->src.given && !mm_ep_set__match(&ff->src, ev->family, ev->src, ev->sport))
		return false;
	if (ff->dst.given && !mm_ep_set__match(&ff->dst, ev->family, ev->dst, ev->dport))
		return false;
	if (ff->either.given && !mm_ep_set__match(&ff->either, ev->family, ev->src, ev->sport) &&
	    !mm_ep_set__match(&ff->either, ev->family, ev->dst, ev->dport))
		return false;
	return true;
}

int mm_filter__match(const struct mm_filter *f, const struct mm_event_view *ev)
{
	bool is_ip = ev->family == MM_FAMILY_IPV4 || ev->family == MM_FAMILY_IPV6;

	/* All ones: no constraint, which passes values beyond the mask's 64 bits too. */
	if (f->types != ~0ull && (ev->type >= 64 || !(f->types & (1ull << ev->type))))
		return 0;
	if (ev->type == MM_EVENT_TRACE && f->points != ~0ull &&
	    (ev->point >= 64 || !(f->points & (1ull << ev->point))))
		return 0;
	if (!f->n_flows)
		return 1;
	/* An event without an IP tuple fails every non-empty field. */
	for (size_t i = 0; i < f->n_flows; i++)
		if (is_ip ? flow_match_ip(&f->flows[i], ev) : flow_is_empty(&f->flows[i]))
			return 1;
	return 0;
}
