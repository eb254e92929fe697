// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Owns meshmon-agent's flags: their defaults, parsing, validation and the
 * translation into the datapath's struct mm_config.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "names.h"
#include "options.h"
#include "textparse.h"

enum {
	OPT_SOCKET = 256,
	OPT_IFACE,
	OPT_CGROUP,
	OPT_PAGES,
	OPT_WAKEUP,
	OPT_DRAIN,
	OPT_DRAIN_MIN,
	OPT_REORDER,
	OPT_CAPTURE,
	OPT_AGG,
	OPT_AGG_INTERVAL,
	OPT_RATE,
	OPT_DENY,
	OPT_DEBUG,
	OPT_EVENTS,
	OPT_POLICY_VERDICTS,
	OPT_KDROPS,
	OPT_ENDPOINT_TRACES,
	OPT_PROBE_INTERVAL,
	OPT_MAX_LISTENERS,
	OPT_QUEUE_BYTES,
	OPT_HISTORY,
	OPT_METRICS,
	OPT_TC_ATTACH,
	OPT_NODE_NAME,
	OPT_VERSION,
	OPT_HELP,
};

static const struct option long_opts[] = {
	{"socket", required_argument, NULL, OPT_SOCKET},
	{"iface", required_argument, NULL, OPT_IFACE},
	{"cgroup", required_argument, NULL, OPT_CGROUP},
	{"pages", required_argument, NULL, OPT_PAGES},
	{"wakeup-events", required_argument, NULL, OPT_WAKEUP},
	{"drain-ms", required_argument, NULL, OPT_DRAIN},
	{"drain-min-us", required_argument, NULL, OPT_DRAIN_MIN},
	{"reorder-ms", required_argument, NULL, OPT_REORDER},
	{"capture-len", required_argument, NULL, OPT_CAPTURE},
	{"aggregation", required_argument, NULL, OPT_AGG},
	{"aggregation-interval", required_argument, NULL, OPT_AGG_INTERVAL},
	{"rate-limit", required_argument, NULL, OPT_RATE},
	{"deny", required_argument, NULL, OPT_DENY},
	{"debug", no_argument, NULL, OPT_DEBUG},
	{"events", required_argument, NULL, OPT_EVENTS},
	{"policy-verdicts", no_argument, NULL, OPT_POLICY_VERDICTS},
	{"kernel-drops", required_argument, NULL, OPT_KDROPS},
	{"endpoint-traces", required_argument, NULL, OPT_ENDPOINT_TRACES},
	{"probe-interval", required_argument, NULL, OPT_PROBE_INTERVAL},
	{"max-listeners", required_argument, NULL, OPT_MAX_LISTENERS},
	{"queue-bytes", required_argument, NULL, OPT_QUEUE_BYTES},
	{"history", required_argument, NULL, OPT_HISTORY},
	{"metrics", required_argument, NULL, OPT_METRICS},
	{"tc-attach", required_argument, NULL, OPT_TC_ATTACH},
	{"node-name", required_argument, NULL, OPT_NODE_NAME},
	{"version", no_argument, NULL, OPT_VERSION},
	{"help", no_argument, NULL, OPT_HELP},
	{NULL, 0, NULL, 0},
};

void mm_agent_options__defaults(struct mm_agent_options *o)
{
	memset(o, 0, sizeof(*o));
	o->socket_path = MM_SOCKET_DEFAULT;
	o->pages = MM_OPT_PAGES_DEFAULT;
	o->wakeup_events = MM_OPT_WAKEUP_DEFAULT;
	o->drain_ms = MM_OPT_DRAIN_MS_DEFAULT;
	o->drain_min_us = MM_OPT_DRAIN_MIN_US_DEFAULT;
	o->reorder_ms = MM_OPT_REORDER_MS_DEFAULT;
	o->capture_len = MM_CAPTURE_DEFAULT;
	o->aggregation = MM_AGG_NONE;
	o->aggregation_interval_s = (unsigned int)(MM_AGG_INTERVAL_DEFAULT_NS / 1000000000ull);
	o->probe_interval_s = MM_OPT_PROBE_INTERVAL_DEFAULT;
	o->tcp_probe = 1;
	o->max_listeners = MM_OPT_MAX_LISTENERS_DEFAULT;
	o->queue_bytes = MM_OPT_QUEUE_BYTES_DEFAULT;
	o->history = MM_OPT_HISTORY_DEFAULT;
	o->event_mask = MM_EVENT_MASK_DEFAULT;
}

/* A one-line usage error in err. */
#define fail(err, errlen, ...) mm_errorf(err, errlen, MM_EXIT_USAGE, __VA_ARGS__)

static int parse_uint(const char *name, const char *s, uint64_t min, uint64_t max,
		      unsigned int *out, char *err, size_t errlen)
{
	uint64_t v;

	if (mm_parse_u64(s, min, max, &v))
		return fail(err, errlen, "--%s: '%s' is not a number in %" PRIu64 "..%" PRIu64,
			    name, s, min, max);
	*out = (unsigned int)v;
	return 0;
}

static int parse_iface(struct mm_agent_options *o, const char *arg, char *err, size_t errlen)
{
	if (!*arg || strlen(arg) >= 16)
		return fail(err, errlen, "--iface: '%s' is not an interface name", arg);
	if (o->n_ifaces == MM_OPT_MAX_IFACES)
		return fail(err, errlen, "--iface: at most %d interfaces", MM_OPT_MAX_IFACES);
	o->ifaces[o->n_ifaces++] = arg;
	return 0;
}

/* Node names end up in label values, JSON and table rows: keep them to a DNS-like set. */
static int is_node_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > MM_OPT_NODE_NAME_MAX)
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-") == n;
}

void mm_agent_options__node_name(const struct mm_agent_options *o, char *buf, size_t len)
{
	struct utsname u;

	if (o->node_name)
		snprintf(buf, len, "%s", o->node_name);
	else if (uname(&u) == 0 && is_node_name(u.nodename))
		snprintf(buf, len, "%s", u.nodename);
	else
		snprintf(buf, len, "localhost");
}

static int parse_pages(struct mm_agent_options *o, const char *arg, char *err, size_t errlen)
{
	int rc = parse_uint("pages", arg, 1, 1u << 16, &o->pages, err, errlen);

	if (!rc && (o->pages & (o->pages - 1)))
		return fail(err, errlen, "--pages: %s is not a power of two", arg);
	return rc;
}

static int parse_aggregation(struct mm_agent_options *o, const char *arg, char *err,
			     size_t errlen)
{
	int level = mm_aggregation_parse(arg);

	if (level < 0)
		return fail(err, errlen, "--aggregation: '%s' is not none, low, medium or maximum",
			    arg);
	o->aggregation = (unsigned int)level;
	return 0;
}

/*
 * RATE[:BURST] into rate and burst; the burst defaults to one second of the
 * rate. min_rate: 0 where 0 means off. 0, or -1 when s is no such pair.
 */
static int parse_rate_burst(const char *s, uint64_t min_rate, uint64_t *rate, uint64_t *burst)
{
	char buf[64], *colon;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	colon = strchr(buf, ':');
	if (colon)
		*colon = '\0';
	if (mm_parse_u64(buf, min_rate, 100000000, rate) ||
	    (colon && mm_parse_u64(colon + 1, 1, 100000000, burst)))
		return -1;
	if (!colon)
		*burst = *rate;
	return 0;
}

/* TYPE=RATE[:BURST]: one record type's own limit. */
static int parse_type_rate(struct mm_agent_options *o, const char *arg, const char *eq,
			   char *err, size_t errlen)
{
	char name[32];
	struct mm_type_limit *limit;
	int type;

	if ((size_t)(eq - arg) >= sizeof(name))
		return fail(err, errlen, "--rate-limit '%s': unknown record type", arg);
	memcpy(name, arg, (size_t)(eq - arg));
	name[eq - arg] = '\0';
	type = mm_event_type_parse(name);
	if (type < 0 || type >= MM_EVENT_TYPE_SLOTS)
		return fail(err, errlen, "--rate-limit '%s': '%s' is not a record type (%s)", arg,
			    name, MM_OPT_EVENT_NAMES);
	if (type == MM_EVENT_CAPTURE)
		return fail(err, errlen,
			    "--rate-limit '%s': captures are bounded by each capture's own budget "
			    "(meshmon capture -c, --max-bytes, --duration), not by a rate limit",
			    arg);
	limit = &o->type_limits[type];
	if (limit->rate)
		return fail(err, errlen, "--rate-limit: two limits for %s", name);
	if (parse_rate_burst(eq + 1, 1, &limit->rate, &limit->burst))
		return fail(err, errlen,
			    "--rate-limit '%s' is not TYPE=RATE[:BURST] (records/s, 1..100000000)",
			    arg);
	return 0;
}

/* RATE[:BURST] (the host total) or TYPE=RATE[:BURST]; each at most once. */
static int parse_rate(struct mm_agent_options *o, const char *arg, char *err, size_t errlen)
{
	const char *eq = strchr(arg, '=');

	if (eq)
		return parse_type_rate(o, arg, eq, err, errlen);
	if (o->rate_set)
		return fail(err, errlen, "--rate-limit: the host total RATE[:BURST] given twice");
	if (parse_rate_burst(arg, 0, &o->rate, &o->burst))
		return fail(err, errlen, "--rate-limit: '%s' is not RATE[:BURST] (records/s, 0 = off)",
			    arg);
	o->rate_set = 1;
	return 0;
}

/* --events TYPE[,TYPE...]: the record types the datapath emits, replacing the default set. */
static int parse_events(struct mm_agent_options *o, const char *arg, char *err, size_t errlen)
{
	char buf[256], *name, *save = NULL;
	uint32_t mask = 0;

	if (o->events_set)
		return fail(err, errlen, "--events given twice");
	if (!*arg || strlen(arg) >= sizeof(buf))
		return fail(err, errlen, "--events: '%s' is not a list of record types (%s)", arg,
			    MM_OPT_EVENT_NAMES);
	strcpy(buf, arg);
	for (name = strtok_r(buf, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
		int type = mm_event_type_parse(name);

		if (type < 0 || type >= 32)
			return fail(err, errlen, "--events: '%s' is not a record type (%s)", name,
				    MM_OPT_EVENT_NAMES);
		if (mask & MM_EVENT_BIT(type))
			return fail(err, errlen, "--events: %s listed twice", name);
		mask |= MM_EVENT_BIT(type);
	}
	if (!mask || arg[strlen(arg) - 1] == ',' || arg[0] == ',' || strstr(arg, ",,"))
		return fail(err, errlen, "--events: '%s' is not a list of record types (%s)", arg,
			    MM_OPT_EVENT_NAMES);
	o->event_mask = mask;
	o->events_set = 1;
	return 0;
}

static int parse_deny(struct mm_agent_options *o, const char *arg, char *err, size_t errlen)
{
	char derr[128] = "";

	if (o->n_deny == MM_DENY_MAX)
		return fail(err, errlen, "--deny: at most %d rules", MM_DENY_MAX);
	if (mm_deny_spec__parse(arg, (__u32)(o->n_deny + 1), &o->deny[o->n_deny], derr,
				sizeof(derr)))
		return fail(err, errlen, "--deny '%s': %s", arg, derr[0] ? derr : "invalid rule");
	o->n_deny++;
	return 0;
}

static int parse_kernel_drops(struct mm_agent_options *o, const char *arg, char *err,
			      size_t errlen)
{
	if (!strcmp(arg, "on"))
		o->kernel_drops = 1;
	else if (!strcmp(arg, "off"))
		o->kernel_drops = 0;
	else if (!strcmp(arg, "all"))
		o->kernel_drops = 2;
	else
		return fail(err, errlen, "--kernel-drops: '%s' is not on, off or all", arg);
	return 0;
}

static int parse_queue_bytes(struct mm_agent_options *o, const char *arg, char *err,
			     size_t errlen)
{
	uint64_t v;

	if (mm_parse_u64(arg, MM_OPT_QUEUE_BYTES_MIN, 1ull << 32, &v))
		return fail(err, errlen, "--queue-bytes: '%s' is not a number in %u..%llu", arg,
			    MM_OPT_QUEUE_BYTES_MIN, 1ull << 32);
	o->queue_bytes = (size_t)v;
	return 0;
}

static int parse_metrics(struct mm_agent_options *o, const char *arg, char *err, size_t errlen)
{
	if (mm_parse_listen_addr(arg))
		return fail(err, errlen, "--metrics: '%s' is not ADDR:PORT", arg);
	o->metrics = arg;
	return 0;
}

static int parse_tc_attach(struct mm_agent_options *o, const char *arg, char *err,
			   size_t errlen)
{
	int mode = mm_tc_mode_parse(arg);

	if (mode < 0)
		return fail(err, errlen, "--tc-attach: '%s' is not auto, tcx or clsact", arg);
	o->tc_attach = (unsigned int)mode;
	return 0;
}

/* What getopt rejected, as one line. */
static int bad_option(char **argv, char *err, size_t errlen)
{
	if (optopt && optopt < 256)
		return fail(err, errlen, "unknown option -%c (see --help)", optopt);
	if (optopt)
		return fail(err, errlen, "option %s needs a value (see --help)", argv[optind - 1]);
	return fail(err, errlen, "unknown option %s (see --help)", argv[optind - 1]);
}

/* One option c with its value arg: 0 or MM_EXIT_USAGE. */
static int parse_option(struct mm_agent_options *o, int c, char *arg, char **argv, char *err,
			size_t errlen)
{
	switch (c) {
	case OPT_SOCKET:
		if (!*arg || strlen(arg) >= 108)
			return fail(err, errlen, "--socket: path empty or longer than 107 bytes");
		o->socket_path = arg;
		return 0;
	case OPT_IFACE:
		return parse_iface(o, arg, err, errlen);
	case OPT_CGROUP:
		if (!*arg)
			return fail(err, errlen, "--cgroup: empty path");
		o->tcp_probe = strcmp(arg, "none") != 0;
		o->cgroup = o->tcp_probe ? arg : NULL;
		return 0;
	case OPT_PAGES:
		return parse_pages(o, arg, err, errlen);
	case OPT_NODE_NAME:
		if (!is_node_name(arg))
			return fail(err, errlen,
				    "--node-name: '%s' is not a node name (1..%d of A-Z a-z 0-9 . _ : -)",
				    arg, MM_OPT_NODE_NAME_MAX);
		o->node_name = arg;
		return 0;
	case OPT_WAKEUP:
		return parse_uint("wakeup-events", arg, 1, 1u << 20, &o->wakeup_events, err, errlen);
	case OPT_DRAIN:
		return parse_uint("drain-ms", arg, 0, 60000, &o->drain_ms, err, errlen);
	case OPT_DRAIN_MIN:
		return parse_uint("drain-min-us", arg, 0, 60000000, &o->drain_min_us, err, errlen);
	case OPT_REORDER:
		return parse_uint("reorder-ms", arg, 0, MM_OPT_REORDER_MS_MAX, &o->reorder_ms, err,
				  errlen);
	case OPT_CAPTURE:
		return parse_uint("capture-len", arg, 0, MM_CAPTURE_MAX, &o->capture_len, err,
				  errlen);
	case OPT_AGG:
		return parse_aggregation(o, arg, err, errlen);
	case OPT_AGG_INTERVAL:
		return parse_uint("aggregation-interval", arg, 1, 3600, &o->aggregation_interval_s,
				  err, errlen);
	case OPT_RATE:
		return parse_rate(o, arg, err, errlen);
	case OPT_DENY:
		return parse_deny(o, arg, err, errlen);
	case OPT_DEBUG:
		o->debug = 1;
		return 0;
	case OPT_EVENTS:
		return parse_events(o, arg, err, errlen);
	case OPT_POLICY_VERDICTS:
		o->policy_verdicts = 1;
		return 0;
	case OPT_KDROPS:
		return parse_kernel_drops(o, arg, err, errlen);
	case OPT_ENDPOINT_TRACES:
		if (strcmp(arg, "on") && strcmp(arg, "off"))
			return fail(err, errlen, "--endpoint-traces: '%s' is not on or off", arg);
		o->endpoint_traces = !strcmp(arg, "on");
		return 0;
	case OPT_PROBE_INTERVAL:
		return parse_uint("probe-interval", arg, 1, 3600, &o->probe_interval_s, err, errlen);
	case OPT_MAX_LISTENERS:
		return parse_uint("max-listeners", arg, 1, 65536, &o->max_listeners, err, errlen);
	case OPT_QUEUE_BYTES:
		return parse_queue_bytes(o, arg, err, errlen);
	case OPT_HISTORY:
		return parse_uint("history", arg, 0, 1u << 20, &o->history, err, errlen);
	case OPT_METRICS:
		return parse_metrics(o, arg, err, errlen);
	case OPT_TC_ATTACH:
		return parse_tc_attach(o, arg, err, errlen);
	case OPT_VERSION:
		o->version = 1;
		return 0;
	case OPT_HELP:
	case 'h':
		o->help = 1;
		return 0;
	default:
		return bad_option(argv, err, errlen);
	}
}

int mm_agent_options__parse(struct mm_agent_options *o, int argc, char **argv, char *err,
			    size_t errlen)
{
	int c, rc;

	mm_agent_options__defaults(o);
	optind = 0; /* glibc: full reinitialisation */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		rc = parse_option(o, c, optarg, argv, err, errlen);
		if (rc)
			return rc;
	}
	if (optind < argc)
		return fail(err, errlen, "unexpected argument '%s' (see --help)", argv[optind]);
	/* Translations are watched by the cgroup programs: without them nothing would come. */
	if (!o->tcp_probe && (o->event_mask & MM_EVENT_BIT(MM_EVENT_TRACE_SOCK)))
		return fail(err, errlen,
			    "--events trace-sock needs the cgroup programs: give --cgroup PATH, not none");
	/* The endpoint programs live in tcp_probe's object and attach to its cgroup. */
	if (o->endpoint_traces && !o->tcp_probe)
		return fail(err, errlen,
			    "--endpoint-traces on needs tcp_probe's cgroup: drop --cgroup none");
	return MM_EXIT_OK;
}

int mm_agent_options__usage(char *buf, size_t len, const char *argv0)
{
	return snprintf(
		buf, len,
		"Usage: %s [OPTIONS]\n"
		"meshmon's node agent: loads the datapath, serves events on a Unix socket.\n\n"
		"  --socket PATH              listening socket (default %s)\n"
		"  --iface NAME               monitor tc ingress and egress of NAME; repeatable (default: none)\n"
		"  --cgroup PATH|none         cgroup v2 for tcp_probe programs, none = no tcp_probe\n"
		"                             (default: the root of the cgroup v2 hierarchy)\n"
		"  --pages N                  ring pages per CPU, a power of two (default %u)\n"
		"  --wakeup-events N          records per ring wakeup (default %u)\n"
		"  --drain-ms N               drain timer in ms when the rings are idle, 0 = off\n"
		"                             (default %u)\n"
		"  --drain-min-us N           drain timer in us while records flow, 0 = always\n"
		"                             --drain-ms (default %u)\n"
		"  --reorder-ms N             hold events at most N ms to put the CPUs' rings in\n"
		"                             time order, 0..%u, 0 = off (default %u)\n"
		"  --capture-len N            packet bytes per record, 0..%u (default %u)\n"
		"  --aggregation LEVEL        none|low|medium|maximum (default none)\n"
		"  --aggregation-interval S   seconds between reports of a flow (default %llu)\n"
		"  --rate-limit RATE[:BURST]  records/s for the host, split per CPU (default 0 = off)\n"
		"  --rate-limit TYPE=RATE[:BURST]  records/s of one record type, checked before\n"
		"                             the host total; once per type (default: none)\n"
		"  --deny RULE                proto=tcp,src=CIDR,dst=CIDR,sport=N,dport=N,dir=ingress|egress;\n"
		"                             repeatable, at most %d (default: none)\n"
		"  --events TYPE,...          record types to emit: " MM_OPT_EVENT_NAMES "\n"
		"                             (default trace,drop,capture,tcp_probe)\n"
		"  --debug                    emit debug records too (default off)\n"
		"  --policy-verdicts          emit a policy-verdict record per new flow too\n"
		"                             (default off)\n"
		"  --kernel-drops on|off|all  report kernel drops (kfree_skb) in the agent's network\n"
		"                             namespace (on) or on the whole host (all) (default off)\n"
		"  --endpoint-traces on|off   trace every packet of the --cgroup's sockets at\n"
		"                             to-endpoint and from-endpoint (default off)\n"
		"  --probe-interval S         tcp_probe periodic reports (default %u)\n"
		"  --max-listeners N          concurrent clients (default %u)\n"
		"  --queue-bytes N            output queue per client in bytes, >= %u (default %u)\n"
		"  --history N                events kept for replay (default %u)\n"
		"  --metrics ADDR:PORT        serve Prometheus /metrics (default: off)\n"
		"  --node-name NAME           the node's name in Hello, Status and metrics\n"
		"                             (default: the host name)\n"
		"  --tc-attach auto|tcx|clsact  how tc programs attach: TCX links, owned by the\n"
		"                             process (kernel 6.6+), or clsact filters (default auto:\n"
		"                             TCX where the kernel has it)\n"
		"  --version                  print the version and exit\n"
		"  -h, --help                 this text\n\n"
		"Exit codes: 0 ok, 1 runtime error, 2 usage error.\n",
		argv0, MM_SOCKET_DEFAULT, MM_OPT_PAGES_DEFAULT, MM_OPT_WAKEUP_DEFAULT,
		MM_OPT_DRAIN_MS_DEFAULT, MM_OPT_DRAIN_MIN_US_DEFAULT, MM_OPT_REORDER_MS_MAX,
		MM_OPT_REORDER_MS_DEFAULT, MM_CAPTURE_MAX, MM_CAPTURE_DEFAULT,
		MM_AGG_INTERVAL_DEFAULT_NS / 1000000000ull, MM_DENY_MAX,
		MM_OPT_PROBE_INTERVAL_DEFAULT, MM_OPT_MAX_LISTENERS_DEFAULT, MM_OPT_QUEUE_BYTES_MIN,
		MM_OPT_QUEUE_BYTES_DEFAULT, MM_OPT_HISTORY_DEFAULT);
}

static uint64_t div_ceil(uint64_t a, uint64_t b)
{
	return (a + b - 1) / b;
}

void mm_agent_options__to_config(const struct mm_agent_options *o, int ncpus,
				 struct mm_config *cfg)
{
	if (ncpus < 1)
		ncpus = 1;
	cfg->capture_len = o->capture_len;
	cfg->aggregation = (__u8)o->aggregation;
	cfg->aggregate_drops = o->aggregation == MM_AGG_MAXIMUM;
	cfg->agg_interval_ns = (__u64)o->aggregation_interval_s * 1000000000ull;
	cfg->event_mask = o->event_mask;
	if (o->debug)
		cfg->event_mask |= MM_EVENT_BIT(MM_EVENT_DEBUG);
	cfg->type_rate_mask = 0;
	for (unsigned int type = 0; type < MM_EVENT_TYPE_SLOTS; type++)
		if (o->type_limits[type].rate)
			cfg->type_rate_mask |= MM_EVENT_BIT(type);
	if (o->policy_verdicts)
		cfg->event_mask |= MM_EVENT_BIT(MM_EVENT_POLICY_VERDICT);
	cfg->rate_per_cpu = o->rate ? div_ceil(o->rate, (uint64_t)ncpus) : 0;
	cfg->burst_per_cpu = o->rate ? div_ceil(o->burst ? o->burst : o->rate, (uint64_t)ncpus) : 0;
	cfg->probe_interval_ns = (__u64)o->probe_interval_s * 1000000000ull;
}

void mm_agent_options__type_rate(const struct mm_agent_options *o, int ncpus, unsigned int type,
				 struct mm_type_rate *rate)
{
	const struct mm_type_limit *limit = &o->type_limits[type];

	if (ncpus < 1)
		ncpus = 1;
	rate->rate_per_cpu = limit->rate ? div_ceil(limit->rate, (uint64_t)ncpus) : 0;
	rate->burst_per_cpu = limit->rate ? div_ceil(limit->burst, (uint64_t)ncpus) : 0;
}
