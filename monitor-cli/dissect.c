// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The packet dissector and hex dump (see dissect.h). Bytes are read with
 * explicit bounds checks and byte-wise loads: captured data is outside input
 * and may be truncated at any point.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <string.h>

#include "dissect.h"
#include "line.h"

const char *const mm_tcp_flag_names[8] = { "FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR" };

void mm_tcp_flags_str(unsigned int flags, char *buf, size_t cap)
{
	char out[8 * 5];
	size_t n = 0;
	int i;

	if (cap == 0)
		return;
	/* "SYN, ACK": names of 3 letters; cut to cap like the snprintf it replaces. */
	for (i = 0; i < 8; i++) {
		if (!(flags & (1u << i)))
			continue;
		if (n) {
			out[n++] = ',';
			out[n++] = ' ';
		}
		memcpy(out + n, mm_tcp_flag_names[i], 3);
		n += 3;
	}
	if (n > cap - 1)
		n = cap - 1;
	memcpy(buf, out, n);
	buf[n] = '\0';
}

const char *mm_icmp_type_name(int family, unsigned int type)
{
	if (family == 6) {
		switch (type) {
		case 1: return "DestinationUnreachable";
		case 2: return "PacketTooBig";
		case 3: return "TimeExceeded";
		case 4: return "ParameterProblem";
		case 128: return "EchoRequest";
		case 129: return "EchoReply";
		case 130: return "MulticastListenerQuery";
		case 131: return "MulticastListenerReport";
		case 132: return "MulticastListenerDone";
		case 133: return "RouterSolicitation";
		case 134: return "RouterAdvertisement";
		case 135: return "NeighborSolicitation";
		case 136: return "NeighborAdvertisement";
		case 137: return "Redirect";
		case 143: return "MulticastListenerReportV2";
		default: return NULL;
		}
	}
	switch (type) {
	case 0: return "EchoReply";
	case 3: return "DestinationUnreachable";
	case 4: return "SourceQuench";
	case 5: return "Redirect";
	case 8: return "EchoRequest";
	case 9: return "RouterAdvertisement";
	case 10: return "RouterSolicitation";
	case 11: return "TimeExceeded";
	case 12: return "ParameterProblem";
	case 13: return "TimestampRequest";
	case 14: return "TimestampReply";
	default: return NULL;
	}
}

const char *mm_ethertype_name(unsigned int ethertype)
{
	switch (ethertype) {
	case 0x0800: return "IPv4";
	case 0x0806: return "ARP";
	case 0x8100: return "802.1Q";
	case 0x86dd: return "IPv6";
	case 0x88a8: return "802.1ad";
	case 0x8847: return "MPLS";
	case 0x88cc: return "LLDP";
	default: return NULL;
	}
}

bool mm_ethertype_is_vlan(unsigned int ethertype)
{
	return ethertype == 0x8100 || ethertype == 0x88a8;
}

const char *mm_arp_op_name(unsigned int op)
{
	switch (op) {
	case MM_ARP_REQUEST: return "request";
	case MM_ARP_REPLY: return "reply";
	default: return NULL;
	}
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void line(FILE *out, const char *indent, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void line(FILE *out, const char *indent, const char *fmt, ...)
{
	va_list ap;

	if (!out)
		return;
	fputs(indent, out);
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fputc('\n', out);
}

static void truncated(FILE *out, const char *indent, const char *what, size_t have, size_t need)
{
	line(out, indent, "%s: truncated (%zu of %zu bytes)", what, have, need);
}

static void dissect_l4(const uint8_t *p, size_t len, uint8_t proto, int family,
		       struct mm_pkt_summary *s, FILE *out, const char *ind)
{
	char flags[64];
	const char *name;

	switch (proto) {
	case IPPROTO_TCP: {
		size_t off;

		if (len < 20) {
			truncated(out, ind, "TCP", len, 20);
			return;
		}
		off = (size_t)(p[12] >> 4) * 4;
		s->has_l4 = true;
		s->sport = rd16(p);
		s->dport = rd16(p + 2);
		s->tcp_flags = p[13];
		if (!out)
			return; /* the summary alone: no text to build */
		mm_tcp_flags_str(p[13], flags, sizeof(flags));
		line(out, ind, "TCP: %u -> %u seq %u ack %u off %zu flags [%s] win %u csum 0x%04x urg %u",
		     s->sport, s->dport, rd32(p + 4), rd32(p + 8), off, flags, rd16(p + 14),
		     rd16(p + 16), rd16(p + 18));
		if (off >= 20 && off <= len && len > off)
			line(out, ind, "Payload: %zu bytes", len - off);
		return;
	}
	case IPPROTO_UDP:
		if (len < 8) {
			truncated(out, ind, "UDP", len, 8);
			return;
		}
		s->has_l4 = true;
		s->sport = rd16(p);
		s->dport = rd16(p + 2);
		line(out, ind, "UDP: %u -> %u len %u csum 0x%04x", s->sport, s->dport, rd16(p + 4),
		     rd16(p + 6));
		if (len > 8)
			line(out, ind, "Payload: %zu bytes", len - 8);
		return;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6: {
		int fam = proto == IPPROTO_ICMPV6 ? 6 : 4;
		bool echo;

		(void)family;
		if (len < 4) {
			truncated(out, ind, fam == 6 ? "ICMPv6" : "ICMP", len, 4);
			return;
		}
		s->has_l4 = true;
		s->icmp_type = p[0];
		s->icmp_code = p[1];
		name = mm_icmp_type_name(fam, p[0]);
		echo = fam == 6 ? (p[0] == 128 || p[0] == 129) : (p[0] == 0 || p[0] == 8);
		if (echo && len >= 8) {
			s->sport = rd16(p + 4);
			line(out, ind, "%s: type %u (%s) code %u csum 0x%04x id %u seq %u",
			     fam == 6 ? "ICMPv6" : "ICMP", p[0], name, p[1], rd16(p + 2), rd16(p + 4),
			     rd16(p + 6));
		} else {
			line(out, ind, "%s: type %u (%s) code %u csum 0x%04x",
			     fam == 6 ? "ICMPv6" : "ICMP", p[0], name ? name : "unknown", p[1],
			     rd16(p + 2));
		}
		return;
	}
	default:
		name = mm_ip_proto_name(proto);
		line(out, ind, "Protocol %u%s%s%s: %zu bytes", proto, name ? " (" : "",
		     name ? name : "", name ? ")" : "", len);
		return;
	}
}

/* ARP's fixed part: hardware type, protocol type, their lengths, the operation. */
#define ARP_FIXED 8
/* And the addresses for Ethernet and IPv4: 6 + 4 + 6 + 4. */
#define ARP_ETHER_IPV4 (ARP_FIXED + 20)

size_t mm_mac_str(const uint8_t m[6], char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4],
			 m[5]);

	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

static void dissect_arp(const uint8_t *p, size_t len, struct mm_pkt_summary *s, FILE *out,
			const char *ind)
{
	char sm[18], tm[18], si[INET_ADDRSTRLEN], ti[INET_ADDRSTRLEN];
	struct mm_arp *a = &s->arp;
	const char *op;

	if (len < ARP_FIXED) {
		truncated(out, ind, "ARP", len, ARP_FIXED);
		return;
	}
	if (rd16(p) != 1 || rd16(p + 2) != 0x0800 || p[4] != 6 || p[5] != 4) {
		line(out, ind, "ARP: hardware type %u, protocol 0x%04x, lengths %u/%u, op %u",
		     rd16(p), rd16(p + 2), p[4], p[5], rd16(p + 6));
		return;
	}
	if (len < ARP_ETHER_IPV4) {
		truncated(out, ind, "ARP", len, ARP_ETHER_IPV4);
		return;
	}
	a->op = rd16(p + 6);
	memcpy(a->sender_mac, p + 8, 6);
	memcpy(a->sender_ip, p + 14, 4);
	memcpy(a->target_mac, p + 18, 6);
	memcpy(a->target_ip, p + 24, 4);
	s->has_arp = true;
	if (!out)
		return;
	mm_mac_str(a->sender_mac, sm, sizeof(sm));
	mm_mac_str(a->target_mac, tm, sizeof(tm));
	inet_ntop(AF_INET, a->sender_ip, si, sizeof(si));
	inet_ntop(AF_INET, a->target_ip, ti, sizeof(ti));
	op = mm_arp_op_name(a->op);
	line(out, ind, "ARP: op %u (%s) sender %s %s target %s %s", a->op, op ? op : "unknown", sm,
	     si, tm, ti);
}

static void dissect_ipv4(const uint8_t *p, size_t len, struct mm_pkt_summary *s, FILE *out,
			 const char *ind)
{
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
	size_t ihl, tot;
	uint16_t frag;
	const char *pn, *fl;

	if (len < 20) {
		truncated(out, ind, "IPv4", len, 20);
		return;
	}
	ihl = (size_t)(p[0] & 0x0f) * 4;
	s->family = 4;
	memcpy(s->src, p + 12, 4);
	memcpy(s->dst, p + 16, 4);
	s->proto = p[9];
	tot = rd16(p + 2);
	frag = rd16(p + 6);
	/* The summary alone (out NULL) needs no text: addresses are formatted for the line only. */
	if (out) {
		inet_ntop(AF_INET, p + 12, a, sizeof(a));
		inet_ntop(AF_INET, p + 16, b, sizeof(b));
		pn = mm_ip_proto_name(p[9]);
		fl = (frag & 0x6000) == 0x6000 ? "DF,MF" : (frag & 0x4000) ? "DF" : (frag & 0x2000) ? "MF" : "none";
		line(out, ind,
		     "IPv4: %s -> %s ver %u ihl %zu tos 0x%02x len %zu id %u flags %s frag %u ttl %u proto %u%s%s%s csum 0x%04x",
		     a, b, p[0] >> 4, ihl, p[1], tot, rd16(p + 4), fl,
		     (unsigned int)(frag & 0x1fff) * 8, p[8], p[9], pn ? " (" : "", pn ? pn : "",
		     pn ? ")" : "", rd16(p + 10));
	}
	if (ihl < 20 || ihl > len) {
		line(out, ind, "IPv4: bad or truncated header length %zu", ihl);
		return;
	}
	if (frag & 0x1fff) {
		line(out, ind, "Fragment: offset %u, no transport header", (unsigned int)(frag & 0x1fff) * 8);
		return;
	}
	dissect_l4(p + ihl, len - ihl, p[9], 4, s, out, ind);
}

static bool ipv6_ext(uint8_t nh)
{
	return nh == 0 || nh == 43 || nh == 60 || nh == 51;
}

static void dissect_ipv6(const uint8_t *p, size_t len, struct mm_pkt_summary *s, FILE *out,
			 const char *ind)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	size_t off = 40;
	uint8_t nh;
	const char *pn;
	int hops;

	if (len < 40) {
		truncated(out, ind, "IPv6", len, 40);
		return;
	}
	s->family = 6;
	memcpy(s->src, p + 8, 16);
	memcpy(s->dst, p + 24, 16);
	nh = p[6];
	if (out) {
		inet_ntop(AF_INET6, p + 8, a, sizeof(a));
		inet_ntop(AF_INET6, p + 24, b, sizeof(b));
		pn = mm_ip_proto_name(nh);
		line(out, ind, "IPv6: %s -> %s tc 0x%02x flow 0x%05x plen %u next %u%s%s%s hop %u", a,
		     b, (unsigned int)((rd16(p) >> 4) & 0xff), rd32(p) & 0xfffff, rd16(p + 4), nh,
		     pn ? " (" : "", pn ? pn : "", pn ? ")" : "", p[7]);
	}
	/* Walk a few extension headers (hop-by-hop, routing, destination, AH). */
	for (hops = 0; ipv6_ext(nh) && hops < 8; hops++) {
		size_t el;

		if (len < off + 8) {
			/* From the IPv6 header on, as below: off may already be past len. */
			truncated(out, ind, "IPv6 extension header", len, off + 8);
			return;
		}
		el = nh == 51 ? ((size_t)p[off + 1] + 2) * 4 : ((size_t)p[off + 1] + 1) * 8;
		line(out, ind, "IPv6 extension header %u: %zu bytes, next %u", nh, el, p[off]);
		nh = p[off];
		off += el;
	}
	if (nh == 44) {
		line(out, ind, "IPv6 fragment header");
		s->proto = nh;
		return;
	}
	s->proto = nh;
	if (off > len) {
		truncated(out, ind, "IPv6 extension header", len, off);
		return;
	}
	dissect_l4(p + off, len - off, nh, 6, s, out, ind);
}

void mm_dissect(const uint8_t *data, size_t len, int layer, uint8_t proto, int family,
		struct mm_pkt_summary *sum, FILE *out, const char *indent)
{
	struct mm_pkt_summary dummy;
	struct mm_pkt_summary *s = sum ? sum : &dummy;
	const char *ind = indent ? indent : "";
	uint16_t et;

	memset(s, 0, sizeof(*s));
	if (!data || len == 0)
		return;
	switch (layer) {
	case MM_DISSECT_ETHERNET: {
		const char *en;

		if (len < 14) {
			truncated(out, ind, "Ethernet", len, 14);
			return;
		}
		size_t off = 14;
		int tags;

		et = rd16(data + 12);
		s->ethertype = s->outer_ethertype = et;
		en = mm_ethertype_name(et);
		line(out, ind,
		     "Ethernet: %02x:%02x:%02x:%02x:%02x:%02x -> %02x:%02x:%02x:%02x:%02x:%02x type 0x%04x%s%s%s",
		     data[6], data[7], data[8], data[9], data[10], data[11], data[0], data[1],
		     data[2], data[3], data[4], data[5], et, en ? " (" : "", en ? en : "",
		     en ? ")" : "");
		/* VLAN tags (802.1ad outside 802.1Q, so two at most): TCI, then the next type. */
		for (tags = 0; mm_ethertype_is_vlan(et) && tags < 2; tags++) {
			if (len < off + 4) {
				truncated(out, ind, "VLAN tag", len - off, 4);
				return;
			}
			if (tags == 0)
				s->vlan_id = rd16(data + off) & 0x0fff;
			et = rd16(data + off + 2);
			s->ethertype = et;
			en = mm_ethertype_name(et);
			line(out, ind, "VLAN: id %u prio %u type 0x%04x%s%s%s",
			     rd16(data + off) & 0x0fff, data[off] >> 5, et, en ? " (" : "",
			     en ? en : "", en ? ")" : "");
			off += 4;
		}
		if (et == 0x0800)
			dissect_ipv4(data + off, len - off, s, out, ind);
		else if (et == 0x86dd)
			dissect_ipv6(data + off, len - off, s, out, ind);
		else if (et == MM_ETH_P_ARP)
			dissect_arp(data + off, len - off, s, out, ind);
		else
			line(out, ind, "Payload: %zu bytes", len - off);
		return;
	}
	case MM_DISSECT_NETWORK:
		if ((data[0] >> 4) == 4) {
			s->ethertype = 0x0800;
			dissect_ipv4(data, len, s, out, ind);
		} else if ((data[0] >> 4) == 6) {
			s->ethertype = 0x86dd;
			dissect_ipv6(data, len, s, out, ind);
		} else {
			line(out, ind, "Network header: unknown version %u", data[0] >> 4);
		}
		return;
	case MM_DISSECT_TRANSPORT:
		s->family = family;
		s->proto = proto;
		dissect_l4(data, len, proto, family, s, out, ind);
		return;
	default:
		line(out, ind, "Data: %zu bytes of unknown layer", len);
		return;
	}
}

void mm_hexdump(FILE *out, const uint8_t *data, size_t len, const char *indent)
{
	static const char hex[] = "0123456789abcdef";
	struct mm_line l;
	size_t off, i;
	char *p;

	/* Lines built in memory (line.h), as "%s%04zx  ", "%02x " and the text column wrote them. */
	mm_line__init(&l, out);
	for (off = 0; off < len; off += 16) {
		if (indent)
			mm_line__str(&l, indent);
		mm_line__hex_pad(&l, off, 4);
		p = mm_line__reserve(&l, 2 + 16 * 3 + 1 + 2 + 16 + 2);
		*p++ = ' ';
		*p++ = ' ';
		for (i = 0; i < 16; i++) {
			if (off + i < len) {
				*p++ = hex[data[off + i] >> 4];
				*p++ = hex[data[off + i] & 0xf];
			} else {
				*p++ = ' ';
				*p++ = ' ';
			}
			*p++ = ' ';
			if (i == 7)
				*p++ = ' ';
		}
		*p++ = ' ';
		*p++ = '|';
		for (i = 0; i < 16 && off + i < len; i++) {
			unsigned char c = data[off + i];

			*p++ = c >= 0x20 && c < 0x7f ? (char)c : '.';
		}
		*p++ = '|';
		*p++ = '\n';
		mm_line__commit(&l, (size_t)(p - (l.buf + l.len)));
	}
	mm_line__flush(&l);
}
