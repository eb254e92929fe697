// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Port and endpoint sets of compiled FlowFilters (filter_sets.h): built from
 * a Subscribe's values at subscribe time, looked up per event. Each set is
 * sorted and pruned on the stack, then copied into one exact allocation.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "filter_sets.h"
#include "protocol.h"
#include "records.h"
#include "textparse.h"

/* An invalid subscription: the reason in err. */
#define fail(err, errlen, ...) mm_errorf(err, errlen, -EINVAL, __VA_ARGS__)

static int u16_cmp(const void *pa, const void *pb)
{
	uint16_t a = *(const uint16_t *)pa, b = *(const uint16_t *)pb;

	return (a > b) - (a < b);
}

/* Sorts v[0..n) and drops duplicates: returns how many remain. */
static size_t port_sort(uint16_t *v, size_t n)
{
	size_t k = 0;

	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), u16_cmp);
	for (size_t i = 1; i < n; i++)
		if (v[i] != v[k])
			v[++k] = v[i];
	return k + 1;
}

int mm_port_set__build(struct mm_port_set *s, uint16_t *tmp, size_t n)
{
	s->n = port_sort(tmp, n);
	s->v = malloc(s->n * sizeof(*s->v));
	if (!s->v) {
		s->n = 0;
		return -ENOMEM;
	}
	memcpy(s->v, tmp, s->n * sizeof(*s->v));
	return 0;
}

void mm_port_set__release(struct mm_port_set *s)
{
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

/* The order of mm_name_set__has(): by the key's two words. */
static int name_cmp(const void *pa, const void *pb)
{
	uint64_t a[2], b[2];

	mm_name_key__words(pa, a);
	mm_name_key__words(pb, b);
	if (a[0] != b[0])
		return a[0] < b[0] ? -1 : 1;
	return (a[1] > b[1]) - (a[1] < b[1]);
}

int mm_name_set__build(struct mm_name_set *s, char *const *names, size_t n)
{
	size_t k = 0;

	s->v = NULL;
	s->n = 0;
	if (!n)
		return 0;
	s->v = calloc(n, sizeof(*s->v));
	if (!s->v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		memcpy(s->v[i].name, names[i], strnlen(names[i], MM_NAME_KEY_LEN - 1));
	qsort(s->v, n, sizeof(*s->v), name_cmp);
	for (size_t i = 0; i < n; i++)
		if (!k || name_cmp(&s->v[k - 1], &s->v[i]))
			s->v[k++] = s->v[i];
	s->n = k;
	return 0;
}

void mm_name_set__release(struct mm_name_set *s)
{
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static int u64_cmp(const void *pa, const void *pb)
{
	uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;

	return (a > b) - (a < b);
}

int mm_id_set__build(struct mm_id_set *s, uint64_t *tmp, size_t n)
{
	size_t k = 0;

	s->v = NULL;
	s->n = 0;
	if (!n)
		return 0;
	qsort(tmp, n, sizeof(*tmp), u64_cmp);
	for (size_t i = 1; i < n; i++)
		if (tmp[i] != tmp[k])
			tmp[++k] = tmp[i];
	s->v = malloc((k + 1) * sizeof(*s->v));
	if (!s->v)
		return -ENOMEM;
	memcpy(s->v, tmp, (k + 1) * sizeof(*s->v));
	s->n = k + 1;
	return 0;
}

void mm_id_set__release(struct mm_id_set *s)
{
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

/* The n (0..64) most significant bits. */
static uint64_t top_bits(unsigned int n)
{
	return n ? ~0ull << (64 - n) : 0;
}

static struct mm_addr_key key_masked(struct mm_addr_key k, unsigned int prefix_len)
{
	k.hi &= top_bits(prefix_len < 64 ? prefix_len : 64);
	k.lo &= top_bits(prefix_len > 64 ? prefix_len - 64 : 0);
	return k;
}

/* addr in network order: 4 bytes for IPv4 (the rest is not read), else 16. */
static struct mm_addr_key key_of(uint8_t family, const uint8_t *addr)
{
	struct mm_addr_key k = {0, 0};
	uint32_t v4;

	if (family == MM_FAMILY_IPV4) {
		memcpy(&v4, addr, sizeof(v4));
		k.hi = (uint64_t)be32toh(v4) << 32;
	} else {
		memcpy(&k.hi, addr, 8);
		memcpy(&k.lo, addr + 8, 8);
		k.hi = be64toh(k.hi);
		k.lo = be64toh(k.lo);
	}
	return k;
}

static int key_cmp(struct mm_addr_key a, struct mm_addr_key b)
{
	if (a.hi != b.hi)
		return a.hi < b.hi ? -1 : 1;
	if (a.lo != b.lo)
		return a.lo < b.lo ? -1 : 1;
	return 0;
}

/* By port, then first address; of two blocks that start alike, the larger first. */
static int block_cmp(const void *pa, const void *pb)
{
	const struct mm_ep_block *a = pa, *b = pb;
	int c;

	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	c = key_cmp(a->first, b->first);
	if (c)
		return c;
	return (a->prefix_len > b->prefix_len) - (a->prefix_len < b->prefix_len);
}

/* Whether outer holds every address of inner, for the same port. */
static bool block_holds(const struct mm_ep_block *outer, const struct mm_ep_block *inner)
{
	return outer->port == inner->port && outer->prefix_len <= inner->prefix_len &&
	       !key_cmp(key_masked(inner->first, outer->prefix_len), outer->first);
}

/*
 * Sorts v[0..n) and drops every block that another one holds: how many
 * remain. Sorted so, a block held by an earlier one is held by the last one
 * kept (kept blocks are disjoint and in order), so one pass does it.
 */
static size_t blocks_prune(struct mm_ep_block *v, size_t n)
{
	size_t k = 0;

	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), block_cmp);
	for (size_t i = 1; i < n; i++)
		if (!block_holds(&v[k], &v[i]))
			v[++k] = v[i];
	return k + 1;
}

/* (b->port, b->first) <= (port, a), without branches (bitwise, not logical, operators). */
static inline bool block_at_or_before(const struct mm_ep_block *b, uint16_t port,
				      struct mm_addr_key a)
{
	bool first_le = (b->first.hi < a.hi) | ((b->first.hi == a.hi) & (b->first.lo <= a.lo));

	return (b->port < port) | ((b->port == port) & first_le);
}

/*
 * Whether a block of v[0..n) (n > 0, pruned) for exactly this port holds a.
 * The only candidate is the last block at or before (port, a): a binary
 * search whose step is a conditional move (see mm_port_set__has).
 */
static bool blocks_hold(const struct mm_ep_block *v, size_t n, uint16_t port, struct mm_addr_key a)
{
	const struct mm_ep_block *base = v;

	while (n > 1) {
		size_t half = n / 2;

		base = block_at_or_before(&base[half], port, a) ? base + half : base;
		n -= half;
	}
	/* When even v[0] is after (port, a), the masked compare below fails too. */
	return base->port == port && !key_cmp(key_masked(a, base->prefix_len), base->first);
}

bool mm_ep_set__match(const struct mm_ep_set *s, uint8_t family, const uint8_t *addr, uint16_t port)
{
	const struct mm_ep_block *v = s->blocks;
	size_t n = s->n_v4;
	struct mm_addr_key a;

	if (s->ports.n && mm_port_set__has(&s->ports, port))
		return true;
	if (family == MM_FAMILY_IPV6) {
		v += s->n_v4;
		n = s->n_v6;
	}
	if (!n)
		return false;
	a = key_of(family, addr);
	return blocks_hold(v, n, 0, a) || (port && blocks_hold(v, n, port, a));
}

static int endpoint_check(const Meshmon__V1__Endpoint *ep, const char *what, size_t idx, char *err,
			  size_t errlen)
{
	size_t alen = ep->address.len;
	unsigned int max = alen == 4 ? 32 : 128;

	if (alen != 0 && alen != 4 && alen != 16)
		return fail(err, errlen, "filter %zu: %s address of %zu bytes (want 4 or 16)", idx,
			    what, alen);
	if (alen && ep->prefix_len > max)
		return fail(err, errlen, "filter %zu: %s prefix length %u exceeds %u", idx, what,
			    ep->prefix_len, max);
	if (ep->port > 65535)
		return fail(err, errlen, "filter %zu: %s port %u out of range", idx, what,
			    ep->port);
	if (alen == 0 && ep->port == 0)
		return fail(err, errlen, "filter %zu: %s endpoint has neither address nor port",
			    idx, what);
	return 0;
}

static struct mm_ep_block block_of(const Meshmon__V1__Endpoint *ep)
{
	uint8_t family = ep->address.len == 4 ? MM_FAMILY_IPV4 : MM_FAMILY_IPV6;
	struct mm_ep_block b = {
	    .first = key_masked(key_of(family, ep->address.data), ep->prefix_len),
	    .port = (uint16_t)ep->port,
	    .prefix_len = (uint8_t)ep->prefix_len,
	};

	return b;
}

/* Copies the pruned blocks and ports into one allocation of exactly their size. */
static int ep_set_store(struct mm_ep_set *s, const struct mm_ep_block *v4, size_t n_v4,
			const struct mm_ep_block *v6, size_t n_v6, const uint16_t *ports,
			size_t n_ports)
{
	size_t nb = n_v4 + n_v6;

	s->bytes = nb * sizeof(*s->blocks) + n_ports * sizeof(*ports);
	s->blocks = malloc(s->bytes);
	if (!s->blocks)
		return -ENOMEM;
	memcpy(s->blocks, v4, n_v4 * sizeof(*v4));
	memcpy(s->blocks + n_v4, v6, n_v6 * sizeof(*v6));
	s->ports.v = (uint16_t *)(s->blocks + nb);
	memcpy(s->ports.v, ports, n_ports * sizeof(*ports));
	s->n_v4 = n_v4;
	s->n_v6 = n_v6;
	s->ports.n = n_ports;
	s->given = true;
	return 0;
}

int mm_ep_set__compile(struct mm_ep_set *s, Meshmon__V1__Endpoint *const *eps, size_t n,
		       const char *what, size_t idx, char *err, size_t errlen)
{
	struct mm_ep_block v4[MM_FILTER_MAX_VALUES], v6[MM_FILTER_MAX_VALUES];
	uint16_t ports[MM_FILTER_MAX_VALUES];
	size_t n_v4 = 0, n_v6 = 0, n_ports = 0;
	int ret;

	memset(s, 0, sizeof(*s));
	if (n > MM_FILTER_MAX_VALUES)
		return -E2BIG; /* mm_filter__compile refuses this first, with its reason */
	for (size_t i = 0; i < n; i++) {
		ret = endpoint_check(eps[i], what, idx, err, errlen);
		if (ret)
			return ret;
		if (eps[i]->address.len == 4)
			v4[n_v4++] = block_of(eps[i]);
		else if (eps[i]->address.len == 16)
			v6[n_v6++] = block_of(eps[i]);
		else
			ports[n_ports++] = (uint16_t)eps[i]->port;
	}
	if (!n)
		return 0;
	n_v4 = blocks_prune(v4, n_v4);
	n_v6 = blocks_prune(v6, n_v6);
	n_ports = port_sort(ports, n_ports);
	return ep_set_store(s, v4, n_v4, v6, n_v6, ports, n_ports);
}

void mm_ep_set__release(struct mm_ep_set *s)
{
	free(s->blocks);
	memset(s, 0, sizeof(*s));
}

size_t mm_ep_set__bytes(const struct mm_ep_set *s)
{
	return s->bytes;
}
