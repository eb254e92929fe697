// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Golden-file tests of `meshmon monitor`'s formatters: the fixed messages of
 * cli_cases.c rendered as text, -v, -vv, --hex, -n and JSON (and status as
 * text and JSON), compared byte for byte with tests/golden/. Time zone is
 * UTC and colour is off. MESHMON_UPDATE_GOLDEN=1 rewrites the goldens (review
 * the diff before committing). Every JSON line must parse (jq) and carry the
 * documented keys.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_cases.h"
#include "commands.h"
#include "dissect.h"
#include "format.h"
#include "format_json.h"
#include "format_text.h"
#include "json.h"

#define GOLDEN_DIR MM_SOURCE_ROOT "/tests/golden/"

static const Meshmon__V1__Hello hello = {
	PROTOBUF_C_MESSAGE_INIT(&meshmon__v1__hello__descriptor),
	1, "0.1.0", 4, 64, 4096, 128,
};

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		return NULL;
	}
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* Compares got with the golden file, or rewrites it under MESHMON_UPDATE_GOLDEN=1. */
static void check_golden(const char *name, const char *got, size_t got_len)
{
	char path[512];
	size_t want_len = 0, i, line = 1;
	char *want;
	const char *upd = getenv("MESHMON_UPDATE_GOLDEN");

	snprintf(path, sizeof(path), GOLDEN_DIR "%s", name);
	if (upd && strcmp(upd, "1") == 0) {
		FILE *f = fopen(path, "wb");

		cr_assert(f != NULL, "cannot write %s", path);
		fwrite(got, 1, got_len, f);
		fclose(f);
		return;
	}
	want = read_file(path, &want_len);
	cr_assert(want != NULL, "missing golden file %s (MESHMON_UPDATE_GOLDEN=1 creates it)", path);
	for (i = 0; i < got_len && i < want_len && got[i] == want[i]; i++)
		line += got[i] == '\n';
	if (i != got_len || i != want_len) {
		const char *gl = got + i, *wl = want + i;

		while (gl > got && gl[-1] != '\n')
			gl--;
		while (wl > want && wl[-1] != '\n')
			wl--;
		cr_fail("%s differs at line %zu:\n got: %.*s\nwant: %.*s", name, line,
			(int)strcspn(gl, "\n"), gl, (int)strcspn(wl, "\n"), wl);
	}
	free(want);
}

static void render(const char *golden, int verbose, bool hex, bool json, bool numeric,
		   bool headers)
{
	struct mm_fmt f = { .verbose = verbose, .hex = hex, .json = json, .numeric = numeric };
	struct cli_case *cases;
	size_t n = cli_cases_build(&cases), i, len;
	char *buf;

	f.out = open_memstream(&buf, &len);
	cr_assert(f.out != NULL);
	mm_format_hello(&f, &hello);
	for (i = 0; i < n; i++) {
		if (headers)
			fprintf(f.out, "## %s\n", cases[i].name);
		if (cases[i].msg.msg_case == MESHMON__V1__SERVER_MESSAGE__MSG_EVENT)
			mm_format_event(&f, cases[i].msg.event);
		else
			mm_format_lost(&f, cases[i].msg.lost);
	}
	fclose(f.out);
	check_golden(golden, buf, len);
	free(buf);
}



Test(cli_format, text)
{
	render("monitor.txt", 0, false, false, false, true);
}

Test(cli_format, verbose)
{
	render("monitor-v.txt", 1, false, false, false, true);
}

Test(cli_format, very_verbose_dissection)
{
	render("monitor-vv.txt", 2, false, false, false, true);
}

Test(cli_format, hex)
{
	render("monitor-hex.txt", 0, true, false, false, true);
}

Test(cli_format, numeric)
{
	render("monitor-n.txt", 0, false, false, true, true);
}

Test(cli_format, json)
{
	render("monitor.json", 0, false, true, false, false);
}

Test(cli_format, json_hex)
{
	render("monitor-hex.json", 0, true, true, false, false);
}

/* Every JSON line parses and has the documented keys for its type (jq -e). */
static void jq_check(const char *golden, const char *filter, bool slurp)
{
	char cmd[2048];
	int rc;

	if (system("command -v jq >/dev/null 2>&1") != 0)
		cr_skip_test("jq is not installed");
	snprintf(cmd, sizeof(cmd), "jq -e %s '%s' " GOLDEN_DIR "%s >/dev/null", slurp ? "-s" : "",
		 filter, golden);
	rc = system(cmd);
	cr_assert(eq(int, rc, 0), "jq check failed on %s: %s", golden, filter);
}

Test(cli_format, json_lines_parse_and_have_keys)
{
	static const char *const checks[] = {
		/* every line is an object; the number of lines matches the cases */
		"all(type == \"object\")",
		/* common event keys */
		"map(select(.type != \"lost\")) | all(has(\"time\") and has(\"cpu\") and has(\"type\") and has(\"ifindex\") and has(\"ifname\") and has(\"tuple\") and has(\"len\") and has(\"cap_len\"))",
		/* RFC 3339 UTC with nanoseconds */
		"all(.time | test(\"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\\\.[0-9]{9}Z$\"))",
		"map(select(.tuple != null)) | all(.tuple | has(\"src\") and has(\"dst\") and has(\"sport\") and has(\"dport\") and has(\"proto\"))",
		"map(select(.type == \"trace\")) | length > 0 and all(has(\"point\") and has(\"state\") and (.tcp_flags | type == \"array\"))",
		"map(select(.type == \"drop\")) | length > 0 and all(has(\"reason\") and has(\"reason_code\") and (.source == \"datapath\" or .source == \"kernel\") and has(\"file\") and has(\"line\"))",
		"map(select(.type == \"tcp_probe\")) | length > 0 and all(has(\"direction\") and has(\"state\") and has(\"pid\") and has(\"comm\") and has(\"bytes_sent\") and has(\"bytes_received\") and has(\"segs_in\") and has(\"segs_out\") and has(\"srtt_us\") and has(\"min_rtt_us\") and has(\"retrans\") and has(\"duration_ns\") and has(\"conn_success\"))",
		"map(select(.type == \"lost\")) | length == 4 and all(has(\"source\") and has(\"count\") and has(\"cpu\"))",
		/* values survive: the first trace, the escaped comm, the 64-bit counter */
		"map(select(.type == \"trace\"))[0] | .tuple == {\"src\":\"10.60.0.182\",\"dst\":\"104.198.14.52\",\"sport\":41510,\"dport\":80,\"proto\":\"tcp\",\"proto_num\":6,\"ethertype\":2048} and .tcp_flags == [\"SYN\"] and .point == \"from-network\" and .state == \"new\"",
		"any(.comm? == \"we\\\"ird\\\\na\\tme\\u0001\")",
		"any(.bytes_received? == 5000000000)",
	};
	size_t i;

	for (i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		jq_check("monitor.json", checks[i], true);
		jq_check("monitor-hex.json", checks[i], true);
	}
	jq_check("monitor-hex.json", "map(select(.type == \"trace\"))[0].captured_hex | test(\"^[0-9a-f]+$\")", true);
	jq_check("status.json", "has(\"agent_version\") and has(\"protocol_version\") and has(\"num_cpus\") and has(\"pages_per_cpu\") and has(\"page_size\") and has(\"uptime_ns\") and has(\"listeners\") and has(\"events_read\") and (.lost | length == 5) and has(\"interfaces\") and has(\"cgroup\") and has(\"rate_limit_per_sec\") and has(\"aggregation\")", false);
}

/* JSON lines count equals the number of cases: nothing dropped or merged. */
Test(cli_format, json_one_line_per_message)
{
	struct cli_case *cases;
	size_t n = cli_cases_build(&cases), len = 0, lines = 0, i;
	char *buf = read_file(GOLDEN_DIR "monitor.json", &len);

	cr_assert(buf != NULL);
	for (i = 0; i < len; i++)
		lines += buf[i] == '\n';
	cr_assert(eq(sz, lines, n));
	free(buf);
}

static void status_msg(Meshmon__V1__Status *st, Meshmon__V1__LossCounter *lc,
		       Meshmon__V1__LossCounter **lcp, Meshmon__V1__EventTypeCount *ec,
		       Meshmon__V1__EventTypeCount **ecp)
{
	static char *ifs[] = { "veth0", "eth0" };
	static const struct {
		uint32_t src, cpu;
		uint64_t count;
	} l[5] = { { 2, 0, 0 }, { 2, 1, 17 }, { 1, 0xffffffffu, 3 }, { 3, 0xffffffffu, 9 },
		   { 4, 0xffffffffu, 0 } };
	size_t i;

	meshmon__v1__status__init(st);
	st->agent_version = "0.1.0";
	st->protocol_version = 1;
	st->num_cpus = 2;
	st->pages_per_cpu = 64;
	st->page_size = 4096;
	st->uptime_ns = 3723000000000ull;
	st->listeners = 2;
	st->events_read = 123456;
	for (i = 0; i < 5; i++) {
		meshmon__v1__loss_counter__init(&lc[i]);
		lc[i].source = l[i].src;
		lc[i].cpu = l[i].cpu;
		lc[i].count = l[i].count;
		lcp[i] = &lc[i];
	}
	st->n_losses = 5;
	st->losses = lcp;
	for (i = 0; i < 3; i++) {
		meshmon__v1__event_type_count__init(&ec[i]);
		ecp[i] = &ec[i];
	}
	ec[0].type = 4;
	ec[0].count = 120000;
	ec[1].type = 1;
	ec[1].count = 3456;
	ec[2].type = 8;
	ec[2].count = 0;
	st->n_event_counts = 3;
	st->event_counts = ecp;
	st->n_interfaces = 2;
	st->interfaces = ifs;
	st->cgroup = "/sys/fs/cgroup/unified/meshmon-demo";
	st->rate_limit_per_sec = 10000;
	st->rate_limit_burst = 1000;
	st->aggregation = 2;
	st->aggregation_name = "medium";
	st->aggregation_interval_ns = 5000000000ull;
	st->capture_len = 128;
}

Test(cli_format, status_text_and_json)
{
	Meshmon__V1__Status st;
	Meshmon__V1__LossCounter lc[5], *lcp[5];
	Meshmon__V1__EventTypeCount ec[3], *ecp[3];
	char *buf;
	size_t len;
	FILE *f;

	status_msg(&st, lc, lcp, ec, ecp);
	f = open_memstream(&buf, &len);
	mm_status_text(f, &st);
	fclose(f);
	check_golden("status.txt", buf, len);
	free(buf);
	f = open_memstream(&buf, &len);
	mm_status_json(f, &st);
	fclose(f);
	check_golden("status.json", buf, len);
	free(buf);
}

/* The writer escapes what RFC 8259 requires and keeps valid UTF-8. */
Test(cli_format, json_writer_escapes)
{
	struct mm_json j;
	char *buf;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	mm_json__init(&j, f);
	mm_json__obj_open(&j);
	mm_json__kv_str(&j, "s", "a\"b\\c\n\r\t\x01\x7f" "\xc3\xa9" "\xff");
	mm_json__key(&j, "a");
	mm_json__arr_open(&j);
	mm_json__u64(&j, 1);
	mm_json__null(&j);
	mm_json__bool(&j, true);
	mm_json__arr_close(&j);
	mm_json__kv_str_or_null(&j, "n", "");
	mm_json__obj_close(&j);
	mm_json__end_line(&j);
	fclose(f);
	cr_assert(eq(str, buf,
		     "{\"s\":\"a\\\"b\\\\c\\n\\r\\t\\u0001\\u007f\xc3\xa9\\u00ff\",\"a\":[1,null,true],\"n\":null}\n"));
	free(buf);
}

Test(cli_format, durations)
{
	static const struct {
		uint64_t ns;
		const char *want;
	} t[] = {
		{ 0, "0ns" },          { 999, "999ns" },          { 350000, "350us" },
		{ 1250000, "1.2ms" },  { 350000000, "350ms" },    { 1234567890, "1.2s" },
		{ 65000000000ull, "1m05s" }, { 7300000000000ull, "2h01m" },
	};
	char buf[32];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		mm_fmt_duration(t[i].ns, buf, sizeof(buf));
		cr_assert(eq(str, buf, (char *)t[i].want));
	}
	mm_fmt_time(CLI_T0, buf, sizeof(buf));
	cr_assert(eq(str, buf, "2026-11-22T05:40:20.123456789Z"));
}

/* The reconnect notice: one line of text (the same with -v), or one JSON object. */
Test(cli_format, reconnected_notice)
{
	const struct mm_gap gap = {
		.start_ns = CLI_T0, .end_ns = CLI_T0 + 3531864211ull, .down_ns = 3204000000ull,
	};
	struct mm_fmt f = { 0 };
	char *buf = NULL;
	size_t len = 0;
	int verbose;

	for (verbose = 0; verbose <= 2; verbose++) {
		f.out = open_memstream(&buf, &len);
		f.verbose = verbose;
		f.json = false;
		mm_format_reconnected(&f, &gap);
		fclose(f.out);
		cr_assert(eq(str, buf,
			     "-- reconnected: events between 2026-11-22T05:40:20.123456789Z and 2026-11-22T05:40:23.655321000Z were not seen (agent restarted)\n"));
		free(buf);
	}
	f.out = open_memstream(&buf, &len);
	f.json = true;
	mm_format_reconnected(&f, &gap);
	fclose(f.out);
	cr_assert(eq(str, buf,
		     "{\"type\":\"reconnected\",\"gap_start\":\"2026-11-22T05:40:20.123456789Z\",\"gap_end\":\"2026-11-22T05:40:23.655321000Z\",\"down_ns\":3204000000}\n"));
	free(buf);
}

/*
 * Captured bytes are outside input: every truncation of every case's packet,
 * at every layer, and pseudo-random garbage go through the dissector and the
 * -vv/--hex formatter (ASan/UBSan catch any read past the bytes given).
 */
Test(cli_format, dissector_survives_truncation_and_garbage)
{
	struct mm_fmt f = { .verbose = 2, .hex = true };
	struct cli_case *cases;
	size_t n = cli_cases_build(&cases), i, cut, len;
	uint8_t junk[256];
	uint32_t x = 2463534242u;
	char *buf;
	int layer, round;

	f.out = open_memstream(&buf, &len);
	cr_assert(f.out != NULL);
	for (i = 0; i < n; i++) {
		Meshmon__V1__Event ev;
		uint8_t *copy;
		size_t full;

		if (cases[i].msg.msg_case != MESHMON__V1__SERVER_MESSAGE__MSG_EVENT ||
		    !cases[i].ev.captured.len)
			continue;
		full = cases[i].ev.captured.len;
		for (cut = 0; cut <= full; cut++) {
			for (layer = 0; layer <= 4; layer++) {
				ev = cases[i].ev;
				/* An exact-size heap copy, so ASan sees one byte past the end. */
				copy = malloc(cut ? cut : 1);
				memcpy(copy, cases[i].ev.captured.data, cut);
				ev.captured.data = copy;
				ev.captured.len = cut;
				ev.layer = layer;
				mm_text_event(&f, &ev);
				mm_json_event(&f, &ev);
				free(copy);
			}
		}
	}
	for (round = 0; round < 2000; round++) {
		size_t jl = (size_t)(round % 200);
		uint8_t *copy;

		for (i = 0; i < jl; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			junk[i] = (uint8_t)x;
		}
		if (jl > 14 && round % 3 == 0) {
			junk[12] = round % 2 ? 0x86 : 0x08; /* steer into IPv4 / IPv6 */
			junk[13] = round % 2 ? 0xdd : 0x00;
		}
		copy = malloc(jl ? jl : 1);
		memcpy(copy, junk, jl);
		for (layer = 1; layer <= 3; layer++)
			mm_dissect(copy, jl, layer, (uint8_t)(round % 256), round % 2 ? 6 : 4, NULL,
				   f.out, "  ");
		free(copy);
	}
	/* Tuples with address lengths no agent should send: printed as not IP, never copied. */
	{
		static const size_t lens[][2] = { { 4, 100 }, { 7, 7 }, { 16, 4 }, { 0, 16 } };
		Meshmon__V1__Event ev = cases[0].ev;
		Meshmon__V1__Tuple t = cases[0].tuple;
		uint8_t *a = calloc(1, 100), *b = calloc(1, 100);

		ev.tuple = &t;
		for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			t.src.data = a;
			t.src.len = lens[i][0];
			t.dst.data = b;
			t.dst.len = lens[i][1];
			mm_text_event(&f, &ev);
			mm_json_event(&f, &ev);
		}
		free(a);
		free(b);
	}
	fclose(f.out);
	cr_assert(gt(sz, len, 0));
	free(buf);
}
