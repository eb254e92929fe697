// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Classic pcap writer (see pcap.h). The header and records are written in
 * the host's byte order, as libpcap does; readers detect it from the magic.
 * Events captured from the network or transport layer (kernel drop sites)
 * are not written: one file has one link type, and Ethernet is what the tc
 * hooks capture. docs/cli.md documents the choice.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pcap.h"

struct pcap_file_hdr {
	uint32_t magic;
	uint16_t version_major;
	uint16_t version_minor;
	int32_t thiszone;
	uint32_t sigfigs;
	uint32_t snaplen;
	uint32_t linktype;
};

struct pcap_rec_hdr {
	uint32_t ts_sec;
	uint32_t ts_usec;
	uint32_t incl_len;
	uint32_t orig_len;
};

struct mm_pcap *mm_pcap__open(const char *path, uint32_t snaplen)
{
	struct pcap_file_hdr h = {
		.magic = MM_PCAP_MAGIC,
		.version_major = 2,
		.version_minor = 4,
		.snaplen = snaplen ? snaplen : MM_PCAP_DEFAULT_SNAPLEN,
		.linktype = MM_PCAP_LINKTYPE_ETHERNET,
	};
	struct mm_pcap *p = calloc(1, sizeof(*p));
	int err;

	if (!p)
		return NULL;
	if (strcmp(path, "-") == 0) {
		p->f = stdout;
	} else {
		p->buf = malloc(MM_PCAP_BUFFER);
		p->f = p->buf ? fopen(path, "wb") : NULL;
		p->own = true;
	}
	if (!p->f) {
		err = p->own && !p->buf ? ENOMEM : errno;
		free(p->buf);
		free(p);
		errno = err;
		return NULL;
	}
	/* glibc would pick 4 KiB (st_blksize); it ignores the size unless given the buffer. */
	if (p->own)
		setvbuf(p->f, p->buf, _IOFBF, MM_PCAP_BUFFER);
	p->snaplen = h.snaplen;
	if (fwrite(&h, sizeof(h), 1, p->f) != 1 || fflush(p->f) != 0) {
		err = errno ? errno : EIO;
		if (p->own)
			fclose(p->f);
		free(p->buf);
		free(p);
		errno = err;
		return NULL;
	}
	return p;
}

int mm_pcap__write(struct mm_pcap *p, const Meshmon__V1__Event *ev)
{
	struct pcap_rec_hdr r;
	uint32_t incl;

	if (!ev->captured.len || ev->layer != MESHMON__V1__CAPTURE_LAYER__CAPTURE_LAYER_ETHERNET) {
		if (ev->captured.len)
			p->skipped++;
		return 0;
	}
	incl = (uint32_t)ev->captured.len;
	if (incl > p->snaplen)
		incl = p->snaplen;
	r.ts_sec = (uint32_t)(ev->time_ns / 1000000000ull);
	r.ts_usec = (uint32_t)(ev->time_ns % 1000000000ull / 1000);
	r.incl_len = incl;
	/* The original length is never below what was captured. */
	r.orig_len = ev->len > incl ? ev->len : incl;
	if (fwrite(&r, sizeof(r), 1, p->f) != 1 || fwrite(ev->captured.data, 1, incl, p->f) != incl)
		return -(errno ? errno : EIO);
	p->written++;
	return 1;
}

int mm_pcap__flush(struct mm_pcap *p)
{
	return fflush(p->f) != 0 ? -(errno ? errno : EIO) : 0;
}

int mm_pcap__close(struct mm_pcap *p)
{
	int err = 0;

	if (!p)
		return 0;
	if (fflush(p->f) != 0)
		err = -errno;
	if (p->own && fclose(p->f) != 0 && !err)
		err = -errno;
	free(p->buf);
	free(p);
	return err;
}
