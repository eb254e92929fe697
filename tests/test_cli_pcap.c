// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The pcap writer of `meshmon monitor --pcap`: the fixed events of cli_cases.c
 * written to a file and read back with libpcap (pcap_open_offline): same
 * packets, lengths and timestamps; Ethernet link type; the agent's capture
 * length as snap length; events captured from the IP header (endpoint traces)
 * behind a synthesized Ethernet header, those from the transport header skipped; the
 * file opened before connecting and replaced only when the header is written.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_cases.h"
#include "pcap.h"

static char path[64];

static void setup(void)
{
	snprintf(path, sizeof(path), "/tmp/mm-cli-pcap-%d.pcap", getpid());
}

static void teardown(void)
{
	unlink(path);
}

TestSuite(cli_pcap, .init = setup, .fini = teardown);

Test(cli_pcap, roundtrip_through_libpcap)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct cli_case *cases;
	size_t n = cli_cases_build(&cases), i, want = 0, skipped = 0, got = 0, synthesized = 0;
	const Meshmon__V1__Event *expect[64];
	struct pcap_pkthdr *h;
	const u_char *data;
	struct mm_pcap *p;
	pcap_t *rd;
	int rc;

	p = mm_pcap__open(path, 128);
	cr_assert(p != NULL);
	for (i = 0; i < n; i++) {
		const Meshmon__V1__Event *ev = cases[i].msg.event;

		if (cases[i].msg.msg_case != MESHMON__V1__SERVER_MESSAGE__MSG_EVENT)
			continue;
		rc = mm_pcap__write(p, ev);
		if (ev->captured.len && (ev->layer == MESHMON__V1__CAPTURE_LAYER__CAPTURE_LAYER_ETHERNET ||
					 ev->layer == MESHMON__V1__CAPTURE_LAYER__CAPTURE_LAYER_NETWORK)) {
			cr_assert(eq(int, rc, 1), "%s", cases[i].name);
			expect[want++] = ev;
		} else {
			cr_assert(eq(int, rc, 0), "%s", cases[i].name);
			skipped += ev->captured.len != 0;
		}
	}
	cr_assert(eq(u64, p->written, want));
	cr_assert(eq(u64, p->skipped, skipped));
	cr_assert(gt(sz, want, 20));
	cr_assert(eq(sz, skipped, 1)); /* the kernel drop captured at the transport layer */
	cr_assert(eq(int, mm_pcap__close(p), 0));

	rd = pcap_open_offline(path, errbuf);
	cr_assert(rd != NULL, "%s", errbuf);
	cr_assert(eq(int, pcap_datalink(rd), DLT_EN10MB));
	cr_assert(eq(int, pcap_snapshot(rd), 128));
	cr_assert(eq(int, pcap_major_version(rd), 2));
	cr_assert(eq(int, pcap_minor_version(rd), 4));
	while ((rc = pcap_next_ex(rd, &h, &data)) == 1) {
		const Meshmon__V1__Event *ev;
		uint32_t eth = 0, caplen;

		cr_assert(lt(sz, got, want));
		ev = expect[got++];
		/* From the IP header (endpoint traces): behind a synthesized Ethernet header. */
		if (ev->layer == MESHMON__V1__CAPTURE_LAYER__CAPTURE_LAYER_NETWORK) {
			static const uint8_t zero_macs[12];

			eth = 14;
			cr_assert(ge(u32, h->caplen, eth));
			cr_assert(eq(int, memcmp(data, zero_macs, 12), 0));
			cr_assert(eq(u32, (uint32_t)data[12] << 8 | data[13],
				     ev->tuple->ethertype));
			synthesized++;
		}
		caplen = eth + (uint32_t)ev->captured.len;
		cr_assert(eq(u32, h->caplen, caplen < 128 ? caplen : 128));
		cr_assert(eq(u32, h->len, eth + ev->len));
		cr_assert(eq(i64, (int64_t)h->ts.tv_sec, (int64_t)(ev->time_ns / 1000000000ull)));
		cr_assert(eq(i64, (int64_t)h->ts.tv_usec, (int64_t)(ev->time_ns % 1000000000ull / 1000)));
		cr_assert(eq(int, memcmp(data + eth, ev->captured.data, h->caplen - eth), 0));
	}
	cr_assert(eq(sz, synthesized, 2), "the two endpoint traces");
	cr_assert(eq(int, rc, PCAP_ERROR_BREAK)); /* clean end of file */
	cr_assert(eq(sz, got, want));
	pcap_close(rd);
}

/* A truncated capture keeps its original length; the first trace's bytes are exact. */
Test(cli_pcap, original_length_and_filter_by_bpf)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct cli_case *cases;
	size_t n = cli_cases_build(&cases), i, matched = 0, icmp = 0;
	struct bpf_program prog;
	struct pcap_pkthdr *h;
	const u_char *data;
	struct mm_pcap *p = mm_pcap__open(path, 128);
	pcap_t *rd;

	cr_assert(p != NULL);
	for (i = 0; i < n; i++) {
		if (cases[i].msg.msg_case != MESHMON__V1__SERVER_MESSAGE__MSG_EVENT)
			continue;
		mm_pcap__write(p, cases[i].msg.event);
		if (cases[i].msg.event->layer == MESHMON__V1__CAPTURE_LAYER__CAPTURE_LAYER_ETHERNET &&
		    cases[i].msg.event->tuple && cases[i].msg.event->tuple->proto == 1)
			icmp++;
	}
	mm_pcap__close(p);
	/* tcpdump's own filter language over our file: the ICMP packets are real ICMP. */
	rd = pcap_open_offline(path, errbuf);
	cr_assert(rd != NULL, "%s", errbuf);
	cr_assert(eq(int, pcap_compile(rd, &prog, "icmp", 1, PCAP_NETMASK_UNKNOWN), 0));
	cr_assert(eq(int, pcap_setfilter(rd, &prog), 0));
	while (pcap_next_ex(rd, &h, &data) == 1)
		matched++;
	pcap_freecode(&prog);
	pcap_close(rd);
	cr_assert(eq(sz, matched, icmp));
	cr_assert(gt(sz, icmp, 3));
}

Test(cli_pcap, open_errors)
{
	cr_assert(mm_pcap__open("/nonexistent/dir/x.pcap", 128) == NULL);
	cr_assert(eq(int, mm_pcap__close(NULL), 0));
}

/* The file size, or -1. */
static long file_size(void)
{
	struct stat st;

	return stat(path, &st) ? -1 : (long)st.st_size;
}

/*
 * Created before the agent answers, started after: an existing file is
 * replaced only once the header is written (not a byte of the old one left),
 * kept whole when the run never starts, and a file of the run's own making is
 * not left behind empty.
 */
Test(cli_pcap, create_then_start)
{
	static const char old[] = "an older, longer capture that must not survive at the end";
	struct mm_pcap *p;
	FILE *f;

	f = fopen(path, "w");
	cr_assert(f != NULL);
	fputs(old, f);
	fclose(f);
	p = mm_pcap__create(path);
	cr_assert(p != NULL);
	cr_assert(eq(int, mm_pcap__close(p), 0)); /* never started: kept whole */
	cr_assert(eq(long, file_size(), (long)strlen(old)));
	p = mm_pcap__create(path);
	cr_assert(p != NULL);
	cr_assert(eq(long, file_size(), (long)strlen(old)));
	cr_assert(eq(int, mm_pcap__start(p, 96), 0));
	cr_assert(eq(int, mm_pcap__close(p), 0));
	cr_assert(eq(long, file_size(), 24)); /* the header alone */
	unlink(path);
	p = mm_pcap__create(path);
	cr_assert(p != NULL);
	cr_assert(eq(long, file_size(), 0));
	cr_assert(eq(int, mm_pcap__close(p), 0));
	cr_assert(eq(long, file_size(), -1), "an empty file was left behind");
	cr_assert(mm_pcap__create("/tmp") == NULL);
	cr_assert(eq(int, errno, EISDIR));
}
