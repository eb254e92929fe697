// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Canned packets. Frames are built byte by byte with consistent lengths and
 * correct checksums, so the same frames could be injected into a real stack
 * and be accepted. Plain C: the CLI tests link this without libbpf.
 */
#include <string.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <netinet/in.h>

#include "harness_packet.h"

static const uint8_t mac_dst[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
static const uint8_t mac_src[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static uint32_t sum_bytes(uint32_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Pseudo-header sum for TCP/UDP/ICMPv6 (RFC 793, RFC 8200 section 8.1). */
static uint32_t pseudo_sum(int family, const uint8_t *src, const uint8_t *dst, uint8_t proto,
			   size_t l4_len)
{
	size_t alen = family == 4 ? 4 : 16;
	uint32_t sum = 0;

	sum = sum_bytes(sum, src, alen);
	sum = sum_bytes(sum, dst, alen);
	sum += proto;
	sum += (uint32_t)(l4_len & 0xffff) + (uint32_t)(l4_len >> 16);
	return sum;
}

/*
 * Long on purpose: the frame is built in header order (Ethernet, IP, the
 * transport header, payload, checksums) with the offsets of each layer in
 * locals; split into functions, each would take half a dozen of them.
 */
size_t mm_test_pkt_build(uint8_t *buf, size_t cap, const struct mm_test_pkt_spec *spec)
{
	uint8_t src[16] = { 0 }, dst[16] = { 0 };
	size_t l3_len, l4_hdr = 0, l4_len, total;
	int af = spec->family == 6 ? AF_INET6 : AF_INET;
	uint8_t *l3, *l4;
	int icmp = 0;

	if (spec->family == 0) {
		size_t plen = spec->payload_len ? spec->payload_len : 46;

		total = ETH_HLEN + plen;
		if (total > cap)
			return 0;
		memcpy(buf, mac_dst, 6);
		memcpy(buf + 6, mac_src, 6);
		put16(buf + 12, spec->ethertype);
		for (size_t i = 0; i < plen; i++)
			buf[ETH_HLEN + i] = i & 0xff;
		goto truncate;
	}
	if (spec->family != 4 && spec->family != 6)
		return 0;
	if (inet_pton(af, spec->src ? spec->src : (af == AF_INET ? "10.199.0.1" : "fd00:199::1"),
		      src) != 1 ||
	    inet_pton(af, spec->dst ? spec->dst : (af == AF_INET ? "10.199.0.2" : "fd00:199::2"),
		      dst) != 1)
		return 0;

	switch (spec->proto) {
	case IPPROTO_TCP:
		l4_hdr = 20;
		break;
	case IPPROTO_UDP:
		l4_hdr = 8;
		break;
	case IPPROTO_ICMP:
		if (spec->family == 4) {
			l4_hdr = 8;
			icmp = 1;
		}
		break;
	case IPPROTO_ICMPV6:
		if (spec->family == 6) {
			l4_hdr = 8;
			icmp = 1;
		}
		break;
	}
	l3_len = spec->family == 4 ? 20 : 40;
	l4_len = l4_hdr + spec->payload_len;
	total = ETH_HLEN + l3_len + l4_len;
	if (total > cap || l3_len + l4_len > 0xffff)
		return 0;
	memset(buf, 0, ETH_HLEN + l3_len + l4_hdr);

	memcpy(buf, mac_dst, 6);
	memcpy(buf + 6, mac_src, 6);
	put16(buf + 12, spec->family == 4 ? ETH_P_IP : ETH_P_IPV6);

	l3 = buf + ETH_HLEN;
	l4 = l3 + l3_len;
	if (spec->family == 4) {
		l3[0] = 0x45;
		put16(l3 + 2, (uint16_t)(l3_len + l4_len));
		l3[8] = 64;
		l3[9] = spec->proto;
		memcpy(l3 + 12, src, 4);
		memcpy(l3 + 16, dst, 4);
		put16(l3 + 10, fold(sum_bytes(0, l3, 20)));
	} else {
		l3[0] = 0x60;
		put16(l3 + 4, (uint16_t)l4_len);
		l3[6] = spec->proto;
		l3[7] = 64;
		memcpy(l3 + 8, src, 16);
		memcpy(l3 + 24, dst, 16);
	}

	for (size_t i = 0; i < spec->payload_len; i++)
		l4[l4_hdr + i] = i & 0xff;

	if (spec->proto == IPPROTO_TCP) {
		put16(l4, spec->sport);
		put16(l4 + 2, spec->dport);
		put16(l4 + 6, 0x0001); /* seq 1: the low half of the 32-bit field at 4 */
		if (spec->tcp_flags & 0x10)
			put16(l4 + 10, 0x0001); /* ack 1: the low half of the 32-bit field at 8 */
		l4[12] = 5 << 4;
		l4[13] = spec->tcp_flags;
		put16(l4 + 14, 65535);
		put16(l4 + 16, fold(sum_bytes(pseudo_sum(spec->family, src, dst, IPPROTO_TCP,
							 l4_len), l4, l4_len)));
	} else if (spec->proto == IPPROTO_UDP) {
		uint16_t csum;

		put16(l4, spec->sport);
		put16(l4 + 2, spec->dport);
		put16(l4 + 4, (uint16_t)l4_len);
		csum = fold(sum_bytes(pseudo_sum(spec->family, src, dst, IPPROTO_UDP, l4_len), l4,
				      l4_len));
		put16(l4 + 6, csum ? csum : 0xffff);
	} else if (icmp) {
		uint32_t sum = 0;

		l4[0] = spec->icmp_type;
		l4[1] = spec->icmp_code;
		put16(l4 + 4, spec->icmp_id);
		put16(l4 + 6, 1); /* sequence */
		if (spec->family == 6)
			sum = pseudo_sum(6, src, dst, IPPROTO_ICMPV6, l4_len);
		put16(l4 + 2, fold(sum_bytes(sum, l4, l4_len)));
	}

truncate:
	if (spec->truncate_to && spec->truncate_to < total)
		total = spec->truncate_to;
	return total;
}
