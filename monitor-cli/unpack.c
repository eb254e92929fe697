// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The one-pass unpack of the stream's messages (see unpack.h). Each value
 * is read as protobuf-c's parse_required_member reads it (the low 32 bits
 * of a varint for 32-bit fields, any set bit for a bool, a string copied
 * and NUL-terminated, bytes of length 0 as NULL), and every case where
 * protobuf-c does something else, or refuses, is left to protobuf-c: the
 * decoder returns false and mm_unpack calls protobuf_c_message_unpack on
 * the same bytes.
 */
#include <endian.h>
#include <stdbool.h>
#include <string.h>

#include "unpack.h"

/* Submessages deeper than this are left to protobuf-c (meshmon.proto nests 3). */
#define MAX_DEPTH 8

/* A varint of at most 10 bytes (protobuf-c's limit) before end; false otherwise. */
static inline bool read_varint(const uint8_t **pp, const uint8_t *end, uint64_t *v,
			       unsigned int *len)
{
	const uint8_t *p = *pp;
	uint64_t r = 0;
	unsigned int i;

	/* Tags, enums, flags and small numbers: one byte. */
	if (p < end && !(*p & 0x80)) {
		*v = *p;
		*len = 1;
		*pp = p + 1;
		return true;
	}
	/*
	 * Ten bytes to read from: the first 8 at once (the end of the varint is
	 * the first byte without its top bit; its 7-bit groups are folded
	 * together in three steps), the 9th and 10th as they come.
	 */
	if (end - p >= 10) {
		uint64_t x, stops;

		memcpy(&x, p, 8);
		x = le64toh(x);
		stops = ~x & 0x8080808080808080ull;
		if (stops) {
			i = (unsigned int)__builtin_ctzll(stops) / 8 + 1;
			if (i < 8)
				x &= (1ull << (8 * i)) - 1;
			x = ((x & 0x7f007f007f007f00ull) >> 1) | (x & 0x007f007f007f007full);
			x = ((x & 0x3fff00003fff0000ull) >> 2) | (x & 0x00003fff00003fffull);
			x = ((x & 0x0fffffff00000000ull) >> 4) | (x & 0x000000000fffffffull);
			*v = x;
			*len = i;
			*pp = p + i;
			return true;
		}
		for (i = 0; i < 10; i++) {
			r |= (uint64_t)(p[i] & 0x7f) << (7 * i);
			if (!(p[i] & 0x80)) {
				*v = r;
				*len = i + 1;
				*pp = p + i + 1;
				return true;
			}
		}
		return false;
	}
	for (i = 0; i < 10 && p + i < end; i++) {
		r |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80)) {
			*v = r;
			*len = i + 1;
			*pp = p + i + 1;
			return true;
		}
	}
	return false;
}

/* A length prefix (at most 5 bytes, as protobuf-c reads it) and that many bytes before end. */
static bool read_length(const uint8_t **pp, const uint8_t *end, size_t *n)
{
	uint64_t v;
	unsigned int len;

	if (!read_varint(pp, end, &v, &len) || len > 5 || v > (uint64_t)(end - *pp))
		return false;
	*n = (size_t)v;
	return true;
}

static bool decode(const ProtobufCMessageDescriptor *d, ProtobufCMessage *m, const uint8_t *p,
		   const uint8_t *end, struct mm_arena *a, int depth);

/* One field's value at *pp into member; false to leave the message to protobuf-c. */
static inline __attribute__((always_inline)) bool decode_field(const ProtobufCFieldDescriptor *f, unsigned int wire, void *member,
			 const uint8_t **pp, const uint8_t *end, struct mm_arena *a, int depth)
{
	const uint8_t *start = *pp;
	ProtobufCMessage *sub;
	unsigned int len, i;
	uint64_t v;
	size_t n;
	uint32_t u;
	char *s;

	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_ENUM:
		if (wire != PROTOBUF_C_WIRE_TYPE_VARINT || !read_varint(pp, end, &v, &len))
			return false;
		u = (uint32_t)v;
		memcpy(member, &u, sizeof(u));
		return true;
	case PROTOBUF_C_TYPE_SINT32:
		if (wire != PROTOBUF_C_WIRE_TYPE_VARINT || !read_varint(pp, end, &v, &len))
			return false;
		u = (uint32_t)v;
		u = (u >> 1) ^ (0u - (u & 1));
		memcpy(member, &u, sizeof(u));
		return true;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_UINT64:
		if (wire != PROTOBUF_C_WIRE_TYPE_VARINT || !read_varint(pp, end, &v, &len))
			return false;
		memcpy(member, &v, sizeof(v));
		return true;
	case PROTOBUF_C_TYPE_SINT64:
		if (wire != PROTOBUF_C_WIRE_TYPE_VARINT || !read_varint(pp, end, &v, &len))
			return false;
		v = (v >> 1) ^ (0ull - (v & 1));
		memcpy(member, &v, sizeof(v));
		return true;
	case PROTOBUF_C_TYPE_BOOL: {
		protobuf_c_boolean b = 0;

		/* protobuf-c reads a bool of any wire type; only a varint's reading is simple. */
		if (wire != PROTOBUF_C_WIRE_TYPE_VARINT || !read_varint(pp, end, &v, &len))
			return false;
		for (i = 0; i < len; i++)
			b |= (start[i] & 0x7f) != 0;
		memcpy(member, &b, sizeof(b));
		return true;
	}
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_FLOAT:
		if (wire != PROTOBUF_C_WIRE_TYPE_32BIT || end - *pp < 4)
			return false;
		memcpy(member, *pp, 4);
		*pp += 4;
		return true;
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		if (wire != PROTOBUF_C_WIRE_TYPE_64BIT || end - *pp < 8)
			return false;
		memcpy(member, *pp, 8);
		*pp += 8;
		return true;
	case PROTOBUF_C_TYPE_STRING:
		if (wire != PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED || !read_length(pp, end, &n))
			return false;
		s = mm_arena__alloc(a, n + 1);
		if (!s)
			return false;
		memcpy(s, *pp, n);
		s[n] = '\0';
		*(char **)member = s;
		*pp += n;
		return true;
	case PROTOBUF_C_TYPE_BYTES: {
		ProtobufCBinaryData *bd = member;

		if (wire != PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED || !read_length(pp, end, &n))
			return false;
		bd->len = n;
		bd->data = NULL;
		if (n) {
			bd->data = mm_arena__alloc(a, n);
			if (!bd->data)
				return false;
			memcpy(bd->data, *pp, n);
		}
		*pp += n;
		return true;
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessageDescriptor *sd = f->descriptor;

		/* A submessage given twice: protobuf-c replaces it (1.4) or merges (later). */
		if (wire != PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED || *(void **)member ||
		    depth >= MAX_DEPTH || !read_length(pp, end, &n))
			return false;
		sub = mm_arena__alloc(a, sd->sizeof_message);
		if (!sub || !decode(sd, sub, *pp, *pp + n, a, depth + 1))
			return false;
		*(ProtobufCMessage **)member = sub;
		*pp += n;
		return true;
	}
	default:
		return false;
	}
}

static bool decode(const ProtobufCMessageDescriptor *d, ProtobufCMessage *m, const uint8_t *p,
		   const uint8_t *end, struct mm_arena *a, int depth)
{
	const ProtobufCFieldDescriptor *f = NULL, *fields_end = d->fields + d->n_fields;
	unsigned int len, id, wire;
	uint32_t *oneof_case;
	uint64_t tag;

	d->message_init(m);
	while (p < end) {
		/* protobuf-c reads a tag of up to 5 bytes; field numbers start at 1. */
		if (!read_varint(&p, end, &tag, &len) || len > 5 || tag >> 3 == 0 ||
		    tag >> 3 > UINT32_MAX >> 3)
			return false;
		id = (unsigned int)(tag >> 3);
		wire = (unsigned int)(tag & 7);
		/*
		 * d->fields is in number order, and meshmon.proto numbers the fields
		 * of a message from 1 with few gaps: field N is most often at N - 1.
		 * Else look ahead from the last field (protobuf-c packs in number
		 * order, leaving out fields at their default), else ask protobuf-c.
		 */
		if (id <= d->n_fields && d->fields[id - 1].id == id) {
			f = &d->fields[id - 1];
		} else {
			if (!f || f->id >= id)
				f = d->fields;
			while (f < fields_end && f->id < id)
				f++;
			if (f == fields_end || f->id != id)
				f = protobuf_c_message_descriptor_get_field(d, id);
		}
		/* Unknown fields are kept, repeated ones counted first, by protobuf-c. */
		if (!f || f->label == PROTOBUF_C_LABEL_REPEATED ||
		    f->label == PROTOBUF_C_LABEL_REQUIRED)
			return false;
		oneof_case = NULL;
		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
			oneof_case = (uint32_t *)((char *)m + f->quantifier_offset);
			/* A second member of a oneof replaces the first in protobuf-c. */
			if (*oneof_case)
				return false;
		}
		if (!decode_field(f, wire, (char *)m + f->offset, &p, end, a, depth))
			return false;
		if (oneof_case)
			*oneof_case = f->id;
		/* proto3 `optional`: the has_ flag (proto3 plain fields have none). */
		else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset)
			*(protobuf_c_boolean *)((char *)m + f->quantifier_offset) = 1;
	}
	return true;
}

ProtobufCMessage *mm_unpack__fast(const ProtobufCMessageDescriptor *d, struct mm_arena *a,
				  size_t len, const uint8_t *data)
{
	ProtobufCMessage *m = mm_arena__alloc(a, d->sizeof_message);

	if (!m || !decode(d, m, data, data + len, a, 0))
		return NULL;
	return m;
}

ProtobufCMessage *mm_unpack(const ProtobufCMessageDescriptor *d, struct mm_arena *a, size_t len,
			    const uint8_t *data)
{
	ProtobufCMessage *m = mm_unpack__fast(d, a, len, data);

	/* What the one pass left behind stays in the arena until its reset. */
	return m ? m : protobuf_c_message_unpack(d, &a->allocator, len, data);
}
