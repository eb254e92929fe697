// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * What `meshmon monitor` says of frames that are not IP (ARP with its
 * addresses in tcpdump's words, VLAN tags then the inner type, other types by
 * name or number, never "parse error: not IP"), in text, -vv and JSON; and
 * --time, the timestamp at the start of every text line.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dissect.h"
#include "format.h"
#include "format_common.h"
#include "format_text.h"

/* A trace of a frame the datapath did not parse as IP, as the agent sends it. */
struct frame_event {
	Meshmon__V1__Event ev;
	Meshmon__V1__Tuple tuple;
	Meshmon__V1__Trace trace;
	uint8_t bytes[128];
};

#define T0 1795326020123456789ull /* 2026-11-22T05:40:20.123456789Z */

static const uint8_t mac_a[6] = { 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0x01 };
static const uint8_t mac_b[6] = { 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0x02 };

/* Ethernet header from mac_a to dst, with ethertype; the bytes after it are the caller's. */
static size_t ether(uint8_t *p, const uint8_t dst[6], uint16_t ethertype)
{
	memcpy(p, dst, 6);
	memcpy(p + 6, mac_a, 6);
	p[12] = (uint8_t)(ethertype >> 8);
	p[13] = (uint8_t)ethertype;
	return 14;
}

/* ARP for Ethernet and IPv4 at p: 28 bytes. */
static size_t arp(uint8_t *p, uint16_t op, const uint8_t sha[6], const char *spa,
		  const uint8_t tha[6], const char *tpa)
{
	memset(p, 0, 28);
	p[1] = 1;
	p[2] = 0x08;
	p[4] = 6;
	p[5] = 4;
	p[6] = (uint8_t)(op >> 8);
	p[7] = (uint8_t)op;
	memcpy(p + 8, sha, 6);
	cr_assert(eq(int, inet_pton(AF_INET, spa, p + 14), 1));
	memcpy(p + 18, tha, 6);
	cr_assert(eq(int, inet_pton(AF_INET, tpa, p + 24), 1));
	return 28;
}

/* The event around len bytes of fe->bytes, with the tuple the datapath fills for non-IP. */
static void frame_event(struct frame_event *fe, size_t len)
{
	meshmon__v1__event__init(&fe->ev);
	meshmon__v1__tuple__init(&fe->tuple);
	meshmon__v1__trace__init(&fe->trace);
	fe->ev.time_ns = T0;
	fe->ev.cpu = 1;
	fe->ev.type = MESHMON__V1__EVENT_TYPE__EVENT_TYPE_TRACE;
	fe->ev.source = MESHMON__V1__SOURCE__SOURCE_TC;
	fe->ev.ifindex = 4;
	fe->ev.ifname = "veth0";
	fe->ev.tuple = &fe->tuple;
	fe->tuple.ethertype = (uint32_t)(fe->bytes[12] << 8 | fe->bytes[13]);
	fe->ev.len = fe->ev.cap_len = (uint32_t)len;
	fe->ev.captured.data = fe->bytes;
	fe->ev.captured.len = len;
	fe->ev.layer = MESHMON__V1__CAPTURE_LAYER__CAPTURE_LAYER_ETHERNET;
	fe->ev.detail_case = MESHMON__V1__EVENT__DETAIL_TRACE;
	fe->ev.trace = &fe->trace;
	fe->trace.point = MESHMON__V1__TRACE_POINT__TRACE_POINT_FROM_NETWORK;
	fe->trace.parse_error = MESHMON__V1__PARSE_ERROR__PARSE_ERROR_NOT_IP;
}

/* What the formatter (text or JSON, as f says) writes for ev; free() it. */
static char *render(struct mm_fmt f, const Meshmon__V1__Event *ev)
{
	char *buf;
	size_t len;

	f.out = open_memstream(&buf, &len);
	cr_assert(f.out != NULL);
	mm_format_event(&f, ev);
	fclose(f.out);
	return buf;
}

#define LINE_HEAD "<- network flow 0x0 state unknown ifindex 4 (veth0): "

static void expect_text(const Meshmon__V1__Event *ev, const char *tail)
{
	struct mm_fmt f = { .verbose = 0 };
	char *got = render(f, ev), want[512];

	snprintf(want, sizeof(want), LINE_HEAD "%s\n", tail);
	cr_expect(eq(str, got, want));
	free(got);
}

Test(cli_frames, arp_request_and_reply_in_tcpdump_words)
{
	static const uint8_t zero[6], bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct frame_event fe;
	size_t n;

	n = ether(fe.bytes, bcast, 0x0806);
	n += arp(fe.bytes + n, 1, mac_a, "10.0.0.1", zero, "10.0.0.2");
	frame_event(&fe, n);
	expect_text(&fe.ev, "ARP who-has 10.0.0.2 tell 10.0.0.1");

	n = ether(fe.bytes, mac_b, 0x0806);
	n += arp(fe.bytes + n, 2, mac_b, "10.0.0.2", mac_a, "10.0.0.1");
	frame_event(&fe, n);
	expect_text(&fe.ev, "ARP reply 10.0.0.2 is-at 02:aa:bb:cc:dd:02");

	/* Another operation (InARP request): its number and both sides. */
	n = ether(fe.bytes, mac_b, 0x0806);
	n += arp(fe.bytes + n, 8, mac_a, "10.0.0.1", mac_b, "10.0.0.2");
	frame_event(&fe, n);
	expect_text(&fe.ev,
		    "ARP op 8, sender 10.0.0.1 02:aa:bb:cc:dd:01, target 10.0.0.2 02:aa:bb:cc:dd:02");
}

Test(cli_frames, arp_without_addresses_is_still_arp)
{
	static const uint8_t zero[6];
	struct frame_event fe;
	size_t n;

	/* Cut inside the addresses: what it is, not what it asked. */
	n = ether(fe.bytes, mac_b, 0x0806);
	n += arp(fe.bytes + n, 1, mac_a, "10.0.0.1", zero, "10.0.0.2");
	frame_event(&fe, n - 5);
	expect_text(&fe.ev, "ARP");
	/* Not Ethernet and IPv4 (hardware type 6): no addresses of ours to read. */
	fe.bytes[15] = 6;
	frame_event(&fe, n);
	expect_text(&fe.ev, "ARP");
	/* Nothing captured: the tuple's ethertype alone. */
	frame_event(&fe, n);
	fe.ev.captured.len = 0;
	fe.ev.cap_len = 0;
	fe.ev.layer = MESHMON__V1__CAPTURE_LAYER__CAPTURE_LAYER_UNSPECIFIED;
	expect_text(&fe.ev, "ARP");
}

Test(cli_frames, other_types_by_name_or_number_and_vlan_tags)
{
	static const uint8_t zero[6];
	struct frame_event fe;
	size_t n;

	n = ether(fe.bytes, mac_b, 0x88cc);
	memset(fe.bytes + n, 0, 32);
	frame_event(&fe, n + 32);
	expect_text(&fe.ev, "LLDP");

	n = ether(fe.bytes, mac_b, 0x88b5); /* local experimental: no name */
	frame_event(&fe, n + 32);
	expect_text(&fe.ev, "ethertype 0x88b5");

	/* 802.1Q, VLAN 100, then ARP inside. */
	n = ether(fe.bytes, mac_b, 0x8100);
	fe.bytes[n] = 0x20; /* priority 1 */
	fe.bytes[n + 1] = 100;
	fe.bytes[n + 2] = 0x08;
	fe.bytes[n + 3] = 0x06;
	n += 4;
	n += arp(fe.bytes + n, 1, mac_a, "10.0.0.1", zero, "10.0.0.2");
	frame_event(&fe, n);
	expect_text(&fe.ev, "802.1Q vlan 100, ARP who-has 10.0.0.2 tell 10.0.0.1");

	/* 802.1ad outside 802.1Q (QinQ) around LLDP: the outer id, the inner type. */
	n = ether(fe.bytes, mac_b, 0x88a8);
	memcpy(fe.bytes + n, "\x00\x07\x81\x00\x00\x64\x88\xcc", 8);
	n += 8;
	frame_event(&fe, n + 20);
	expect_text(&fe.ev, "802.1ad vlan 7, LLDP");
}

Test(cli_frames, vv_dissects_tags_and_arp)
{
	static const uint8_t zero[6];
	struct mm_fmt f = { .verbose = 2 };
	struct frame_event fe;
	char *got;
	size_t n;

	n = ether(fe.bytes, mac_b, 0x8100);
	memcpy(fe.bytes + n, "\x00\x64\x08\x06", 4);
	n += 4;
	n += arp(fe.bytes + n, 1, mac_a, "10.0.0.1", zero, "10.0.0.2");
	frame_event(&fe, n);
	got = render(f, &fe.ev);
	cr_expect(strstr(got, "\n    VLAN: id 100 prio 0 type 0x0806 (ARP)\n") != NULL, "%s", got);
	cr_expect(strstr(got, "\n    ARP: op 1 (request) sender 02:aa:bb:cc:dd:01 10.0.0.1 target 00:00:00:00:00:00 10.0.0.2\n") != NULL,
		  "%s", got);
	cr_expect(strstr(got, "parse error") == NULL, "%s", got);
	free(got);
}

/* A real parse error is still one, on a frame that is IP. */
Test(cli_frames, other_parse_errors_are_still_printed)
{
	struct frame_event fe;
	size_t n;

	n = ether(fe.bytes, mac_b, 0x0800);
	memset(fe.bytes + n, 0x45, 10);
	frame_event(&fe, n + 10);
	fe.trace.parse_error = MESHMON__V1__PARSE_ERROR__PARSE_ERROR_TRUNCATED_IPV4;
	expect_text(&fe.ev, "IPv4, parse error: truncated IPv4 header");
}

Test(cli_frames, json_arp_object_beside_the_existing_keys)
{
	static const uint8_t zero[6];
	struct mm_fmt f = { .json = true };
	struct frame_event fe;
	char *got;
	size_t n;

	n = ether(fe.bytes, mac_b, 0x0806);
	n += arp(fe.bytes + n, 1, mac_a, "10.0.0.1", zero, "10.0.0.2");
	frame_event(&fe, n);
	got = render(f, &fe.ev);
	cr_expect(eq(str, got,
		     "{\"node\":null,\"time\":\"2026-11-22T05:40:20.123456789Z\",\"cpu\":1,\"type\":\"trace\",\"hook\":\"tc\",\"ifindex\":4,\"ifname\":\"veth0\",\"flow_id\":0,"
		     "\"tuple\":{\"src\":null,\"dst\":null,\"sport\":0,\"dport\":0,\"proto\":null,\"proto_num\":0,\"ethertype\":2054},"
		     "\"arp\":{\"op\":\"request\",\"op_code\":1,\"sender_mac\":\"02:aa:bb:cc:dd:01\",\"sender_ip\":\"10.0.0.1\",\"target_mac\":\"00:00:00:00:00:00\",\"target_ip\":\"10.0.0.2\"},"
		     "\"len\":42,\"cap_len\":42,\"point\":\"from-network\",\"state\":\"unknown\",\"tcp_flags\":[],\"parse_error\":\"not IP\",\"folded\":0}\n"));
	free(got);
	/* An unknown operation: its number as the name, as every name without a table entry. */
	arp(fe.bytes + 14, 9, mac_a, "10.0.0.1", mac_b, "10.0.0.2");
	got = render(f, &fe.ev);
	cr_expect(strstr(got, "\"arp\":{\"op\":\"9\",\"op_code\":9,\"sender_mac\":\"02:aa:bb:cc:dd:01\",\"sender_ip\":\"10.0.0.1\",\"target_mac\":\"02:aa:bb:cc:dd:02\",\"target_ip\":\"10.0.0.2\"}") != NULL,
		  "%s", got);
	free(got);
	/* Inside an 802.1Q tag, ARP is still ARP. */
	n = ether(fe.bytes, mac_b, 0x8100);
	memcpy(fe.bytes + n, "\x00\x64\x08\x06", 4);
	n += 4;
	n += arp(fe.bytes + n, 2, mac_b, "10.0.0.2", mac_a, "10.0.0.1");
	frame_event(&fe, n);
	got = render(f, &fe.ev);
	cr_expect(strstr(got, "\"arp\":{\"op\":\"reply\",\"op_code\":2,\"sender_mac\":\"02:aa:bb:cc:dd:02\",\"sender_ip\":\"10.0.0.2\",\"target_mac\":\"02:aa:bb:cc:dd:01\",\"target_ip\":\"10.0.0.1\"}") != NULL,
		  "%s", got);
	free(got);
	/* Not ARP (LLDP): no arp key. */
	ether(fe.bytes, mac_b, 0x88cc);
	frame_event(&fe, n);
	got = render(f, &fe.ev);
	cr_expect(strstr(got, "\"arp\"") == NULL, "%s", got);
	free(got);
}

/* --time: the time of the event first on every text line; -v has it already, with the CPU. */
Test(cli_frames, time_flag_prefixes_every_text_line)
{
	struct mm_fmt f = { .time = true };
	Meshmon__V1__LostNotice lost = MESHMON__V1__LOST_NOTICE__INIT;
	struct frame_event fe;
	char *got, *buf;
	size_t n, len;

	n = ether(fe.bytes, mac_b, 0x88cc);
	frame_event(&fe, n + 20);
	got = render(f, &fe.ev);
	cr_expect(eq(str, got, "2026-11-22T05:40:20.123456789Z " LINE_HEAD "LLDP\n"));
	free(got);
	f.verbose = 1;
	got = render(f, &fe.ev);
	cr_expect(eq(int, strncmp(got, "2026-11-22T05:40:20.123456789Z CPU 01: " LINE_HEAD, 39 + strlen(LINE_HEAD)), 0), "%s", got);
	free(got);
	/* Without --time or -v, nothing before the line. */
	f.verbose = 0;
	f.time = false;
	got = render(f, &fe.ev);
	cr_expect(eq(str, got, LINE_HEAD "LLDP\n"));
	free(got);
	/* Lost notices are lines of the stream too. */
	lost.source = 2;
	lost.cpu = 3;
	lost.count = 5;
	lost.first_time_ns = T0 - 1000;
	lost.last_time_ns = T0;
	f.time = true;
	f.out = open_memstream(&buf, &len);
	mm_format_lost(&f, &lost);
	fclose(f.out);
	cr_expect(eq(str, buf, "2026-11-22T05:40:20.123456789Z CPU 03: Lost 5 events (ring)\n"));
	free(buf);
	/* JSON has its own "time" key: --time changes nothing there. */
	f.json = true;
	got = render(f, &fe.ev);
	cr_expect(eq(int, strncmp(got, "{\"node\":null,\"time\":\"2026-11-22T05:40:20.123456789Z\",", 53), 0),
		  "%s", got);
	free(got);
}
