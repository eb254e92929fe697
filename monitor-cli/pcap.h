/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The classic pcap writer of `meshmon monitor --pcap FILE` (magic 0xa1b2c3d4,
 * microsecond timestamps, version 2.4, LINKTYPE_ETHERNET): the format every
 * tcpdump, Wireshark and libpcap reads. Events whose captured bytes start at
 * the Ethernet header are written as they are, those starting at an IPv4 or
 * IPv6 header (endpoint traces) behind a synthesized Ethernet header; others
 * are skipped and counted.
 * Records are buffered; the caller flushes when its input goes idle, so a
 * reader following the file (or a pipe) sees each packet once the agent
 * goes quiet, without a write(2) per packet.
 */
#ifndef MESHMON_CLI_PCAP_H
#define MESHMON_CLI_PCAP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "meshmon.pb-c.h"

#define MM_PCAP_MAGIC 0xa1b2c3d4u
#define MM_PCAP_LINKTYPE_ETHERNET 1u
/* Snap length when the agent announces none. */
#define MM_PCAP_DEFAULT_SNAPLEN 65535u

/* Bytes of a pcap file's buffer (stdout has its own, output.h). */
#define MM_PCAP_BUFFER (64 * 1024)

struct mm_pcap {
	FILE *f;
	bool own;          /* fclose on close (not stdout) */
	char *created;     /* the path, while this run created the file and has not started */
	char *buf;         /* f's buffer when own */
	uint32_t snaplen;
	uint64_t written;  /* packets written */
	uint64_t skipped;  /* events with bytes starting neither at Ethernet nor at IP */
};

/*
 * Opens path ("-" = stdout) for writing, header not yet written: done before
 * connecting to the agent, so a path that cannot be written (no such
 * directory, no permission, a directory) is reported at once. An existing
 * file is truncated only by mm_pcap__start; a file created here and never
 * started is removed by mm_pcap__close. NULL with errno set.
 */
struct mm_pcap *mm_pcap__create(const char *path);
/* Writes the file header with the snap length (the Hello's capture_len): 0 or -errno. */
int mm_pcap__start(struct mm_pcap *p, uint32_t snaplen);
/* mm_pcap__create and mm_pcap__start in one. NULL with errno set. */
struct mm_pcap *mm_pcap__open(const char *path, uint32_t snaplen);
/* Writes ev's captured bytes: 1 written, 0 skipped (no bytes / neither Ethernet nor IP), -errno. */
int mm_pcap__write(struct mm_pcap *p, const Meshmon__V1__Event *ev);
/* Writes what is buffered: 0 or -errno. */
int mm_pcap__flush(struct mm_pcap *p);
/* Flushes and closes; 0 or -errno of the last write. Accepts NULL. */
int mm_pcap__close(struct mm_pcap *p);

#endif /* MESHMON_CLI_PCAP_H */
