// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * fuzz_frame_subscribe: what a client's bytes reach in the agent. The input is
 * the byte stream a client sends, after one byte that says how it is cut into
 * reads (0: one read; N: reads of N bytes). Each read goes through
 * mm_frame_reader__feed() and is drained with mm_frame_reader__next() (the
 * agent stops after one message; this reads them all, to reach further), each
 * payload through mm_frame__unpack_client()
 * (meshmon__v1__client_message__unpack), and each Subscribe through
 * mm_filter__compile() and mm_filter__match() on fixed event views.
 *
 * Invariants:
 * - the reader returns the same frames, and ends on the same error, as a
 *   one-pass reference reading of the whole stream, however it is cut;
 * - a ClientMessage from the reader always has its oneof set;
 * - compile returns 0, -EINVAL with a reason, or -ENOMEM; a compiled filter
 *   holds only valid types, prefixes and ports, its addresses are masked;
 * - an empty Subscribe matches every event type below 64;
 * - packing the message again and reading it back compiles to the same
 *   result and matches the same views.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cidr.h"
#include "filter.h"
#include "framing.h"
#include "names.h"
#include "records.h"

#define N_VIEWS 10

/* Events of every type and family, and types past the 64-bit masks. */
static const struct mm_event_view fixed_views[N_VIEWS - 1] = {
	{ .type = MM_EVENT_TRACE, .point = MM_POINT_FROM_NETWORK, .family = MM_FAMILY_IPV4,
	  .proto = 6, .sport = 41510, .dport = 80, .src = { 10, 0, 0, 1 }, .dst = { 10, 0, 0, 2 } },
	{ .type = MM_EVENT_DROP, .point = MM_POINT_TO_STACK, .family = MM_FAMILY_IPV6, .proto = 17,
	  .sport = 53, .dport = 5353, .src = { 0xfd, [15] = 1 }, .dst = { 0xfd, [15] = 2 } },
	{ .type = MM_EVENT_DEBUG },
	{ .type = MM_EVENT_CAPTURE, .point = MM_POINT_TO_NETWORK },
	{ .type = MM_EVENT_TCP_PROBE, .family = MM_FAMILY_IPV4, .proto = 6, .sport = 22,
	  .dport = 50000, .src = { 192, 168, 1, 1 }, .dst = { 192, 168, 1, 2 } },
	{ .type = MM_EVENT_TRACE, .point = 63, .family = MM_FAMILY_IPV6, .proto = 58 },
	{ .type = 0 },
	{ .type = 63, .point = 200 },
	{ .type = 64 },
};

/* The fixed views plus one made from the first endpoint of the Subscribe, to reach matches. */
static void views_for(const Meshmon__V1__Subscribe *sub, struct mm_event_view *v)
{
	struct mm_event_view *own = &v[N_VIEWS - 1];

	memcpy(v, fixed_views, sizeof(fixed_views));
	memset(own, 0, sizeof(*own));
	own->type = sub->n_types ? (uint8_t)sub->types[0] : MM_EVENT_TRACE;
	own->point = sub->n_points ? (uint8_t)sub->points[0] : MM_POINT_FROM_NETWORK;
	own->family = MM_FAMILY_IPV4;
	if (sub->n_filters) {
		const Meshmon__V1__FlowFilter *ff = sub->filters[0];
		const Meshmon__V1__Endpoint *ep = ff->n_source	? ff->source[0]
						  : ff->n_either ? ff->either[0]
						  : ff->n_destination ? ff->destination[0]
								      : NULL;

		if (ep && (ep->address.len == 4 || ep->address.len == 16)) {
			own->family = ep->address.len == 4 ? MM_FAMILY_IPV4 : MM_FAMILY_IPV6;
			memcpy(own->src, ep->address.data, ep->address.len);
			memcpy(own->dst, ep->address.data, ep->address.len);
		}
		if (ep)
			own->sport = own->dport = (uint16_t)ep->port;
		if (ff->n_protocols)
			own->proto = (uint8_t)ff->protocols[0];
		if (ff->n_ports)
			own->dport = (uint16_t)ff->ports[0];
	}
}

/* Bits past the prefix are zero: the block starts where its prefix does. */
static int key_is_masked(const struct mm_addr_key *k, unsigned int prefix_len)
{
	uint64_t hi_mask = prefix_len >= 64 ? ~0ull : prefix_len ? ~0ull << (64 - prefix_len) : 0;
	uint64_t lo_mask = prefix_len >= 128  ? ~0ull
			   : prefix_len <= 64 ? 0
					      : ~0ull << (128 - prefix_len);

	return !(k->hi & ~hi_mask) && !(k->lo & ~lo_mask);
}

static void check_ports(const struct mm_port_set *ps)
{
	for (size_t k = 0; k < ps->n; k++) {
		FUZZ_CHECK(ps->v[k] != 0, "port 0 in a port set");
		FUZZ_CHECK(k == 0 || ps->v[k - 1] < ps->v[k], "port set not sorted and unique");
	}
}

/* One endpoint field: blocks per family sorted by (port, first), masked, within bounds. */
static void check_ep_set(const struct mm_ep_set *s)
{
	for (size_t i = 0; i < s->n_v4 + s->n_v6; i++) {
		const struct mm_ep_block *b = &s->blocks[i];
		int v4 = i < s->n_v4;

		FUZZ_CHECK(b->prefix_len <= (v4 ? 32 : 128), "prefix %u", b->prefix_len);
		FUZZ_CHECK(key_is_masked(&b->first, b->prefix_len), "block not masked to /%u",
			   b->prefix_len);
		if (i && i != s->n_v4) {
			const struct mm_ep_block *p = b - 1;

			FUZZ_CHECK(p->port < b->port ||
					   (p->port == b->port &&
					    (p->first.hi < b->first.hi ||
					     (p->first.hi == b->first.hi && p->first.lo <= b->first.lo))),
				   "blocks not sorted by port and address");
		}
	}
	check_ports(&s->ports);
	FUZZ_CHECK(s->given || (!s->n_v4 && !s->n_v6 && !s->ports.n), "endpoints of a field not given");
}

static void check_filter(const struct mm_filter *f, const Meshmon__V1__Subscribe *sub)
{
	FUZZ_CHECK(f->n_flows == sub->n_filters, "%zu flows of %zu filters", f->n_flows,
		   sub->n_filters);
	FUZZ_CHECK(f->n_exclude == sub->n_exclude, "%zu exclude flows of %zu", f->n_exclude,
		   sub->n_exclude);
	FUZZ_CHECK(f->replay == sub->replay, "replay");
	for (unsigned int t = 0; t < 64 && sub->n_types; t++)
		FUZZ_CHECK(!(f->types & (1ull << t)) || mm_event_type_name(t), "unknown type %u",
			   t);
	for (size_t i = 0; i < f->n_flows; i++) {
		const struct mm_flow_filter *ff = &f->flows[i];

		check_ep_set(&ff->src);
		check_ep_set(&ff->dst);
		check_ep_set(&ff->either);
		check_ports(&ff->ports);
		FUZZ_CHECK(ff->has_protos == (sub->filters[i]->n_protocols != 0), "protocols given");
	}
}

/* Compiles sub and matches it on the views: the compile result, the matches in *matches. */
static int compile_and_match(const Meshmon__V1__Subscribe *sub, unsigned int *matches)
{
	struct mm_event_view views[N_VIEWS];
	struct mm_filter f;
	char err[160];
	int ret, m;

	*matches = 0;
	ret = mm_filter__compile(&f, sub, err, sizeof(err));
	FUZZ_CHECK(ret == 0 || ret == -EINVAL || ret == -ENOMEM, "compile returned %d", ret);
	if (ret == -EINVAL)
		FUZZ_CHECK(err[0] != '\0', "an invalid subscription without a reason");
	if (ret)
		return ret;
	FUZZ_CHECK(strlen(err) < sizeof(err), "err");
	check_filter(&f, sub);
	views_for(sub, views);
	for (unsigned int i = 0; i < N_VIEWS; i++) {
		m = mm_filter__match(&f, &views[i]);
		FUZZ_CHECK(m == 0 || m == 1, "match returned %d", m);
		if (!sub->n_types && !sub->n_points && !sub->n_filters && !sub->n_exclude &&
		    !sub->since_ns && !sub->until_ns && views[i].type < 64)
			FUZZ_CHECK(m == 1, "an empty Subscribe refused view %u", i);
		*matches |= (unsigned int)m << i;
	}
	mm_filter__release(&f);
	return 0;
}

/* The message packed again and read back: the same compile result and matches. */
static void check_repack(const Meshmon__V1__ClientMessage *msg, int ret, unsigned int matches)
{
	struct mm_frame_reader r;
	Meshmon__V1__ClientMessage *again;
	const uint8_t *payload;
	unsigned int matches2;
	uint8_t *buf;
	size_t len, plen;
	int rc;

	if (mm_frame__encode_client(msg, &buf, &len))
		return;
	mm_frame_reader__init(&r);
	FUZZ_CHECK(mm_frame_reader__feed(&r, buf, len) == 0, "feed of a packed frame");
	FUZZ_CHECK(mm_frame_reader__next(&r, &payload, &plen) == 1, "a packed frame not read");
	FUZZ_CHECK(plen + MM_FRAME_HDR == len, "length");
	again = mm_frame__unpack_client(payload, plen);
	/*
	 * protobuf-c 1.4 keeps a field number 0 sent as a multi-byte tag (0x81 0x00)
	 * as an unknown field, then writes it back as 0x01, which its own parser
	 * refuses. Not meshmon's to fix (nothing here packs a message it received);
	 * tests/test_framing.c pins the behaviour down.
	 */
	if (!again) {
		mm_frame_reader__release(&r);
		free(buf);
		return;
	}
	FUZZ_CHECK(again->msg_case == msg->msg_case, "msg_case %d != %d", again->msg_case,
		   msg->msg_case);
	if (again->msg_case == MESHMON__V1__CLIENT_MESSAGE__MSG_SUBSCRIBE) {
		rc = compile_and_match(again->subscribe, &matches2);
		FUZZ_CHECK(rc == ret, "compile %d after repacking, %d before", rc, ret);
		FUZZ_CHECK(matches2 == matches, "matches 0x%x after repacking, 0x%x before",
			   matches2, matches);
	}
	mm_frame__free_client(again);
	mm_frame_reader__release(&r);
	free(buf);
}

static void on_payload(const uint8_t *payload, size_t len)
{
	Meshmon__V1__ClientMessage *msg = mm_frame__unpack_client(payload, len);
	unsigned int matches;
	int ret;

	if (!msg)
		return;
	FUZZ_CHECK(msg->msg_case != MESHMON__V1__CLIENT_MESSAGE__MSG__NOT_SET,
		   "a ClientMessage without a member");
	if (msg->msg_case == MESHMON__V1__CLIENT_MESSAGE__MSG_SUBSCRIBE) {
		ret = compile_and_match(msg->subscribe, &matches);
		check_repack(msg, ret, matches);
	}
	mm_frame__free_client(msg);
}

/* The reference: frames of the whole stream in one pass. */
struct ref {
	const uint8_t *p;
	size_t left;
};

/* 1 with the next frame, 0 at the end (possibly incomplete), -EMSGSIZE. */
static int ref_next(struct ref *r, const uint8_t **payload, size_t *len)
{
	uint32_t n;

	if (r->left < MM_FRAME_HDR)
		return 0;
	n = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 | (uint32_t)r->p[2] << 8 | r->p[3];
	if (n > MM_FRAME_MAX)
		return -EMSGSIZE;
	if (r->left - MM_FRAME_HDR < n)
		return 0;
	*payload = r->p + MM_FRAME_HDR;
	*len = n;
	r->p += MM_FRAME_HDR + n;
	r->left -= MM_FRAME_HDR + n;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mm_frame_reader r;
	struct ref ref;
	size_t chunk, off = 0;
	int rc = 0, want;

	if (size < 1)
		return 0;
	chunk = data[0] ? data[0] : size;
	data++;
	size--;
	ref.p = data;
	ref.left = size;
	mm_frame_reader__init(&r);
	while (off < size && rc >= 0) {
		size_t n = size - off < chunk ? size - off : chunk;

		FUZZ_CHECK(mm_frame_reader__feed(&r, data + off, n) == 0,
			   "feed of %zu bytes with %zu pending", n, mm_frame_reader__pending(&r));
		off += n;
		FUZZ_CHECK(mm_frame_reader__pending(&r) <= MM_FRAME_READER_CAP, "pending");
		for (;;) {
			const uint8_t *payload, *want_payload;
			size_t len, want_len;

			rc = mm_frame_reader__next(&r, &payload, &len);
			if (rc <= 0)
				break;
			want = ref_next(&ref, &want_payload, &want_len);
			FUZZ_CHECK(want == 1, "the reader found a frame the reference did not (%d)",
				   want);
			FUZZ_CHECK(len == want_len && !memcmp(payload, want_payload, len),
				   "a frame of %zu bytes differs from the reference (%zu)",
				   len, want_len);
			on_payload(payload, len);
		}
		FUZZ_CHECK(rc == 0 || rc == -EMSGSIZE, "next returned %d", rc);
	}
	/* Whatever is left: both stop at the same place, with the same verdict. */
	{
		const uint8_t *p;
		size_t l;

		want = ref_next(&ref, &p, &l);
		FUZZ_CHECK(want == rc, "the reader ended with %d, the reference with %d", rc, want);
		if (rc == 0)
			FUZZ_CHECK(mm_frame_reader__pending(&r) == ref.left,
				   "pending %zu, reference %zu", mm_frame_reader__pending(&r),
				   ref.left);
	}
	mm_frame_reader__release(&r);
	return 0;
}
