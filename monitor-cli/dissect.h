/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A small dissector of captured packet bytes (Ethernet, IPv4, IPv6, TCP, UDP,
 * ICMP, ICMPv6) for `-vv`, the summary of capture events that carry no tuple,
 * and the `--hex` dump. Reads only within the bytes given; a short packet
 * is reported as truncated, never read past.
 */
#ifndef MESHMON_CLI_DISSECT_H
#define MESHMON_CLI_DISSECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ipproto.h" /* mm_ip_proto_name() */

/* Where the bytes start (the protocol's CaptureLayer values). */
enum mm_dissect_layer {
	MM_DISSECT_NONE = 0,
	MM_DISSECT_ETHERNET = 1,
	MM_DISSECT_NETWORK = 2,
	MM_DISSECT_TRANSPORT = 3,
};

struct mm_pkt_summary {
	uint16_t ethertype;   /* 0 when unknown */
	int family;           /* 4, 6 or 0 */
	uint8_t src[16], dst[16];
	uint8_t proto;        /* IPPROTO_*, valid when family != 0 */
	bool has_l4;          /* ports / flags / icmp fields below are valid */
	uint16_t sport, dport;
	uint8_t tcp_flags;
	uint8_t icmp_type, icmp_code;
};

/*
 * Dissects len bytes starting at `layer`. For MM_DISSECT_TRANSPORT, proto
 * names the transport protocol (and family the address family for ICMP names).
 * Fills *sum (may be NULL). When out is non-NULL, writes one indented line per
 * header ("  IPv4: ...") prefixed by indent.
 */
void mm_dissect(const uint8_t *data, size_t len, int layer, uint8_t proto, int family,
		struct mm_pkt_summary *sum, FILE *out, const char *indent);

/* Hex dump: "  0000  45 00 ...  E..." lines, 16 bytes each. */
void mm_hexdump(FILE *out, const uint8_t *data, size_t len, const char *indent);

/* Names. Return NULL when unknown. */
const char *mm_icmp_type_name(int family, unsigned int type); /* "EchoRequest", ... */
const char *mm_ethertype_name(unsigned int ethertype);        /* "IPv4", "ARP", ... */
/* TCP flag names in bit order (FIN SYN RST PSH ACK URG ECE CWR), index = bit. */
extern const char *const mm_tcp_flag_names[8];
/* "SYN, ACK" into buf; "" for no flags. */
void mm_tcp_flags_str(unsigned int flags, char *buf, size_t cap);

#endif /* MESHMON_CLI_DISSECT_H */
