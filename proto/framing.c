// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Length-prefixed framing of protobuf messages (see framing.h and
 * docs/protocol.md): the incremental reader and the encoders.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "framing.h"
#include "onepass.h"

void mm_frame_reader__init(struct mm_frame_reader *r)
{
	memset(r, 0, sizeof(*r));
}

void mm_frame_reader__release(struct mm_frame_reader *r)
{
	if (!r)
		return;
	free(r->buf);
	memset(r, 0, sizeof(*r));
}

size_t mm_frame_reader__pending(const struct mm_frame_reader *r)
{
	return r->tail - r->head;
}

int mm_frame_reader__feed(struct mm_frame_reader *r, const void *data, size_t len)
{
	size_t pending = r->tail - r->head;

	if (len == 0)
		return 0;
	if (len > MM_FRAME_READER_CAP - pending)
		return -ENOBUFS;
	/* Drop consumed bytes first: payloads handed out earlier die here. */
	if (r->head) {
		memmove(r->buf, r->buf + r->head, pending);
		r->head = 0;
		r->tail = pending;
	}
	if (pending + len > r->cap) {
		size_t cap = r->cap ? r->cap : 4096;
		uint8_t *buf;

		while (cap < pending + len)
			cap *= 2;
		if (cap > MM_FRAME_READER_CAP)
			cap = MM_FRAME_READER_CAP;
		buf = realloc(r->buf, cap);
		if (!buf)
			return -ENOMEM;
		r->buf = buf;
		r->cap = cap;
	}
	memcpy(r->buf + r->tail, data, len);
	r->tail += len;
	return 0;
}

int mm_frame_reader__next(struct mm_frame_reader *r, const uint8_t **payload, size_t *len)
{
	size_t pending = r->tail - r->head;
	const uint8_t *p;
	uint32_t n;

	if (pending < MM_FRAME_HDR)
		return 0;
	p = r->buf + r->head;
	n = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	if (n > MM_FRAME_MAX)
		return -EMSGSIZE;
	if (pending - MM_FRAME_HDR < n)
		return 0;
	*payload = p + MM_FRAME_HDR;
	*len = n;
	r->head += MM_FRAME_HDR + n;
	if (r->head == r->tail)
		r->head = r->tail = 0; /* the payload stays readable until the next feed */
	return 1;
}

static void put_frame_len(uint8_t *buf, size_t n)
{
	buf[0] = (uint8_t)(n >> 24);
	buf[1] = (uint8_t)(n >> 16);
	buf[2] = (uint8_t)(n >> 8);
	buf[3] = (uint8_t)n;
}

size_t mm_frame__size(const ProtobufCMessage *msg)
{
	return MM_FRAME_HDR + protobuf_c_message_get_packed_size(msg);
}

long mm_frame__pack(const ProtobufCMessage *msg, uint8_t *buf, size_t cap)
{
	size_t n = protobuf_c_message_get_packed_size(msg);

	if (n > MM_FRAME_MAX)
		return -EMSGSIZE;
	if (cap < MM_FRAME_HDR + n)
		return -ENOBUFS;
	put_frame_len(buf, n);
	protobuf_c_message_pack(msg, buf + MM_FRAME_HDR);
	return (long)(MM_FRAME_HDR + n);
}

static int scratch_reserve(struct mm_frame_scratch *s, size_t need)
{
	size_t cap = s->cap ? s->cap : 4096;
	uint8_t *buf;

	if (need <= s->cap)
		return 0;
	while (cap < need)
		cap *= 2;
	buf = realloc(s->buf, cap);
	if (!buf)
		return -ENOMEM;
	s->buf = buf;
	s->cap = cap;
	return 0;
}

long mm_frame_scratch__pack(struct mm_frame_scratch *s, const ProtobufCMessage *msg,
			    const uint8_t **frame)
{
	long n;
	int rc;

	if (scratch_reserve(s, 4096))
		return -ENOMEM;
	n = mm_onepass_pack(msg, s->buf + MM_FRAME_HDR, s->cap - MM_FRAME_HDR);
	if (n >= 0 && (size_t)n <= MM_FRAME_MAX) {
		put_frame_len(s->buf, (size_t)n);
		*frame = s->buf;
		return MM_FRAME_HDR + n;
	}
	/* Too large for the buffer, or a message the one-pass encoder does not take. */
	rc = scratch_reserve(s, mm_frame__size(msg) + MM_ONEPASS_SLACK);
	if (rc)
		return rc;
	n = mm_frame__pack(msg, s->buf, s->cap);
	if (n >= 0)
		*frame = s->buf;
	return n;
}

void mm_frame_scratch__release(struct mm_frame_scratch *s)
{
	free(s->buf);
	s->buf = NULL;
	s->cap = 0;
}

int mm_frame__encode(const ProtobufCMessage *msg, uint8_t **out, size_t *len)
{
	size_t n = protobuf_c_message_get_packed_size(msg);
	uint8_t *buf;
	long ret;

	if (n > MM_FRAME_MAX)
		return -EMSGSIZE;
	buf = malloc(MM_FRAME_HDR + n);
	if (!buf)
		return -ENOMEM;
	ret = mm_frame__pack(msg, buf, MM_FRAME_HDR + n);
	if (ret < 0) {
		free(buf);
		return (int)ret;
	}
	*out = buf;
	*len = (size_t)ret;
	return 0;
}

int mm_frame__encode_server(const Meshmon__V1__ServerMessage *msg, uint8_t **out, size_t *len)
{
	return mm_frame__encode(&msg->base, out, len);
}

int mm_frame__encode_client(const Meshmon__V1__ClientMessage *msg, uint8_t **out, size_t *len)
{
	return mm_frame__encode(&msg->base, out, len);
}

Meshmon__V1__ServerMessage *mm_frame__unpack_server(const uint8_t *payload, size_t len)
{
	if (len > MM_FRAME_MAX)
		return NULL;
	/*
	 * msg_case may be NOT_SET: a newer agent's message kind this client does
	 * not know. Clients skip those (docs/protocol.md, "Versioning").
	 */
	return meshmon__v1__server_message__unpack(NULL, len, payload);
}

Meshmon__V1__ClientMessage *mm_frame__unpack_client(const uint8_t *payload, size_t len)
{
	Meshmon__V1__ClientMessage *m;

	if (len > MM_FRAME_MAX)
		return NULL;
	m = meshmon__v1__client_message__unpack(NULL, len, payload);
	if (m && m->msg_case == MESHMON__V1__CLIENT_MESSAGE__MSG__NOT_SET) {
		meshmon__v1__client_message__free_unpacked(m, NULL);
		return NULL;
	}
	return m;
}

void mm_frame__free_server(Meshmon__V1__ServerMessage *msg)
{
	if (msg)
		meshmon__v1__server_message__free_unpacked(msg, NULL);
}

void mm_frame__free_client(Meshmon__V1__ClientMessage *msg)
{
	if (msg)
		meshmon__v1__client_message__free_unpacked(msg, NULL);
}
