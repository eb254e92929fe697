// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * One-pass protobuf encoding (onepass.h): the writers the generated packers
 * (gen_onepass.c, onepass_packers.h in the build directory) call, and the
 * lookup of a message's packer.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "onepass.h"

#define VARINT_MAX 10
#define TAG_MAX	   5

struct out {
	uint8_t *p;
	uint8_t *end;
};

typedef int (*pack_fn)(const uint8_t *m, const ProtobufCMessageDescriptor *d, struct out *o);

struct packer {
	const char *name; /* the message's full proto name */
	pack_fn pack;
};

/* Field i of message m, through its descriptor's offsets (generated code). */
#define F(i)   (m + f[i].offset)
#define Q(i)   (m + f[i].quantifier_offset)
#define U32(p) (*(const uint32_t *)(p))
#define U64(p) (*(const uint64_t *)(p))
#define STR(i) (*(const char *const *)F(i))
#define BIN(i) ((const ProtobufCBinaryData *)F(i))
#define PTR(i) (*(const void *const *)F(i))
#define SET(i) (PTR(i) && PTR(i) != f[i].default_value)
#define TRY(x)                \
	do {                  \
		int rc_ = (x); \
		if (rc_)       \
			return rc_; \
	} while (0)

static uint8_t *put_varint(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

static size_t varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

__attribute__((unused)) static uint8_t *put_le(uint8_t *p, uint64_t v, unsigned int bytes)
{
	for (unsigned int i = 0; i < bytes; i++)
		*p++ = (uint8_t)(v >> (8 * i));
	return p;
}

__attribute__((unused)) static uint8_t *put_bool(uint8_t *p, protobuf_c_boolean v)
{
	*p++ = v ? 1 : 0;
	return p;
}

__attribute__((unused)) static uint64_t zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static int room(const struct out *o, size_t n)
{
	return (size_t)(o->end - o->p) >= n;
}

/* Bytes the caller has made room for (a tag). */
__attribute__((unused)) static uint8_t *put_raw(uint8_t *p, const char *bytes, size_t len)
{
	memcpy(p, bytes, len);
	return p + len;
}

static int put_bytes(struct out *o, const char *tag, size_t tag_len, const void *data, size_t len)
{
	if (!room(o, TAG_MAX + VARINT_MAX + len))
		return -ENOBUFS;
	memcpy(o->p, tag, tag_len);
	o->p = put_varint(o->p + tag_len, len);
	if (len)
		memcpy(o->p, data, len);
	o->p += len;
	return 0;
}

static int put_string(struct out *o, const char *tag, size_t tag_len, const char *s)
{
	return put_bytes(o, tag, tag_len, s, s ? strlen(s) : 0);
}

/*
 * A submessage: its body written behind *len_hint bytes for its length (what
 * the same field took last time), moved when the length needs other.
 */
static int put_message(struct out *o, const char *tag, size_t tag_len, pack_fn pack,
		       const void *msg, const ProtobufCMessageDescriptor *d, uint8_t *len_hint)
{
	uint8_t *len_at, *body_at;
	size_t body, len_bytes;

	if (!room(o, tag_len + VARINT_MAX))
		return -ENOBUFS;
	memcpy(o->p, tag, tag_len);
	len_at = o->p + tag_len;
	if (!msg) { /* protobuf-c writes a NULL submessage as empty */
		*len_at = 0;
		o->p = len_at + 1;
		return 0;
	}
	if (((const ProtobufCMessage *)msg)->descriptor != d)
		return -ENOTSUP;
	body_at = len_at + *len_hint;
	o->p = body_at;
	TRY(pack(msg, d, o));
	body = (size_t)(o->p - body_at);
	len_bytes = varint_len(body);
	if (len_bytes != *len_hint) {
		if (len_bytes > *len_hint && !room(o, len_bytes - *len_hint))
			return -ENOBUFS;
		memmove(len_at + len_bytes, body_at, body);
		o->p = len_at + len_bytes + body;
		*len_hint = (uint8_t)len_bytes;
	}
	put_varint(len_at, body);
	return 0;
}

/* Some writers go unused when the proto has no field of their type. */
#include "onepass_packers.h"

static pack_fn packer_of(const ProtobufCMessageDescriptor *d)
{
	static const ProtobufCMessageDescriptor *last;
	static pack_fn last_pack;

	if (d == last)
		return last_pack;
	for (size_t i = 0; i < sizeof(packers) / sizeof(packers[0]); i++) {
		if (!strcmp(packers[i].name, d->name)) {
			last = d;
			last_pack = packers[i].pack;
			return last_pack;
		}
	}
	return NULL;
}

long mm_onepass_pack(const ProtobufCMessage *msg, uint8_t *buf, size_t cap)
{
	struct out o = {buf, buf + cap};
	pack_fn pack = packer_of(msg->descriptor);
	int rc;

	if (!pack)
		return -ENOTSUP;
	rc = pack((const uint8_t *)msg, msg->descriptor, &o);
	return rc ? rc : (long)(o.p - buf);
}
