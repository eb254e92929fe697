/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Framing of meshmon's wire protocol: every protobuf message on the socket is
 * preceded by its length as a 4-byte big-endian unsigned integer. A length
 * above MM_FRAME_MAX is an error in both directions.
 *
 * The reader is incremental and needs no event library: feed it whatever
 * read() returned, then call mm_frame_reader__next() until it returns 0.
 */
#ifndef MESHMON_FRAMING_H
#define MESHMON_FRAMING_H

#include <stddef.h>
#include <stdint.h>

#include "meshmon.pb-c.h"
#include "protocol.h"

/* Bytes of the length prefix. */
#define MM_FRAME_HDR 4
/*
 * Largest payload (without the prefix) either side may send: 1 MiB. An event
 * is at most a few KiB (captures are <= 1500 bytes by default config); the
 * bound exists so that a bogus prefix cannot make a peer allocate gigabytes.
 */
#define MM_FRAME_MAX (1u << 20)
/*
 * Most bytes a reader holds unconsumed: one maximal frame plus 64 KiB of the
 * next read. mm_frame_reader__feed() refuses more (-ENOBUFS): drain frames
 * with mm_frame_reader__next() between feeds.
 */
#define MM_FRAME_READER_CAP (MM_FRAME_HDR + MM_FRAME_MAX + 65536u)

struct mm_frame_reader {
	uint8_t *buf;
	size_t cap;  /* allocated */
	size_t head; /* first unconsumed byte */
	size_t tail; /* one past the last byte fed */
};

void mm_frame_reader__init(struct mm_frame_reader *r);
/* Frees the buffer; r may be reused after mm_frame_reader__init(). Accepts NULL. */
void mm_frame_reader__release(struct mm_frame_reader *r);
/* Appends bytes: 0, -ENOBUFS past MM_FRAME_READER_CAP, -ENOMEM. */
int mm_frame_reader__feed(struct mm_frame_reader *r, const void *data, size_t len);
/*
 * 1 with *payload and *len set to the next complete frame's payload (valid until the
 * next feed or release), 0 when more bytes are needed, -EMSGSIZE when the
 * length prefix exceeds MM_FRAME_MAX (the stream cannot be resynchronised:
 * close it). Garbage payloads are detected by the protobuf unpack.
 */
int mm_frame_reader__next(struct mm_frame_reader *r, const uint8_t **payload, size_t *len);
/* Bytes fed and not yet returned as frames. */
size_t mm_frame_reader__pending(const struct mm_frame_reader *r);

/* Prefix + payload size of msg's frame (may exceed MM_FRAME_MAX). */
size_t mm_frame__size(const ProtobufCMessage *msg);
/*
 * Packs msg's frame into buf: the number of bytes written, -EMSGSIZE when the
 * payload exceeds MM_FRAME_MAX, -ENOBUFS when cap is too small.
 */
long mm_frame__pack(const ProtobufCMessage *msg, uint8_t *buf, size_t cap);
/* Packs msg's frame into a malloc'd buffer: 0, -EMSGSIZE or -ENOMEM. */
int mm_frame__encode(const ProtobufCMessage *msg, uint8_t **out, size_t *len);

/*
 * A reusable buffer that frames are packed into one after the other, for a
 * caller that copies each frame out (the agent's hub). Packs with the one-pass
 * encoder (onepass.h) and falls back to protobuf-c for messages it does not
 * take; grows as needed. Zero-initialise; free with mm_frame_scratch__release().
 */
struct mm_frame_scratch {
	uint8_t *buf;
	size_t cap;
};

/*
 * Packs msg's frame into s: its length with *frame pointing at it (valid
 * until the next pack or release), -EMSGSIZE when the payload exceeds
 * MM_FRAME_MAX, -ENOMEM.
 */
long mm_frame_scratch__pack(struct mm_frame_scratch *s, const ProtobufCMessage *msg,
			    const uint8_t **frame);
void mm_frame_scratch__release(struct mm_frame_scratch *s);

/* Typed helpers. */
int mm_frame__encode_server(const Meshmon__V1__ServerMessage *msg, uint8_t **out, size_t *len);
int mm_frame__encode_client(const Meshmon__V1__ClientMessage *msg, uint8_t **out, size_t *len);
/*
 * Unpack a payload returned by mm_frame_reader__next(): NULL when it is not a
 * valid message. A ClientMessage with no member of its oneof set is NULL too
 * (the agent rejects it); a ServerMessage whose msg_case is NOT_SET is
 * returned, because it is a newer agent's message kind that clients must skip.
 * Free with mm_frame__free_server() / mm_frame__free_client().
 */
Meshmon__V1__ServerMessage *mm_frame__unpack_server(const uint8_t *payload, size_t len);
Meshmon__V1__ClientMessage *mm_frame__unpack_client(const uint8_t *payload, size_t len);
void mm_frame__free_server(Meshmon__V1__ServerMessage *msg);
void mm_frame__free_client(Meshmon__V1__ClientMessage *msg);

#endif /* MESHMON_FRAMING_H */
