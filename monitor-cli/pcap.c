// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Classic pcap writer (see pcap.h). The header and records are written in
 * the host's byte order, as libpcap does; readers detect it from the magic.
 * One file has one link type, Ethernet, what the tc hooks capture. Events
 * captured from the network layer (the endpoint points: cgroup_skb sees the
 * packet from its IP header) are written behind a synthesized Ethernet
 * header (zero MACs, the EtherType of the IP version); events captured from
 * the transport layer (kernel drop sites) are not written. docs/cli.md
 * documents the choice.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/*
 * Opens path for writing without truncating it: if the run ends before the
 * header is written (no agent), an existing file keeps its contents and a file
 * this run created is removed again (mm_pcap__close). The fd or -errno.
 */
static int open_unstarted(struct mm_pcap *p, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);

	if (fd >= 0) {
		p->created = strdup(path);
		if (!p->created) {
			unlink(path);
			close(fd);
			return -ENOMEM;
		}
		return fd;
	}
	if (errno != EEXIST)
		return -errno;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	return fd >= 0 ? fd : -errno;
}

struct mm_pcap *mm_pcap__create(const char *path)
{
	struct mm_pcap *p = calloc(1, sizeof(*p));
	int fd, err;

	if (!p)
		return NULL;
	if (strcmp(path, "-") == 0) {
		p->f = stdout;
		return p;
	}
	p->own = true;
	p->buf = malloc(MM_PCAP_BUFFER);
	fd = p->buf ? open_unstarted(p, path) : -ENOMEM;
	p->f = fd >= 0 ? fdopen(fd, "wb") : NULL;
	if (!p->f) {
		err = fd < 0 ? -fd : errno;
		if (fd >= 0)
			close(fd);
		if (p->created)
			unlink(p->created);
		free(p->created);
		free(p->buf);
		free(p);
		errno = err;
		return NULL;
	}
	/* glibc would pick 4 KiB (st_blksize); it ignores the size unless given the buffer. */
	setvbuf(p->f, p->buf, _IOFBF, MM_PCAP_BUFFER);
	return p;
}

int mm_pcap__start(struct mm_pcap *p, uint32_t snaplen)
{
	struct pcap_file_hdr h = {
		.magic = MM_PCAP_MAGIC,
		.version_major = 2,
		.version_minor = 4,
		.snaplen = snaplen ? snaplen : MM_PCAP_DEFAULT_SNAPLEN,
		.linktype = MM_PCAP_LINKTYPE_ETHERNET,
	};
	struct stat st;

	/* What the old contents of a regular file were is replaced now (a FIFO has none). */
	if (p->own && !fstat(fileno(p->f), &st) && S_ISREG(st.st_mode) &&
	    ftruncate(fileno(p->f), 0))
		return -errno;
	free(p->created);
	p->created = NULL;
	p->snaplen = h.snaplen;
	if (fwrite(&h, sizeof(h), 1, p->f) != 1 || fflush(p->f) != 0)
		return -(errno ? errno : EIO);
	return 0;
}

struct mm_pcap *mm_pcap__open(const char *path, uint32_t snaplen)
{
	struct mm_pcap *p = mm_pcap__create(path);
	int err;

	if (!p)
		return NULL;
	err = mm_pcap__start(p, snaplen);
	if (err) {
		mm_pcap__close(p);
		errno = -err;
		return NULL;
	}
	return p;
}

#define ETH_HDR_LEN 14

/*
 * The Ethernet header put in front of a network-layer capture: zero MACs and
 * the EtherType of the IP version in the first byte; false when it is
 * neither IPv4 nor IPv6 (then the event is skipped).
 */
static bool synth_ethernet(const ProtobufCBinaryData *ip, uint8_t eth[ETH_HDR_LEN])
{
	unsigned int version = ip->data[0] >> 4;

	if (version != 4 && version != 6)
		return false;
	memset(eth, 0, ETH_HDR_LEN);
	eth[12] = version == 4 ? 0x08 : 0x86;
	eth[13] = version == 4 ? 0x00 : 0xdd;
	return true;
}

int mm_pcap__write(struct mm_pcap *p, const Meshmon__V1__Event *ev)
{
	uint8_t eth[ETH_HDR_LEN];
	struct pcap_rec_hdr r;
	uint32_t incl, prefix = 0, eth_part, len = ev->len;

	if (ev->captured.len && ev->layer == MESHMON__V1__CAPTURE_LAYER__CAPTURE_LAYER_NETWORK &&
	    synth_ethernet(&ev->captured, eth))
		prefix = ETH_HDR_LEN;
	else if (!ev->captured.len ||
		 ev->layer != MESHMON__V1__CAPTURE_LAYER__CAPTURE_LAYER_ETHERNET) {
		if (ev->captured.len)
			p->skipped++;
		return 0;
	}
	incl = prefix + (uint32_t)ev->captured.len;
	if (incl > p->snaplen)
		incl = p->snaplen;
	r.ts_sec = (uint32_t)(ev->time_ns / 1000000000ull);
	r.ts_usec = (uint32_t)(ev->time_ns % 1000000000ull / 1000);
	r.incl_len = incl;
	/* The original length (with the synthesized header) is never below what was captured. */
	len += prefix;
	r.orig_len = len > incl ? len : incl;
	/* The synthesized header counts against the snap length, as a captured one would. */
	eth_part = incl < prefix ? incl : prefix;
	if (fwrite(&r, sizeof(r), 1, p->f) != 1 || fwrite(eth, 1, eth_part, p->f) != eth_part ||
	    fwrite(ev->captured.data, 1, incl - eth_part, p->f) != incl - eth_part)
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
	/* Never started (no agent): a file of this run's making is not left behind empty. */
	if (p->created)
		unlink(p->created);
	free(p->created);
	free(p->buf);
	free(p);
	return err;
}
