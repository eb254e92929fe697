// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The one-pass encoder (proto/onepass.h) against protobuf-c: the same bytes
 * for every field of every message an Event frame holds, each oneof case,
 * zero and absent fields, random fills; -ENOTSUP for messages with repeated
 * fields and -ENOBUFS, never an overrun, for every buffer too small. The
 * messages are filled through their descriptors, so a field added to the
 * proto is covered without touching this test.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "framing.h"
#include "onepass.h"

/* Everything a fill allocates, freed at the end of the test. */
static void *allocs[4096];
static size_t n_allocs;

static void *keep(void *p)
{
	cr_assert(p != NULL);
	cr_assert(n_allocs < sizeof(allocs) / sizeof(allocs[0]));
	allocs[n_allocs++] = p;
	return p;
}

static void free_all(void)
{
	while (n_allocs)
		free(allocs[--n_allocs]);
}

TestSuite(onepass, .fini = free_all);

static uint64_t rng = 88172645463325252ull;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* A value of every size class a varint has: 1, 2, 5 and 10 bytes. */
static uint64_t some_value(unsigned int salt)
{
	static const uint64_t classes[] = {1, 127, 128, 300, 0xffffffffull, 1ull << 35, ~0ull};

	return classes[(next_rand() + salt) % (sizeof(classes) / sizeof(classes[0]))];
}

enum fill_mode {
	FILL_ALL,    /* every field set, non-zero */
	FILL_RANDOM, /* each field set with probability 1/2 */
};

static void fill(ProtobufCMessage *m, enum fill_mode mode, int depth);

static char *some_string(void)
{
	size_t len = next_rand() % 3 == 0 ? 200 : 1 + next_rand() % 20; /* a 2-byte length too */
	char *s = keep(malloc(len + 1));

	for (size_t i = 0; i < len; i++)
		s[i] = (char)('a' + next_rand() % 26);
	s[len] = '\0';
	return s;
}

static ProtobufCMessage *some_message(const ProtobufCMessageDescriptor *d, enum fill_mode mode,
				      int depth)
{
	ProtobufCMessage *sub = keep(calloc(1, d->sizeof_message));

	d->message_init(sub);
	fill(sub, mode, depth + 1);
	return sub;
}

static void fill_field(const ProtobufCFieldDescriptor *f, void *member, enum fill_mode mode,
		       int depth)
{
	uint64_t v = some_value(f->id);

	switch (f->type) {
	case PROTOBUF_C_TYPE_BOOL:
		*(protobuf_c_boolean *)member = 1;
		break;
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumDescriptor *e = f->descriptor;

		/* a declared value, or now and then an undeclared negative one */
		*(int *)member = next_rand() % 5 ? e->values[next_rand() % e->n_values].value : -3;
		if (!*(int *)member)
			*(int *)member = 1;
		break;
	}
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_FLOAT:
		*(uint32_t *)member = (uint32_t)v ? (uint32_t)v : 7;
		break;
	case PROTOBUF_C_TYPE_STRING:
		*(char **)member = some_string();
		break;
	case PROTOBUF_C_TYPE_BYTES: {
		ProtobufCBinaryData *b = member;

		b->data = (uint8_t *)some_string();
		b->len = strlen((char *)b->data);
		break;
	}
	case PROTOBUF_C_TYPE_MESSAGE:
		*(ProtobufCMessage **)member = depth < 4 ? some_message(f->descriptor, mode, depth) : NULL;
		break;
	default: /* the 64-bit types */
		*(uint64_t *)member = v;
		break;
	}
}

/* Every non-oneof field; each oneof gets one member (a random one). */
static void fill(ProtobufCMessage *m, enum fill_mode mode, int depth)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	uint8_t *base = (uint8_t *)m;

	for (unsigned int i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];

		if (f->label == PROTOBUF_C_LABEL_REPEATED)
			continue;
		if (mode == FILL_RANDOM && next_rand() % 2)
			continue;
		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
			uint32_t *oneof_case = (uint32_t *)(base + f->quantifier_offset);

			if (*oneof_case && next_rand() % 2)
				continue; /* keep the member chosen before */
			*oneof_case = f->id;
		} else if (f->label == PROTOBUF_C_LABEL_OPTIONAL &&
			   f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE) {
			*(protobuf_c_boolean *)(base + f->quantifier_offset) = 1;
		}
		fill_field(f, base + f->offset, mode, depth);
	}
}

/* mm_onepass_pack(m) is protobuf_c_message_pack(m), byte for byte. */
static void expect_same_bytes(const ProtobufCMessage *m)
{
	size_t want_len = protobuf_c_message_get_packed_size(m);
	uint8_t *want = keep(malloc(want_len + 1));
	uint8_t *got = keep(malloc(want_len + MM_ONEPASS_SLACK));
	long n;

	protobuf_c_message_pack(m, want);
	n = mm_onepass_pack(m, got, want_len + MM_ONEPASS_SLACK);
	cr_assert(eq(long, n, (long)want_len), "%s", m->descriptor->name);
	cr_assert(eq(int, memcmp(got, want, want_len), 0), "%s: bytes differ", m->descriptor->name);
}

static Meshmon__V1__ServerMessage *event_frame(Meshmon__V1__Event *ev)
{
	Meshmon__V1__ServerMessage *msg = keep(calloc(1, sizeof(*msg)));

	meshmon__v1__server_message__init(msg);
	msg->msg_case = MESHMON__V1__SERVER_MESSAGE__MSG_EVENT;
	msg->event = ev;
	return msg;
}

Test(onepass, every_field_for_each_detail_case)
{
	const ProtobufCMessageDescriptor *d = &meshmon__v1__event__descriptor;
	unsigned int cases = 0;

	for (unsigned int i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		Meshmon__V1__Event *ev;

		if (!(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
			continue;
		ev = (Meshmon__V1__Event *)some_message(d, FILL_ALL, 0);
		/* this case's member, whichever fill() picked */
		*(uint32_t *)((uint8_t *)ev + f->quantifier_offset) = f->id;
		fill_field(f, (uint8_t *)ev + f->offset, FILL_ALL, 0);
		expect_same_bytes(&ev->base);
		expect_same_bytes(&event_frame(ev)->base);
		cases++;
	}
	cr_expect(eq(u32, cases, 7), "trace, drop, debug, capture, tcp_probe, policy_verdict, trace_sock");
}

Test(onepass, zero_and_absent_fields)
{
	Meshmon__V1__Event ev = MESHMON__V1__EVENT__INIT;
	Meshmon__V1__Tuple tuple = MESHMON__V1__TUPLE__INIT;
	Meshmon__V1__ServerMessage empty = MESHMON__V1__SERVER_MESSAGE__INIT;
	uint8_t buf[MM_ONEPASS_SLACK];

	cr_expect(eq(long, mm_onepass_pack(&empty.base, buf, sizeof(buf)), 0));
	expect_same_bytes(&ev.base);
	expect_same_bytes(&event_frame(&ev)->base); /* an empty Event: tag and length 0 */
	ev.ifname = "";				    /* an empty string is left out */
	ev.tuple = &tuple;			    /* an empty submessage is not */
	expect_same_bytes(&ev.base);
	/* a oneof case whose member is NULL writes nothing */
	ev.detail_case = MESHMON__V1__EVENT__DETAIL_TRACE;
	ev.trace = NULL;
	expect_same_bytes(&ev.base);
}

Test(onepass, random_fills)
{
	for (int i = 0; i < 2000; i++) {
		Meshmon__V1__Event *ev = (Meshmon__V1__Event *)some_message(
			&meshmon__v1__event__descriptor, FILL_RANDOM, 0);

		expect_same_bytes(&event_frame(ev)->base);
		free_all();
	}
}

Test(onepass, repeated_fields_are_not_taken)
{
	Meshmon__V1__ServerMessage msg = MESHMON__V1__SERVER_MESSAGE__INIT;
	Meshmon__V1__Status st = MESHMON__V1__STATUS__INIT;
	char *ifaces[] = {"eth0", "veth1"};
	const uint8_t *frame;
	struct mm_frame_scratch scratch = {0};
	uint8_t buf[MM_ONEPASS_SLACK], want[256];
	long n;

	st.n_interfaces = 2;
	st.interfaces = ifaces;
	msg.msg_case = MESHMON__V1__SERVER_MESSAGE__MSG_STATUS;
	msg.status = &st;
	cr_expect(eq(long, mm_onepass_pack(&msg.base, buf, sizeof(buf)), -ENOTSUP));
	/* the scratch packer falls back to protobuf-c for it */
	n = mm_frame_scratch__pack(&scratch, &msg.base, &frame);
	cr_assert(eq(long, n, mm_frame__pack(&msg.base, want, sizeof(want))));
	cr_expect(eq(int, memcmp(frame, want, (size_t)n), 0));
	mm_frame_scratch__release(&scratch);
}

Test(onepass, every_short_buffer_is_refused)
{
	Meshmon__V1__Event *ev =
		(Meshmon__V1__Event *)some_message(&meshmon__v1__event__descriptor, FILL_ALL, 0);
	const ProtobufCMessage *m = &event_frame(ev)->base;
	size_t len = protobuf_c_message_get_packed_size(m);

	for (size_t cap = 0; cap < len; cap++) {
		uint8_t *buf = malloc(cap ? cap : 1); /* exactly cap: ASan sees any overrun */

		cr_assert(buf != NULL);
		long n = mm_onepass_pack(m, buf, cap);

		free(buf);
		cr_assert(eq(long, n, -ENOBUFS), "cap %zu of %zu", cap, len);
	}
}

Test(onepass, scratch_grows_for_a_large_capture)
{
	Meshmon__V1__Event ev = MESHMON__V1__EVENT__INIT;
	Meshmon__V1__ServerMessage *msg = event_frame(&ev);
	struct mm_frame_scratch scratch = {0};
	const uint8_t *frame;
	size_t big = 100000;
	uint8_t *bytes = keep(malloc(big));
	uint8_t *want;
	long n;

	memset(bytes, 0xab, big);
	ev.captured.data = bytes;
	ev.captured.len = big;
	ev.cap_len = (uint32_t)big;
	want = keep(malloc(mm_frame__size(&msg->base)));
	n = mm_frame_scratch__pack(&scratch, &msg->base, &frame);
	cr_assert(eq(long, n, mm_frame__pack(&msg->base, want, mm_frame__size(&msg->base))));
	cr_expect(eq(int, memcmp(frame, want, (size_t)n), 0));
	/* and a small frame after it, in the same buffer */
	ev.captured.len = 10;
	n = mm_frame_scratch__pack(&scratch, &msg->base, &frame);
	cr_assert(eq(long, n, mm_frame__pack(&msg->base, want, mm_frame__size(&msg->base))));
	cr_expect(eq(int, memcmp(frame, want, (size_t)n), 0));
	mm_frame_scratch__release(&scratch);
}
