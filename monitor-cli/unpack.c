// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The one-pass unpack of the stream's messages (see unpack.h). Each value
 * is read as protobuf-c's parse_required_member reads it (the low 32 bits
 * of a varint for 32-bit fields, any set bit for a bool, a string copied
 * and NUL-terminated, bytes of length 0 as NULL), and every case where
 * protobuf-c does something else, or refuses, is left to protobuf-c: the
 * decoder returns false and mm_unpack calls protobuf_c_message_unpack on
 * the same bytes. Each descriptor's fields are looked up once, into a table
 * by field number (struct mm_unpack_table), on its first use.
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
/* n bytes from s to d: two overlapping words for the short strings and addresses of a stream. */
static inline void copy(void *d, const void *s, size_t n)
{
	uint64_t a, b;
	uint32_t c, e;

	if (n >= 8 && n <= 16) {
		memcpy(&a, s, 8);
		memcpy(&b, (const char *)s + n - 8, 8);
		memcpy(d, &a, 8);
		memcpy((char *)d + n - 8, &b, 8);
	} else if (n >= 4 && n < 8) {
		memcpy(&c, s, 4);
		memcpy(&e, (const char *)s + n - 4, 4);
		memcpy(d, &c, 4);
		memcpy((char *)d + n - 4, &e, 4);
	} else {
		memcpy(d, s, n);
	}
}

static inline bool read_length(const uint8_t **pp, const uint8_t *end, size_t *n)
{
	uint64_t v;
	unsigned int len;

	if (!read_varint(pp, end, &v, &len) || len > 5 || v > (uint64_t)(end - *pp))
		return false;
	*n = (size_t)v;
	return true;
}

/* What a field is, for the one pass: how to read it. */
enum kind {
	K_NONE,  /* not read in one pass (repeated, or no such field): protobuf-c's */
	K_32,    /* int32, uint32, enum: the low 32 bits of a varint */
	K_S32,   /* sint32 */
	K_64,    /* int64, uint64 */
	K_S64,   /* sint64 */
	K_BOOL,  /* any set bit of a varint */
	K_F32,   /* fixed32, sfixed32, float */
	K_F64,   /* fixed64, sfixed64, double */
	K_STR,
	K_BYTES,
	K_MSG,
};

static const uint8_t wire_of[] = {
	[K_32] = PROTOBUF_C_WIRE_TYPE_VARINT,  [K_S32] = PROTOBUF_C_WIRE_TYPE_VARINT,
	[K_64] = PROTOBUF_C_WIRE_TYPE_VARINT,  [K_S64] = PROTOBUF_C_WIRE_TYPE_VARINT,
	[K_BOOL] = PROTOBUF_C_WIRE_TYPE_VARINT, [K_F32] = PROTOBUF_C_WIRE_TYPE_32BIT,
	[K_F64] = PROTOBUF_C_WIRE_TYPE_64BIT,  [K_STR] = PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED,
	[K_BYTES] = PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED,
	[K_MSG] = PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED,
};

static enum kind kind_of(const ProtobufCFieldDescriptor *f)
{
	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		return K_NONE;
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_ENUM:
		return K_32;
	case PROTOBUF_C_TYPE_SINT32:
		return K_S32;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_UINT64:
		return K_64;
	case PROTOBUF_C_TYPE_SINT64:
		return K_S64;
	case PROTOBUF_C_TYPE_BOOL:
		return K_BOOL;
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_FLOAT:
		return K_F32;
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return K_F64;
	case PROTOBUF_C_TYPE_STRING:
		return K_STR;
	case PROTOBUF_C_TYPE_BYTES:
		return K_BYTES;
	case PROTOBUF_C_TYPE_MESSAGE:
		return K_MSG;
	default:
		return K_NONE;
	}
}

/*
 * The table of descriptor d, made on its first use: what each field number
 * is. NULL when d has a required field (protobuf-c checks that it came:
 * proto3 has none) or there is no room for one more table.
 */
static struct mm_unpack_table *table_of(struct mm_unpack *u, const ProtobufCMessageDescriptor *d)
{
	struct mm_unpack_table *t;
	unsigned int i;

	for (i = 0; i < u->n_tables; i++)
		if (u->tables[i].d == d)
			return u->tables[i].usable ? &u->tables[i] : NULL;
	if (u->n_tables == MM_UNPACK_TABLES)
		return NULL;
	t = &u->tables[u->n_tables++];
	memset(t, 0, sizeof(*t));
	t->d = d;
	t->usable = true;
	for (i = 0; i <= MM_UNPACK_MAX_ID; i++)
		t->f[i].wire = 0xff; /* no such field: no wire type matches */
	for (i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		struct mm_unpack_field *e;

		if (f->label == PROTOBUF_C_LABEL_REQUIRED)
			t->usable = false;
		/* A field past the table is left to protobuf-c (meshmon.proto stops at 24). */
		if (f->id > MM_UNPACK_MAX_ID)
			continue;
		e = &t->f[f->id];
		e->kind = (uint8_t)kind_of(f);
		e->wire = e->kind == K_NONE ? 0xff : wire_of[e->kind];
		e->offset = f->offset;
		e->qoffset = f->quantifier_offset;
		e->oneof = (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0;
		/* proto3 `optional` has a has_ flag (plain proto3 fields have none). */
		e->has = !e->oneof && f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset;
		e->sub = e->kind == K_MSG ? f->descriptor : NULL;
	}
	return t->usable ? t : NULL;
}

static bool decode(struct mm_unpack *u, struct mm_unpack_table *t, ProtobufCMessage *m,
		   const uint8_t *p, const uint8_t *end, int depth)
{
	struct mm_unpack_field *e;
	const uint8_t *start;
	unsigned int len, id, i;
	uint32_t *oneof_case = NULL, w;
	ProtobufCMessage *sub;
	char *member, *s;
	uint64_t tag, v;
	size_t n;

	t->d->message_init(m);
	while (p < end) {
		/* protobuf-c reads a tag of up to 5 bytes; field numbers start at 1. */
		if (!read_varint(&p, end, &tag, &len) || len > 5 || tag >> 3 == 0 ||
		    tag >> 3 > MM_UNPACK_MAX_ID)
			return false;
		id = (unsigned int)(tag >> 3);
		e = &t->f[id];
		/*
		 * Unknown fields are kept and repeated ones counted first by
		 * protobuf-c, and a wire type that does not match the field's is
		 * refused (or, for a bool, read its own way): all its.
		 */
		if (e->wire != (tag & 7))
			return false;
		member = (char *)m + e->offset;
		if (e->oneof) {
			oneof_case = (uint32_t *)((char *)m + e->qoffset);
			/* A second member of a oneof replaces the first in protobuf-c. */
			if (*oneof_case)
				return false;
		}
		start = p;
		switch (e->kind) {
		case K_32:
			if (!read_varint(&p, end, &v, &len))
				return false;
			w = (uint32_t)v;
			memcpy(member, &w, sizeof(w));
			break;
		case K_S32:
			if (!read_varint(&p, end, &v, &len))
				return false;
			w = (uint32_t)v;
			w = (w >> 1) ^ (0u - (w & 1));
			memcpy(member, &w, sizeof(w));
			break;
		case K_64:
			if (!read_varint(&p, end, &v, &len))
				return false;
			memcpy(member, &v, sizeof(v));
			break;
		case K_S64:
			if (!read_varint(&p, end, &v, &len))
				return false;
			v = (v >> 1) ^ (0ull - (v & 1));
			memcpy(member, &v, sizeof(v));
			break;
		case K_BOOL: {
			protobuf_c_boolean b = 0;

			if (!read_varint(&p, end, &v, &len))
				return false;
			for (i = 0; i < len; i++)
				b |= (start[i] & 0x7f) != 0;
			memcpy(member, &b, sizeof(b));
			break;
		}
		case K_F32:
			if (end - p < 4)
				return false;
			memcpy(member, p, 4);
			p += 4;
			break;
		case K_F64:
			if (end - p < 8)
				return false;
			memcpy(member, p, 8);
			p += 8;
			break;
		case K_STR:
			if (!read_length(&p, end, &n))
				return false;
			s = mm_arena__alloc(&u->arena, n + 1);
			if (!s)
				return false;
			copy(s, p, n);
			s[n] = '\0';
			*(char **)member = s;
			p += n;
			break;
		case K_BYTES: {
			ProtobufCBinaryData *bd = (ProtobufCBinaryData *)member;

			if (!read_length(&p, end, &n))
				return false;
			bd->len = n;
			bd->data = NULL;
			if (n) {
				bd->data = mm_arena__alloc(&u->arena, n);
				if (!bd->data)
					return false;
				copy(bd->data, p, n);
			}
			p += n;
			break;
		}
		case K_MSG:
			/* A submessage given twice: protobuf-c replaces it (1.4) or merges (later). */
			if (*(void **)member || depth >= MAX_DEPTH || !read_length(&p, end, &n))
				return false;
			if (!e->sub_table)
				e->sub_table = table_of(u, e->sub);
			sub = mm_arena__alloc(&u->arena, e->sub->sizeof_message);
			if (!e->sub_table || !sub || !decode(u, e->sub_table, sub, p, p + n, depth + 1))
				return false;
			*(ProtobufCMessage **)member = sub;
			p += n;
			break;
		default:
			return false;
		}
		/* One test for most fields: neither a oneof member nor a has_ flag. */
		if (e->oneof | e->has) {
			if (e->oneof)
				*oneof_case = id;
			else
				*(protobuf_c_boolean *)((char *)m + e->qoffset) = 1;
		}
	}
	return true;
}

void mm_unpack__init(struct mm_unpack *u)
{
	mm_arena__init(&u->arena);
	u->n_tables = 0;
}

ProtobufCMessage *mm_unpack__fast(struct mm_unpack *u, const ProtobufCMessageDescriptor *d,
				  size_t len, const uint8_t *data)
{
	struct mm_unpack_table *t = table_of(u, d);
	ProtobufCMessage *m = t ? mm_arena__alloc(&u->arena, d->sizeof_message) : NULL;

	if (!m || !decode(u, t, m, data, data + len, 0))
		return NULL;
	return m;
}

ProtobufCMessage *mm_unpack(struct mm_unpack *u, const ProtobufCMessageDescriptor *d, size_t len,
			    const uint8_t *data)
{
	ProtobufCMessage *m = mm_unpack__fast(u, d, len, data);

	/* What the one pass left behind stays in the arena until its reset. */
	return m ? m : protobuf_c_message_unpack(d, &u->arena.allocator, len, data);
}
