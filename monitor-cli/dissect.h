/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A small dissector of captured packet bytes (Ethernet, 802.1Q/802.1ad tags,
 * ARP, IPv4, IPv6, TCP, UDP, ICMP, ICMPv6) for `-vv`, the description of
 * non-IP frames, the summary of capture events that carry no tuple,
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

/* ARP over Ethernet for IPv4 (hardware type 1, protocol 0x0800): the only kind with addresses here. */
struct mm_arp {
	uint16_t op;          /* 1 request, 2 reply, ... */
	uint8_t sender_mac[6], sender_ip[4];
	uint8_t target_mac[6], target_ip[4];
};

#define MM_ETH_P_ARP 0x0806
#define MM_ARP_REQUEST 1
#define MM_ARP_REPLY 2

struct mm_pkt_summary {
	uint16_t ethertype;   /* 0 when unknown; the inner one after VLAN tags */
	uint16_t outer_ethertype; /* the frame's own: 0x8100 or 0x88a8 when tagged */
	uint16_t vlan_id;     /* the outer tag's VLAN id, when outer_ethertype is a tag */
	bool has_arp;         /* arp below is valid (ethertype ARP, Ethernet/IPv4, whole) */
	struct mm_arp arp;
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

/* "aa:bb:cc:dd:ee:ff" into buf (cap >= 18); returns its length (0 when it does not fit). */
size_t mm_mac_str(const uint8_t m[6], char *buf, size_t cap);
/* Whether ethertype is an 802.1Q or 802.1ad VLAN tag. */
bool mm_ethertype_is_vlan(unsigned int ethertype);

/* Names. Return NULL when unknown. */
const char *mm_icmp_type_name(int family, unsigned int type); /* "EchoRequest", ... */
const char *mm_arp_op_name(unsigned int op);                  /* "request", "reply" */
const char *mm_ethertype_name(unsigned int ethertype);        /* "IPv4", "ARP", ... */
/* TCP flag names in bit order (FIN SYN RST PSH ACK URG ECE CWR), index = bit. */
extern const char *const mm_tcp_flag_names[8];
/* "SYN, ACK" into buf; "" for no flags. */
void mm_tcp_flags_str(unsigned int flags, char *buf, size_t cap);

#endif /* MESHMON_CLI_DISSECT_H */
