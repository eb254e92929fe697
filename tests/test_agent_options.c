// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* meshmon-agent's flags: defaults, every flag parsed, bad values refused. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <criterion/parameterized.h>
#include <string.h>
#include <sys/utsname.h>

#include "options.h"

static int parse(struct mm_agent_options *o, char *err, size_t errlen, int argc, char **argv)
{
	return mm_agent_options__parse(o, argc, argv, err, errlen);
}

#define PARSE(o, err, ...)                                                             \
	({                                                                             \
		char *argv_[] = {"meshmon-agent", __VA_ARGS__, NULL};                  \
		parse(o, err, sizeof(err), (int)(sizeof(argv_) / sizeof(argv_[0])) - 1, argv_); \
	})

Test(agent_options, defaults)
{
	struct mm_agent_options o;
	char err[256] = "";
	char *argv[] = {"meshmon-agent", NULL};

	cr_assert(eq(int, parse(&o, err, sizeof(err), 1, argv), MM_EXIT_OK));
	cr_assert(eq(str, (char *)o.socket_path, "/run/meshmon/monitor.sock"));
	cr_assert(eq(sz, o.n_ifaces, 0));
	cr_assert(eq(u32, o.pages, 64));
	cr_assert(eq(u32, o.wakeup_events, MM_OPT_WAKEUP_DEFAULT));
	cr_assert(eq(u32, o.drain_ms, MM_OPT_DRAIN_MS_DEFAULT));
	cr_assert(eq(u32, o.capture_len, MM_CAPTURE_DEFAULT));
	cr_assert(eq(u32, o.aggregation, MM_AGG_NONE));
	cr_assert(eq(u32, o.aggregation_interval_s, 5));
	cr_assert(eq(u64, o.rate, 0));
	cr_assert(eq(sz, o.n_deny, 0));
	cr_assert(eq(int, o.debug, 0));
	cr_assert(eq(int, o.policy_verdicts, 0));
	cr_assert(eq(int, o.kernel_drops, 0));
	cr_assert(eq(int, o.endpoint_traces, 0), "endpoint traces are off by default");
	cr_assert(eq(u32, o.probe_interval_s, 5));
	cr_assert(eq(u32, o.max_listeners, MM_OPT_MAX_LISTENERS_DEFAULT));
	cr_assert(eq(sz, o.queue_bytes, MM_OPT_QUEUE_BYTES_DEFAULT));
	cr_assert(eq(u32, o.history, MM_OPT_HISTORY_DEFAULT));
	cr_assert(o.metrics == NULL && o.cgroup == NULL ? 1 : 0);
	cr_assert(eq(int, o.tcp_probe, 1), "tcp_probe is on by default, on the cgroup v2 root");
}

Test(agent_options, cgroup_none_turns_tcp_probe_off)
{
	struct mm_agent_options o;
	char err[256] = "";

	cr_assert(eq(int, PARSE(&o, err, "--cgroup", "none"), MM_EXIT_OK), "%s", err);
	cr_assert(eq(int, o.tcp_probe, 0));
	cr_assert(o.cgroup == NULL);
	cr_assert(eq(int, PARSE(&o, err, "--cgroup", "/sys/fs/cgroup/unified/a"), MM_EXIT_OK));
	cr_assert(eq(int, o.tcp_probe, 1));
	cr_assert(eq(str, (char *)o.cgroup, "/sys/fs/cgroup/unified/a"));
}

/* --endpoint-traces on|off; on needs tcp_probe's cgroup, whichever flag comes first. */
Test(agent_options, endpoint_traces)
{
	struct mm_agent_options o;
	char err[256] = "";

	cr_assert(eq(int, PARSE(&o, err, "--endpoint-traces", "on"), MM_EXIT_OK), "%s", err);
	cr_assert(eq(int, o.endpoint_traces, 1));
	cr_assert(eq(int, PARSE(&o, err, "--endpoint-traces", "on", "--endpoint-traces", "off"),
		     MM_EXIT_OK), "%s", err);
	cr_assert(eq(int, o.endpoint_traces, 0));
	cr_assert(eq(int, PARSE(&o, err, "--endpoint-traces", "yes"), MM_EXIT_USAGE));
	cr_assert(eq(str, err, "--endpoint-traces: 'yes' is not on or off"));
	cr_assert(eq(int, PARSE(&o, err, "--cgroup", "none", "--endpoint-traces", "on"),
		     MM_EXIT_USAGE));
	cr_assert(strstr(err, "--cgroup none") != NULL, "%s", err);
	err[0] = '\0';
	cr_assert(eq(int, PARSE(&o, err, "--endpoint-traces", "on", "--cgroup", "none"),
		     MM_EXIT_USAGE));
	cr_assert(strstr(err, "--cgroup none") != NULL, "%s", err);
	cr_assert(eq(int, PARSE(&o, err, "--cgroup", "none", "--endpoint-traces", "off"),
		     MM_EXIT_OK), "off is fine without tcp_probe: %s", err);
}

Test(agent_options, kernel_drops_scopes)
{
	struct mm_agent_options o;
	char err[256] = "";

	cr_assert(eq(int, PARSE(&o, err, "--kernel-drops", "on"), MM_EXIT_OK), "%s", err);
	cr_assert(eq(int, o.kernel_drops, 1));
	cr_assert(eq(int, PARSE(&o, err, "--kernel-drops", "all"), MM_EXIT_OK), "%s", err);
	cr_assert(eq(int, o.kernel_drops, 2));
	cr_assert(eq(int, PARSE(&o, err, "--kernel-drops", "off"), MM_EXIT_OK), "%s", err);
	cr_assert(eq(int, o.kernel_drops, 0));
}

Test(agent_options, every_flag)
{
	struct mm_agent_options o;
	char err[256] = "";
	int rc = PARSE(&o, err, "--socket", "/tmp/x/m.sock", "--iface", "eth0", "--iface", "veth1",
		       "--cgroup", "/sys/fs/cgroup/unified/x", "--pages", "128", "--wakeup-events",
		       "32", "--drain-ms", "5", "--capture-len", "256", "--aggregation", "maximum",
		       "--aggregation-interval", "7", "--rate-limit", "1000:3000", "--deny",
		       "proto=tcp,dst=10.1.0.2/32,dport=8080,dir=ingress", "--deny", "proto=udp",
		       "--debug", "--kernel-drops", "on", "--probe-interval", "9", "--max-listeners",
		       "3", "--queue-bytes", "65536", "--history", "10", "--metrics",
		       "127.0.0.1:9101");

	cr_assert(eq(int, rc, MM_EXIT_OK), "%s", err);
	cr_assert(eq(str, (char *)o.socket_path, "/tmp/x/m.sock"));
	cr_assert(eq(sz, o.n_ifaces, 2));
	cr_assert(eq(str, (char *)o.ifaces[1], "veth1"));
	cr_assert(eq(str, (char *)o.cgroup, "/sys/fs/cgroup/unified/x"));
	cr_assert(eq(u32, o.pages, 128));
	cr_assert(eq(u32, o.wakeup_events, 32));
	cr_assert(eq(u32, o.drain_ms, 5));
	cr_assert(eq(u32, o.capture_len, 256));
	cr_assert(eq(u32, o.aggregation, MM_AGG_MAXIMUM));
	cr_assert(eq(u32, o.aggregation_interval_s, 7));
	cr_assert(eq(u64, o.rate, 1000));
	cr_assert(eq(u64, o.burst, 3000));
	cr_assert(eq(sz, o.n_deny, 2));
	cr_assert(eq(u32, o.deny[0].id, 1));
	cr_assert(eq(u32, o.deny[1].id, 2));
	cr_assert(eq(u32, o.deny[0].dport, 8080));
	cr_assert(eq(u32, o.deny[0].proto, 6));
	cr_assert(eq(u32, o.deny[1].proto, 17));
	cr_assert(eq(int, o.debug, 1));
	cr_assert(eq(int, o.kernel_drops, 1));
	cr_assert(eq(u32, o.probe_interval_s, 9));
	cr_assert(eq(u32, o.max_listeners, 3));
	cr_assert(eq(sz, o.queue_bytes, 65536));
	cr_assert(eq(u32, o.history, 10));
	cr_assert(eq(str, (char *)o.metrics, "127.0.0.1:9101"));
}

Test(agent_options, config_translation)
{
	struct mm_agent_options o;
	struct mm_config cfg = {0};
	char err[256] = "";

	cr_assert(eq(int, PARSE(&o, err, "--rate-limit", "1001:10", "--aggregation", "maximum",
				"--debug", "--capture-len", "0"),
		     MM_EXIT_OK));
	mm_agent_options__to_config(&o, 4, &cfg);
	cr_assert(eq(u64, cfg.rate_per_cpu, 251)); /* ceil(1001 / 4) */
	cr_assert(eq(u64, cfg.burst_per_cpu, 3));  /* ceil(10 / 4) */
	cr_assert(eq(u8, cfg.aggregation, MM_AGG_MAXIMUM));
	cr_assert(eq(u8, cfg.aggregate_drops, 1));
	cr_assert(eq(u32, cfg.capture_len, 0));
	cr_assert(ne(u32, cfg.event_mask & MM_EVENT_BIT(MM_EVENT_DEBUG), 0));
	cr_assert(eq(u64, cfg.agg_interval_ns, 5000000000ull));

	cr_assert(eq(int, PARSE(&o, err, "--rate-limit", "100", "--aggregation", "medium"),
		     MM_EXIT_OK));
	memset(&cfg, 0, sizeof(cfg));
	mm_agent_options__to_config(&o, 3, &cfg);
	cr_assert(eq(u64, cfg.rate_per_cpu, 34));
	cr_assert(eq(u64, cfg.burst_per_cpu, 34)); /* burst defaults to the rate */
	cr_assert(eq(u8, cfg.aggregate_drops, 0));
	cr_assert(eq(u32, cfg.event_mask & MM_EVENT_BIT(MM_EVENT_POLICY_VERDICT), 0),
		  "policy verdicts are off by default");

	cr_assert(eq(int, PARSE(&o, err, "--policy-verdicts"), MM_EXIT_OK));
	cfg.event_mask = MM_EVENT_MASK_DEFAULT;
	mm_agent_options__to_config(&o, 1, &cfg);
	cr_assert(eq(u32, cfg.event_mask, MM_EVENT_MASK_DEFAULT | MM_EVENT_BIT(MM_EVENT_POLICY_VERDICT)));
}

/* Arrays, not pointers: criterion passes parameters to another process. */
struct bad {
	char flag[32], value[48], msg[32];
};

ParameterizedTestParameters(agent_options, bad_values)
{
	static struct bad bad[] = {
		{"--pages", "3", "power of two"},
		{"--pages", "0", "--pages"},
		{"--pages", "x", "--pages"},
		{"--wakeup-events", "0", "--wakeup-events"},
		{"--drain-ms", "-1", "--drain-ms"},
		{"--capture-len", "1501", "--capture-len"},
		{"--aggregation", "high", "--aggregation"},
		{"--aggregation-interval", "0", "--aggregation-interval"},
		{"--rate-limit", "10:x", "--rate-limit"},
		{"--rate-limit", "abc", "--rate-limit"},
		{"--deny", "proto=tcp,dport=99999", "--deny"},
		{"--deny", "color=red", "--deny"},
		{"--kernel-drops", "maybe", "--kernel-drops"},
		{"--pages", " 64", "--pages"},
		{"--pages", "+64", "--pages"},
		{"--history", "-1", "--history"},
		{"--probe-interval", "0", "--probe-interval"},
		{"--max-listeners", "0", "--max-listeners"},
		{"--queue-bytes", "100", "--queue-bytes"},
		{"--history", "many", "--history"},
		{"--metrics", "9100", "--metrics"},
		{"--metrics", "127.0.0.1:0", "--metrics"},
		{"--iface", "a-name-much-too-long-for-ifnamsiz", "--iface"},
		{"--bogus", "1", "unknown option"},
		{"--events", "trace,bogus", "'bogus' is not a record type"},
		{"--events", "trace,,drop", "--events"},
		{"--events", ",", "--events"},
		{"--events", "drop,drop", "drop listed twice"},
		{"--rate-limit", "bogus=10", "'bogus' is not a record type"},
		{"--rate-limit", "drop=0", "TYPE=RATE[:BURST]"},
		{"--rate-limit", "drop=10:0", "TYPE=RATE[:BURST]"},
		{"--rate-limit", "drop=x", "TYPE=RATE[:BURST]"},
		{"--rate-limit", "=10", "not a record type"},
		{"--rate-limit", "capture=10", "captures are bounded by each"},
	};
	return cr_make_param_array(struct bad, bad, sizeof(bad) / sizeof(bad[0]));
}

ParameterizedTest(struct bad *b, agent_options, bad_values)
{
	struct mm_agent_options o;
	char err[256] = "";
	char *argv[] = {"meshmon-agent", b->flag, b->value, NULL};

	cr_assert(eq(int, parse(&o, err, sizeof(err), 3, argv), MM_EXIT_USAGE), "%s %s", b->flag,
		  b->value);
	cr_assert(strstr(err, b->msg) != NULL, "error '%s' should mention '%s'", err, b->msg);
	cr_assert(strchr(err, '\n') == NULL, "one line");
}

/* --events replaces the default set; --debug adds debug to whichever set. */
Test(agent_options, events_mask)
{
	struct mm_agent_options o;
	struct mm_config cfg = {0};
	char err[256] = "";

	cr_assert(eq(int, PARSE(&o, err, "--events", "drop"), MM_EXIT_OK), "%s", err);
	mm_agent_options__to_config(&o, 2, &cfg);
	cr_assert(eq(u32, cfg.event_mask, MM_EVENT_BIT(MM_EVENT_DROP)));

	cr_assert(eq(int, PARSE(&o, err, "--events", "trace,policy-verdict,tcp_probe", "--debug"),
		     MM_EXIT_OK), "%s", err);
	mm_agent_options__to_config(&o, 2, &cfg);
	cr_assert(eq(u32, cfg.event_mask,
		     MM_EVENT_BIT(MM_EVENT_TRACE) | MM_EVENT_BIT(MM_EVENT_POLICY_VERDICT) |
			 MM_EVENT_BIT(MM_EVENT_TCP_PROBE) | MM_EVENT_BIT(MM_EVENT_DEBUG)));

	cr_assert(eq(int, PARSE(&o, err, "--debug"), MM_EXIT_OK));
	mm_agent_options__to_config(&o, 2, &cfg);
	cr_assert(eq(u32, cfg.event_mask, MM_EVENT_MASK_DEFAULT | MM_EVENT_BIT(MM_EVENT_DEBUG)));
}

/* trace-sock is watched by the cgroup programs: with --cgroup none it is refused, in either order. */
Test(agent_options, trace_sock_needs_the_cgroup)
{
	struct mm_agent_options o;
	struct mm_config cfg = {0};
	char err[256] = "";

	cr_assert(eq(int, PARSE(&o, err, "--events", "tcp_probe,trace-sock"), MM_EXIT_OK), "%s",
		  err);
	mm_agent_options__to_config(&o, 2, &cfg);
	cr_assert(eq(u32, cfg.event_mask,
		     MM_EVENT_BIT(MM_EVENT_TCP_PROBE) | MM_EVENT_BIT(MM_EVENT_TRACE_SOCK)));
	cr_assert(eq(int, PARSE(&o, err, "--events", "trace-sock", "--cgroup", "none"),
		     MM_EXIT_USAGE));
	cr_assert(eq(str, err,
		     "--events trace-sock needs the cgroup programs: give --cgroup PATH, not none"));
	cr_assert(eq(int, PARSE(&o, err, "--cgroup", "none", "--events", "drop,trace-sock"),
		     MM_EXIT_USAGE));
	cr_assert(eq(int, PARSE(&o, err, "--cgroup", "none", "--events", "drop"), MM_EXIT_OK));
}

/* The host total and per-type limits side by side, each split per CPU. */
Test(agent_options, per_type_rate_limits)
{
	struct mm_agent_options o;
	struct mm_config cfg = {0};
	struct mm_type_rate r;
	char err[256] = "";

	cr_assert(eq(int, PARSE(&o, err, "--rate-limit", "10000:1000", "--rate-limit", "drop=1001:101",
				"--rate-limit", "trace=5000"),
		     MM_EXIT_OK), "%s", err);
	cr_assert(eq(u64, o.rate, 10000));
	cr_assert(eq(u64, o.burst, 1000));
	cr_assert(eq(u64, o.type_limits[MM_EVENT_DROP].rate, 1001));
	cr_assert(eq(u64, o.type_limits[MM_EVENT_DROP].burst, 101));
	cr_assert(eq(u64, o.type_limits[MM_EVENT_TRACE].burst, 5000)); /* one second of the rate */
	cr_assert(eq(u64, o.type_limits[MM_EVENT_DEBUG].rate, 0));
	mm_agent_options__to_config(&o, 2, &cfg);
	cr_assert(eq(u64, cfg.rate_per_cpu, 5000));
	cr_assert(eq(u32, cfg.type_rate_mask,
		     MM_EVENT_BIT(MM_EVENT_DROP) | MM_EVENT_BIT(MM_EVENT_TRACE)));
	mm_agent_options__type_rate(&o, 2, MM_EVENT_DROP, &r);
	cr_assert(eq(u64, r.rate_per_cpu, 501)); /* ceil(1001 / 2) */
	cr_assert(eq(u64, r.burst_per_cpu, 51));
	mm_agent_options__type_rate(&o, 2, MM_EVENT_TCP_PROBE, &r);
	cr_assert(eq(u64, r.rate_per_cpu, 0));

	cr_assert(eq(int, PARSE(&o, err, "--rate-limit", "drop=10"), MM_EXIT_OK));
	mm_agent_options__to_config(&o, 2, &cfg);
	cr_assert(eq(u64, cfg.rate_per_cpu, 0), "a type's limit alone sets no host total");
}

/* Each limit and --events at most once: a repeat is an error, not a silent override. */
Test(agent_options, duplicates_refused)
{
	struct mm_agent_options o;
	char err[256] = "";

	cr_assert(eq(int, PARSE(&o, err, "--rate-limit", "drop=10", "--rate-limit", "drop=20"),
		     MM_EXIT_USAGE));
	cr_assert(strstr(err, "two limits for drop") != NULL, "%s", err);
	cr_assert(eq(int, PARSE(&o, err, "--rate-limit", "10", "--rate-limit", "20"),
		     MM_EXIT_USAGE));
	cr_assert(strstr(err, "given twice") != NULL, "%s", err);
	cr_assert(eq(int, PARSE(&o, err, "--events", "drop", "--events", "trace"), MM_EXIT_USAGE));
	cr_assert(strstr(err, "--events given twice") != NULL, "%s", err);
}

Test(agent_options, missing_value_and_stray_argument)
{
	struct mm_agent_options o;
	char err[256] = "";
	char *a1[] = {"meshmon-agent", "--iface", NULL};
	char *a2[] = {"meshmon-agent", "stray", NULL};

	cr_assert(eq(int, parse(&o, err, sizeof(err), 2, a1), MM_EXIT_USAGE));
	cr_assert(strstr(err, "--iface") != NULL, "%s", err);
	cr_assert(eq(int, parse(&o, err, sizeof(err), 2, a2), MM_EXIT_USAGE));
	cr_assert(strstr(err, "stray") != NULL, "%s", err);
}

Test(agent_options, help_lists_every_flag_with_defaults)
{
	char buf[4096];
	static const char *flags[] = {
		"--socket", "--iface", "--cgroup", "--pages", "--wakeup-events", "--drain-ms",
		"--capture-len", "--aggregation ", "--aggregation-interval", "--rate-limit", "--deny",
		"--debug", "--events", "--policy-verdicts", "--kernel-drops", "--endpoint-traces", "--probe-interval", "--max-listeners", "--queue-bytes",
		"--history", "--metrics", "--help"};

	cr_assert(lt(int, mm_agent_options__usage(buf, sizeof(buf), "meshmon-agent"), (int)sizeof(buf)));
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		cr_assert(strstr(buf, flags[i]) != NULL, "--help lacks %s", flags[i]);
	cr_assert(strstr(buf, "/run/meshmon/monitor.sock") != NULL);
	cr_assert(strstr(buf, "default 64") != NULL);
}

/* --node-name: taken as given when DNS-like, refused with the reason otherwise; default uname. */
Test(agent_options, node_name)
{
	struct mm_agent_options o;
	char err[256] = "", name[MM_OPT_NODE_NAME_MAX + 1];
	char long_name[MM_OPT_NODE_NAME_MAX + 2];
	struct utsname u;

	cr_assert(eq(int, PARSE(&o, err, "--node-name", "node-a.example_1:2"), MM_EXIT_OK), "%s",
		  err);
	mm_agent_options__node_name(&o, name, sizeof(name));
	cr_expect(eq(str, name, "node-a.example_1:2"));
	cr_assert(eq(int, PARSE(&o, err, "--socket", "/tmp/x"), MM_EXIT_OK));
	cr_assert(eq(int, uname(&u), 0));
	mm_agent_options__node_name(&o, name, sizeof(name));
	cr_expect(eq(str, name, u.nodename), "the default is the host name");
	cr_expect(eq(int, PARSE(&o, err, "--node-name", "a b"), MM_EXIT_USAGE));
	cr_expect(not(eq(ptr, strstr(err, "--node-name: 'a b' is not a node name"), NULL)), "%s",
		  err);
	cr_expect(eq(int, PARSE(&o, err, "--node-name", ""), MM_EXIT_USAGE));
	cr_expect(eq(int, PARSE(&o, err, "--node-name", "x\"y"), MM_EXIT_USAGE));
	memset(long_name, 'n', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = 0;
	cr_expect(eq(int, PARSE(&o, err, "--node-name", long_name), MM_EXIT_USAGE));
	long_name[MM_OPT_NODE_NAME_MAX] = 0;
	cr_expect(eq(int, PARSE(&o, err, "--node-name", long_name), MM_EXIT_OK), "%s", err);
}
