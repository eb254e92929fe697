/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Packet parsing for the tc programs (from the Ethernet header: mm_parse) and
 * the endpoint programs (cgroup_skb, from the network header:
 * mm_parse_network): IPv4, IPv6 (extension headers walked: headers.bpf.h),
 * TCP, UDP, SCTP, ICMP and ICMPv6 into a struct mm_tuple.
 *
 * Headers are read straight from the packet when the linear part of the skb
 * holds them (no helper call), else with bpf_skb_load_bytes(), which works on
 * non-linear skbs too and fails cleanly on a read past skb->len: that failure
 * is how a truncated header is detected (mm_load).
 * A packet that cannot be parsed is never dropped: the caller traces it with
 * the parse error set.
 */
#ifndef MESHMON_PARSE_BPF_H
#define MESHMON_PARSE_BPF_H

#ifdef __VMLINUX_H__
/*
 * A CO-RE object (tcp_probe.bpf.c, for the endpoint programs) has the header
 * structs from vmlinux.h, which the UAPI headers would redefine; only their
 * macros are missing.
 */
#define ETH_P_IP	    0x0800
#define ETH_P_IPV6	    0x86DD
#define ICMPV6_DEST_UNREACH 1
#define ICMPV6_PKT_TOOBIG   2
#define ICMPV6_TIME_EXCEED  3
#define ICMPV6_PARAMPROB    4
#define ICMPV6_ECHO_REQUEST 128
#define ICMPV6_ECHO_REPLY   129
#else
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/icmpv6.h>
#endif
#include <bpf/bpf_endian.h>

#include "records.h"
#include "headers.bpf.h"

/*
 * linux/icmp.h pulls in linux/if.h and with it glibc's sys/socket.h, which
 * does not build for -target bpf; its few constants are repeated here.
 */
#define ICMP_ECHOREPLY	   0
#define ICMP_DEST_UNREACH  3
#define ICMP_SOURCE_QUENCH 4
#define ICMP_ECHO	   8
#define ICMP_TIME_EXCEEDED 11
#define ICMP_PARAMETERPROB 12

/* The first 8 bytes of ICMP and ICMPv6 messages (echo layout). */
struct mm_icmp_hdr {
	__u8 type;
	__u8 code;
	__u16 checksum;
	__be16 id;
	__be16 seq;
};

#ifndef IPPROTO_ICMPV6
#define IPPROTO_ICMPV6 58
#endif

/*
 * Copy the header *dst from offset off: a plain load when the linear part of
 * the skb holds it, else bpf_skb_load_bytes(). 0, or negative when the packet
 * is shorter. The bounds check is made on the very pointer that is read (p),
 * as the verifier wants for a variable offset.
 */
#define mm_load(skb, off, dst)                                                                     \
	({                                                                                         \
		void *p_ = (void *)(long)(skb)->data + (off);                                      \
		long err_ = 0;                                                                     \
                                                                                                   \
		if (p_ + sizeof(*(dst)) <= (void *)(long)(skb)->data_end)                          \
			*(dst) = *(typeof(dst))p_;                                                 \
		else                                                                               \
			err_ = bpf_skb_load_bytes(skb, off, dst, sizeof(*(dst)));                  \
		err_;                                                                              \
	})

/* The first 4 bytes of TCP, UDP and SCTP headers. */
struct mm_ports {
	__be16 source;
	__be16 dest;
};

struct mm_parsed {
	struct mm_tuple tuple;
	__u8 tcp_flags;
	__u8 icmp_type;
	__u8 icmp_code;
	__u8 parse_error; /* enum mm_parse_error */
	__u8 icmp_error;  /* 1: ICMP/ICMPv6 error message (conntrack RELATED) */
	__u8 pad[3];
	__u32 err_offset; /* offset of the header that could not be read */
};

static __always_inline int mm_parse_fail(struct mm_parsed *p, __u8 err, __u32 off)
{
	p->parse_error = err;
	p->err_offset = off;
	return -1;
}

static __always_inline int mm_icmp_is_error(__u8 proto, __u8 type)
{
	if (proto == IPPROTO_ICMP)
		return type == ICMP_DEST_UNREACH || type == ICMP_TIME_EXCEEDED ||
		       type == ICMP_PARAMETERPROB || type == ICMP_SOURCE_QUENCH;
	return type == ICMPV6_DEST_UNREACH || type == ICMPV6_PKT_TOOBIG ||
	       type == ICMPV6_TIME_EXCEED || type == ICMPV6_PARAMPROB;
}

static __always_inline int mm_icmp_is_echo(__u8 proto, __u8 type)
{
	if (proto == IPPROTO_ICMP)
		return type == ICMP_ECHO || type == ICMP_ECHOREPLY;
	return type == ICMPV6_ECHO_REQUEST || type == ICMPV6_ECHO_REPLY;
}

static __always_inline int mm_parse_l4(struct __sk_buff *skb, struct mm_parsed *p, __u32 off)
{
	struct mm_tuple *t = &p->tuple;

	if (t->proto == IPPROTO_TCP) {
		struct tcphdr th;

		if (mm_load(skb, off, &th))
			return mm_parse_fail(p, MM_PARSE_TRUNCATED_L4, off);
		t->sport = bpf_ntohs(th.source);
		t->dport = bpf_ntohs(th.dest);
		/* The flags byte is the 14th byte of the header. */
		p->tcp_flags = ((__u8 *)&th)[13];
	} else if (mm_proto_has_ports(t->proto)) {
		/* UDP and SCTP: the ports are the first 4 bytes, as in TCP. */
		struct mm_ports ports;

		if (mm_load(skb, off, &ports))
			return mm_parse_fail(p, MM_PARSE_TRUNCATED_L4, off);
		t->sport = bpf_ntohs(ports.source);
		t->dport = bpf_ntohs(ports.dest);
	} else if (t->proto == IPPROTO_ICMP || t->proto == IPPROTO_ICMPV6) {
		/* type, code, checksum, identifier, sequence: the same 8 bytes for both. */
		struct mm_icmp_hdr ih;

		if (mm_load(skb, off, &ih))
			return mm_parse_fail(p, MM_PARSE_TRUNCATED_L4, off);
		p->icmp_type = ih.type;
		p->icmp_code = ih.code;
		if (mm_icmp_is_echo(t->proto, ih.type))
			t->sport = bpf_ntohs(ih.id);
		p->icmp_error = mm_icmp_is_error(t->proto, ih.type);
	}
	return 0;
}

static __always_inline int mm_parse_ipv4(struct __sk_buff *skb, struct mm_parsed *p, __u32 off)
{
	struct iphdr ip;
	__u32 hlen;

	if (mm_load(skb, off, &ip))
		return mm_parse_fail(p, MM_PARSE_TRUNCATED_IPV4, off);
	hlen = ip.ihl * 4;
	if (hlen < sizeof(ip))
		return mm_parse_fail(p, MM_PARSE_BAD_IPV4_IHL, off);
	p->tuple.family = MM_FAMILY_IPV4;
	p->tuple.proto = ip.protocol;
	p->tuple.saddr[0] = ip.saddr;
	p->tuple.daddr[0] = ip.daddr;
	if (off + hlen > skb->len)
		return mm_parse_fail(p, MM_PARSE_TRUNCATED_IPV4, off);
	/* A non-first fragment carries no transport header. */
	if (ip.frag_off & bpf_htons(0x1fff))
		return mm_parse_fail(p, MM_PARSE_FRAGMENT, off);
	return mm_parse_l4(skb, p, off + hlen);
}

static __always_inline int mm_parse_ipv6(struct __sk_buff *skb, struct mm_parsed *p, __u32 off)
{
	struct ipv6hdr ip6;
	__u8 nexthdr;
	int i;

	if (mm_load(skb, off, &ip6))
		return mm_parse_fail(p, MM_PARSE_TRUNCATED_IPV6, off);
	p->tuple.family = MM_FAMILY_IPV6;
	__builtin_memcpy(p->tuple.saddr, &ip6.saddr, 16);
	__builtin_memcpy(p->tuple.daddr, &ip6.daddr, 16);
	nexthdr = ip6.nexthdr;
	off += sizeof(ip6);

#pragma unroll
	for (i = 0; i < MM_IPV6_EXT_MAX; i++) {
		struct mm_ipv6_ext ext;

		if (!mm_ipv6_is_ext(nexthdr))
			break;
		if (mm_load(skb, off, &ext)) {
			p->tuple.proto = nexthdr;
			return mm_parse_fail(p, MM_PARSE_TRUNCATED_IPV6, off);
		}
		if (mm_ipv6_frag_later(nexthdr, &ext)) {
			p->tuple.proto = ext.nexthdr;
			return mm_parse_fail(p, MM_PARSE_FRAGMENT, off);
		}
		off += mm_ipv6_ext_len(nexthdr, &ext);
		nexthdr = ext.nexthdr;
	}
	p->tuple.proto = nexthdr;
	if (mm_ipv6_is_ext(nexthdr))
		return mm_parse_fail(p, MM_PARSE_IPV6_EXT_CHAIN, off);
	return mm_parse_l4(skb, p, off);
}

/* The network header at off, of EtherType ethertype (host order). */
static __always_inline int mm_parse_l3(struct __sk_buff *skb, struct mm_parsed *p,
				       __u16 ethertype, __u32 off)
{
	p->tuple.ethertype = ethertype;
	if (ethertype == ETH_P_IP)
		return mm_parse_ipv4(skb, p, off);
	if (ethertype == ETH_P_IPV6)
		return mm_parse_ipv6(skb, p, off);
	return mm_parse_fail(p, MM_PARSE_NOT_IP, off);
}

/* Fill p from skb. Returns 0 when fully parsed, -1 with p->parse_error set otherwise. */
static __always_inline int mm_parse(struct __sk_buff *skb, struct mm_parsed *p)
{
	__be16 proto;

	/* Only the EtherType is used; it ends the header, so reading it checks the length. */
	if (mm_load(skb, __builtin_offsetof(struct ethhdr, h_proto), &proto))
		return mm_parse_fail(p, MM_PARSE_TRUNCATED_ETHERNET, 0);
	return mm_parse_l3(skb, p, bpf_ntohs(proto), sizeof(struct ethhdr));
}

/*
 * The same for a packet that starts at its network header (cgroup_skb): the
 * EtherType is the skb's protocol, as the stack set it (eth_type_trans on
 * receive, ip_output / ip6_output on send).
 */
static __always_inline int mm_parse_network(struct __sk_buff *skb, struct mm_parsed *p)
{
	return mm_parse_l3(skb, p, bpf_ntohs(skb->protocol), 0);
}

#endif /* MESHMON_PARSE_BPF_H */
