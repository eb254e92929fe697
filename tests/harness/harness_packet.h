/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Canned Ethernet frames for tests: the libbpf-free part of the harness
 * (harness_packet_dep), so tests that only need packet bytes, the CLI's among
 * them, do not link libbpf. harness.h includes this header.
 */
#ifndef MESHMON_TEST_HARNESS_PACKET_H
#define MESHMON_TEST_HARNESS_PACKET_H

#include <stddef.h>
#include <stdint.h>

struct mm_test_pkt_spec {
	int family;          /* 4 or 6; 0 with ethertype set builds a non-IP frame */
	uint16_t ethertype;  /* only used when family == 0 */
	uint8_t proto;       /* IPPROTO_TCP, _UDP, _ICMP, _ICMPV6, or another number */
	const char *src;     /* address text */
	const char *dst;
	uint16_t sport, dport;
	uint8_t tcp_flags;   /* MM_TCP_* */
	uint8_t icmp_type, icmp_code;
	uint16_t icmp_id;
	size_t payload_len;  /* bytes of pattern payload after the L4 header */
	size_t truncate_to;  /* when non-zero, cut the frame to this many bytes */
};
/*
 * Build an Ethernet frame into buf; returns its length, or 0 if it does not
 * fit or an address does not parse. MACs 02:00:00:00:00:01 -> :02; src/dst
 * NULL mean 10.199.0.1 -> 10.199.0.2 (fd00:199::1 -> ::2). IPv4: IHL 5, TTL
 * 64, header checksum; IPv6: hop limit 64. TCP (doff 5, seq 1, ack 1 when ACK
 * is set), UDP, ICMP/ICMPv6 echo layout (sequence 1): checksums valid. Any
 * other proto (or ICMP under the wrong family): no L4 header. Payload byte i
 * is i & 0xff. family 0: Ethernet + payload_len (46 if 0) pattern bytes.
 * truncate_to cuts the finished frame; the headers keep the full lengths.
 */
size_t mm_test_pkt_build(uint8_t *buf, size_t cap, const struct mm_test_pkt_spec *spec);

#endif /* MESHMON_TEST_HARNESS_PACKET_H */
