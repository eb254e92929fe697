// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * fuzz_unpack: the CLI's one-pass decoder (monitor-cli/unpack.h) against
 * protobuf-c on the agent's bytes. The input is laid out as fuzz_client_format's
 * (whose seed corpus this target shares): one settings byte, then a stream of
 * length-prefixed frames; every frame's payload, and whatever bytes are left
 * at the end, is unpacked as a ServerMessage both ways.
 *
 * Invariant: mm_unpack returns a message exactly when
 * protobuf_c_message_unpack does, and the two messages pack to the same bytes
 * (so they hold the same fields and values); the arena is reset between
 * messages as the CLI resets it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "framing.h"
#include "unpack.h"

static struct mm_unpack u;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	mm_unpack__init(&u);
	return 0;
}

static void check_one(const uint8_t *p, size_t len)
{
	const ProtobufCMessageDescriptor *d = &meshmon__v1__server_message__descriptor;
	ProtobufCMessage *fast = mm_unpack(&u, d, len, p);
	ProtobufCMessage *ref = protobuf_c_message_unpack(d, NULL, len, p);

	FUZZ_CHECK(!fast == !ref, "mm_unpack %s where protobuf-c %s (%zu bytes)",
		   fast ? "decoded" : "refused", ref ? "decoded" : "refused", len);
	if (fast && ref) {
		size_t a = protobuf_c_message_get_packed_size(fast);
		size_t b = protobuf_c_message_get_packed_size(ref);
		uint8_t *pa = malloc(a + 1), *pb = malloc(b + 1);

		FUZZ_CHECK(pa && pb, "out of memory");
		protobuf_c_message_pack(fast, pa);
		protobuf_c_message_pack(ref, pb);
		FUZZ_CHECK(a == b && !memcmp(pa, pb, a), "the two decodings differ (%zu, %zu bytes)", a,
			   b);
		free(pa);
		free(pb);
	}
	if (ref)
		protobuf_c_message_free_unpacked(ref, NULL);
	mm_arena__reset(&u.arena);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = size ? 1 : 0; /* the settings byte of fuzz_client_format */

	while (size - off >= MM_FRAME_HDR) {
		const uint8_t *p = data + off;
		uint32_t n = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];

		if (n > size - off - MM_FRAME_HDR)
			break;
		check_one(p + MM_FRAME_HDR, n);
		off += MM_FRAME_HDR + n;
	}
	check_one(data + off, size - off);
	return 0;
}
