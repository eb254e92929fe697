// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * gen_onepass: writes the one-pass packers (onepass.h) for every message
 * reachable from ServerMessage, as C: one function per message, one
 * straight-line test-and-write per field, the tags as constants. It reads
 * protobuf-c's descriptors of meshmon.proto, so the packers follow the proto
 * without a field listed by hand; offsets are read from the descriptors at
 * run time (no C member names needed, and the target's own layout).
 *
 * An interpreter over the same descriptors took 5 times as long per Event on
 * this machine (an indirect branch or two per field); see docs/performance.md.
 *
 * Usage: gen_onepass OUTPUT.h
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meshmon.pb-c.h"

#define MAX_MESSAGES 64

static const ProtobufCMessageDescriptor *seen[MAX_MESSAGES];
static unsigned int n_seen;

static void visit(const ProtobufCMessageDescriptor *d)
{
	for (unsigned int i = 0; i < n_seen; i++)
		if (seen[i] == d)
			return;
	if (n_seen == MAX_MESSAGES) {
		fprintf(stderr, "gen_onepass: more than %d messages\n", MAX_MESSAGES);
		exit(1);
	}
	seen[n_seen++] = d;
	for (unsigned int i = 0; i < d->n_fields; i++)
		if (d->fields[i].type == PROTOBUF_C_TYPE_MESSAGE)
			visit(d->fields[i].descriptor);
}

/* "meshmon.v1.Event" -> "meshmon_v1_Event" */
static void put_ident(FILE *out, const ProtobufCMessageDescriptor *d)
{
	fputs("pack_", out);
	for (const char *p = d->name; *p; p++)
		fputc(*p == '.' ? '_' : *p, out);
}

static int is_pointer(const ProtobufCFieldDescriptor *f)
{
	return f->type == PROTOBUF_C_TYPE_MESSAGE || f->type == PROTOBUF_C_TYPE_STRING;
}

/* The C expression that is true when protobuf_c_message_pack writes the field. */
static void put_presence(FILE *out, const ProtobufCFieldDescriptor *f, unsigned int i)
{
	if (f->label == PROTOBUF_C_LABEL_REQUIRED) {
		fputs("1", out);
		return;
	}
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
		fprintf(out, "U32(Q(%u)) == %uu", i, f->id);
		if (is_pointer(f))
			fprintf(out, " && SET(%u)", i);
		return;
	}
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL) {
		if (is_pointer(f))
			fprintf(out, "SET(%u)", i);
		else
			fprintf(out, "*(const protobuf_c_boolean *)Q(%u)", i);
		return;
	}
	switch (f->type) { /* proto3 without presence: not zero */
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_FIXED64:
		fprintf(out, "U64(F(%u))", i);
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		fprintf(out, "*(const float *)F(%u) != 0", i);
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		fprintf(out, "*(const double *)F(%u) != 0", i);
		break;
	case PROTOBUF_C_TYPE_STRING:
		fprintf(out, "STR(%u) && *STR(%u)", i, i);
		break;
	case PROTOBUF_C_TYPE_BYTES:
		fprintf(out, "BIN(%u)->len", i);
		break;
	case PROTOBUF_C_TYPE_MESSAGE:
		fprintf(out, "PTR(%u)", i);
		break;
	default: /* 32-bit integers, enums, protobuf_c_boolean */
		fprintf(out, "U32(F(%u))", i);
		break;
	}
}

static unsigned int wire_of(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_FLOAT:
		return PROTOBUF_C_WIRE_TYPE_32BIT;
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return PROTOBUF_C_WIRE_TYPE_64BIT;
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_BYTES:
	case PROTOBUF_C_TYPE_MESSAGE:
		return PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED;
	default:
		return PROTOBUF_C_WIRE_TYPE_VARINT;
	}
}

/* The tag as a C string literal and its length. */
static void put_tag(FILE *out, const ProtobufCFieldDescriptor *f)
{
	unsigned long long v = (unsigned long long)f->id << 3 | wire_of(f->type);
	unsigned int n = 0;

	fputs("\"", out);
	do {
		unsigned int byte = (unsigned int)(v & 0x7f) | (v >= 0x80 ? 0x80 : 0);

		fprintf(out, "\\x%02x", byte);
		v >>= 7;
		n++;
	} while (v);
	fprintf(out, "\", %u", n);
}

/* The statement that writes the field's tag and value (required_field_pack's bytes). */
static void put_write(FILE *out, const ProtobufCFieldDescriptor *f, unsigned int i)
{
	const char *scalar = NULL;

	switch (f->type) {
	case PROTOBUF_C_TYPE_UINT32:
		scalar = "put_varint(o->p, U32(F(%u)))";
		break;
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_ENUM: /* negative: sign-extended, 10 bytes */
		scalar = "put_varint(o->p, (uint64_t)(int64_t)*(const int32_t *)F(%u))";
		break;
	case PROTOBUF_C_TYPE_SINT32:
		scalar = "put_varint(o->p, (uint32_t)zigzag(*(const int32_t *)F(%u)))";
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_UINT64:
		scalar = "put_varint(o->p, U64(F(%u)))";
		break;
	case PROTOBUF_C_TYPE_SINT64:
		scalar = "put_varint(o->p, zigzag(*(const int64_t *)F(%u)))";
		break;
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_FLOAT:
		scalar = "put_le(o->p, U32(F(%u)), 4)";
		break;
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		scalar = "put_le(o->p, U64(F(%u)), 8)";
		break;
	case PROTOBUF_C_TYPE_BOOL:
		scalar = "put_bool(o->p, *(const protobuf_c_boolean *)F(%u))";
		break;
	case PROTOBUF_C_TYPE_STRING:
		fprintf(out, "\t\tTRY(put_string(o, ");
		put_tag(out, f);
		fprintf(out, ", STR(%u)));\n", i);
		return;
	case PROTOBUF_C_TYPE_BYTES:
		fprintf(out, "\t\tTRY(put_bytes(o, ");
		put_tag(out, f);
		fprintf(out, ", BIN(%u)->data, BIN(%u)->len));\n", i, i);
		return;
	case PROTOBUF_C_TYPE_MESSAGE:
		/* the length bytes this field's body took last time: usually right */
		fprintf(out, "\t\tstatic _Thread_local uint8_t len_hint = 1;\n\n");
		fprintf(out, "\t\tTRY(put_message(o, ");
		put_tag(out, f);
		fputs(", ", out);
		put_ident(out, f->descriptor);
		fprintf(out, ", PTR(%u), f[%u].descriptor, &len_hint));\n", i, i);
		return;
	}
	fprintf(out, "\t\to->p = put_raw(o->p, ");
	put_tag(out, f);
	fprintf(out, ");\n\t\to->p = ");
	fprintf(out, scalar, i);
	fputs(";\n", out);
}

static int is_scalar(const ProtobufCFieldDescriptor *f)
{
	return f->label != PROTOBUF_C_LABEL_REPEATED && f->type != PROTOBUF_C_TYPE_STRING &&
	       f->type != PROTOBUF_C_TYPE_BYTES && f->type != PROTOBUF_C_TYPE_MESSAGE;
}

/*
 * One room check for a run of scalar fields (up to the next string, bytes or
 * submessage, which check their own): each at most a tag and a 10-byte value.
 */
static void put_room_for_run(FILE *out, const ProtobufCMessageDescriptor *d, unsigned int from)
{
	unsigned int n = 0;

	for (unsigned int i = from; i < d->n_fields && is_scalar(&d->fields[i]); i++)
		n++;
	fprintf(out, "\tif (!room(o, %u * (TAG_MAX + VARINT_MAX)))\n\t\treturn -ENOBUFS;\n", n);
}

static void put_packer(FILE *out, const ProtobufCMessageDescriptor *d)
{
	fprintf(out, "\n/* %s */\nstatic int ", d->name);
	put_ident(out, d);
	fputs("(const uint8_t *m, const ProtobufCMessageDescriptor *d, struct out *o)\n{\n", out);
	fputs("\tconst ProtobufCFieldDescriptor *f = d->fields;\n\n", out);
	fprintf(out, "\tif (d->n_fields != %u || ((const ProtobufCMessage *)m)->n_unknown_fields)\n"
		     "\t\treturn -ENOTSUP;\n", d->n_fields);
	for (unsigned int i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];

		if (f->label == PROTOBUF_C_LABEL_REPEATED) { /* none: nothing is written */
			fprintf(out, "\tif (*(const size_t *)Q(%u)) /* %s: repeated */\n"
				     "\t\treturn -ENOTSUP;\n", i, f->name);
			continue;
		}
		if (is_scalar(f) && (i == 0 || !is_scalar(&d->fields[i - 1])))
			put_room_for_run(out, d, i);
		fprintf(out, "\tif (");
		put_presence(out, f, i);
		fprintf(out, ") { /* %s = %u */\n", f->name, f->id);
		put_write(out, f, i);
		fputs("\t}\n", out);
	}
	fputs("\treturn 0;\n}\n", out);
}

int main(int argc, char **argv)
{
	FILE *out;

	if (argc != 2) {
		fprintf(stderr, "usage: gen_onepass OUTPUT.h\n");
		return 2;
	}
	out = fopen(argv[1], "w");
	if (!out) {
		perror(argv[1]);
		return 1;
	}
	visit(&meshmon__v1__server_message__descriptor);
	fputs("/* Generated by proto/gen_onepass.c from meshmon.proto: do not edit. */\n", out);
	fputs("\n/* Every packer, declared first: messages refer to each other. */\n", out);
	for (unsigned int i = 0; i < n_seen; i++) {
		fputs("static int ", out);
		put_ident(out, seen[i]);
		fputs("(const uint8_t *m, const ProtobufCMessageDescriptor *d, struct out *o);\n", out);
	}
	for (unsigned int i = 0; i < n_seen; i++)
		put_packer(out, seen[i]);
	fputs("\nstatic const struct packer packers[] = {\n", out);
	for (unsigned int i = 0; i < n_seen; i++) {
		fprintf(out, "\t{\"%s\", ", seen[i]->name);
		put_ident(out, seen[i]);
		fputs("},\n", out);
	}
	fputs("};\n", out);
	if (fclose(out)) {
		perror(argv[1]);
		return 1;
	}
	return 0;
}
