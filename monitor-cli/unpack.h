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

#include <stddef.h>
#include <stdint.h>

#include "arena.h"

/*
 * The message of descriptor d in the len bytes at data, allocated in a (which
 * holds it until reset); NULL when the bytes are not a valid message.
 */
ProtobufCMessage *mm_unpack(const ProtobufCMessageDescriptor *d, struct mm_arena *a, size_t len,
			    const uint8_t *data);
/* The one-pass decoder alone: NULL when it leaves the bytes to protobuf-c (for the tests). */
ProtobufCMessage *mm_unpack__fast(const ProtobufCMessageDescriptor *d, struct mm_arena *a,
				  size_t len, const uint8_t *data);

#endif /* MESHMON_CLI_UNPACK_H */
