/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The recorded stream meshmon-cli-bench plays to `meshmon monitor`
 * (cli_stream.c): a Hello frame and the frames that follow it on the wire,
 * exactly as the agent sends them. Generated from a fixed-seed PRNG with the
 * protobuf structs the agent fills (agent/decode.c), or read back from a
 * file of framed ServerMessages (--record writes one, --replay reads one; a
 * capture of a real agent's socket in the same shape plays as well).
 */
#ifndef MESHMON_BENCH_CLI_STREAM_H
#define MESHMON_BENCH_CLI_STREAM_H

#include <stddef.h>
#include <stdint.h>

/* What a frame carries, for the header of the figures and for Subscribe.types. */
enum cli_frame_kind {
	CLI_TRACE_V4_TCP,
	CLI_TRACE_V4_UDP,
	CLI_TRACE_V4_ICMP,
	CLI_TRACE_V6_TCP,
	CLI_TRACE_V6_UDP,
	CLI_TRACE_V6_ICMP,
	CLI_TRACE_OTHER,   /* not IP (ARP) */
	CLI_DROP_DATAPATH,
	CLI_DROP_KERNEL,
	CLI_TCP_PROBE,
	CLI_DEBUG,
	CLI_CAPTURE,
	CLI_LOST,
	CLI_OTHER,         /* a replayed message of another kind */
	CLI_KINDS,
};

struct cli_stream {
	uint8_t *hello;      /* the Hello frame (prefix + payload) */
	size_t hello_len;
	uint8_t *buf;        /* every frame after the Hello, back to back */
	size_t len;
	size_t n_frames;
	size_t *off;         /* frame i is buf[off[i] .. off[i + 1]) */
	uint8_t *event_type; /* Event.type of frame i; 0 for anything but an Event */
	size_t kinds[CLI_KINDS];
	uint32_t capture_len; /* the Hello's */
};

/* n frames from seed: 0, or -errno. */
int cli_stream__generate(struct cli_stream *s, size_t n, uint64_t seed);
/*
 * Reads a file of frames that starts with a Hello. n > 0 plays it over and
 * over (or cuts it) to n frames after the Hello. 0, or -errno (-EBADMSG: not
 * a stream of ServerMessages that starts with a Hello).
 */
int cli_stream__load(struct cli_stream *s, const char *path, size_t n);
/* Writes the Hello and the frames to path: 0 or -errno. */
int cli_stream__save(const struct cli_stream *s, const char *path);
/*
 * The frames a Subscribe with these types gets, back to back in a new
 * buffer (free it): Events whose type is in the mask (bit t for type t; all
 * ones for an empty list: every type) and every other message. 0 or -ENOMEM.
 */
int cli_stream__select(const struct cli_stream *s, uint64_t type_mask, uint8_t **buf,
		       size_t *len, size_t *frames);
void cli_stream__free(struct cli_stream *s);
/* "trace IPv4 TCP", ... */
const char *cli_frame_kind_name(enum cli_frame_kind k);

#endif /* MESHMON_BENCH_CLI_STREAM_H */
