/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Header facts both packet parsers share: the tc parser (parse.bpf.h, UAPI
 * headers) and the kernel-drop tuple parser (kernel_drops.bpf.c, vmlinux.h).
 * Plain __u8/__u16 only, so it builds under either set of headers.
 *
 * IPv6 extension headers: hop-by-hop (0), routing (43), fragment (44) and
 * destination options (60) are walked, at most MM_IPV6_EXT_MAX of them, to
 * find the upper-layer protocol; a chain longer than that is reported as such
 * (tc: parse error IPV6_EXT_CHAIN). A non-first fragment (offset != 0) has no
 * transport header: its protocol is the fragment header's next header and it
 * has no ports, as a non-first IPv4 fragment.
 */
#ifndef MESHMON_HEADERS_BPF_H
#define MESHMON_HEADERS_BPF_H

#define MM_IPV6_EXT_MAX 8

#define MM_NEXTHDR_HOP	    0
#define MM_NEXTHDR_ROUTING  43
#define MM_NEXTHDR_FRAGMENT 44
#define MM_NEXTHDR_DEST	    60

#define MM_PROTO_TCP  6
#define MM_PROTO_UDP  17
#define MM_PROTO_SCTP 132

/* An IPv6 extension header's first 8 bytes. */
struct mm_ipv6_ext {
	__u8 nexthdr;
	__u8 hdrlen; /* in 8-byte units, not counting the first 8 */
	__u8 b[6];   /* fragment header: b[0..1] offset and flags */
};

static __always_inline int mm_ipv6_is_ext(__u8 nexthdr)
{
	return nexthdr == MM_NEXTHDR_HOP || nexthdr == MM_NEXTHDR_ROUTING ||
	       nexthdr == MM_NEXTHDR_FRAGMENT || nexthdr == MM_NEXTHDR_DEST;
}

/* The length of extension header ext of type nexthdr (the fragment header has no length field). */
static __always_inline __u32 mm_ipv6_ext_len(__u8 nexthdr, const struct mm_ipv6_ext *ext)
{
	return nexthdr == MM_NEXTHDR_FRAGMENT ? 8 : ((__u32)ext->hdrlen + 1) * 8;
}

/* 1 for a fragment header of a non-first fragment: offset, the top 13 bits of bytes 2-3. */
static __always_inline int mm_ipv6_frag_later(__u8 nexthdr, const struct mm_ipv6_ext *ext)
{
	return nexthdr == MM_NEXTHDR_FRAGMENT && ((((__u16)ext->b[0] << 8) | ext->b[1]) & 0xfff8);
}

/* Protocols whose header starts with a 16-bit source and destination port. */
static __always_inline int mm_proto_has_ports(__u8 proto)
{
	return proto == MM_PROTO_TCP || proto == MM_PROTO_UDP || proto == MM_PROTO_SCTP;
}

#endif /* MESHMON_HEADERS_BPF_H */
