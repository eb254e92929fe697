/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The lookup structures of a compiled FlowFilter (filter.h): a set of ports
 * and a set of endpoints, each answering "does any value match?" in
 * O(log n) for n <= MM_FILTER_MAX_VALUES values (at most 6 halving steps),
 * whatever their prefix lengths, instead of a scan of all n.
 *
 * Port set: the ports sorted, without duplicates; binary search. (A 65536-bit
 * bitmap would be O(1) but 8 KiB per field, 512 KiB per client at the limits.)
 *
 * Endpoint set (the endpoints of one field: source, destination or either):
 * - an endpoint with an address is a CIDR block with a port (0: any). Two CIDR
 *   blocks are either disjoint or one holds the other, so once every block
 *   held by another block of the same family and port is dropped, the blocks
 *   of one (family, port) are disjoint. Sorted by (port, first address), the
 *   only block that can hold address a for port q is the last one at or
 *   before (q, a): one binary search, then one masked compare;
 * - an endpoint with only a port (either family) goes to a port set.
 * A side of a tuple (family, address a, port p) matches when a block for
 * (port 0, a) or (port p, a) exists, or p is in the port set: at most three
 * binary searches over at most MM_FILTER_MAX_VALUES entries (6 steps each),
 * O(log n) whatever the prefix lengths (0..32 for IPv4, 0..128 for IPv6).
 * Tables per prefix length would take one probe per distinct length (up to
 * 64 here) and a binary trie one step per address bit (up to 128).
 *
 * Memory: a set holds at most one 24-byte block or one 2-byte port per
 * endpoint, in one allocation.
 *
 * Name set (interfaces, owner comms): 16-byte NUL-padded keys, sorted without
 * duplicates, compared whole (an exact match, never a prefix) as two 64-bit
 * words, so a search step is two integer compares rather than a memcmp(). Id
 * set (owner pids, cgroup ids): 64-bit values, sorted without duplicates.
 * Both binary searches whose step is a conditional move, like the port set.
 */
#ifndef MESHMON_AGENT_FILTER_SETS_H
#define MESHMON_AGENT_FILTER_SETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "meshmon.pb-c.h"

/* An address as a 128-bit number, most significant bits first; IPv4 in the top 32 bits. */
struct mm_addr_key {
	uint64_t hi, lo;
};

/* A CIDR block: its first address (masked to prefix_len) and a port (0: any). */
struct mm_ep_block {
	struct mm_addr_key first;
	uint16_t port;
	uint8_t prefix_len;
};

struct mm_port_set {
	uint16_t *v; /* sorted, no duplicates */
	size_t n;
};

struct mm_ep_set {
	struct mm_ep_block *blocks; /* IPv4 [0, n_v4), then IPv6 [n_v4, n_v4 + n_v6) */
	size_t n_v4, n_v6;
	struct mm_port_set ports; /* the endpoints with a port only; inside blocks' allocation */
	size_t bytes;		  /* the allocation: blocks and ports */
	bool given;		  /* the field had endpoints, so it must match */
};

/* Sorts tmp[0..n) (n > 0) and copies it, without duplicates, into s: 0 or -ENOMEM. */
int mm_port_set__build(struct mm_port_set *s, uint16_t *tmp, size_t n);
/* Accepts a zeroed set. */
void mm_port_set__release(struct mm_port_set *s);

/*
 * Inline: it runs per event and FlowFilter, for both ports of the tuple. A
 * binary search without branches on the data (the compiler makes the step a
 * conditional move): tuples come in random order, and a mispredicted branch
 * per step cost more than the search itself (meshmon-filter-bench, row (b)).
 */
static inline bool mm_port_set__has(const struct mm_port_set *s, uint16_t port)
{
	const uint16_t *base = s->v;
	size_t n = s->n;

	if (!n)
		return false;
	/* Halve [base, base + n) keeping the last value <= port in it. */
	while (n > 1) {
		size_t half = n / 2;

		base = base[half] <= port ? base + half : base;
		n -= half;
	}
	return *base == port;
}

/* A name as a fixed-size key: the kernel's IFNAMSIZ and TASK_COMM_LEN are both 16. */
#define MM_NAME_KEY_LEN 16
struct mm_name_key {
	char name[MM_NAME_KEY_LEN];
};

struct mm_name_set {
	struct mm_name_key *v; /* sorted, no duplicates */
	size_t n;
};

/*
 * The n names (each at most MM_NAME_KEY_LEN - 1 bytes: the caller checks)
 * into s, NUL-padded, sorted, without duplicates: 0 or -ENOMEM (n 0: an
 * empty set, nothing allocated).
 */
int mm_name_set__build(struct mm_name_set *s, char *const *names, size_t n);
/* Accepts a zeroed set. */
void mm_name_set__release(struct mm_name_set *s);
/* The key as two words: the order of the set (any order would do, as long as it is one). */
static inline void mm_name_key__words(const void *key, uint64_t w[2])
{
	memcpy(w, key, 2 * sizeof(uint64_t));
}

_Static_assert(sizeof(struct mm_name_key) == 2 * sizeof(uint64_t), "a name key is two words");

/* Whether s holds key (NUL-padded to MM_NAME_KEY_LEN bytes). */
static inline bool mm_name_set__has(const struct mm_name_set *s, const char *key)
{
	const struct mm_name_key *base = s->v;
	size_t n = s->n;
	uint64_t k[2], b[2];

	if (!n)
		return false;
	mm_name_key__words(key, k);
	while (n > 1) {
		size_t half = n / 2;

		mm_name_key__words(&base[half], b);
		base = ((b[0] < k[0]) | ((b[0] == k[0]) & (b[1] <= k[1]))) ? base + half : base;
		n -= half;
	}
	mm_name_key__words(base, b);
	return b[0] == k[0] && b[1] == k[1];
}

struct mm_id_set {
	uint64_t *v; /* sorted, no duplicates */
	size_t n;
};

/* Sorts tmp[0..n) and copies it, without duplicates, into s: 0 or -ENOMEM (n 0: empty). */
int mm_id_set__build(struct mm_id_set *s, uint64_t *tmp, size_t n);
/* Accepts a zeroed set. */
void mm_id_set__release(struct mm_id_set *s);

/* As mm_port_set__has: a search whose step is a conditional move. */
static inline bool mm_id_set__has(const struct mm_id_set *s, uint64_t id)
{
	const uint64_t *base = s->v;
	size_t n = s->n;

	if (!n)
		return false;
	while (n > 1) {
		size_t half = n / 2;

		base = base[half] <= id ? base + half : base;
		n -= half;
	}
	return *base == id;
}

/*
 * Compiles the n endpoints (n within the limit: filter.c checks) of field what
 * ("source", ...) of FlowFilter idx: 0, -EINVAL with the reason in err (bad
 * address length, prefix too long, port out of range, neither address nor
 * port), or -ENOMEM. s needs mm_ep_set__release() only after success.
 */
int mm_ep_set__compile(struct mm_ep_set *s, Meshmon__V1__Endpoint *const *eps, size_t n,
		       const char *what, size_t idx, char *err, size_t errlen);
/* Accepts a zeroed set. */
void mm_ep_set__release(struct mm_ep_set *s);
/* Whether an endpoint of s matches one side of a tuple: family MM_FAMILY_IPV4 or _IPV6. */
bool mm_ep_set__match(const struct mm_ep_set *s, uint8_t family, const uint8_t *addr,
		      uint16_t port);
/* Bytes s holds on the heap. */
size_t mm_ep_set__bytes(const struct mm_ep_set *s);

#endif /* MESHMON_AGENT_FILTER_SETS_H */
