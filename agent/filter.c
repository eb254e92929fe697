// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Compiling and matching listener filters (filter.h). Combination rules, as
 * `hubble observe`: within a FlowFilter different fields are ANDed and the
 * repeated values of one field ORed; FlowFilters are ORed; an event that
 * matches any exclude FlowFilter is not sent, whatever the others say.
 *
 * Cost per event: the type and point bits, then at most
 * MM_SUBSCRIBE_MAX_FILTERS FlowFilters, each O(log MM_FILTER_MAX_VALUES)
 * (filter_sets.h), cheapest field first; never a scan of a field's values.
 * Memory: at most MM_FILTER_MAX_BYTES per compiled Subscribe.
 */
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "filter.h"
#include "names.h"
#include "textparse.h"

/* An invalid subscription: the reason in err. */
#define fail(err, errlen, ...) mm_errorf(err, errlen, -EINVAL, __VA_ARGS__)

_Static_assert(MM_FILTER_MAX_BYTES <= 528 * 1024, "a compiled subscription stays within 528 KiB");
_Static_assert(IF_NAMESIZE == MM_NAME_KEY_LEN && MM_OWNER_COMM_LEN == MM_NAME_KEY_LEN,
	       "interface names and comms are name keys");

static int (*kernel_drop_reason_value)(const char *name);

void mm_filter__set_kernel_drop_reasons(int (*value_of)(const char *name))
{
	kernel_drop_reason_value = value_of;
}

/* The limits of one FlowFilter (filters[i] or, after them, exclude[i - n_filters]). */
static int check_flow_limits(const Meshmon__V1__FlowFilter *in, size_t i, char *err,
			     size_t errlen)
{
	const struct {
		const char *what;
		size_t n;
	} fields[] = {
	    {"source endpoints", in->n_source},
	    {"destination endpoints", in->n_destination},
	    {"either endpoints", in->n_either},
	    {"protocols", in->n_protocols},
	    {"ports", in->n_ports},
	    {"drop reasons", in->n_drop_reasons},
	    {"tcp flag masks", in->n_tcp_flags},
	    {"interfaces", in->n_interfaces},
	    {"pids", in->n_pids},
	    {"comms", in->n_comms},
	    {"cgroup ids", in->n_cgroup_ids},
	};

	for (size_t j = 0; j < sizeof(fields) / sizeof(fields[0]); j++)
		if (fields[j].n > MM_FILTER_MAX_VALUES)
			return fail(err, errlen,
				    "filter %zu: %zu %s, over the limit of %d values per field", i,
				    fields[j].n, fields[j].what, MM_FILTER_MAX_VALUES);
	for (size_t j = 0; j < in->n_drop_reasons; j++)
		if (strnlen(in->drop_reasons[j], MM_FILTER_MAX_NAME_LEN + 1) > MM_FILTER_MAX_NAME_LEN)
			return fail(err, errlen,
				    "filter %zu: a drop reason name over the limit of %d bytes", i,
				    MM_FILTER_MAX_NAME_LEN);
	for (size_t j = 0; j < in->n_interfaces; j++) {
		size_t len = strnlen(in->interfaces[j], IF_NAMESIZE);

		if (!len || len >= IF_NAMESIZE)
			return fail(err, errlen,
				    "filter %zu: interface name '%.*s' is not 1 to %d bytes", i,
				    IF_NAMESIZE, in->interfaces[j], IF_NAMESIZE - 1);
	}
	for (size_t j = 0; j < in->n_comms; j++) {
		size_t len = strnlen(in->comms[j], MM_OWNER_COMM_LEN);

		if (!len || len >= MM_OWNER_COMM_LEN)
			return fail(err, errlen,
				    "filter %zu: comm '%.*s' is not 1 to %d bytes (the kernel's comm)",
				    i, MM_OWNER_COMM_LEN, in->comms[j], MM_OWNER_COMM_LEN - 1);
	}
	return 0;
}

/*
 * The limits of proto/protocol.h, checked before anything is allocated or
 * parsed further. The FlowFilters are numbered filters first, then exclude.
 */
static int check_limits(const Meshmon__V1__Subscribe *sub, char *err, size_t errlen)
{
	int ret = 0;

	if (sub->n_filters > MM_SUBSCRIBE_MAX_FILTERS && !sub->n_exclude)
		return fail(err, errlen,
			    "%zu filters, over the limit of %d FlowFilters per Subscribe",
			    sub->n_filters, MM_SUBSCRIBE_MAX_FILTERS);
	if (sub->n_filters > MM_SUBSCRIBE_MAX_FILTERS ||
	    sub->n_exclude > MM_SUBSCRIBE_MAX_FILTERS - sub->n_filters)
		return fail(err, errlen,
			    "%zu filters and %zu exclude filters, over the limit of %d FlowFilters per Subscribe",
			    sub->n_filters, sub->n_exclude, MM_SUBSCRIBE_MAX_FILTERS);
	for (size_t i = 0; !ret && i < sub->n_filters; i++)
		ret = check_flow_limits(sub->filters[i], i, err, errlen);
	for (size_t i = 0; !ret && i < sub->n_exclude; i++)
		ret = check_flow_limits(sub->exclude[i], sub->n_filters + i, err, errlen);
	return ret;
}

static void flow_release(struct mm_flow_filter *ff)
{
	mm_ep_set__release(&ff->src);
	mm_ep_set__release(&ff->dst);
	mm_ep_set__release(&ff->either);
	mm_port_set__release(&ff->ports);
	mm_port_set__release(&ff->drops);
	mm_name_set__release(&ff->ifnames);
	mm_id_set__release(&ff->pids);
	mm_name_set__release(&ff->comms);
	mm_id_set__release(&ff->cgroup_ids);
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

/* Each mask a byte of TCP flags: the table holds every flag byte with all of one mask's bits. */
static int compile_tcp_flags(struct mm_flow_filter *ff, const Meshmon__V1__FlowFilter *in,
			     size_t idx, char *err, size_t errlen)
{
	for (size_t i = 0; i < in->n_tcp_flags; i++) {
		uint32_t mask = in->tcp_flags[i];

		if (mask == 0 || mask > 255)
			return fail(err, errlen, "filter %zu: tcp flag mask %u out of range (1-255)",
				    idx, mask);
		for (unsigned int flags = 0; flags < 256; flags++)
			if ((flags & mask) == mask)
				ff->tcp_flags[flags / 64] |= 1ull << (flags % 64);
	}
	ff->has_tcp_flags = in->n_tcp_flags > 0;
	return 0;
}

/* meshmon's own reason of that name (any case): its value, or -ENOENT. */
static int own_drop_reason_value(const char *name)
{
	/* The table's values are small (abi/tables.h); a compile-time scan is cheap. */
	for (unsigned int v = 1; v < 256; v++) {
		const char *n = mm_drop_reason_name(v);

		if (n && !strcasecmp(n, name))
			return (int)v;
	}
	return -ENOENT;
}

/*
 * Names as printed: meshmon's (POLICY_DENIED) and the running kernel's
 * (NO_SOCKET), in any case. A name known to both matches either.
 */
static int compile_drop_reasons(struct mm_flow_filter *ff, const Meshmon__V1__FlowFilter *in,
				size_t idx, char *err, size_t errlen)
{
	uint16_t keys[2 * MM_FILTER_MAX_VALUES];
	size_t n = 0;

	for (size_t i = 0; i < in->n_drop_reasons; i++) {
		char upper[MM_FILTER_MAX_NAME_LEN + 1];
		size_t len = strlen(in->drop_reasons[i]); /* within the limit: checked */
		int own, kernel = -ENOENT;

		for (size_t j = 0; j <= len; j++)
			upper[j] = (char)toupper((unsigned char)in->drop_reasons[i][j]);
		own = own_drop_reason_value(upper);
		if (kernel_drop_reason_value)
			kernel = kernel_drop_reason_value(upper);
		if (own < 0 && kernel < 0)
			return fail(err, errlen,
				    "filter %zu: unknown drop reason '%s' (meshmon's, e.g. POLICY_DENIED, or the kernel's, e.g. NO_SOCKET)",
				    idx, in->drop_reasons[i]);
		if (own >= 0 && mm_drop_key(0, (uint32_t)own))
			keys[n++] = mm_drop_key(0, (uint32_t)own);
		if (kernel >= 0 && mm_drop_key(1, (uint32_t)kernel))
			keys[n++] = mm_drop_key(1, (uint32_t)kernel);
	}
	return n ? mm_port_set__build(&ff->drops, keys, n) : 0;
}

/*
 * The owner fields. 0 is no pid and no cgroup (the kernel gives neither to a
 * process or a directory): refused rather than matching "unknown".
 */
static int compile_owner(struct mm_flow_filter *ff, const Meshmon__V1__FlowFilter *in, size_t idx,
			 char *err, size_t errlen)
{
	uint64_t ids[MM_FILTER_MAX_VALUES];
	int ret;

	for (size_t i = 0; i < in->n_pids; i++) {
		if (!in->pids[i])
			return fail(err, errlen, "filter %zu: pid 0 is no process", idx);
		ids[i] = in->pids[i];
	}
	ret = mm_id_set__build(&ff->pids, ids, in->n_pids);
	if (ret)
		return ret;
	for (size_t i = 0; i < in->n_cgroup_ids; i++) {
		if (!in->cgroup_ids[i])
			return fail(err, errlen, "filter %zu: cgroup id 0 is no cgroup", idx);
		ids[i] = in->cgroup_ids[i];
	}
	ret = mm_id_set__build(&ff->cgroup_ids, ids, in->n_cgroup_ids);
	if (ret)
		return ret;
	return mm_name_set__build(&ff->comms, in->comms, in->n_comms);
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
	if (!ret)
		ret = compile_tcp_flags(ff, in, idx, err, errlen);
	if (!ret)
		ret = compile_drop_reasons(ff, in, idx, err, errlen);
	if (!ret)
		ret = mm_name_set__build(&ff->ifnames, in->interfaces, in->n_interfaces);
	if (!ret)
		ret = compile_owner(ff, in, idx, err, errlen);
	return ret;
}

void mm_filter__release(struct mm_filter *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n_flows + f->n_exclude; i++)
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
	size_t n;
	int ret;

	memset(f, 0, sizeof(*f));
	if (err && errlen)
		err[0] = '\0';
	f->replay = sub->replay;
	f->since_ns = sub->since_ns;
	f->until_ns = sub->until_ns;
	f->history_only = sub->history_only;
	ret = check_limits(sub, err, errlen);
	if (!ret && f->until_ns && f->since_ns > f->until_ns)
		ret = fail(err, errlen, "since_ns %llu is after until_ns %llu",
			   (unsigned long long)f->since_ns, (unsigned long long)f->until_ns);
	if (!ret)
		ret = compile_types(f, sub, err, errlen);
	n = sub->n_filters + sub->n_exclude;
	if (ret || !n)
		return ret;
	f->flows = calloc(n, sizeof(*f->flows));
	if (!f->flows)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const Meshmon__V1__FlowFilter *in =
		    i < sub->n_filters ? sub->filters[i] : sub->exclude[i - sub->n_filters];

		/* Counted as it goes, so a release after a failure frees what was built. */
		if (i < sub->n_filters)
			f->n_flows++;
		else
			f->n_exclude++;
		ret = compile_flow(&f->flows[i], in, i, err, errlen);
		if (ret) {
			mm_filter__release(f);
			return ret;
		}
	}
	return 0;
}

size_t mm_filter__bytes(const struct mm_filter *f)
{
	size_t n = f->n_flows + f->n_exclude;
	size_t bytes = n * sizeof(*f->flows);

	for (size_t i = 0; i < n; i++) {
		const struct mm_flow_filter *ff = &f->flows[i];

		bytes += mm_ep_set__bytes(&ff->src) + mm_ep_set__bytes(&ff->dst) +
			 mm_ep_set__bytes(&ff->either) + ff->ports.n * sizeof(*ff->ports.v) +
			 ff->drops.n * sizeof(*ff->drops.v) + ff->ifnames.n * sizeof(*ff->ifnames.v) +
			 ff->comms.n * sizeof(*ff->comms.v) + ff->pids.n * sizeof(*ff->pids.v) +
			 ff->cgroup_ids.n * sizeof(*ff->cgroup_ids.v);
	}
	return bytes;
}

/* The fields that need an IP tuple. */
static bool flow_needs_ip(const struct mm_flow_filter *ff)
{
	return ff->has_protos || ff->ports.n || ff->src.given || ff->dst.given || ff->either.given;
}

/* Ports mean something only for these: an ICMP echo id (in sport) is not a port. */
static bool proto_has_ports(uint8_t proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_SCTP;
}

/* ev has an IP tuple. Cheapest field first: the result is the same AND. */
static bool flow_match_ip(const struct mm_flow_filter *ff, const struct mm_event_view *ev)
{
	/* 0 is no port: no port set holds it and no endpoint port is 0. */
	uint16_t sport = proto_has_ports(ev->proto) ? ev->sport : 0;
	uint16_t dport = proto_has_ports(ev->proto) ? ev->dport : 0;

	if (ff->has_protos && !((ff->protos[ev->proto / 64] >> (ev->proto % 64)) & 1))
		return false;
	if (ff->ports.n && !mm_port_set__has(&ff->ports, sport) &&
	    !mm_port_set__has(&ff->ports, dport))
		return false;
	if (ff->src.given && !mm_ep_set__match(&ff->src, ev->family, ev->src, sport))
		return false;
	if (ff->dst.given && !mm_ep_set__match(&ff->dst, ev->family, ev->dst, dport))
		return false;
	if (ff->either.given && !mm_ep_set__match(&ff->either, ev->family, ev->src, sport) &&
	    !mm_ep_set__match(&ff->either, ev->family, ev->dst, dport))
		return false;
	return true;
}

/*
 * The owner fields. An event without an owner (pid 0, cgroup id 0, an empty
 * comm: no set holds them) fails at the first test, without a search.
 */
static bool flow_match_owner(const struct mm_flow_filter *ff, const struct mm_event_view *ev)
{
	if (ff->pids.n && (!ev->owner_pid || !mm_id_set__has(&ff->pids, ev->owner_pid)))
		return false;
	if (ff->cgroup_ids.n &&
	    (!ev->owner_cgroup_id || !mm_id_set__has(&ff->cgroup_ids, ev->owner_cgroup_id)))
		return false;
	if (ff->comms.n && (!ev->owner_comm[0] || !mm_name_set__has(&ff->comms, ev->owner_comm)))
		return false;
	return true;
}

/*
 * The fields that need no tuple first: drop reasons (only drop events have
 * one), TCP flags (only trace events of TCP packets), interfaces. Then the
 * tuple's fields, which an event without an IP tuple fails, and last the
 * owner's, whose three searches the tuple's O(1) protocol test often spares.
 */
static bool flow_match(const struct mm_flow_filter *ff, const struct mm_event_view *ev,
		       bool is_ip)
{
	if (ff->drops.n && (!ev->drop_key || !mm_port_set__has(&ff->drops, ev->drop_key)))
		return false;
	if (ff->has_tcp_flags && (!ev->has_tcp_flags ||
				  !((ff->tcp_flags[ev->tcp_flags / 64] >> (ev->tcp_flags % 64)) & 1)))
		return false;
	if (ff->ifnames.n && !mm_name_set__has(&ff->ifnames, ev->ifname))
		return false;
	if (is_ip ? !flow_match_ip(ff, ev) : flow_needs_ip(ff))
		return false;
	return flow_match_owner(ff, ev);
}

int mm_filter__match(const struct mm_filter *f, const struct mm_event_view *ev)
{
	bool is_ip = ev->family == MM_FAMILY_IPV4 || ev->family == MM_FAMILY_IPV6;
	size_t i;

	/* All ones: no constraint, which passes values beyond the mask's 64 bits too. */
	if (f->types != ~0ull && (ev->type >= 64 || !(f->types & (1ull << ev->type))))
		return 0;
	if (ev->type == MM_EVENT_TRACE && f->points != ~0ull &&
	    (ev->point >= 64 || !(f->points & (1ull << ev->point))))
		return 0;
	if (ev->time_ns < f->since_ns || (f->until_ns && ev->time_ns > f->until_ns))
		return 0;
	for (i = f->n_flows; i < f->n_flows + f->n_exclude; i++)
		if (flow_match(&f->flows[i], ev, is_ip))
			return 0;
	if (!f->n_flows)
		return 1;
	for (i = 0; i < f->n_flows; i++)
		if (flow_match(&f->flows[i], ev, is_ip))
			return 1;
	return 0;
}

/* comm as the kernel had it: the raw bytes when they were not valid UTF-8, else the string. */
static void owner_set(struct mm_event_view *v, uint32_t pid, uint64_t cgroup_id, const char *comm,
		      const ProtobufCBinaryData *comm_raw)
{
	v->owner_pid = pid;
	v->owner_cgroup_id = cgroup_id;
	if (comm_raw->len)
		memcpy(v->owner_comm, comm_raw->data,
		       comm_raw->len < MM_OWNER_COMM_LEN - 1 ? comm_raw->len : MM_OWNER_COMM_LEN - 1);
	else if (comm)
		memcpy(v->owner_comm, comm, strnlen(comm, MM_OWNER_COMM_LEN - 1));
}

void mm_event_view__set_owner(struct mm_event_view *v, const Meshmon__V1__Event *ev)
{
	const Meshmon__V1__TcpProbe *p = ev->tcp_probe;
	const Meshmon__V1__Trace *t = ev->trace;
	const Meshmon__V1__TraceSock *s = ev->trace_sock;

	v->owner_pid = 0;
	v->owner_cgroup_id = 0;
	memset(v->owner_comm, 0, sizeof(v->owner_comm));
	switch (ev->detail_case) {
	case MESHMON__V1__EVENT__DETAIL_TCP_PROBE:
		owner_set(v, p->pid, p->cgroup_id, p->comm, &p->comm_raw);
		break;
	case MESHMON__V1__EVENT__DETAIL_TRACE:
		/* Only the endpoint points meet a socket; tc traces have no owner. */
		if (t->point == MESHMON__V1__TRACE_POINT__TRACE_POINT_TO_ENDPOINT ||
		    t->point == MESHMON__V1__TRACE_POINT__TRACE_POINT_FROM_ENDPOINT)
			owner_set(v, t->pid, t->cgroup_id, t->comm, &t->comm_raw);
		break;
	case MESHMON__V1__EVENT__DETAIL_TRACE_SOCK:
		owner_set(v, s->pid, s->cgroup_id, s->comm, &s->comm_raw);
		break;
	default:
		break;
	}
}
