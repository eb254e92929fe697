// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Flag parsing of `meshmon monitor` / `meshmon status`: every flag, the
 * Subscribe built from them (packed and unpacked as the agent would see it),
 * bad values (one-line error naming the flag, exit 2), the binary's help and
 * exit codes, and the dispatcher: --json before or after the command (decided
 * once, errors as JSON) and `help CMD` from the command table.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "options.h"

#ifndef MESHMON_CLI_PATH
#define MESHMON_CLI_PATH "/tmp/devb/meshmon"
#endif

static struct mm_opts o;
static char err[512];

/* argv of cmd and a NULL-terminated list of arguments (at most 30): its argc. */
static int build_argv(char **argv, const char *cmd, const char *const *args)
{
	int argc = 0;

	argv[argc++] = (char *)cmd;
	while (*args && argc < 31)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	return argc;
}

static int parse_v(const char *cmd, const char *const *args)
{
	char *argv[32];
	int argc = build_argv(argv, cmd, args);

	return mm_opts_parse(&o, cmd, argc, argv, err, sizeof(err));
}

#define PARSE(...) parse_v("monitor", (const char *const[]){ __VA_ARGS__, NULL })
#define PARSE0() parse_v("monitor", (const char *const[]){ NULL })

Test(cli_options, defaults)
{
	unsetenv("MESHMON_SOCK");
	cr_assert(eq(int, PARSE0(), 0));
	cr_assert(eq(str, (char *)o.socket, "/run/meshmon/monitor.sock"));
	cr_assert(eq(int, o.verbose, 0));
	cr_assert(not(o.hex || o.numeric || o.help || o.types_given));
	cr_assert(eq(u64, o.count, 0));
	cr_assert(eq(u32, o.last, 0));
	cr_assert(o.pcap == NULL);
	cr_assert(not(o.no_reconnect));
	cr_assert(eq(u32, o.reconnect_timeout, 60));
}

Test(cli_options, reconnect_flags)
{
	cr_assert(eq(int, PARSE("--no-reconnect"), 0));
	cr_assert(o.no_reconnect);
	cr_assert(eq(u32, o.reconnect_timeout, 60));
	cr_assert(eq(int, PARSE("--reconnect-timeout", "0"), 0));
	cr_assert(not(o.no_reconnect));
	cr_assert(eq(u32, o.reconnect_timeout, 0));
	cr_assert(eq(int, PARSE("--reconnect-timeout=5"), 0));
	cr_assert(eq(u32, o.reconnect_timeout, 5));
}

Test(cli_options, socket_flag_and_env)
{
	setenv("MESHMON_SOCK", "/tmp/env.sock", 1);
	cr_assert(eq(int, PARSE0(), 0));
	cr_assert(eq(str, (char *)o.socket, "/tmp/env.sock"));
	cr_assert(eq(int, PARSE("--socket", "/tmp/flag.sock"), 0));
	cr_assert(eq(str, (char *)o.socket, "/tmp/flag.sock"));
	cr_assert(eq(int, PARSE("--socket=/tmp/eq.sock"), 0));
	cr_assert(eq(str, (char *)o.socket, "/tmp/eq.sock"));
	unsetenv("MESHMON_SOCK");
	cr_assert(eq(int, PARSE("--socket", ""), MM_EXIT_USAGE));
	cr_assert(strstr(err, "--socket") != NULL);
}

Test(cli_options, output_flags)
{
	cr_assert(eq(int, PARSE("-v"), 0));
	cr_assert(eq(int, o.verbose, 1));
	cr_assert(eq(int, PARSE("-vv"), 0));
	cr_assert(eq(int, o.verbose, 2));
	cr_assert(eq(int, PARSE("-v", "--verbose", "-v"), 0));
	cr_assert(eq(int, o.verbose, 2));
	/* -j/--json is accepted (the dispatcher decides JSON, see json_scan below). */
	cr_assert(eq(int, PARSE("--hex", "-j", "-n"), 0));
	cr_assert(o.hex && o.numeric);
	cr_assert(eq(int, PARSE("--json", "--numeric"), 0));
	cr_assert(o.numeric);
	cr_assert(eq(int, PARSE("-c", "5", "--last", "100"), 0));
	cr_assert(eq(u64, o.count, 5));
	cr_assert(eq(u32, o.last, 100));
	cr_assert(eq(int, PARSE("--count=7"), 0));
	cr_assert(eq(u64, o.count, 7));
	cr_assert(eq(int, PARSE("--pcap", "/tmp/x.pcap"), 0));
	cr_assert(eq(str, (char *)o.pcap, "/tmp/x.pcap"));
	cr_assert(eq(int, PARSE("--pcap", "-"), 0));
	cr_assert(eq(str, (char *)o.pcap, "-"));
	cr_assert(eq(int, PARSE("-h"), 0));
	cr_assert(o.help);
	cr_assert(eq(int, PARSE("--help"), 0));
	cr_assert(o.help);
	cr_assert(eq(int, PARSE0(), 0));
	cr_assert(not(o.time)); /* no timestamps by default, as cilium-dbg monitor */
	cr_assert(eq(int, PARSE("--time"), 0));
	cr_assert(o.time);
	cr_assert(eq(int, PARSE("--time=x"), MM_EXIT_USAGE));
}

Test(cli_options, types_and_points)
{
	cr_assert(eq(int, PARSE("-t", "drop"), 0));
	cr_assert(o.types_given);
	cr_assert(eq(sz, o.n_types, 1));
	cr_assert(eq(u32, o.types[0], 1));
	cr_assert(eq(int, PARSE("--type", "trace:from-network", "-t", "trace:to-stack"), 0));
	cr_assert(eq(sz, o.n_types, 1));
	cr_assert(eq(u32, o.types[0], 4));
	cr_assert(eq(sz, o.n_points, 2));
	cr_assert(eq(u32, o.points[0], 1));
	cr_assert(eq(u32, o.points[1], 4));
	/* The endpoint points (cgroup_skb) by their names. */
	cr_assert(eq(int, PARSE("-t", "trace:to-endpoint,trace:from-endpoint"), 0));
	cr_assert(eq(sz, o.n_points, 2));
	cr_assert(eq(u32, o.points[0], MESHMON__V1__TRACE_POINT__TRACE_POINT_TO_ENDPOINT));
	cr_assert(eq(u32, o.points[1], MESHMON__V1__TRACE_POINT__TRACE_POINT_FROM_ENDPOINT));
	cr_assert(eq(int, PARSE("-t", "drop,trace,debug", "-t", "tcp_probe"), 0));
	cr_assert(eq(sz, o.n_types, 4));
	cr_assert(eq(u32, o.types[0], 1));
	cr_assert(eq(u32, o.types[1], 4));
	cr_assert(eq(u32, o.types[2], 2));
	cr_assert(eq(u32, o.types[3], 8));
	cr_assert(eq(int, PARSE("-t", "tcp-probe"), 0));
	cr_assert(eq(u32, o.types[0], 8));
	cr_assert(eq(int, PARSE("-t", "policy-verdict"), 0), "emitted with --policy-verdicts");
	cr_assert(eq(sz, o.n_types, 1));
	cr_assert(eq(u32, o.types[0], 5));
}

/* Arrays, not pointers: criterion copies parameters into another process. */
struct ep_case {
	char text[32];
	char addr[48]; /* "": any */
	uint32_t prefix, port;
};

ParameterizedTestParameters(cli_options, endpoints)
{
	static struct ep_case cases[] = {
		{ "10.0.0.1", "10.0.0.1", 32, 0 },
		{ "10.0.0.0/8", "10.0.0.0", 8, 0 },
		{ "10.0.0.1:80", "10.0.0.1", 32, 80 },
		{ "10.1.0.0/16:443", "10.1.0.0", 16, 443 },
		{ "fd00::1", "fd00::1", 128, 0 },
		{ "fd00::/64", "fd00::", 64, 0 },
		{ "[fd00::1]:8080", "fd00::1", 128, 8080 },
		{ "[fd00::/48]:53", "fd00::", 48, 53 },
		{ "[::1]", "::1", 128, 0 },
		/* Bare IPv6 addresses starting with "::" are not ":PORT" (found by fuzz_parsers). */
		{ "::1", "::1", 128, 0 },
		{ "::/0", "::", 0, 0 },
		{ "::ffff:10.0.0.1", "::ffff:10.0.0.1", 128, 0 },
		{ ":53", "", 0, 53 },
		{ ":65535", "", 0, 65535 },
	};
	return cr_make_param_array(struct ep_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct ep_case *c, cli_options, endpoints)
{
	struct mm_endpoint ep;
	uint8_t want[16];

	cr_assert(eq(int, mm_endpoint_parse(c->text, &ep), 0), "%s", c->text);
	if (!c->addr[0]) {
		cr_assert(eq(sz, ep.addr_len, 0));
	} else {
		int af = strchr(c->addr, ':') ? AF_INET6 : AF_INET;

		cr_assert(eq(int, inet_pton(af, c->addr, want), 1));
		cr_assert(eq(sz, ep.addr_len, af == AF_INET ? 4 : 16));
		cr_assert(eq(int, memcmp(ep.addr, want, ep.addr_len), 0), "%s", c->text);
	}
	cr_assert(eq(u32, ep.prefix_len, c->prefix), "%s", c->text);
	cr_assert(eq(u32, ep.port, c->port), "%s", c->text);
}

struct bad_case {
	char args[3][32];
	char want[96]; /* substring of the one-line error */
};

ParameterizedTestParameters(cli_options, bad_values)
{
	static struct bad_case cases[] = {
		{ { "--proto", "foo" }, "--proto: unknown protocol 'foo'" },
		{ { "--proto", "256" }, "--proto" },
		{ { "--proto", "-1" }, "--proto" },
		{ { "--port", "0" }, "--port: bad port '0'" },
		{ { "--port", "65536" }, "--port" },
		{ { "--port", "http" }, "--port" },
		{ { "--port", "80x" }, "--port" },
		{ { "-t", "nope" }, "--type: unknown event type 'nope'" },
		{ { "-t", "capture" }, "--type: the datapath does not emit 'capture' events" },
		{ { "-t", "drop,capture" }, "--type: the datapath does not emit 'capture'" },
		{ { "--drop-reason", "<empty>" }, "--drop-reason: bad name in ''" },
		{ { "--drop-reason", "NO_SOCKET,,X" }, "--drop-reason: bad name in 'NO_SOCKET,,X'" },
		{ { "--drop-reason", "NO_SOCKET," }, "--drop-reason: bad name" },
		{ { "--tcp-flags", "SYN,FOO" }, "--tcp-flags: bad flags 'SYN,FOO'" },
		{ { "--tcp-flags", "<empty>" }, "--tcp-flags: bad flags" },
		{ { "--tcp-flags", "SYN," }, "--tcp-flags: bad flags" },
		{ { "--interface", "<empty>" }, "--interface: bad name ''" },
		{ { "--interface", "a234567890123456" }, "--interface: bad name 'a234567890123456'" },
		{ { "--since", "yesterday" }, "--since: bad time 'yesterday'" },
		{ { "--since", "2026-02-30T00:00:00Z" }, "--since: bad time" },
		{ { "--since", "2026-12-01T17:00:00" }, "--since: bad time" },
		{ { "--since", "5x" }, "--since: bad time" },
		{ { "--since", "0s" }, "--since: bad time" },
		{ { "--until", "5m" }, "--until: give --since or --last too" },
		{ { "--since", "1m", "--until" }, "--until: missing value" },
		{ { "--not" }, "--not: no filter flag after it" },
		{ { "--not", "--not", "--port" }, "--not: given twice in a row" },
		{ { "--not", "-t", "drop" }, "--not: must be followed by a filter flag" },
		{ { "--not", "--last", "5" }, "--not: must be followed by a filter flag" },
		{ { "--follow=yes" }, "--follow" },
		{ { "-t", "drop:from-network" }, "--type: only trace takes a point" },
		{ { "-t", "trace:nowhere" }, "--type: unknown trace point 'nowhere'" },
		{ { "-t", "<empty>" }, "--type" },
		{ { "--from", "10.0.0.1/33" }, "--from: bad endpoint '10.0.0.1/33'" },
		{ { "--from", "300.1.1.1" }, "--from: bad endpoint" },
		{ { "--from", "<empty>" }, "--from" },
		{ { "--to", "[fd00::1" }, "--to: bad endpoint" },
		{ { "--to", "[fd00::1]:" }, "--to: bad endpoint" },
		{ { "--to", ":0" }, "--to: bad endpoint" },
		{ { "--to", ":70000" }, "--to" },
		{ { "--to", "10.0.0.1:" }, "--to" },
		{ { "--related-to", "fd00::/129" }, "--related-to: bad endpoint" },
		{ { "--related-to", "host.example" }, "--related-to" },
		{ { "-c", "0" }, "--count: bad count '0'" },
		{ { "--count", "many" }, "--count" },
		{ { "--last", "-5" }, "--last: bad number" },
		{ { "--pcap", "<empty>" }, "--pcap" },
		{ { "--reconnect-timeout", "-1" }, "--reconnect-timeout: bad number of seconds '-1'" },
		{ { "--reconnect-timeout", "1.5" }, "--reconnect-timeout" },
		{ { "--reconnect-timeout", "4294967296" }, "--reconnect-timeout" },
		{ { "--reconnect-timeout" }, "--reconnect-timeout: missing value" },
		{ { "--no-reconnect=yes" }, "--no-reconnect" },
		{ { "--bogus" }, "unknown flag '--bogus'" },
		{ { "-x" }, "unknown flag '-x'" },
		{ { "-c" }, "-c: missing value" },
		{ { "--port" }, "--port: missing value" },
		{ { "extra" }, "unexpected argument 'extra'" },
	};
	return cr_make_param_array(struct bad_case, cases, sizeof(cases) / sizeof(cases[0]));
}

/* c's flags refused by command with c's message, on one line. */
static void expect_bad(const char *command, const struct bad_case *c)
{
	const char *args[4] = { NULL };
	int i;

	/* "<empty>" stands for an empty value. */
	for (i = 0; i < 3 && c->args[i][0]; i++)
		args[i] = strcmp(c->args[i], "<empty>") == 0 ? "" : c->args[i];
	cr_assert(eq(int, parse_v(command, args), MM_EXIT_USAGE), "%s", c->args[0]);
	cr_assert(strstr(err, c->want) != NULL, "error '%s' lacks '%s'", err, c->want);
	cr_assert(strchr(err, '\n') == NULL, "one line: '%s'", err);
}

ParameterizedTest(struct bad_case *c, cli_options, bad_values)
{
	expect_bad("monitor", c);
}

Test(cli_options, status_flags)
{
	cr_assert(eq(int, parse_v("status", (const char *const[]){ "--json", "--socket", "/x", NULL }), 0));
	cr_assert(eq(str, (char *)o.socket, "/x"));
	cr_assert(eq(int, parse_v("status", (const char *const[]){ "--proto", "tcp", NULL }),
		     MM_EXIT_USAGE));
	cr_assert(strstr(err, "unknown flag '--proto'") != NULL);
}

/* The dispatcher's question: are -j/--json among the command's flags? */
static bool json_v(const char *cmd, const char *const *args)
{
	char *argv[32];
	int argc = build_argv(argv, cmd, args);

	return mm_opts_json(cmd, argc, argv);
}

#define JSON(...) json_v("monitor", (const char *const[]){ __VA_ARGS__, NULL })

Test(cli_options, json_scan)
{
	cr_assert(JSON("-j"));
	cr_assert(JSON("--json"));
	cr_assert(JSON("-vj"));
	cr_assert(JSON("--js")); /* getopt_long's unique prefix, as the parser takes it */
	/* Before the flags fail to parse: the failure is reported as JSON. */
	cr_assert(JSON("--port", "0", "--json"));
	cr_assert(JSON("--bogus", "-j"));
	cr_assert(JSON("-c5", "extra", "-j"));
	cr_assert(not(json_v("monitor", (const char *const[]){ NULL })));
	/* A flag's value is not a flag; nothing after "--" is a flag. */
	cr_assert(not(JSON("--socket", "-j")));
	cr_assert(not(JSON("--socket=-j")));
	cr_assert(not(JSON("--pcap", "--json")));
	cr_assert(not(JSON("-cj")));
	cr_assert(not(JSON("--", "--json")));
	cr_assert(not(JSON("--json=yes")));
	cr_assert(json_v("status", (const char *const[]){ "--socket", "/x", "-j", NULL }));
	cr_assert(not(json_v("status", (const char *const[]){ "--socket", "--json", NULL })));
	cr_assert(not(json_v("help", (const char *const[]){ "-j", NULL })));
}

/* The scan and the parser read argv the same way; the scan leaves argv alone. */
Test(cli_options, json_scan_agrees_with_parse)
{
	char *argv[] = { "monitor", "extra", "--socket", "-j", "-v", "--", "--json", NULL };
	char *copy[8];

	memcpy(copy, argv, sizeof(argv));
	cr_assert(not(mm_opts_json("monitor", 7, argv)));
	cr_assert(eq(int, memcmp(copy, argv, sizeof(argv)), 0), "argv was reordered");
	cr_assert(eq(int, PARSE("--socket", "-j"), 0));
	cr_assert(eq(str, (char *)o.socket, "-j"));
	cr_assert(eq(int, PARSE("--", "--json"), MM_EXIT_USAGE));
	cr_assert(strstr(err, "unexpected argument '--json'") != NULL, "%s", err);
}

/* m as the agent receives it: packed, then unpacked (protobuf-c's allocator). */
static void *pack_unpack(const ProtobufCMessage *m)
{
	uint8_t buf[8192];
	size_t len = protobuf_c_message_get_packed_size(m);

	cr_assert(len <= sizeof(buf));
	protobuf_c_message_pack(m, buf);
	return protobuf_c_message_unpack(m->descriptor, NULL, len, buf);
}

/* The Subscribe of the flags in o, as the agent receives it. */
static Meshmon__V1__Subscribe *roundtrip(void)
{
	static struct mm_subscribe_buf sb;

	mm_opts_subscribe(&o, &sb);
	return pack_unpack(&sb.sub.base);
}

Test(cli_options, subscribe_default_has_no_filter_and_no_debug)
{
	Meshmon__V1__Subscribe *s;
	size_t i;

	cr_assert(eq(int, PARSE0(), 0));
	s = roundtrip();
	cr_assert(s != NULL);
	cr_assert(eq(sz, s->n_filters, 0));
	cr_assert(eq(sz, s->n_points, 0));
	cr_assert(eq(u32, s->replay, 0));
	cr_assert(eq(sz, s->n_types, 6));
	for (i = 0; i < s->n_types; i++)
		cr_assert(ne(int, (int)s->types[i], MESHMON__V1__EVENT_TYPE__EVENT_TYPE_DEBUG));
	meshmon__v1__subscribe__free_unpacked(s, NULL);

	/* -v asks for every type, debug included (empty list). */
	cr_assert(eq(int, PARSE("-v"), 0));
	s = roundtrip();
	cr_assert(eq(sz, s->n_types, 0));
	meshmon__v1__subscribe__free_unpacked(s, NULL);
}

Test(cli_options, subscribe_carries_every_filter)
{
	Meshmon__V1__Subscribe *s;
	Meshmon__V1__FlowFilter *f;
	uint8_t a[16];

	cr_assert(eq(int, PARSE("-t", "trace:from-network", "-t", "drop", "--from", "10.0.0.0/8",
				"--from", "[fd00::1]:80", "--to", ":53", "--related-to",
				"192.168.1.1", "--proto", "udp", "--proto", "icmp", "--port", "53",
				"--last", "10"),
		     0));
	s = roundtrip();
	cr_assert(s != NULL);
	cr_assert(eq(sz, s->n_types, 2));
	cr_assert(eq(int, (int)s->types[0], 4));
	cr_assert(eq(int, (int)s->types[1], 1));
	cr_assert(eq(sz, s->n_points, 1));
	cr_assert(eq(int, (int)s->points[0], 1));
	cr_assert(eq(u32, s->replay, 10));
	cr_assert(eq(sz, s->n_filters, 1));
	f = s->filters[0];
	cr_assert(eq(sz, f->n_source, 2));
	inet_pton(AF_INET, "10.0.0.0", a);
	cr_assert(eq(sz, f->source[0]->address.len, 4));
	cr_assert(eq(int, memcmp(f->source[0]->address.data, a, 4), 0));
	cr_assert(eq(u32, f->source[0]->prefix_len, 8));
	cr_assert(eq(u32, f->source[0]->port, 0));
	inet_pton(AF_INET6, "fd00::1", a);
	cr_assert(eq(sz, f->source[1]->address.len, 16));
	cr_assert(eq(int, memcmp(f->source[1]->address.data, a, 16), 0));
	cr_assert(eq(u32, f->source[1]->prefix_len, 128));
	cr_assert(eq(u32, f->source[1]->port, 80));
	cr_assert(eq(sz, f->n_destination, 1));
	cr_assert(eq(sz, f->destination[0]->address.len, 0));
	cr_assert(eq(u32, f->destination[0]->port, 53));
	cr_assert(eq(sz, f->n_either, 1));
	cr_assert(eq(u32, f->either[0]->prefix_len, 32));
	cr_assert(eq(sz, f->n_protocols, 2));
	cr_assert(eq(u32, f->protocols[0], 17));
	cr_assert(eq(u32, f->protocols[1], 1));
	cr_assert(eq(sz, f->n_ports, 1));
	cr_assert(eq(u32, f->ports[0], 53));
	meshmon__v1__subscribe__free_unpacked(s, NULL);
}

/* The new filter flags, --not, the history flags: into the Subscribe as the agent sees it. */
Test(cli_options, subscribe_carries_the_hubble_filters)
{
	Meshmon__V1__Subscribe *s;
	Meshmon__V1__FlowFilter *f, *x;

	cr_assert(eq(int, PARSE("--drop-reason", "POLICY_DENIED,no_socket", "--drop-reason",
				"NO_SOCKET", "--tcp-flags", "syn,ACK", "--tcp-flags", "FIN",
				"--interface", "veth-a", "--interface", "veth-a", "--not", "--port",
				"53", "--not", "--drop-reason", "TC_EGRESS", "--proto", "udp", "--not",
				"--interface", "lo", "--since", "2026-12-01T17:00:00Z", "--until",
				"2026-12-01T18:00:00.5+01:00"),
		     0), "%s", err);
	s = roundtrip();
	cr_assert(s != NULL);
	cr_assert(eq(sz, s->n_filters, 1));
	f = s->filters[0];
	cr_assert(eq(sz, f->n_drop_reasons, 3));
	cr_expect(eq(str, f->drop_reasons[0], "POLICY_DENIED"));
	cr_expect(eq(str, f->drop_reasons[1], "no_socket"), "sent as given: the agent ignores case");
	cr_expect(eq(str, f->drop_reasons[2], "NO_SOCKET"));
	cr_assert(eq(sz, f->n_tcp_flags, 2));
	cr_expect(eq(u32, f->tcp_flags[0], 0x12));
	cr_expect(eq(u32, f->tcp_flags[1], 0x01));
	cr_assert(eq(sz, f->n_interfaces, 1), "duplicates dropped");
	cr_expect(eq(str, f->interfaces[0], "veth-a"));
	cr_assert(eq(sz, f->n_protocols, 1), "--not negates only the flag after it");
	cr_expect(eq(sz, f->n_ports, 0));
	cr_assert(eq(sz, s->n_exclude, 1));
	x = s->exclude[0];
	cr_assert(eq(sz, x->n_ports, 1));
	cr_expect(eq(u32, x->ports[0], 53));
	cr_assert(eq(sz, x->n_drop_reasons, 1));
	cr_expect(eq(str, x->drop_reasons[0], "TC_EGRESS"));
	cr_assert(eq(sz, x->n_interfaces, 1));
	cr_expect(eq(str, x->interfaces[0], "lo"));
	cr_expect(eq(sz, x->n_protocols + x->n_tcp_flags + x->n_source, 0));
	/* 2026-12-01T17:00:00Z = 1796144400 s; 18:00:00.5+01:00 is 17:00:00.5Z. */
	cr_expect(eq(u64, s->since_ns, 1796144400ull * 1000000000ull));
	cr_expect(eq(u64, s->until_ns, 1796144400ull * 1000000000ull + 500000000ull));
	cr_expect(s->history_only, "--since without --follow: the history only");
	cr_expect(eq(u32, s->replay, 0));
	meshmon__v1__subscribe__free_unpacked(s, NULL);
}

/* --last and --since end after the history unless -f/--follow; nothing else does. */
Test(cli_options, history_only_unless_follow)
{
	Meshmon__V1__Subscribe *s;
	struct timespec now;
	uint64_t now_ns;

	cr_assert(eq(int, PARSE("--last", "5"), 0));
	s = roundtrip();
	cr_expect(s->history_only);
	cr_expect(eq(u32, s->replay, 5));
	meshmon__v1__subscribe__free_unpacked(s, NULL);
	cr_assert(eq(int, PARSE("--last", "5", "-f"), 0));
	s = roundtrip();
	cr_expect(not(s->history_only));
	meshmon__v1__subscribe__free_unpacked(s, NULL);
	cr_assert(eq(int, PARSE("--follow", "--since", "90s"), 0));
	clock_gettime(CLOCK_REALTIME, &now);
	now_ns = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
	s = roundtrip();
	cr_expect(not(s->history_only));
	/* 90 s before the parse, which was just now */
	cr_expect(le(u64, s->since_ns, now_ns - 90000000000ull));
	cr_expect(gt(u64, s->since_ns, now_ns - 95000000000ull));
	meshmon__v1__subscribe__free_unpacked(s, NULL);
	cr_assert(eq(int, PARSE("-f"), 0));
	s = roundtrip();
	cr_expect(not(s->history_only), "nothing to replay: a plain live stream");
	meshmon__v1__subscribe__free_unpacked(s, NULL);
	cr_assert(eq(int, PARSE0(), 0));
	s = roundtrip();
	cr_expect(not(s->history_only));
	cr_expect(eq(u64, s->since_ns, 0));
	cr_expect(eq(sz, s->n_exclude, 0));
	meshmon__v1__subscribe__free_unpacked(s, NULL);
}

Test(cli_options, proto_names)
{
	cr_assert(eq(int, PARSE("--proto", "tcp", "--proto", "UDP", "--proto", "icmp", "--proto",
				"icmpv6", "--proto", "47"),
		     0));
	cr_assert(eq(sz, o.flow.n_protos, 5));
	cr_assert(eq(u32, o.flow.protos[0], 6));
	cr_assert(eq(u32, o.flow.protos[1], 17));
	cr_assert(eq(u32, o.flow.protos[2], 1));
	cr_assert(eq(u32, o.flow.protos[3], 58));
	cr_assert(eq(u32, o.flow.protos[4], 47));
}

/* ---- the binary: help, errors on stderr or as JSON, exit codes ---- */

static int run_cli(const char *args, char *out, size_t cap)
{
	char cmd[1024];
	FILE *p;
	size_t n;
	int st;

	snprintf(cmd, sizeof(cmd), "%s %s 2>&1", MESHMON_CLI_PATH, args);
	p = popen(cmd, "r");
	cr_assert(p != NULL);
	n = fread(out, 1, cap - 1, p);
	out[n] = '\0';
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

Test(cli_options, binary_help)
{
	static char out[16384];
	static const char *const monitor_flags[] = {
		"--socket", "--type", "--from", "--to", "--related-to", "--proto", "--port",
		"--verbose", "--hex", "--json", "--count", "--last", "--pcap", "--numeric",
		"--no-reconnect", "--reconnect-timeout", "MESHMON_SOCK", "trace:POINT", "--time",
	};
	size_t i;

	cr_assert(eq(int, run_cli("--help", out, sizeof(out)), 0));
	cr_assert(strstr(out, "monitor") != NULL && strstr(out, "status") != NULL);
	cr_assert(eq(int, run_cli("monitor --help", out, sizeof(out)), 0));
	for (i = 0; i < sizeof(monitor_flags) / sizeof(monitor_flags[0]); i++)
		cr_assert(strstr(out, monitor_flags[i]) != NULL, "monitor --help lacks %s", monitor_flags[i]);
	cr_assert(eq(int, run_cli("status --help", out, sizeof(out)), 0));
	cr_assert(strstr(out, "--json") != NULL && strstr(out, "--socket") != NULL);
	cr_assert(eq(int, run_cli("help monitor", out, sizeof(out)), 0));
	cr_assert(strstr(out, "--related-to") != NULL);
	cr_assert(eq(int, run_cli("frobnicate", out, sizeof(out)), MM_EXIT_USAGE));
	cr_assert(strstr(out, "unknown command 'frobnicate'") != NULL);
}

Test(cli_options, binary_bad_flag_text_and_json)
{
	char out[4096];

	cr_assert(eq(int, run_cli("monitor --proto foo", out, sizeof(out)), MM_EXIT_USAGE));
	cr_assert(eq(str, out,
		     "meshmon monitor: --proto: unknown protocol 'foo' (want tcp, udp, icmp, icmpv6 or a number 0-255)\n"));
	cr_assert(eq(int, run_cli("monitor --port 0 --json", out, sizeof(out)), MM_EXIT_USAGE));
	cr_assert(eq(str, out, "{\"error\":\"--port: bad port '0' (want 1-65535)\"}\n"));
	cr_assert(eq(int, run_cli("status -j --bogus", out, sizeof(out)), MM_EXIT_USAGE));
	cr_assert(eq(str, out, "{\"error\":\"unknown flag '--bogus' (see 'meshmon status --help')\"}\n"));
}

Test(cli_options, binary_agent_not_running)
{
	char out[4096];

	cr_assert(eq(int, run_cli("monitor --socket /nonexistent/meshmon.sock", out, sizeof(out)),
		     MM_EXIT_UNREACHABLE));
	cr_assert(eq(str, out,
		     "meshmon: cannot reach the agent at /nonexistent/meshmon.sock: No such file or directory (is meshmon-agent running?)\n"));
	setenv("MESHMON_SOCK", "/nonexistent/env.sock", 1);
	cr_assert(eq(int, run_cli("status --json", out, sizeof(out)), MM_EXIT_UNREACHABLE));
	unsetenv("MESHMON_SOCK");
	cr_assert(eq(str, out,
		     "{\"error\":\"cannot reach the agent at /nonexistent/env.sock: No such file or directory (is meshmon-agent running?)\"}\n"));
}

/* A first connection that fails is not retried, however long reconnecting may take. */
Test(cli_options, binary_first_connection_is_not_retried)
{
	char cmd[512];
	int st;

	snprintf(cmd, sizeof(cmd),
		 "timeout 5 %s monitor --reconnect-timeout 0 --socket /nonexistent/meshmon.sock 2>/dev/null",
		 MESHMON_CLI_PATH);
	st = system(cmd);
	{
		int exited = WIFEXITED(st), code = WEXITSTATUS(st);

		cr_assert(exited);
		cr_assert(eq(int, code, MM_EXIT_UNREACHABLE));
	}
}

/* A socket file nobody listens on: ECONNREFUSED is "not running" too. */
Test(cli_options, binary_stale_socket)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char path[64], args[128], out[4096];
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(path, sizeof(path), "/tmp/mm-cli-stale-%d.sock", getpid());
	unlink(path);
	strcpy(sa.sun_path, path);
	cr_assert(eq(int, bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0));
	close(fd); /* bound, never listened: connect() is refused */
	snprintf(args, sizeof(args), "monitor --socket %s", path);
	cr_assert(eq(int, run_cli(args, out, sizeof(out)), MM_EXIT_UNREACHABLE));
	cr_assert(strstr(out, "Connection refused (is meshmon-agent running?)") != NULL, "%s", out);
	unlink(path);
}

/*
 * A copy of the CLI that uid 65534 can exec wherever the checkout lives (a
 * clone under /root or in a 0700 mktemp -d is out of its reach): a fresh
 * 0755 directory under /tmp holding a 0755 copy. Returns the binary's path
 * in bin; remove_cli_copy() undoes it.
 */
static void copy_cli_for_nobody(char *dir, size_t dir_len, char *bin, size_t bin_len)
{
	char buf[65536];
	ssize_t n;
	int in, out;

	in = open(MESHMON_CLI_PATH, O_RDONLY | O_CLOEXEC);
	cr_assert(ge(int, in, 0), "%s: %s", MESHMON_CLI_PATH, strerror(errno));
	snprintf(dir, dir_len, "/tmp/mm-cli-nobody-XXXXXX");
	cr_assert(mkdtemp(dir) != NULL, "mkdtemp: %s", strerror(errno));
	cr_assert(eq(int, chmod(dir, 0755), 0));
	snprintf(bin, bin_len, "%s/meshmon", dir);
	out = open(bin, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	cr_assert(ge(int, out, 0), "%s: %s", bin, strerror(errno));
	while ((n = read(in, buf, sizeof(buf))) > 0)
		cr_assert(eq(sz, (size_t)write(out, buf, (size_t)n), (size_t)n));
	cr_assert(eq(int, (int)n, 0));
	close(in);
	cr_assert(eq(int, close(out), 0));
	cr_assert(eq(int, chmod(bin, 0755), 0)); /* whatever the umask */
}

static void remove_cli_copy(const char *dir, const char *bin)
{
	unlink(bin);
	rmdir(dir);
}

/* EACCES: a root-only socket used by an unprivileged user. */
Test(cli_options, binary_socket_not_permitted)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char path[64], dir[64], bin[96];
	int fd = socket(AF_UNIX, SOCK_STREAM, 0), pipefd[2], st;
	char out[1024] = "";
	ssize_t n;
	pid_t pid;

	if (geteuid() != 0)
		cr_skip_test("needs root to drop privileges");
	copy_cli_for_nobody(dir, sizeof(dir), bin, sizeof(bin));
	snprintf(path, sizeof(path), "/tmp/mm-cli-perm-%d.sock", getpid());
	unlink(path);
	strcpy(sa.sun_path, path);
	cr_assert(eq(int, bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0));
	cr_assert(eq(int, listen(fd, 1), 0));
	chmod(path, 0600);
	cr_assert(eq(int, pipe(pipefd), 0));
	pid = fork();
	if (pid == 0) {
		dup2(pipefd[1], 2);
		dup2(pipefd[1], 1);
		if (setgid(65534) || setuid(65534))
			_exit(99);
		execl(bin, "meshmon", "monitor", "--socket", path, (char *)NULL);
		_exit(98);
	}
	close(pipefd[1]);
	n = read(pipefd[0], out, sizeof(out) - 1);
	out[n > 0 ? n : 0] = '\0';
	waitpid(pid, &st, 0);
	remove_cli_copy(dir, bin);
	int exited = WIFEXITED(st);

	cr_assert(exited);
	int code = WEXITSTATUS(st);

	cr_assert(ne(int, code, 98), "uid 65534 cannot exec %s", bin);
	cr_assert(eq(int, code, MM_EXIT_PERMISSION), "%s", out);
	cr_assert(strstr(out, "not permitted to use the agent socket") != NULL, "%s", out);
	close(fd);
	unlink(path);
}

/* ---- --pcap FILE: checked before connecting ---- */

/*
 * A socket that listens and never accepts, where an agent would be: a
 * connection the CLI made stays in its backlog, so poll() tells whether
 * the CLI connected at all.
 */
static int listen_never_accept(char *path, size_t cap)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert(ge(int, fd, 0));
	snprintf(path, cap, "/tmp/mm-cli-pcapchk-%d.sock", getpid());
	unlink(path);
	strcpy(sa.sun_path, path);
	cr_assert(eq(int, bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0));
	cr_assert(eq(int, chmod(path, 0666), 0)); /* anyone could connect */
	cr_assert(eq(int, listen(fd, 8), 0));
	return fd;
}

static bool connected_to(int lfd)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };

	return poll(&p, 1, 0) == 1;
}

Test(cli_options, binary_pcap_path_checked_before_connecting)
{
	static const struct {
		const char *path, *reason;
	} bad[] = {
		{ "/nonexistent-mm-dir/x.pcap", "No such file or directory" },
		{ "/tmp", "Is a directory" },
	};
	char sock[64], args[256], out[4096], want[512];
	int lfd = listen_never_accept(sock, sizeof(sock));
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(args, sizeof(args), "monitor --socket %s --pcap %s", sock, bad[i].path);
		cr_assert(eq(int, run_cli(args, out, sizeof(out)), MM_EXIT_USAGE), "%s", out);
		snprintf(want, sizeof(want), "meshmon monitor: --pcap: cannot write %s: %s\n",
			 bad[i].path, bad[i].reason);
		cr_assert(eq(str, out, want));
		snprintf(args, sizeof(args), "monitor --json --socket %s --pcap %s", sock, bad[i].path);
		cr_assert(eq(int, run_cli(args, out, sizeof(out)), MM_EXIT_USAGE), "%s", out);
		snprintf(want, sizeof(want), "{\"error\":\"--pcap: cannot write %s: %s\"}\n",
			 bad[i].path, bad[i].reason);
		cr_assert(eq(str, out, want));
	}
	cr_assert(not(connected_to(lfd)), "the CLI connected before checking --pcap");
	close(lfd);
	unlink(sock);
}

/* EACCES: a directory the user may not write, with no agent at the socket path at all. */
Test(cli_options, binary_pcap_not_permitted_is_about_the_file)
{
	char dir[64], bin[96], closed[64], path[128], out[1024] = "";
	int pipefd[2], st, code;
	ssize_t n;
	pid_t pid;

	copy_cli_for_nobody(dir, sizeof(dir), bin, sizeof(bin));
	snprintf(closed, sizeof(closed), "/tmp/mm-cli-closed-XXXXXX");
	cr_assert(mkdtemp(closed) != NULL); /* 0700, root's */
	snprintf(path, sizeof(path), "%s/x.pcap", closed);
	cr_assert(eq(int, pipe(pipefd), 0));
	pid = fork();
	if (pid == 0) {
		dup2(pipefd[1], 2);
		dup2(pipefd[1], 1);
		if (setgid(65534) || setuid(65534))
			_exit(99);
		execl(bin, "meshmon", "monitor", "--socket", "/nonexistent/meshmon.sock", "--pcap",
		      path, (char *)NULL);
		_exit(98);
	}
	close(pipefd[1]);
	n = read(pipefd[0], out, sizeof(out) - 1);
	out[n > 0 ? n : 0] = '\0';
	close(pipefd[0]);
	waitpid(pid, &st, 0);
	remove_cli_copy(dir, bin);
	rmdir(closed);
	code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	cr_assert(ne(int, code, 98), "uid 65534 cannot exec %s", bin);
	cr_assert(eq(int, code, MM_EXIT_USAGE), "%s", out);
	cr_assert(strstr(out, "meshmon monitor: --pcap: cannot write ") == out, "%s", out);
	cr_assert(strstr(out, ": Permission denied\n") != NULL, "%s", out);
	cr_assert(strstr(out, "agent") == NULL, "%s", out);
}

/* A file that can be written but no agent: the agent's error; nothing made, nothing lost. */
Test(cli_options, binary_pcap_file_untouched_without_an_agent)
{
	char path[64], args[256], out[4096];
	struct stat st;
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/mm-cli-pcap-%d.pcap", getpid());
	unlink(path);
	snprintf(args, sizeof(args), "monitor --socket /nonexistent/meshmon.sock --pcap %s", path);
	cr_assert(eq(int, run_cli(args, out, sizeof(out)), MM_EXIT_UNREACHABLE), "%s", out);
	cr_assert(strstr(out, "cannot reach the agent") != NULL, "%s", out);
	cr_assert(ne(int, stat(path, &st), 0), "%s was left behind", path);
	f = fopen(path, "w");
	cr_assert(f != NULL);
	fputs("an older capture\n", f);
	fclose(f);
	cr_assert(eq(int, run_cli(args, out, sizeof(out)), MM_EXIT_UNREACHABLE), "%s", out);
	cr_assert(eq(int, stat(path, &st), 0));
	cr_assert(eq(i64, (int64_t)st.st_size, 17), "%s was truncated", path);
	unlink(path);
}

/* ---- the dispatcher: --json before or after the command, help from the table ---- */

Test(cli_options, binary_json_before_the_command)
{
	char out[4096];

	setenv("MESHMON_SOCK", "/nonexistent/env.sock", 1);
	cr_assert(eq(int, run_cli("--json status", out, sizeof(out)), MM_EXIT_UNREACHABLE));
	cr_assert(eq(str, out,
		     "{\"error\":\"cannot reach the agent at /nonexistent/env.sock: No such file or directory (is meshmon-agent running?)\"}\n"));
	cr_assert(eq(int, run_cli("-j monitor", out, sizeof(out)), MM_EXIT_UNREACHABLE));
	cr_assert(eq(str, out,
		     "{\"error\":\"cannot reach the agent at /nonexistent/env.sock: No such file or directory (is meshmon-agent running?)\"}\n"));
	unsetenv("MESHMON_SOCK");
	cr_assert(eq(int, run_cli("--json monitor --bogus", out, sizeof(out)), MM_EXIT_USAGE));
	cr_assert(eq(str, out, "{\"error\":\"unknown flag '--bogus' (see 'meshmon monitor --help')\"}\n"));
	cr_assert(eq(int, run_cli("-j monitor --port 0", out, sizeof(out)), MM_EXIT_USAGE));
	cr_assert(eq(str, out, "{\"error\":\"--port: bad port '0' (want 1-65535)\"}\n"));
	cr_assert(eq(int, run_cli("--json frobnicate", out, sizeof(out)), MM_EXIT_USAGE));
	cr_assert(eq(str, out, "{\"error\":\"unknown command 'frobnicate' (try 'meshmon --help')\"}\n"));
	cr_assert(eq(int, run_cli("--json", out, sizeof(out)), MM_EXIT_USAGE));
	cr_assert(eq(str, out, "{\"error\":\"missing command (try 'meshmon --help')\"}\n"));
}

Test(cli_options, binary_pcap_stdout_refuses_json_either_place)
{
	static const char *const forms[] = { "monitor --pcap - --json", "--json monitor --pcap -" };
	char out[4096];
	size_t i;

	for (i = 0; i < 2; i++) {
		cr_assert(eq(int, run_cli(forms[i], out, sizeof(out)), MM_EXIT_USAGE), "%s", forms[i]);
		cr_assert(eq(str, out,
			     "{\"error\":\"--pcap: '-' writes the pcap to stdout and cannot be combined with --json\"}\n"),
			  "%s", forms[i]);
	}
}

/* `--socket -j` names a socket "-j"; after "--" nothing is a flag: both stay text. */
Test(cli_options, binary_flag_values_and_dashdash_are_not_json)
{
	char out[4096];

	cr_assert(eq(int, run_cli("monitor --socket -j", out, sizeof(out)), MM_EXIT_UNREACHABLE));
	cr_assert(eq(str, out,
		     "meshmon: cannot reach the agent at -j: No such file or directory (is meshmon-agent running?)\n"));
	cr_assert(eq(int, run_cli("status -- --json", out, sizeof(out)), MM_EXIT_USAGE));
	cr_assert(eq(str, out,
		     "meshmon status: unexpected argument '--json' (see 'meshmon status --help')\n"));
}

Test(cli_options, binary_help_cmd_equals_cmd_help)
{
	static const char *const cmds[] = { "monitor", "status" };
	static char a[16384], b[16384];
	char args[64];
	size_t i;

	for (i = 0; i < 2; i++) {
		snprintf(args, sizeof(args), "help %s", cmds[i]);
		cr_assert(eq(int, run_cli(args, a, sizeof(a)), 0));
		snprintf(args, sizeof(args), "%s --help", cmds[i]);
		cr_assert(eq(int, run_cli(args, b, sizeof(b)), 0));
		cr_assert(eq(str, a, b), "help %s", cmds[i]);
		cr_assert(strstr(a, cmds[i]) != NULL);
	}
	/* `help`, `help help` and `--help` are the command list, every table entry in it. */
	cr_assert(eq(int, run_cli("--help", a, sizeof(a)), 0));
	cr_assert(eq(int, run_cli("help", b, sizeof(b)), 0));
	cr_assert(eq(str, a, b));
	cr_assert(eq(int, run_cli("help help", b, sizeof(b)), 0));
	cr_assert(eq(str, a, b));
	cr_assert(strstr(a, "\n  monitor ") && strstr(a, "\n  capture ") && strstr(a, "\n  status ") && strstr(a, "\n  help "),
		  "%s", a);
}

Test(cli_options, binary_help_unknown_command)
{
	char out[4096];

	cr_assert(eq(int, run_cli("help nosuch", out, sizeof(out)), MM_EXIT_USAGE));
	cr_assert(eq(str, out,
		     "meshmon help: unknown command 'nosuch' (known: monitor, capture, status, export, help)\n"));
	cr_assert(eq(int, run_cli("--json help nosuch", out, sizeof(out)), MM_EXIT_USAGE));
	cr_assert(eq(str, out, "{\"error\":\"unknown command 'nosuch' (known: monitor, capture, status, export, help)\"}\n"));
}

/* Both spellings; the version is meson's, and git describe's when built from git. */
Test(cli_options, binary_version)
{
	char out[4096], want[64];

	snprintf(want, sizeof(want), "meshmon %s", MESHMON_VERSION);
	cr_assert(eq(int, run_cli("--version", out, sizeof(out)), MM_EXIT_OK));
	cr_assert(eq(int, strncmp(out, want, strlen(want)), 0), "%s", out);
	cr_assert(eq(int, (int)(strchr(out, '\n') - out), (int)strlen(out) - 1), "one line: %s", out);
	cr_assert(eq(int, run_cli("-V", out, sizeof(out)), MM_EXIT_OK));
	cr_assert(eq(int, strncmp(out, want, strlen(want)), 0), "%s", out);
}

Test(cli_options, binary_rejects_types_never_subscribed)
{
	char out[4096];

	cr_assert(eq(int, run_cli("monitor -t capture", out, sizeof(out)), MM_EXIT_USAGE));
	cr_assert(eq(str, out,
		     "meshmon monitor: --type: the datapath does not emit 'capture' events (want drop, trace, debug, tcp_probe, policy-verdict, trace-sock or trace:POINT)\n"));
}

#define CAPTURE(...) parse_v("capture", (const char *const[]){ __VA_ARGS__, NULL })

/* The CaptureRequest of the flags in o, as the agent receives it. */
static Meshmon__V1__CaptureRequest *capture_roundtrip(void)
{
	static struct mm_capture_buf cb;

	mm_opts_capture(&o, &cb);
	return pack_unpack(&cb.req.base);
}

Test(cli_options, capture_flags_make_the_request)
{
	Meshmon__V1__CaptureRequest *r;

	cr_assert(eq(int, CAPTURE("--interface", "eth0", "--from", "10.0.0.0/8", "--to",
				  "10.0.0.2:443", "--related-to", ":53", "--proto", "tcp", "--port",
				  "8080", "--direction", "ingress", "-s", "9000", "-c", "100",
				  "--max-bytes", "1000000", "--duration", "30", "-w", "out.pcap"),
		     0), "%s", err);
	cr_expect(eq(str, (char *)o.pcap, "out.pcap"));
	r = capture_roundtrip();
	cr_assert(r != NULL);
	cr_expect(eq(u32, r->snaplen, 9000));
	cr_expect(eq(u64, r->max_packets, 100));
	cr_expect(eq(u64, r->max_bytes, 1000000));
	cr_expect(eq(u32, r->max_seconds, 30));
	cr_assert(eq(sz, r->n_points, 1));
	cr_expect(eq(int, r->points[0], MESHMON__V1__TRACE_POINT__TRACE_POINT_FROM_NETWORK));
	cr_assert(r->filter != NULL);
	cr_assert(eq(sz, r->filter->n_interfaces, 1));
	cr_expect(eq(str, r->filter->interfaces[0], "eth0"));
	cr_assert(eq(sz, r->filter->n_source, 1));
	cr_expect(eq(u32, r->filter->source[0]->prefix_len, 8));
	cr_assert(eq(sz, r->filter->n_destination, 1));
	cr_expect(eq(u32, r->filter->destination[0]->port, 443));
	cr_assert(eq(sz, r->filter->n_either, 1));
	cr_expect(eq(u32, r->filter->either[0]->port, 53));
	cr_assert(eq(sz, r->filter->n_protocols, 1));
	cr_expect(eq(u32, r->filter->protocols[0], IPPROTO_TCP));
	cr_assert(eq(sz, r->filter->n_ports, 1));
	cr_expect(eq(u32, r->filter->ports[0], 8080));
	meshmon__v1__capture_request__free_unpacked(r, NULL);

	/* Long names, both directions, and the defaults: no filter, snap length 0. */
	cr_assert(eq(int, CAPTURE("--snaplen", "1500", "--count", "5", "--write", "-",
				  "--direction", "egress", "--direction", "ingress"),
		     0), "%s", err);
	r = capture_roundtrip();
	cr_expect(eq(u32, r->snaplen, 1500));
	cr_expect(eq(u64, r->max_packets, 5));
	cr_expect(eq(sz, r->n_points, 2));
	cr_expect(r->filter == NULL);
	cr_expect(eq(str, (char *)o.pcap, "-"));
	meshmon__v1__capture_request__free_unpacked(r, NULL);
	cr_assert(eq(int, parse_v("capture", (const char *const[]){ NULL }), 0));
	r = capture_roundtrip();
	cr_expect(eq(u32, r->snaplen, 0));
	cr_expect(eq(u64, r->max_packets + r->max_bytes + r->max_seconds, 0));
	cr_expect(eq(sz, r->n_points, 0));
	meshmon__v1__capture_request__free_unpacked(r, NULL);
}

ParameterizedTestParameters(cli_options, capture_bad_values)
{
	static struct bad_case cases[] = {
		{ { "--direction", "both" }, "--direction: bad direction 'both' (want ingress or egress)" },
		{ { "-s", "lots" }, "--snaplen: bad length 'lots'" },
		{ { "-c", "0" }, "--count: bad count '0'" },
		{ { "--max-bytes", "0" }, "--max-bytes: bad number '0'" },
		{ { "--duration", "-1" }, "--duration: bad number '-1'" },
		{ { "-w", "<empty>" }, "--write: empty file name" },
		{ { "--to", "10.0.0.300" }, "--to: bad endpoint '10.0.0.300'" },
		/* monitor's flags that a capture has no use for */
		{ { "--drop-reason", "NO_SOCKET" }, "unknown flag '--drop-reason'" },
		{ { "--not", "--to" }, "unknown flag '--not'" },
		{ { "--pcap", "x" }, "unknown flag '--pcap'" },
		{ { "-t", "trace" }, "unknown flag '-t'" },
		{ { "-s" }, "-s: missing value" },
	};
	return cr_make_param_array(struct bad_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct bad_case *c, cli_options, capture_bad_values)
{
	expect_bad("capture", c);
}

Test(cli_options, capture_flags_are_not_monitor_flags)
{
	cr_expect(eq(int, PARSE("-w", "x.pcap"), MM_EXIT_USAGE));
	cr_expect(eq(int, PARSE("--direction", "ingress"), MM_EXIT_USAGE));
	cr_expect(eq(int, PARSE("--snaplen", "100"), MM_EXIT_USAGE));
}

/* --- meshmon export clickhouse -------------------------------------------- */

#define EXPORT(...) parse_v("export clickhouse", (const char *const[]){ __VA_ARGS__, NULL })

Test(cli_options, export_flags)
{
	cr_assert(eq(int, EXPORT("--url", "http://ch:8123"), 0), "%s", err);
	cr_expect(eq(str, (char *)o.export.url, "http://ch:8123"));
	cr_expect(eq(str, (char *)o.export.database, "meshmon"));
	cr_expect(eq(str, (char *)o.export.table, "events"));
	cr_expect(eq(u64, o.export.batch_rows, 10000));
	cr_expect(eq(u64, o.export.batch_ms, 1000));
	cr_expect(eq(u64, o.export.buffer_rows, 1000000));
	cr_expect(eq(u64, o.export.status_s, 60));
	cr_expect(eq(u64, o.export.drain_ms, 10000));
	cr_expect(eq(u64, o.export.ttl_days, 0));
	cr_expect(o.export.metrics == NULL, "--metrics is off by default");

	cr_assert(eq(int, EXPORT("--url", "https://u:p@ch:8443", "--database", "fleet_1", "--table",
				 "ev", "--batch-rows", "500", "--batch-interval", "250ms",
				 "--buffer-rows", "5000", "--status-interval", "2m",
				 "--drain-timeout", "30s", "--ttl-days", "7", "-t", "drop", "--proto", "tcp",
				 "--not", "--port", "22", "--socket", "/s", "--no-reconnect",
				 "--metrics", "[::1]:9101"),
		     0), "%s", err);
	cr_expect(eq(str, (char *)o.export.metrics, "[::1]:9101"));
	cr_expect(eq(str, (char *)o.export.database, "fleet_1"));
	cr_expect(eq(str, (char *)o.export.table, "ev"));
	cr_expect(eq(u64, o.export.batch_rows, 500));
	cr_expect(eq(u64, o.export.batch_ms, 250));
	cr_expect(eq(u64, o.export.buffer_rows, 5000));
	cr_expect(eq(u64, o.export.status_s, 120));
	cr_expect(eq(u64, o.export.drain_ms, 30000));
	cr_expect(eq(u64, o.export.ttl_days, 7));
	cr_expect(eq(str, (char *)o.socket, "/s"));
	cr_expect(o.no_reconnect);
	/* The filters are the monitor's: the same Subscribe. */
	cr_assert(eq(sz, o.n_types, 1));
	cr_expect(eq(u32, o.types[0], MESHMON__V1__EVENT_TYPE__EVENT_TYPE_DROP));
	cr_expect(eq(sz, o.flow.n_protos, 1));
	cr_expect(eq(sz, o.not.n_ports, 1));
	/* ... owner flags included. */
	cr_assert(eq(int, EXPORT("--url", "http://x", "--pid", "42", "--comm", "curl", "-t",
				 "trace-sock"),
		     0), "%s", err);
	cr_assert(eq(sz, o.flow.n_pids, 1));
	cr_expect(eq(u32, o.flow.pids[0], 42));
	cr_expect(eq(sz, o.flow.n_comms, 1));
	cr_expect(eq(u32, o.types[0], MESHMON__V1__EVENT_TYPE__EVENT_TYPE_TRACE_SOCK));

	cr_assert(eq(int, EXPORT("--status-interval", "0", "--url", "http://x"), 0), "%s", err);
	cr_expect(eq(u64, o.export.status_s, 0));
	cr_assert(eq(int, EXPORT("--help"), 0), "--help needs no --url");
	cr_expect(o.help);
	cr_assert(eq(int, parse_v("export clickhouse", (const char *const[]){ NULL }),
		     MM_EXIT_USAGE));
	cr_expect(strstr(err, "--url: missing") != NULL, "%s", err);
}

ParameterizedTestParameters(cli_options, export_bad_values)
{
	static struct bad_case cases[] = {
		{ { "--url", "ftp://x" }, "--url: bad URL 'ftp://x'" },
		{ { "--url", "<empty>" }, "--url: bad URL ''" },
		{ { "--table", "a-b" }, "--table: bad name 'a-b'" },
		{ { "--table", "x`y" }, "--table: bad name" },
		{ { "--database", "1db" }, "--database: bad name '1db'" },
		{ { "--database", "<empty>" }, "--database: bad name" },
		{ { "--batch-rows", "0" }, "--batch-rows: bad number '0'" },
		{ { "--batch-rows", "1000001" }, "--batch-rows" },
		{ { "--batch-interval", "0ms" }, "--batch-interval: bad duration '0ms'" },
		{ { "--batch-interval", "1x" }, "--batch-interval" },
		{ { "--buffer-rows", "0" }, "--buffer-rows: bad number '0'" },
		{ { "--status-interval", "500ms" }, "--status-interval: bad duration '500ms'" },
		{ { "--drain-timeout", "soon" }, "--drain-timeout: bad duration 'soon'" },
		{ { "--ttl-days", "0" }, "--ttl-days: bad number '0'" },
		{ { "--ttl-days", "36501" }, "--ttl-days" },
		{ { "--metrics", "9101" }, "--metrics: '9101' is not ADDR:PORT" },
		{ { "--metrics", ":9101" }, "--metrics: ':9101' is not ADDR:PORT" },
		{ { "--metrics", "127.0.0.1:65536" }, "--metrics: '127.0.0.1:65536' is not ADDR:PORT" },
		{ { "--to", "10.0.0.300" }, "--to: bad endpoint '10.0.0.300'" },
		/* monitor's flags that an exporter has no use for */
		{ { "--last", "5" }, "unknown flag '--last'" },
		{ { "--pcap", "x" }, "unknown flag '--pcap'" },
		{ { "-v" }, "unknown flag '-v'" },
		{ { "--url" }, "--url: missing value" },
	};
	return cr_make_param_array(struct bad_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct bad_case *c, cli_options, export_bad_values)
{
	const char *args[6] = { "--url", "http://127.0.0.1:8123" };
	int i;

	/* After a good --url, so each case fails on its own flag; "<empty>": an empty value. */
	for (i = 0; i < 3 && c->args[i][0]; i++)
		args[2 + i] = strcmp(c->args[i], "<empty>") == 0 ? "" : c->args[i];
	cr_assert(eq(int, parse_v("export clickhouse", args), MM_EXIT_USAGE), "%s", c->args[0]);
	cr_assert(strstr(err, c->want) != NULL, "error '%s' lacks '%s'", err, c->want);
	cr_assert(strchr(err, '\n') == NULL, "one line: '%s'", err);
}

Test(cli_options, binary_export_needs_its_target)
{
	char out[4096];

	cr_assert(eq(int, run_cli("export", out, sizeof(out)), MM_EXIT_USAGE));
	cr_expect(strstr(out, "meshmon export: missing target") != NULL, "%s", out);
	cr_assert(eq(int, run_cli("export postgres --url http://x", out, sizeof(out)), MM_EXIT_USAGE));
	cr_expect(strstr(out, "meshmon export: unknown target") != NULL, "%s", out);
	cr_assert(eq(int, run_cli("export clickhouse --table a-b --url http://x", out, sizeof(out)),
		     MM_EXIT_USAGE));
	cr_expect(eq(str, out,
		     "meshmon export clickhouse: --table: bad name 'a-b' (want letters, digits and '_', not starting with a digit)\n"));
	cr_assert(eq(int, run_cli("export clickhouse --help", out, sizeof(out)), MM_EXIT_OK));
	cr_expect(strncmp(out, "Usage: meshmon export clickhouse --url URL", 42) == 0, "%s", out);
}
