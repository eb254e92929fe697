/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A fixed set of protocol messages of every event type and flag combination,
 * shared by the CLI's golden-file and pcap tests. Packets are built by the
 * harness (harness_packet.h), so the bytes are the same on every run.
 */
#ifndef MESHMON_TEST_CLI_CASES_H
#define MESHMON_TEST_CLI_CASES_H

#include <stddef.h>
#include <stdint.h>

#include "meshmon.pb-c.h"

/* 2026-11-22T05:40:20.123456789Z */
#define CLI_T0 (1795326020ull * 1000000000ull + 123456789ull)

struct cli_case {
	const char *name;
	Meshmon__V1__ServerMessage msg; /* an Event or a LostNotice */
	Meshmon__V1__Event ev;
	Meshmon__V1__Tuple tuple;
	Meshmon__V1__Trace trace;
	Meshmon__V1__Drop drop;
	Meshmon__V1__Debug debug;
	Meshmon__V1__Capture capture;
	Meshmon__V1__TcpProbe probe;
	Meshmon__V1__PolicyVerdict verdict;
	Meshmon__V1__TraceSock sock;
	Meshmon__V1__LostNotice lost;
	uint8_t pkt[2048];
	uint8_t src[16], dst[16], orig[16];
};

/* Builds the cases (static storage); returns their number. */
size_t cli_cases_build(struct cli_case **out);

#endif /* MESHMON_TEST_CLI_CASES_H */
