// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The CLI's one-pass unpack (monitor-cli/unpack.h) against protobuf-c's:
 * for every message it is given, mm_unpack must return what
 * protobuf_c_message_unpack returns (both NULL, or messages that pack to
 * the same bytes), and it must take the one pass for every message the
 * agent sends (else the speed is gone without a test noticing). Inputs: the
 * fixed cases of cli_cases.c, random events, the cases mutated at random,
 * and hand-made encodings where protobuf-c merges, replaces or refuses.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "cli_cases.h"
#include "unpack.h"

static const ProtobufCMessageDescriptor *const server = &meshmon__v1__server_message__descriptor;

static uint64_t rng_state = 0x756e7061636b3031ull;

static uint64_t rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

/* msg packed into a new buffer. */
static uint8_t *pack(const ProtobufCMessage *msg, size_t *len)
{
	uint8_t *buf;

	*len = protobuf_c_message_get_packed_size(msg);
	buf = malloc(*len ? *len : 1);
	cr_assert(buf != NULL);
	cr_assert(eq(sz, protobuf_c_message_pack(msg, buf), *len));
	return buf;
}

/* Whether two messages pack to the same bytes (every field, oneof case and unknown field). */
static bool same(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
	size_t la, lb;
	uint8_t *pa = pack(a, &la), *pb = pack(b, &lb);
	bool eq = la == lb && memcmp(pa, pb, la) == 0;

	free(pa);
	free(pb);
	return eq;
}

/*
 * mm_unpack and protobuf-c on the same bytes: the same answer. Returns
 * whether the one pass took them.
 */
static bool check_bytes(const uint8_t *data, size_t len, const char *what)
{
	/* One unpacker for all: its tables are made once, as in a stream. */
	static struct mm_unpack u;
	static bool ready;
	ProtobufCMessage *ref, *got, *fast;

	if (!ready)
		mm_unpack__init(&u);
	ready = true;
	ref = protobuf_c_message_unpack(server, NULL, len, data);
	fast = mm_unpack__fast(&u, server, len, data);
	mm_arena__reset(&u.arena);
	got = mm_unpack(&u, server, len, data);
	if (!ref) {
		cr_assert(got == NULL, "%s: protobuf-c refuses %zu bytes, mm_unpack does not", what,
			  len);
	} else {
		cr_assert(got != NULL, "%s: protobuf-c takes %zu bytes, mm_unpack does not", what, len);
		cr_assert(same(ref, got), "%s: mm_unpack decodes %zu bytes differently", what, len);
		protobuf_c_message_free_unpacked(ref, NULL);
	}
	mm_arena__reset(&u.arena);
	return fast != NULL;
}

/*
 * One message as a stream reads it: packed, checked against protobuf-c
 * (check_bytes: it must take the one pass), then read by the one pass into
 * r's arena. What it returns lives until the next fast_read or
 * fast_reader__release.
 */
struct fast_reader {
	struct mm_unpack u;
	uint8_t *buf;
	bool ready;
};

static const Meshmon__V1__ServerMessage *fast_read(struct fast_reader *r,
						   const Meshmon__V1__ServerMessage *m,
						   const char *what)
{
	const Meshmon__V1__ServerMessage *got;
	size_t len;

	if (!r->ready)
		mm_unpack__init(&r->u);
	r->ready = true;
	free(r->buf);
	mm_arena__reset(&r->u.arena);
	r->buf = pack(&m->base, &len);
	cr_assert(check_bytes(r->buf, len, what), "%s: not the one pass", what);
	got = (const Meshmon__V1__ServerMessage *)mm_unpack__fast(&r->u, server, len, r->buf);
	cr_assert(got != NULL, "%s", what);
	return got;
}

static void fast_reader__release(struct fast_reader *r)
{
	free(r->buf);
	r->buf = NULL;
	if (r->ready)
		mm_arena__release(&r->u.arena);
	r->ready = false;
}

Test(cli_unpack, every_case_takes_the_one_pass)
{
	Meshmon__V1__ServerMessage m = MESHMON__V1__SERVER_MESSAGE__INIT;
	Meshmon__V1__Hello h = MESHMON__V1__HELLO__INIT;
	Meshmon__V1__Error e = MESHMON__V1__ERROR__INIT;
	struct cli_case *cases;
	size_t n = cli_cases_build(&cases), i, len;
	uint8_t *buf;

	for (i = 0; i < n; i++) {
		buf = pack(&cases[i].msg.base, &len);
		cr_assert(check_bytes(buf, len, cases[i].name), "%s: not the one pass", cases[i].name);
		free(buf);
	}
	/* The Hello and an Error take it too. */
	h.protocol_version = 1;
	h.agent_version = "0.1.0";
	h.num_cpus = 4;
	m.msg_case = MESHMON__V1__SERVER_MESSAGE__MSG_HELLO;
	m.hello = &h;
	buf = pack(&m.base, &len);
	cr_assert(check_bytes(buf, len, "hello"));
	free(buf);
	e.code = 6;
	e.message = "too many clients";
	m.msg_case = MESHMON__V1__SERVER_MESSAGE__MSG_ERROR;
	m.error = &e;
	buf = pack(&m.base, &len);
	cr_assert(check_bytes(buf, len, "error"));
	free(buf);
}

/* Drop.symbol (field 12, the kernel drop's location as a symbol) comes through the one pass. */
Test(cli_unpack, kernel_drop_symbol_in_the_one_pass)
{
	Meshmon__V1__ServerMessage m = MESHMON__V1__SERVER_MESSAGE__INIT;
	Meshmon__V1__Event ev = MESHMON__V1__EVENT__INIT;
	Meshmon__V1__Drop d = MESHMON__V1__DROP__INIT;
	const Meshmon__V1__ServerMessage *got;
	struct fast_reader r = { 0 };

	ev.type = MESHMON__V1__EVENT_TYPE__EVENT_TYPE_DROP;
	ev.source = MESHMON__V1__SOURCE__SOURCE_KERNEL;
	ev.detail_case = MESHMON__V1__EVENT__DETAIL_DROP;
	ev.drop = &d;
	d.location = 0xffffffff8206e0ebull;
	d.symbol = "ping_rcv+0xab";
	m.msg_case = MESHMON__V1__SERVER_MESSAGE__MSG_EVENT;
	m.event = &ev;
	got = fast_read(&r, &m, "a kernel drop with a symbol");
	cr_assert(eq(int, got->msg_case, MESHMON__V1__SERVER_MESSAGE__MSG_EVENT));
	cr_assert(eq(int, got->event->detail_case, MESHMON__V1__EVENT__DETAIL_DROP));
	cr_expect(eq(str, got->event->drop->symbol, "ping_rcv+0xab"));
	cr_expect(eq(u64, got->event->drop->location, 0xffffffff8206e0ebull));
	fast_reader__release(&r);
}

/* ReplayDone (ServerMessage 6) takes the one pass and reads as protobuf-c reads it. */
Test(cli_unpack, replay_done_takes_the_one_pass)
{
	Meshmon__V1__ServerMessage m = MESHMON__V1__SERVER_MESSAGE__INIT;
	Meshmon__V1__ReplayDone d = MESHMON__V1__REPLAY_DONE__INIT;
	const uint64_t counts[] = { 0, 1, 4095, 1ull << 40 };
	struct fast_reader r = { 0 };

	m.msg_case = MESHMON__V1__SERVER_MESSAGE__MSG_REPLAY_DONE;
	m.replay_done = &d;
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		const Meshmon__V1__ServerMessage *got;

		d.events = counts[i];
		got = fast_read(&r, &m, "replay_done");
		cr_assert(eq(int, (int)got->msg_case, MESHMON__V1__SERVER_MESSAGE__MSG_REPLAY_DONE));
		cr_assert(eq(u64, got->replay_done->events, counts[i]));
	}
	fast_reader__release(&r);
}

/*
 * What the one pass relies on, in every message an event or a lost notice
 * carries: fields in number order, none required, none repeated (a repeated
 * field sends the whole message to protobuf-c: a field added to
 * meshmon.proto that is repeated shows up here).
 */
static void check_descriptor(const ProtobufCMessageDescriptor *d, bool stream)
{
	unsigned int i;

	for (i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];

		if (i)
			cr_assert(lt(u32, d->fields[i - 1].id, f->id), "%s: fields out of order",
				  d->name);
		cr_assert(ne(int, (int)f->label, (int)PROTOBUF_C_LABEL_REQUIRED), "%s.%s", d->name,
			  f->name);
		if (stream)
			cr_assert(ne(int, (int)f->label, (int)PROTOBUF_C_LABEL_REPEATED),
				  "%s.%s is repeated: events would not take the one pass", d->name,
				  f->name);
		if (f->type == PROTOBUF_C_TYPE_MESSAGE)
			check_descriptor(f->descriptor, stream);
	}
}

Test(cli_unpack, stream_messages_have_the_shape_the_one_pass_reads)
{
	check_descriptor(&meshmon__v1__event__descriptor, true);
	check_descriptor(&meshmon__v1__lost_notice__descriptor, true);
	check_descriptor(&meshmon__v1__hello__descriptor, true);
	check_descriptor(&meshmon__v1__replay_done__descriptor, true);
	check_descriptor(server, false);
}

/* A random value of random magnitude: varints of every length from 1 to 10 bytes. */
static uint64_t random_value(void)
{
	uint64_t r = rnd();

	return r % 8 == 0 ? 0 : rnd() >> (r >> 58);
}

/* Every scalar field of m random, every string and bytes field random too. */
static void randomize(ProtobufCMessage *m, char strings[][64], uint8_t bytes[][256], int *ns,
		      int *nb)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	unsigned int i, k, len;

	for (i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		void *member = (char *)m + f->offset;
		uint64_t v = random_value();
		uint32_t u = (uint32_t)v;

		if (f->label == PROTOBUF_C_LABEL_REPEATED || (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
			continue;
		switch (f->type) {
		case PROTOBUF_C_TYPE_UINT32:
		case PROTOBUF_C_TYPE_ENUM:
			memcpy(member, &u, 4);
			break;
		case PROTOBUF_C_TYPE_UINT64:
			memcpy(member, &v, 8);
			break;
		case PROTOBUF_C_TYPE_BOOL:
			*(protobuf_c_boolean *)member = (protobuf_c_boolean)(v & 1);
			break;
		case PROTOBUF_C_TYPE_STRING:
			len = (unsigned int)(rnd() % 63);
			for (k = 0; k < len; k++)
				strings[*ns][k] = (char)(1 + rnd() % 255);
			strings[*ns][len] = '\0';
			*(char **)member = strings[(*ns)++];
			break;
		case PROTOBUF_C_TYPE_BYTES: {
			ProtobufCBinaryData *bd = member;

			bd->len = rnd() % 3 ? rnd() % 256 : 0;
			for (k = 0; k < bd->len; k++)
				bytes[*nb][k] = (uint8_t)rnd();
			bd->data = bytes[(*nb)++];
			break;
		}
		default:
			break;
		}
	}
}

Test(cli_unpack, random_events_decode_as_protobuf_c_does)
{
	static char strings[16][64];
	static uint8_t bytes[16][256];
	struct cli_case *cases;
	size_t n = cli_cases_build(&cases), i, len;
	Meshmon__V1__ServerMessage m;
	Meshmon__V1__Event ev;
	Meshmon__V1__Tuple t;
	union {
		Meshmon__V1__Trace trace;
		Meshmon__V1__Drop drop;
		Meshmon__V1__Debug debug;
		Meshmon__V1__Capture capture;
		Meshmon__V1__TcpProbe probe;
		Meshmon__V1__PolicyVerdict verdict;
	} detail;
	struct cli_case *c;
	uint8_t *buf;
	int ns, nb;

	for (i = 0; i < 20000; i++) {
		c = &cases[rnd() % n];
		if (c->msg.msg_case != MESHMON__V1__SERVER_MESSAGE__MSG_EVENT)
			continue;
		ns = nb = 0;
		m = c->msg;
		ev = c->ev;
		m.event = &ev;
		randomize(&ev.base, strings, bytes, &ns, &nb);
		if (ev.tuple && rnd() % 4) {
			t = *ev.tuple;
			randomize(&t.base, strings, bytes, &ns, &nb);
			ev.tuple = &t;
		} else {
			ev.tuple = NULL;
		}
		/* The detail: the case's kind with random values, or none. */
		if (ev.detail_case != MESHMON__V1__EVENT__DETAIL__NOT_SET && rnd() % 8) {
			const ProtobufCMessage *src = (const ProtobufCMessage *)ev.trace;

			memcpy(&detail, src, src->descriptor->sizeof_message);
			randomize((ProtobufCMessage *)&detail, strings, bytes, &ns, &nb);
			ev.trace = &detail.trace;
		} else {
			ev.detail_case = MESHMON__V1__EVENT__DETAIL__NOT_SET;
		}
		buf = pack(&m.base, &len);
		cr_assert(check_bytes(buf, len, c->name), "%s, random values: not the one pass",
			  c->name);
		free(buf);
	}
}

Test(cli_unpack, mutated_frames_decode_as_protobuf_c_does)
{
	struct cli_case *cases;
	size_t n = cli_cases_build(&cases), i, k, len, cap = 4096, at, fast = 0;
	uint8_t *src, *buf = malloc(cap);

	cr_assert(buf != NULL);
	for (i = 0; i < 200000; i++) {
		src = pack(&cases[rnd() % n].msg.base, &len);
		memcpy(buf, src, len);
		free(src);
		for (k = 1 + rnd() % 3; k > 0 && len; k--) {
			at = rnd() % len;
			switch (rnd() % 6) {
			case 0: /* a bit flipped */
				buf[at] ^= (uint8_t)(1u << (rnd() % 8));
				break;
			case 1: /* a byte anything */
				buf[at] = (uint8_t)rnd();
				break;
			case 2: /* cut short */
				len = at;
				break;
			case 3: /* a byte more */
				if (len < cap) {
					memmove(buf + at + 1, buf + at, len - at);
					buf[at] = (uint8_t)rnd();
					len++;
				}
				break;
			case 4: { /* a stretch again: fields and submessages given twice */
				size_t from = rnd() % len, n2 = 1 + rnd() % (len - from);

				if (len + n2 <= cap) {
					memmove(buf + at + n2, buf + at, len - at);
					memmove(buf + at, buf + (from < at ? from : from + n2), n2);
					len += n2;
				}
				break;
			}
			default: /* a small value made long: a varint of up to 10 bytes */
				if (len + 9 <= cap && buf[at] < 0x80) {
					size_t extra = 1 + rnd() % 9;

					memmove(buf + at + extra, buf + at, len - at);
					memset(buf + at, 0x80, extra);
					buf[at] |= buf[at + extra];
					buf[at + extra] = 0;
					len += extra;
				}
			}
		}
		fast += check_bytes(buf, len, "mutated");
	}
	free(buf);
	/* Not a check: how much of it the one pass took. */
	cr_log_info("the one pass took %zu of %zu mutated frames", fast, i);
}

/* Hand-made encodings where protobuf-c does something particular. */
Test(cli_unpack, where_protobuf_c_merges_replaces_or_refuses)
{
	static const struct {
		const char *what;
		size_t len;
		uint8_t b[32];
	} t[] = {
		/* event { tuple { sport 1 } tuple { dport 2 } }: merged, or replaced (1.4) */
		{ "submessage twice", 10, { 0x12, 0x08, 0x4a, 0x02, 0x18, 0x01, 0x4a, 0x02, 0x20, 0x02 } },
		/* event { trace { point 1 } drop { point 2 } }: the drop */
		{ "two oneof members", 12,
		  { 0x12, 0x0a, 0xa2, 0x01, 0x02, 0x08, 0x01, 0xaa, 0x01, 0x02, 0x08, 0x02 } },
		{ "a oneof member twice", 10, { 0x12, 0x08, 0xa2, 0x01, 0x02, 0x08, 0x01, 0xa2, 0x01, 0x00 } },
		/* event { cpu: a 10-byte varint } */
		{ "long varint, 32 bits", 13,
		  { 0x12, 0x0b, 0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 } },
		{ "varint of 11 bytes", 14,
		  { 0x12, 0x0c, 0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 } },
		/* event { tcp_probe { conn_success: 0x80 0x02 } } */
		{ "bool of two bytes", 7, { 0x12, 0x05, 0xc2, 0x01, 0x02, 0x18, 0x80 } },
		{ "bool of two bytes, whole", 8, { 0x12, 0x06, 0xc2, 0x01, 0x03, 0x18, 0x80, 0x02 } },
		{ "bool as length-delimited", 8, { 0x12, 0x06, 0xc2, 0x01, 0x03, 0x1a, 0x01, 0x05 } },
		/* only bit 64 set: 0 as a number, true as protobuf-c reads a bool */
		{ "bool past 64 bits", 16,
		  { 0x12, 0x0e, 0xc2, 0x01, 0x0b, 0x18, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
		    0x80, 0x02 } },
		{ "unknown field", 4, { 0x12, 0x02, 0xf8, 0x07 } },
		{ "unknown field, with a value", 5, { 0x12, 0x03, 0xf8, 0x07, 0x05 } },
		{ "wire type mismatch", 4, { 0x12, 0x02, 0x1a, 0x00 } },
		{ "group wire type", 3, { 0x12, 0x01, 0x1b } },
		{ "tag 0", 4, { 0x12, 0x02, 0x00, 0x01 } },
		{ "tag 0, long", 5, { 0x12, 0x03, 0x80, 0x00, 0x01 } },
		{ "length past the end", 4, { 0x12, 0x05, 0x08, 0x01 } },
		{ "string with a NUL", 7, { 0x12, 0x05, 0x3a, 0x03, 'a', 0, 'b' } },
		{ "empty bytes", 4, { 0x12, 0x02, 0x62, 0x00 } },
		{ "long length prefix", 6, { 0x12, 0x04, 0x62, 0x80, 0x80, 0x00 } },
		{ "scalar twice: the last", 6, { 0x12, 0x04, 0x18, 0x01, 0x18, 0x02 } },
		{ "event twice", 8, { 0x12, 0x02, 0x18, 0x01, 0x12, 0x02, 0x20, 0x04 } },
		{ "event then lost", 8, { 0x12, 0x02, 0x18, 0x01, 0x1a, 0x02, 0x08, 0x02 } },
		/* replay_done { events 3 }, an empty one, and an unknown member (15) */
		{ "replay done", 4, { 0x32, 0x02, 0x08, 0x03 } },
		{ "empty replay done", 2, { 0x32, 0x00 } },
		{ "unknown member", 4, { 0x7a, 0x02, 0x08, 0x01 } },
		{ "empty message", 0, { 0 } },
		{ "empty event", 2, { 0x12, 0x00 } },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		check_bytes(t[i].b, t[i].len, t[i].what);
}

/* Event.out_of_order (field 15, a bool the agent sets on late events): read in the one pass. */
Test(cli_unpack, out_of_order_is_read_in_the_one_pass)
{
	struct cli_case *cases;
	size_t n = cli_cases_build(&cases), i, events = 0;
	struct fast_reader r = { 0 };

	for (i = 0; i < n; i++) {
		if (cases[i].msg.msg_case != MESHMON__V1__SERVER_MESSAGE__MSG_EVENT)
			continue;
		events++;
		for (int late = 0; late < 2; late++) {
			Meshmon__V1__ServerMessage m = cases[i].msg;
			const Meshmon__V1__ServerMessage *got;
			Meshmon__V1__Event ev = *cases[i].msg.event;

			ev.out_of_order = late;
			m.event = &ev;
			got = fast_read(&r, &m, cases[i].name);
			cr_assert(eq(int, got->event->out_of_order, late), "%s", cases[i].name);
		}
	}
	cr_assert(gt(sz, events, 0));
	fast_reader__release(&r);
}

/* Capture on demand: Capture.rule_id, CaptureStarted, CaptureEnded, a capture LostNotice. */
Test(cli_unpack, capture_messages_take_the_one_pass)
{
	Meshmon__V1__ServerMessage m = MESHMON__V1__SERVER_MESSAGE__INIT;
	Meshmon__V1__Event ev = MESHMON__V1__EVENT__INIT;
	Meshmon__V1__Capture c = MESHMON__V1__CAPTURE__INIT;
	Meshmon__V1__CaptureStarted started = MESHMON__V1__CAPTURE_STARTED__INIT;
	Meshmon__V1__CaptureEnded ended = MESHMON__V1__CAPTURE_ENDED__INIT;
	Meshmon__V1__LostNotice lost = MESHMON__V1__LOST_NOTICE__INIT;
	const Meshmon__V1__ServerMessage *got;
	struct fast_reader r = { 0 };
	uint8_t frame[64] = {1, 2, 3};

	ev.type = MESHMON__V1__EVENT_TYPE__EVENT_TYPE_CAPTURE;
	ev.detail_case = MESHMON__V1__EVENT__DETAIL_CAPTURE;
	ev.capture = &c;
	ev.captured.data = frame;
	ev.captured.len = sizeof(frame);
	c.rule_id = 7;
	m.msg_case = MESHMON__V1__SERVER_MESSAGE__MSG_EVENT;
	m.event = &ev;
	got = fast_read(&r, &m, "capture event");
	cr_assert(eq(u32, got->event->capture->rule_id, 7));

	started.rule_id = 7;
	started.snaplen = 9000;
	m.msg_case = MESHMON__V1__SERVER_MESSAGE__MSG_CAPTURE_STARTED;
	m.capture_started = &started;
	got = fast_read(&r, &m, "capture started");
	cr_assert(eq(u32, got->capture_started->snaplen, 9000));

	ended.rule_id = 7;
	ended.reason = MESHMON__V1__CAPTURE_END_REASON__CAPTURE_END_REASON_PACKETS;
	ended.packets = 100;
	ended.bytes = 150000;
	m.msg_case = MESHMON__V1__SERVER_MESSAGE__MSG_CAPTURE_ENDED;
	m.capture_ended = &ended;
	got = fast_read(&r, &m, "capture ended");
	cr_assert(eq(int, (int)got->capture_ended->reason,
		     MESHMON__V1__CAPTURE_END_REASON__CAPTURE_END_REASON_PACKETS));
	cr_assert(eq(u64, got->capture_ended->bytes, 150000));

	lost.source = MESHMON__V1__LOSS_SOURCE__LOSS_SOURCE_CAPTURE;
	lost.count = 3;
	lost.rule_id = 7;
	m.msg_case = MESHMON__V1__SERVER_MESSAGE__MSG_LOST;
	m.lost = &lost;
	got = fast_read(&r, &m, "capture loss");
	cr_assert(eq(u32, got->lost->rule_id, 7));
	fast_reader__release(&r);
}
