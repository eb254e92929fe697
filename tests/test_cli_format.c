// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Golden-file tests of `meshmon monitor`'s formatters: the fixed messages of
 * cli_cases.c rendered as text, -v, -vv, --hex, -n and JSON (and status as
 * text and JSON), compared byte for byte with tests/golden/. Time zone is
 * UTC and colour is off. MESHMON_UPDATE_GOLDEN=1 rewrites the goldens (review
 * the diff before committing). Every JSON line must parse (jq) and carry the
 * documented keys; the JSON writer's output is valid UTF-8 whatever bytes it
 * is given, and names the agent sanitized carry their raw bytes as hex.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <criterion/redirect.h>
#include <arpa/inet.h>
#include <iconv.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_cases.h"
#include "commands.h"
#include "dissect.h"
#include "format.h"
#include "format_json.h"
#include "format_common.h"
#include "format_text.h"
#include "json.h"
#include "line.h"
#include "names.h"

#define GOLDEN_DIR MM_SOURCE_ROOT "/tests/golden/"
#define FFFD	   "\xef\xbf\xbd" /* U+FFFD */

static const Meshmon__V1__Hello hello = {
	PROTOBUF_C_MESSAGE_INIT(&meshmon__v1__hello__descriptor),
	1, "0.1.0", 4, 64, 4096, 128, (char *)"node-a",
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

static void render_node(const char *golden, int verbose, bool hex, bool json, bool numeric,
			bool headers, bool print_node)
{
	struct mm_fmt f = { .verbose = verbose, .hex = hex, .json = json, .numeric = numeric,
			    .print_node = print_node };
	struct mm_fmt_node node;
	struct cli_case *cases;
	size_t n = cli_cases_build(&cases), i, len;
	char *buf;

	mm_fmt_set_node(&f, &node, hello.node_name); /* as monitor does with its Hello */
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

static void render(const char *golden, int verbose, bool hex, bool json, bool numeric,
		   bool headers)
{
	render_node(golden, verbose, hex, json, numeric, headers, false);
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

/* --print-node-name: the node leads every line, the Hello's and the lost notices' too. */
Test(cli_format, print_node_name)
{
	render_node("monitor-node.txt", 0, false, false, false, true, true);
}

Test(cli_format, print_node_name_verbose)
{
	render_node("monitor-node-v.txt", 1, false, false, false, true, true);
}

/* A node name is the agent's string: no control character reaches the terminal. */
Test(cli_format, print_node_name_is_cleaned)
{
	struct mm_fmt f = { .print_node = true, .time = true };
	Meshmon__V1__LostNotice lost = MESHMON__V1__LOST_NOTICE__INIT;
	struct mm_fmt_node node;
	char *buf = NULL;
	size_t len = 0;

	lost.source = MESHMON__V1__LOSS_SOURCE__LOSS_SOURCE_QUEUE;
	lost.count = 2;
	lost.cpu = MM_CPU_NONE;
	lost.first_time_ns = lost.last_time_ns = CLI_T0;
	mm_fmt_set_node(&f, &node, "evil\033]0;x\007\nnode");
	f.out = open_memstream(&buf, &len);
	mm_format_lost(&f, &lost);
	fclose(f.out);
	cr_expect(eq(str, buf, "[evil?]0;x??node] 2026-11-22T05:40:20.123456789Z Lost 2 events (queue)\n"));
	free(buf);
	/* No name from the agent: no brackets. */
	mm_fmt_set_node(&f, &node, "");
	f.out = open_memstream(&buf, &len);
	mm_format_lost(&f, &lost);
	fclose(f.out);
	cr_expect(eq(str, buf, "2026-11-22T05:40:20.123456789Z Lost 2 events (queue)\n"));
	free(buf);
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
		/* every line names its node first, lost notices included */
		"all(.node == \"node-a\" and (keys_unsorted[0] == \"node\"))",
		/* common event keys */
		"map(select(.type != \"lost\")) | all(has(\"time\") and has(\"cpu\") and has(\"type\") and has(\"ifindex\") and has(\"ifname\") and has(\"tuple\") and has(\"len\") and has(\"cap_len\"))",
		/* RFC 3339 UTC with nanoseconds */
		"all(.time | test(\"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\\\.[0-9]{9}Z$\"))",
		"map(select(.tuple != null)) | all(.tuple | has(\"src\") and has(\"dst\") and has(\"sport\") and has(\"dport\") and has(\"proto\"))",
		"map(select(.type == \"trace\")) | length > 0 and all(has(\"point\") and has(\"state\") and (.tcp_flags | type == \"array\"))",
		"map(select(.type == \"drop\")) | length > 0 and all(has(\"reason\") and has(\"reason_code\") and (.source == \"datapath\" or .source == \"kernel\") and has(\"file\") and has(\"line\"))",
		"map(select(.type == \"tcp_probe\")) | length > 0 and all(has(\"direction\") and has(\"state\") and has(\"pid\") and has(\"comm\") and has(\"bytes_sent\") and has(\"bytes_received\") and has(\"segs_in\") and has(\"segs_out\") and has(\"srtt_us\") and has(\"min_rtt_us\") and has(\"retrans\") and has(\"duration_ns\") and has(\"conn_success\"))",
		"map(select(.type == \"trace-sock\")) | length == 2 and all(.trace_sock | has(\"hook\") and has(\"orig_dst\") and has(\"orig_dport\") and has(\"pid\") and has(\"comm\") and has(\"socket_cookie\") and has(\"cgroup_id\") and has(\"netns\"))",
		/* orig_dst only on the translated connection's tcp_probe */
		"map(select(.type == \"tcp_probe\" and has(\"orig_dst\"))) | length == 1 and .[0].orig_dst == \"10.96.0.10\" and .[0].orig_dport == 80 and .[0].socket_cookie == 42",
		"map(select(.type == \"lost\")) | length == 4 and all(has(\"source\") and has(\"count\") and has(\"cpu\"))",
		/* values survive: the first trace, the escaped comm, the 64-bit counter */
		"map(select(.type == \"trace\"))[0] | .tuple == {\"src\":\"10.60.0.182\",\"dst\":\"104.198.14.52\",\"sport\":41510,\"dport\":80,\"proto\":\"tcp\",\"proto_num\":6,\"ethertype\":2048} and .tcp_flags == [\"SYN\"] and .point == \"from-network\" and .state == \"new\"",
		"any(.comm? == \"we\\\"ird\\\\na\\tme\\u0001\")",
		"any(.bytes_received? == 5000000000)",
		/* tcp_state by the kernel's name, its number beside it; a number for a state without one */
		"map(select(.type == \"tcp_probe\")) | map([.tcp_state, .tcp_state_code]) == [[\"ESTABLISHED\",1],[\"ESTABLISHED\",1],[\"CLOSE\",7],[\"13\",13],[\"CLOSE_WAIT\",8],[\"ESTABLISHED\",1]]",
	};
	size_t i;

	for (i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		jq_check("monitor.json", checks[i], true);
		jq_check("monitor-hex.json", checks[i], true);
	}
	jq_check("monitor-hex.json", "map(select(.type == \"trace\"))[0].captured_hex | test(\"^[0-9a-f]+$\")", true);
	jq_check("status.json", "(.node == \"node-a\") and has(\"agent_version\") and has(\"protocol_version\") and has(\"num_cpus\") and has(\"pages_per_cpu\") and has(\"page_size\") and has(\"uptime_ns\") and has(\"listeners\") and has(\"events_read\") and (.lost | length == 6) and (.lost[5].record_type == \"drop\") and (.types[0] == {\"type\":\"drop\",\"enabled\":true,\"emitted\":3456,\"refused\":12,\"rate_per_sec\":1000,\"burst\":100}) and has(\"interfaces\") and has(\"cgroup\") and (.tc_attach == \"tcx\") and has(\"rate_limit_per_sec\") and has(\"aggregation\") and (.events_out_of_order == 11) and (.reorder_window_us == 5000)", false);
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

/* lc and lcp have room for 6 loss counters. */
static void status_msg(Meshmon__V1__Status *st, Meshmon__V1__LossCounter *lc,
		       Meshmon__V1__LossCounter **lcp, Meshmon__V1__EventTypeCount *ec,
		       Meshmon__V1__EventTypeCount **ecp)
{
	static char *ifs[] = { "veth0", "eth0" };
	static const struct {
		uint32_t src, cpu;
		uint64_t count;
		uint32_t type;
	} l[6] = { { 2, 0, 0, 0 }, { 2, 1, 17, 0 }, { 1, 0xffffffffu, 3, 0 }, { 3, 0xffffffffu, 9, 0 },
		   { 4, 0xffffffffu, 0, 0 }, { 3, 0xffffffffu, 12, 1 } };
	/* Status.types: drop limited, debug off */
	static Meshmon__V1__TypeCounters tc[3], *tcp[3];
	size_t i;

	for (i = 0; i < 3; i++) {
		meshmon__v1__type_counters__init(&tc[i]);
		tcp[i] = &tc[i];
	}
	tc[0].type = 1;
	tc[0].enabled = true;
	tc[0].emitted = 3456;
	tc[0].refused = 12;
	tc[0].rate_per_sec = 1000;
	tc[0].burst = 100;
	tc[1].type = 2;
	tc[2].type = 4;
	tc[2].enabled = true;
	tc[2].emitted = 120000;

	meshmon__v1__status__init(st);
	st->agent_version = "0.1.0";
	st->protocol_version = 1;
	st->num_cpus = 2;
	st->pages_per_cpu = 64;
	st->page_size = 4096;
	st->uptime_ns = 3723000000000ull;
	st->listeners = 2;
	st->capture_rules = 1;
	st->capture_rules_max = 16;
	st->events_read = 123456;
	st->kernel_drops_merged = 7;
	for (i = 0; i < 6; i++) {
		meshmon__v1__loss_counter__init(&lc[i]);
		lc[i].source = l[i].src;
		lc[i].cpu = l[i].cpu;
		lc[i].count = l[i].count;
		lc[i].type = l[i].type;
		lcp[i] = &lc[i];
	}
	st->n_losses = 6;
	st->losses = lcp;
	st->n_types = 3;
	st->types = tcp;
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
	st->tc_attach = "tcx";
	st->node_name = "node-a";
	st->rate_limit_per_sec = 10000;
	st->rate_limit_burst = 1000;
	st->aggregation = 2;
	st->aggregation_name = "medium";
	st->aggregation_interval_ns = 5000000000ull;
	st->capture_len = 128;
	st->policy_verdicts = 1;
	st->endpoint_traces = 1;
	st->events_out_of_order = 11;
	st->reorder_window_us = 5000;
}

/* Status.points and Status.drops: the tc points, a tc, a kernel and the kernel's overflow drop. */
static void status_counters(Meshmon__V1__Status *st)
{
	static Meshmon__V1__PointCounter pc[2], *pcp[2];
	static Meshmon__V1__DropCounter dc[3], *dcp[3];
	static const struct {
		uint32_t source, code;
		char *reason;
		uint64_t packets, bytes;
	} d[3] = { { 1, 1, "POLICY_DENIED", 5, 490 }, { 2, 2, "NO_SOCKET", 7, 329 },
		   { 2, 0xffffffffu, "overflow", 1, 60 } };

	for (size_t i = 0; i < 2; i++) {
		meshmon__v1__point_counter__init(&pc[i]);
		pc[i].point = i + 1; /* from-network, to-network */
		pc[i].packets = 1000 * (i + 1);
		pc[i].bytes = 98000 * (i + 1);
		pcp[i] = &pc[i];
	}
	for (size_t i = 0; i < 3; i++) {
		meshmon__v1__drop_counter__init(&dc[i]);
		dc[i].source = d[i].source;
		dc[i].reason_code = d[i].code;
		dc[i].reason = d[i].reason;
		dc[i].packets = d[i].packets;
		dc[i].bytes = d[i].bytes;
		dcp[i] = &dc[i];
	}
	st->n_points = 2;
	st->points = pcp;
	st->n_drops = 3;
	st->drops = dcp;
}

Test(cli_format, status_text_and_json)
{
	Meshmon__V1__Status st;
	Meshmon__V1__LossCounter lc[6], *lcp[6];
	Meshmon__V1__EventTypeCount ec[3], *ecp[3];
	char *buf;
	size_t len;
	FILE *f;

	status_msg(&st, lc, lcp, ec, ecp);
	status_counters(&st);
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

/*
 * Invalid UTF-8 an agent should never send still comes out as valid JSON and
 * valid UTF-8 (checked by glibc's iconv, not by the writer's own validator):
 * every 2-byte string and the forms that look valid but are not.
 */
Test(cli_format, json_writer_output_is_utf8_for_any_bytes)
{
	static const struct {
		const char *in, *want;
	} t[] = {
		{ "\xed\xa0\x80", "\"\\u00ed\\u00a0\\u0080\"" },         /* a surrogate */
		{ "\xc0\xaf", "\"\\u00c0\\u00af\"" },                      /* overlong '/' */
		{ "\xf4\x90\x80\x80", "\"\\u00f4\\u0090\\u0080\\u0080\"" }, /* U+110000 */
		{ "ab\xe2\x82", "\"ab\\u00e2\\u0082\"" },                   /* cut at the end */
		{ "\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\"" },              /* U+1F600 kept */
	};
	iconv_t cd = iconv_open("UTF-32LE", "UTF-8");
	char *buf, *in, *o, conv[4096];
	size_t len, il, ol;
	struct mm_json j;
	FILE *f;

	cr_assert(cd != (iconv_t)-1);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		f = open_memstream(&buf, &len);
		mm_json__init(&j, f);
		mm_json__str(&j, t[i].in);
		fclose(f);
		cr_assert(eq(str, buf, (char *)t[i].want), "case %zu", i);
		free(buf);
	}
	for (unsigned int v = 0; v < 0x10000; v++) {
		char two[2] = { (char)(v >> 8), (char)v };

		f = open_memstream(&buf, &len);
		mm_json__init(&j, f);
		mm_json__strn(&j, two, 2);
		fclose(f);
		in = buf;
		il = len;
		o = conv;
		ol = sizeof(conv);
		iconv(cd, NULL, NULL, NULL, NULL);
		cr_assert(iconv(cd, &in, &il, &o, &ol) != (size_t)-1 && il == 0,
			  "%02x %02x gave invalid UTF-8: %s", v >> 8, v & 0xff, buf);
		free(buf);
	}
	iconv_close(cd);
}

/* Event.out_of_order: a marker at the end of the text line and a JSON key, only when set. */
Test(cli_format, out_of_order_marked_only_when_set)
{
	struct cli_case *cases;
	size_t n = cli_cases_build(&cases), len;
	struct mm_fmt f = { 0 };
	char *buf;

	cr_assert(gt(sz, n, 0));
	for (size_t i = 0; i < n; i++) {
		for (int late = 0; late < 2; late++) {
			cases[i].ev.out_of_order = late;
			f.out = open_memstream(&buf, &len);
			mm_json_event(&f, &cases[i].ev);
			fclose(f.out);
			cr_assert(eq(int, strstr(buf, ",\"out_of_order\":true}") != NULL, late), "%s",
				  buf);
			cr_assert(eq(int, strstr(buf, "out_of_order") != NULL, late), "%s", buf);
			free(buf);
			f.out = open_memstream(&buf, &len);
			mm_text_event(&f, &cases[i].ev);
			fclose(f.out);
			cr_assert(eq(int, strstr(buf, " [out of order]\n") != NULL, late), "%s", buf);
			free(buf);
		}
		cases[i].ev.out_of_order = 0;
	}
}

/* The name the agent sanitized: text shows the U+FFFD string, JSON adds the raw bytes as hex. */
Test(cli_format, raw_name_bytes_only_when_the_agent_sent_them)
{
	struct cli_case *cases;
	size_t n = cli_cases_build(&cases), i, len;
	Meshmon__V1__Event ev;
	Meshmon__V1__TcpProbe p;
	struct mm_fmt f = { 0 };
	char *buf;

	for (i = 0; i < n && cases[i].ev.detail_case != MESHMON__V1__EVENT__DETAIL_TCP_PROBE; i++)
		;
	cr_assert(lt(sz, i, n));
	ev = cases[i].ev;
	p = cases[i].probe;
	ev.tcp_probe = &p;
	p.comm = FFFD FFFD "x";
	p.comm_raw.data = (uint8_t *)"\xff\xfex";
	p.comm_raw.len = 3;
	ev.ifindex = 5;
	ev.ifname = FFFD "eth";
	ev.ifname_raw.data = (uint8_t *)"\xff" "eth";
	ev.ifname_raw.len = 4;

	f.out = open_memstream(&buf, &len);
	mm_json_event(&f, &ev);
	fclose(f.out);
	cr_assert(strstr(buf, "\"comm\":\"" FFFD FFFD "x\",\"comm_raw\":\"fffe78\",") != NULL, "%s",
		  buf);
	cr_assert(strstr(buf, "\"ifname\":\"" FFFD "eth\",\"ifname_raw\":\"ff657468\",") != NULL,
		  "%s", buf);
	free(buf);

	f.out = open_memstream(&buf, &len);
	f.verbose = 1;
	mm_text_event(&f, &ev);
	fclose(f.out);
	cr_assert(strstr(buf, "pid 4242 (" FFFD FFFD "x)") != NULL, "%s", buf);
	free(buf);

	/* a name that needed nothing: no raw keys */
	f.out = open_memstream(&buf, &len);
	mm_json_event(&f, &cases[i].ev);
	fclose(f.out);
	cr_assert(strstr(buf, "\"comm\":\"curl\"") != NULL, "%s", buf);
	cr_assert(strstr(buf, "_raw") == NULL, "%s", buf);
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

/*
 * The formatters' helpers write by hand what libc wrote for them before:
 * each against that libc call, over edge cases and many random values.
 */
static uint64_t rng_state = 0x6d6d636c69666d74ull;

static uint64_t rnd64(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static void check_addr(const uint8_t *a, size_t len)
{
	char got[64], want[64];

	cr_assert(inet_ntop(len == 16 ? AF_INET6 : AF_INET, a, want, sizeof(want)) != NULL);
	mm_fmt_addr(a, len, got, sizeof(got));
	cr_assert(eq(str, got, want));
}

Test(cli_format, addresses_as_inet_ntop_writes_them)
{
	static const char *const edge[] = {
		"::", "::1", "::2", "1::", "1::1", "::ffff:1.2.3.4", "::1.2.3.4", "::ffff:0:1.2.3.4",
		"0:0:0:0:0:fffe:102:304", "1:0:0:1:0:0:0:1", "1:0:0:0:1:0:0:1", "1:0:1:0:1:0:1:0",
		"fe80::1", "ff02::1:ff00:2", "2001:db8::", "0:1:0:0:0:0:0:0", "::ffff:0.0.0.0",
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "0:0:0:0:0:ffff:ffff:ffff", "::0.0.0.1",
	};
	uint8_t a[16];
	size_t i, k;
	uint64_t r;

	for (i = 0; i < sizeof(edge) / sizeof(edge[0]); i++) {
		cr_assert(eq(int, inet_pton(AF_INET6, edge[i], a), 1), "%s", edge[i]);
		check_addr(a, 16);
	}
	/* Groups zero half the time, 0xffff now and then: every shape of zero run. */
	for (i = 0; i < 200000; i++) {
		for (k = 0; k < 8; k++) {
			r = rnd64();
			r = r % 4 < 2 ? 0 : r % 16 == 3 ? 0xffff : r % 16 == 5 ? (r >> 20) % 16 : r >> 48;
			a[2 * k] = (uint8_t)(r >> 8);
			a[2 * k + 1] = (uint8_t)r;
		}
		check_addr(a, 16);
	}
	for (i = 0; i < 100000; i++) {
		r = rnd64();
		for (k = 0; k < 4; k++)
			a[k] = (uint8_t)(k == i % 4 ? 0 : r >> (8 * k));
		check_addr(a, 4);
	}
	mm_fmt_addr(a, 5, (char *)a, 8);
	cr_assert(eq(int, a[0], 0), "other lengths give an empty string");
}

/* What mm_fmt_time wrote before it kept the formatted second and left gmtime_r and strftime. */
static void time_reference(uint64_t ns, char *buf, size_t cap)
{
	time_t sec = (time_t)(ns / 1000000000ull);
	struct tm tm;
	size_t n;

	gmtime_r(&sec, &tm);
	n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, cap - n, ".%09" PRIu64 "Z", ns % UINT64_C(1000000000));
}

Test(cli_format, times_as_strftime_writes_them)
{
	char got[40], want[40];
	uint64_t ns = CLI_T0, step;
	size_t i;

	/* Forwards and back across seconds (events of several CPUs interleave), and far jumps. */
	for (i = 0; i < 300000; i++) {
		step = rnd64() % 3000000000ull;
		ns = i % 3 == 2 && ns > step ? ns - step / 2 : ns + step;
		if (i % 10000 == 0)
			ns = rnd64() % 0x7fffffffffffffffull;
		mm_fmt_time(ns, got, sizeof(got));
		time_reference(ns, want, sizeof(want));
		cr_assert(eq(str, got, want), "at %" PRIu64, ns);
	}
	/* Ends of days, months and years, leap days of 2000 and 2400, 2100 without one, the last ns. */
	{
		static const uint64_t secs[] = { 0, 59, 86399, 951782399, 951782400, 951868800,
						 4107542399u, 4107542400u, 4107628800u,
						 13574563199ull, 13574563200ull, 13574649600ull };
		static const uint64_t edge_ns[] = { UINT64_MAX, UINT64_MAX - 999999999ull, 999999999 };

		for (i = 0; i < sizeof(secs) / sizeof(secs[0]); i++) {
			for (step = 0; step < 2; step++) {
				ns = secs[i] * 1000000000ull + step * 999999999ull;
				mm_fmt_time(ns, got, sizeof(got));
				time_reference(ns, want, sizeof(want));
				cr_assert(eq(str, got, want), "at %" PRIu64, ns);
			}
		}
		for (i = 0; i < sizeof(edge_ns) / sizeof(edge_ns[0]); i++) {
			mm_fmt_time(edge_ns[i], got, sizeof(got));
			time_reference(edge_ns[i], want, sizeof(want));
			cr_assert(eq(str, got, want), "at %" PRIu64, edge_ns[i]);
		}
	}
	mm_fmt_time(0, got, sizeof(got));
	cr_assert(eq(str, got, "1970-01-01T00:00:00.000000000Z"));
}

/* What mm_fmt_duration wrote with snprintf. */
static void duration_reference(uint64_t ns, char *buf, size_t cap)
{
	if (ns < 1000u)
		snprintf(buf, cap, "%" PRIu64 "ns", ns);
	else if (ns < 1000000u)
		snprintf(buf, cap, "%" PRIu64 "us", ns / 1000);
	else if (ns < 10000000u)
		snprintf(buf, cap, "%" PRIu64 ".%" PRIu64 "ms", ns / 1000000, ns / 100000 % 10);
	else if (ns < UINT64_C(1000000000))
		snprintf(buf, cap, "%" PRIu64 "ms", ns / 1000000);
	else if (ns < UINT64_C(60000000000))
		snprintf(buf, cap, "%" PRIu64 ".%" PRIu64 "s", ns / 1000000000, ns / 100000000 % 10);
	else if (ns < UINT64_C(3600000000000))
		snprintf(buf, cap, "%" PRIu64 "m%02" PRIu64 "s", ns / UINT64_C(60000000000),
			 ns / 1000000000 % 60);
	else
		snprintf(buf, cap, "%" PRIu64 "h%02" PRIu64 "m", ns / UINT64_C(3600000000000),
			 ns / UINT64_C(60000000000) % 60);
}

Test(cli_format, durations_and_flags_as_snprintf_wrote_them)
{
	static const uint64_t edge[] = { 0, 9, 10, 999, 1000, 999999, 1000000, 9999999, 10000000,
					 999999999, 1000000000, 59999999999ull, 60000000000ull,
					 3599999999999ull, 3600000000000ull, UINT64_MAX };
	char got[64], want[64];
	uint64_t ns;
	size_t i, cap;
	int n, k;

	for (i = 0; i < 200000; i++) {
		ns = i < sizeof(edge) / sizeof(edge[0]) ? edge[i] : rnd64() >> (rnd64() % 64);
		mm_fmt_duration(ns, got, sizeof(got));
		duration_reference(ns, want, sizeof(want));
		cr_assert(eq(str, got, want), "at %" PRIu64, ns);
	}
	for (i = 0; i < 256; i++) {
		for (cap = 1; cap <= 64; cap += cap < 12 ? 1 : 26) {
			size_t off = 0;

			want[0] = '\0';
			for (k = 0; k < 8; k++) {
				if (!(i & (1u << k)))
					continue;
				n = snprintf(want + off, cap - off, "%s%s", off ? ", " : "",
					     mm_tcp_flag_names[k]);
				if (n < 0 || (size_t)n >= cap - off)
					break;
				off += (size_t)n;
			}
			mm_tcp_flags_str((unsigned int)i, got, cap);
			cr_assert(eq(str, got, want), "flags 0x%zx, cap %zu", i, cap);
		}
	}
}

/* The line builder's numbers, each against the printf format it replaces. */
Test(cli_format, line_numbers_as_printf_wrote_them)
{
	static struct mm_line l;
	char want[256], *got;
	size_t len, i, off;
	uint64_t v;
	int n;
	FILE *f;

	for (i = 0; i < 100000; i++) {
		v = i < 64 ? (i < 32 ? i : UINT64_MAX >> (i - 32)) : rnd64() >> (rnd64() % 64);
		f = open_memstream(&got, &len);
		mm_line__init(&l, f);
		mm_line__u64(&l, v);
		mm_line__c(&l, ' ');
		mm_line__u64_pad(&l, v, 2);
		mm_line__c(&l, ' ');
		mm_line__hex(&l, v);
		mm_line__c(&l, ' ');
		mm_line__hex_pad(&l, v % 0x10000, 4);
		mm_line__c(&l, ' ');
		mm_line__hex_pad(&l, v % 0x100, 2);
		mm_line__flush(&l);
		fclose(f);
		n = snprintf(want, sizeof(want), "%" PRIu64 " %02" PRIu64 " %" PRIx64 " %04" PRIx64
			     " %02" PRIx64, v, v, v, v % 0x10000, v % 0x100);
		cr_assert(eq(str, got, want), "%zu bytes", (size_t)n);
		free(got);
	}
	/* Pieces of every short length (copied as overlapping words), then a long one. */
	{
		static char pattern[300], all[300 * 70];
		size_t k, total = 0;

		for (k = 0; k < sizeof(pattern); k++)
			pattern[k] = (char)('a' + k % 26);
		f = open_memstream(&got, &len);
		mm_line__init(&l, f);
		for (k = 0; k <= 64; k++) {
			mm_line__put(&l, pattern + k % 7, k);
			memcpy(all + total, pattern + k % 7, k);
			total += k;
		}
		mm_line__put(&l, pattern, 290);
		memcpy(all + total, pattern, 290);
		total += 290;
		mm_line__flush(&l);
		fclose(f);
		cr_assert(eq(sz, len, total));
		cr_assert(eq(int, memcmp(got, all, total), 0));
		free(got);
	}
	/* A line longer than the buffer is written in parts, nothing lost. */
	f = open_memstream(&got, &len);
	mm_line__init(&l, f);
	for (i = 0, off = 0; i < 3 * MM_LINE_CAP / 20; i++) {
		mm_line__u64(&l, UINT64_MAX);
		off += 20;
	}
	mm_line__flush(&l);
	fclose(f);
	cr_assert(eq(sz, len, off));
	for (i = 0; i < off; i += 20)
		cr_assert(eq(int, strncmp(got + i, "18446744073709551615", 20), 0), "at %zu", i);
	free(got);
}

/* What mm_json__str_plain may be given: nothing that needs escaping. */
static void check_plain(const char *what, unsigned int v, const char *s)
{
	const unsigned char *p;
	bool plain;

	for (p = (const unsigned char *)s; s && *p; p++) {
		plain = *p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\';
		cr_assert(plain, "%s %u: '%s' would need escaping", what, v, s);
	}
}

/* The JSON writer copies the names of the tables without escaping (json.h): every one is plain. */
Test(cli_format, table_names_need_no_escaping)
{
	unsigned int v;

	for (v = 0; v < 1024; v++) {
		check_plain("event type", v, mm_event_type_name(v));
		check_plain("source", v, mm_source_name(v));
		check_plain("trace point", v, mm_trace_point_name(v));
		check_plain("trace state", v, mm_trace_state_name(v));
		check_plain("parse error", v, mm_parse_error_text(v));
		check_plain("debug type", v, mm_debug_type_name(v));
		check_plain("probe direction", v, mm_probe_direction_name(v));
		check_plain("probe state", v, mm_probe_state_name(v));
		check_plain("ip proto", v, mm_ip_proto_name(v));
		check_plain("icmp type", v, mm_icmp_type_name(4, v));
		check_plain("icmpv6 type", v, mm_icmp_type_name(6, v));
	}
	for (v = 0; v < 8; v++) {
		check_plain("tcp flag", v, mm_tcp_flag_names[v]);
		cr_assert(eq(sz, strlen(mm_tcp_flag_names[v]), 3));
	}
}

/* The reconnect notice: one line of text (the same with -v), or one JSON object. */
Test(cli_format, reconnected_notice)
{
	const struct mm_gap gap = {
		.start_ns = CLI_T0, .end_ns = CLI_T0 + 3531864211ull, .down_ns = 3204000000ull,
	};
	struct mm_fmt f = { 0 };
	struct mm_fmt_node node;
	char *buf = NULL;
	size_t len = 0;
	int verbose;

	mm_fmt_set_node(&f, &node, "node-b");
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
		     "{\"node\":\"node-b\",\"type\":\"reconnected\",\"gap_start\":\"2026-11-22T05:40:20.123456789Z\",\"gap_end\":\"2026-11-22T05:40:23.655321000Z\",\"down_ns\":3204000000}\n"));
	free(buf);
	f.out = open_memstream(&buf, &len);
	f.json = false;
	f.print_node = true;
	mm_format_reconnected(&f, &gap);
	fclose(f.out);
	cr_assert(eq(str, buf,
		     "[node-b] -- reconnected: events between 2026-11-22T05:40:20.123456789Z and 2026-11-22T05:40:23.655321000Z were not seen (agent restarted)\n"));
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

/*
 * What the agent (or whatever listens on the socket path) sends is printed
 * without its control characters: the Hello's version, a drop's reason and
 * file, every string of Status (found by fuzz_client_format; comm, ifname and
 * debug messages were cleaned already).
 */
Test(cli_format, agent_strings_lose_control_characters)
{
	Meshmon__V1__Hello h = hello;
	Meshmon__V1__Status st;
	Meshmon__V1__LossCounter lc[6], *lcp[6];
	Meshmon__V1__EventTypeCount ec[3], *ecp[3];
	char *ifs[2] = { "veth\r0", "eth0" };
	struct mm_fmt f = { .verbose = 1 };
	struct cli_case *cases;
	size_t n = cli_cases_build(&cases), i, len, drops = 0;
	char *buf;
	static const char *const want[] = {
		"(agent 0.1?]0;pwned?, protocol",
		"xx drop (EVIL?[2J)",
		"Agent version:     ?c\n",
		"Interfaces:        veth?0, eth0\n",
		"Cgroup:            /?[1A\n",
		"TC attach:         tcx?\n",
		"Aggregation:       med?ium, interval",
	};

	f.out = open_memstream(&buf, &len);
	cr_assert(f.out != NULL);
	h.agent_version = "0.1\033]0;pwned\007";
	mm_text_hello(&f, &h);
	for (i = 0; i < n; i++) {
		Meshmon__V1__Event ev = cases[i].ev;
		Meshmon__V1__Drop d;

		if (cases[i].msg.msg_case != MESHMON__V1__SERVER_MESSAGE__MSG_EVENT ||
		    ev.detail_case != MESHMON__V1__EVENT__DETAIL_DROP)
			continue;
		d = *ev.drop;
		d.reason = d.reason_text = "EVIL\033[2J";
		d.file = "x.c\r\n";
		ev.drop = &d;
		mm_text_event(&f, &ev);
		drops++;
	}
	status_msg(&st, lc, lcp, ec, ecp);
	st.agent_version = "\033c";
	st.interfaces = ifs;
	st.cgroup = "/\033[1A";
	st.tc_attach = "tcx\n";
	st.aggregation_name = "med\tium";
	status_counters(&st);
	st.drops[1]->reason = "NO\033[2J_SOCKET";
	mm_status_text(f.out, &st);
	fclose(f.out);
	cr_assert(drops > 0);
	for (i = 0; i < len; i++)
		cr_assert(buf[i] == '\n' || ((unsigned char)buf[i] >= 0x20 && buf[i] != 0x7f),
			  "control character 0x%02x at %zu in:\n%s", (unsigned char)buf[i], i, buf);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_expect(strstr(buf, want[i]) != NULL, "no '%s' in:\n%s", want[i], buf);
	cr_expect(strstr(buf, ", file x.c??:") != NULL, "%s", buf);
	free(buf);
}

/* The text of an agent's Error message reaches stderr as one clean line. */
Test(cli_format, error_text_is_one_clean_line, .init = cr_redirect_stderr)
{
	mm_report_error(false, "meshmon: the agent reported an error: bad\033[2J\nline (code 7)");
	fflush(stderr);
	cr_assert_stderr_eq_str("meshmon: the agent reported an error: bad?[2J?line (code 7)\n");
}

/*
 * An IPv6 extension header whose length runs past the captured bytes, followed
 * by another: reported as truncated with the real byte counts (it printed
 * len - off, wrapped around).
 */
Test(cli_format, ipv6_extension_header_past_the_bytes)
{
	uint8_t p[60] = { 0x60 };
	char *buf;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	p[6] = 0;   /* next header: hop-by-hop */
	p[40] = 0;  /* its next header: hop-by-hop again */
	p[41] = 10; /* (10 + 1) * 8 = 88 bytes, past the 60 there are */
	mm_dissect(p, sizeof(p), MM_DISSECT_NETWORK, 0, 0, NULL, f, "");
	fclose(f);
	cr_expect(strstr(buf, "IPv6 extension header: truncated (60 of 136 bytes)") != NULL, "%s",
		  buf);
	free(buf);
}

/* A loss of one record type's own rate limit names the type, in text and in JSON. */
Test(cli_format, lost_line_names_the_limited_type)
{
	Meshmon__V1__LostNotice n = MESHMON__V1__LOST_NOTICE__INIT;
	struct mm_fmt f = { 0 };
	char *buf;
	size_t len;

	n.source = MESHMON__V1__LOSS_SOURCE__LOSS_SOURCE_RATE_LIMIT;
	n.cpu = 0xffffffffu;
	n.count = 12;
	n.type = MESHMON__V1__EVENT_TYPE__EVENT_TYPE_DROP;
	f.out = open_memstream(&buf, &len);
	mm_format_lost(&f, &n);
	n.type = 0; /* the host total */
	mm_format_lost(&f, &n);
	fclose(f.out);
	cr_expect(eq(str, buf, "Lost 12 events (rate limit, drop)\nLost 12 events (rate limit)\n"));
	free(buf);

	f.json = true;
	n.type = MESHMON__V1__EVENT_TYPE__EVENT_TYPE_DROP;
	f.out = open_memstream(&buf, &len);
	mm_format_lost(&f, &n);
	fclose(f.out);
	cr_expect(strstr(buf, "\"source\":\"rate_limit\",\"count\":12,\"record_type\":\"drop\"") != NULL,
		  "%s", buf);
	free(buf);
}
