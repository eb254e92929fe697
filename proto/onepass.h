/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A one-pass protobuf encoder for the agent's hot path: the events it packs
 * once per record (docs/performance.md).
 *
 * protobuf-c sizes a message before packing it and, for every submessage,
 * sizes it again inside the parent's pack: an Event frame (ServerMessage >
 * Event > Tuple, Trace) had its leaves sized three times and packed once,
 * about half of the agent's CPU. This encoder walks the same descriptors once,
 * writes each submessage's body behind a one-byte length and moves the body
 * when its length needs more bytes. The bytes are exactly protobuf-c's:
 * fields in descriptor order, proto3 fields left out when zero, oneof members
 * by their case (test_onepass checks every field of every event message
 * against protobuf_c_message_pack).
 *
 * It knows every scalar type, strings, bytes, submessages and oneofs; a
 * repeated field or unknown fields give -ENOTSUP, so that callers fall back to
 * protobuf-c for those messages (Status, Hello).
 */
#ifndef MESHMON_PROTO_ONEPASS_H
#define MESHMON_PROTO_ONEPASS_H

#include <stddef.h>
#include <protobuf-c/protobuf-c.h>

/*
 * Pack msg into buf: the packed length, -ENOBUFS when cap is too small (buf
 * may then hold partial output), or -ENOTSUP (see above). Room is checked
 * once per run of scalar fields, for their largest encoding (15 bytes each),
 * so a cap less than MM_ONEPASS_SLACK above the packed length may be refused
 * too; a scratch buffer of a few KiB is what it is made for.
 */
#define MM_ONEPASS_SLACK 1024

long mm_onepass_pack(const ProtobufCMessage *msg, uint8_t *buf, size_t cap);

#endif /* MESHMON_PROTO_ONEPASS_H */
