/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Unpacking the stream's messages (unpack.c). protobuf_c_message_unpack was
 * most of what a line cost once the formatters stopped using printf: it
 * scans every message twice (first the fields, then their values), looks
 * each field up in its descriptor on both passes, and asks the allocator
 * for each scan of a submessage. The messages of a stream have one shape:
 * scalars, strings, bytes, submessages and oneofs, each field once, in a
 * canonical encoding. mm_unpack decodes that shape in one pass, driven by
 * the descriptors protoc-c generated (so a field added to meshmon.proto is
 * decoded without a change here), into the same structs, into an arena.
 *
 * Anything else goes to protobuf-c itself, which decides: a repeated field,
 * an unknown field, a submessage or oneof member given twice (protobuf-c
 * 1.4 replaces the first, later versions merge submessages), a wire type
 * that does not match the field, a varint or a length that protobuf-c would
 * read differently or refuse. So the result is always what
 * protobuf_c_message_unpack returns for the same bytes, whatever its
 * version; tests/test_cli_unpack.c holds the two side by side.
 */
#ifndef MESHMON_CLI_UNPACK_H
#define MESHMON_CLI_UNPACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"

/* Field numbers a table covers; a field past it is left to protobuf-c. */
#define MM_UNPACK_MAX_ID 31
/* Descriptors with a table: ServerMessage and every message it nests. */
#define MM_UNPACK_TABLES 24

/* One field number of a message: how to read it and where it goes (unpack.c). */
struct mm_unpack_field {
	uint8_t kind;  /* enum kind of unpack.c; 0: protobuf-c reads the message */
	uint8_t wire;  /* the wire type it must come with */
	uint8_t oneof; /* a member of a oneof: the case is at qoffset */
	uint8_t has;   /* proto3 `optional`: the has_ flag is at qoffset */
	uint32_t offset, qoffset;
	const ProtobufCMessageDescriptor *sub;  /* a submessage's descriptor */
	struct mm_unpack_table *sub_table;      /* and its table, once made */
};

struct mm_unpack_table {
	const ProtobufCMessageDescriptor *d;
	bool usable;
	struct mm_unpack_field f[MM_UNPACK_MAX_ID + 1];
};

/* What a stream is unpacked with: the arena, and the tables made from the descriptors. */
struct mm_unpack {
	struct mm_arena arena;
	struct mm_unpack_table tables[MM_UNPACK_TABLES];
	unsigned int n_tables;
};

/* An empty arena and no tables yet (mm_arena__release frees what the arena holds). */
void mm_unpack__init(struct mm_unpack *u);
/*
 * The message of descriptor d in the len bytes at data, allocated in
 * u->arena (which holds it until reset); NULL when the bytes are not a
 * valid message.
 */
ProtobufCMessage *mm_unpack(struct mm_unpack *u, const ProtobufCMessageDescriptor *d, size_t len,
			    const uint8_t *data);
/* The one-pass decoder alone: NULL when it leaves the bytes to protobuf-c (for the tests). */
ProtobufCMessage *mm_unpack__fast(struct mm_unpack *u, const ProtobufCMessageDescriptor *d,
				  size_t len, const uint8_t *data);

#endif /* MESHMON_CLI_UNPACK_H */
