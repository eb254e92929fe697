// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Flag parsing for `meshmon monitor` and `meshmon status`, and the Subscribe
 * built from the monitor flags (see options.h). Every error is one line that
 * names the flag and says what is accepted.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cgroup2.h"
#include "dissect.h"
#include "ipproto.h"
#include "names.h"
#include "options.h"
#include "textparse.h"

enum {
	OPT_SOCKET = 256,
	OPT_FROM,
	OPT_TO,
	OPT_RELATED,
	OPT_PROTO,
	OPT_PORT,
	OPT_HEX,
	OPT_LAST,
	OPT_PCAP,
	OPT_NO_RECONNECT,
	OPT_RECONNECT_TIMEOUT,
	OPT_TIME,
	OPT_DROP_REASON,
	OPT_NOT,
	OPT_TCP_FLAGS,
	OPT_INTERFACE,
	OPT_SINCE,
	OPT_UNTIL,
	OPT_DIRECTION,
	OPT_MAX_BYTES,
	OPT_DURATION,
	OPT_PRINT_NODE_NAME,
	OPT_PID,
	OPT_COMM,
	OPT_CGROUP,
};

/* What a subscription selects: the flags monitor and export clickhouse share. */
#define MM_SUBSCRIPTION_LONGOPTS                                              \
	{ "socket", required_argument, NULL, OPT_SOCKET },                    \
	{ "type", required_argument, NULL, 't' },                             \
	{ "from", required_argument, NULL, OPT_FROM },                        \
	{ "to", required_argument, NULL, OPT_TO },                            \
	{ "related-to", required_argument, NULL, OPT_RELATED },               \
	{ "proto", required_argument, NULL, OPT_PROTO },                      \
	{ "port", required_argument, NULL, OPT_PORT },                        \
	{ "drop-reason", required_argument, NULL, OPT_DROP_REASON },          \
	{ "not", no_argument, NULL, OPT_NOT },                                \
	{ "tcp-flags", required_argument, NULL, OPT_TCP_FLAGS },              \
	{ "interface", required_argument, NULL, OPT_INTERFACE },              \
	{ "pid", required_argument, NULL, OPT_PID },                          \
	{ "comm", required_argument, NULL, OPT_COMM },                        \
	{ "cgroup", required_argument, NULL, OPT_CGROUP },                    \
	{ "no-reconnect", no_argument, NULL, OPT_NO_RECONNECT },              \
	{ "reconnect-timeout", required_argument, NULL, OPT_RECONNECT_TIMEOUT }

static const struct option monitor_longopts[] = {
	MM_SUBSCRIPTION_LONGOPTS,
	{ "since", required_argument, NULL, OPT_SINCE },
	{ "until", required_argument, NULL, OPT_UNTIL },
	{ "follow", no_argument, NULL, 'f' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "hex", no_argument, NULL, OPT_HEX },
	{ "json", no_argument, NULL, 'j' },
	{ "count", required_argument, NULL, 'c' },
	{ "last", required_argument, NULL, OPT_LAST },
	{ "pcap", required_argument, NULL, OPT_PCAP },
	{ "numeric", no_argument, NULL, 'n' },
	{ "time", no_argument, NULL, OPT_TIME },
	{ "print-node-name", no_argument, NULL, OPT_PRINT_NODE_NAME },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* `meshmon capture`: the endpoint flags of monitor, a direction, a snap length and a budget. */
static const struct option capture_longopts[] = {
	{ "socket", required_argument, NULL, OPT_SOCKET },
	{ "from", required_argument, NULL, OPT_FROM },
	{ "to", required_argument, NULL, OPT_TO },
	{ "related-to", required_argument, NULL, OPT_RELATED },
	{ "proto", required_argument, NULL, OPT_PROTO },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "interface", required_argument, NULL, OPT_INTERFACE },
	/* Taken only to say why a capture refuses them (mm_opts_parse). */
	{ "pid", required_argument, NULL, OPT_PID },
	{ "comm", required_argument, NULL, OPT_COMM },
	{ "cgroup", required_argument, NULL, OPT_CGROUP },
	{ "direction", required_argument, NULL, OPT_DIRECTION },
	{ "snaplen", required_argument, NULL, 's' },
	{ "count", required_argument, NULL, 'c' },
	{ "max-bytes", required_argument, NULL, OPT_MAX_BYTES },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "write", required_argument, NULL, 'w' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "hex", no_argument, NULL, OPT_HEX },
	{ "json", no_argument, NULL, 'j' },
	{ "numeric", no_argument, NULL, 'n' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/*
 * `meshmon export clickhouse`: the subscription flags of monitor (no history,
 * no output formats) and the exporter's own (export_opts.h).
 */
static const struct option export_longopts[] = {
	MM_SUBSCRIPTION_LONGOPTS,
	{ "help", no_argument, NULL, 'h' },
	MM_EXPORT_LONGOPTS,
	{ NULL, 0, NULL, 0 },
};

static const struct option status_longopts[] = {
	{ "socket", required_argument, NULL, OPT_SOCKET },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* A one-line usage error in err. */
#define fail(err, errlen, ...) mm_errorf(err, errlen, MM_EXIT_USAGE, __VA_ARGS__)

static int add_u32(uint32_t *arr, size_t *n, size_t cap, uint32_t v)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (arr[i] == v)
			return 0;
	if (*n >= cap)
		return -E2BIG;
	arr[(*n)++] = v;
	return 0;
}

/*
 * The types -t accepts: those the datapath emits to subscribers
 * (policy-verdict with meshmon-agent --policy-verdicts). Capture records go
 * only to the client that asked for the capture (meshmon capture), never to a
 * subscription: a filter on them would print nothing, forever.
 */
static const uint32_t emitted_types[] = {
	MESHMON__V1__EVENT_TYPE__EVENT_TYPE_DROP,
	MESHMON__V1__EVENT_TYPE__EVENT_TYPE_TRACE,
	MESHMON__V1__EVENT_TYPE__EVENT_TYPE_DEBUG,
	MESHMON__V1__EVENT_TYPE__EVENT_TYPE_TCP_PROBE,
	MESHMON__V1__EVENT_TYPE__EVENT_TYPE_POLICY_VERDICT,
	MESHMON__V1__EVENT_TYPE__EVENT_TYPE_TRACE_SOCK,
};
#define N_EMITTED_TYPES (sizeof(emitted_types) / sizeof(emitted_types[0]))

/* The names of the trace points, in the order of their table. */
static const char *const trace_point_names[] = {
#define X(name, value, text, arrow, peer) text,
	MM_TRACE_POINTS(X)
#undef X
};

/* names[0..n) as "a, b or c" in buf (cut to cap). */
static const char *name_list(char *buf, size_t cap, const char *const *names, size_t n)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && len < cap; i++)
		len += (size_t)snprintf(buf + len, cap - len, "%s%s",
					i == 0 ? "" : i + 1 == n ? " or " : ", ", names[i]);
	return buf;
}

/* What -t accepts, for its errors: "drop, trace, ... or trace:POINT", from emitted_types. */
static const char *emitted_types_text(char *buf, size_t cap)
{
	const char *names[N_EMITTED_TYPES + 1];

	for (size_t i = 0; i < N_EMITTED_TYPES; i++)
		names[i] = mm_event_type_name(emitted_types[i]);
	names[N_EMITTED_TYPES] = "trace:POINT";
	return name_list(buf, cap, names, N_EMITTED_TYPES + 1);
}

static bool type_is_emitted(int type)
{
	for (size_t i = 0; i < N_EMITTED_TYPES; i++)
		if ((uint32_t)type == emitted_types[i])
			return true;
	return false;
}

/* One -t value: "drop", "trace", "trace:from-network", or a comma list of them. */
static int parse_types(struct mm_opts *o, const char *arg, char *err, size_t errlen)
{
	char buf[256], want[256], *save = NULL, *tok, *colon;
	int type, point;

	if (strlen(arg) >= sizeof(buf) || !*arg)
		return fail(err, errlen, "--type: bad value '%s'", arg);
	strcpy(buf, arg);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		colon = strchr(tok, ':');
		if (colon)
			*colon = '\0';
		/* "tcp-probe" is accepted for "tcp_probe". */
		if (strcmp(tok, "tcp-probe") == 0)
			tok = "tcp_probe";
		type = mm_event_type_parse(tok);
		if (type < 0)
			return fail(err, errlen, "--type: unknown event type '%s' (want %s)", tok,
				    emitted_types_text(want, sizeof(want)));
		if (!type_is_emitted(type))
			return fail(err, errlen,
				    "--type: the datapath does not emit '%s' events (want %s)", tok,
				    emitted_types_text(want, sizeof(want)));
		if (add_u32(o->types, &o->n_types, 16, (uint32_t)type))
			return fail(err, errlen, "--type: too many types");
		if (colon) {
			if (type != MESHMON__V1__EVENT_TYPE__EVENT_TYPE_TRACE)
				return fail(err, errlen,
					    "--type: only trace takes a point ('trace:from-network'), not '%s'",
					    tok);
			point = mm_trace_point_parse(colon + 1);
			if (point < 0)
				return fail(err, errlen, "--type: unknown trace point '%s' (want %s)",
					    colon + 1,
					    name_list(want, sizeof(want), trace_point_names,
						      sizeof(trace_point_names) /
							      sizeof(trace_point_names[0])));
			if (add_u32(o->points, &o->n_points, 16, (uint32_t)point))
				return fail(err, errlen, "--type: too many trace points");
		}
	}
	o->types_given = true;
	return 0;
}

static int add_endpoint(struct mm_endpoint *arr, size_t *n, const char *flag, const char *arg,
			char *err, size_t errlen)
{
	if (*n >= MM_MAX_ENDPOINTS)
		return fail(err, errlen, "%s: more than %d endpoints", flag, MM_MAX_ENDPOINTS);
	if (mm_endpoint_parse(arg, &arr[*n]))
		return fail(err, errlen,
			    "%s: bad endpoint '%s' (want ADDR, ADDR/LEN, ADDR:PORT, [V6ADDR]:PORT or :PORT)",
			    flag, arg);
	(*n)++;
	return 0;
}

/* The flag text of the option getopt just rejected. */
static const char *bad_flag(int argc, char **argv, char *buf, size_t cap)
{
	/* A long flag as written, even when its short twin is optopt (--follow=yes: 'f'). */
	if (optind > 0 && optind <= argc && !strncmp(argv[optind - 1], "--", 2))
		return argv[optind - 1];
	if (optopt && optopt < 256) {
		snprintf(buf, cap, "-%c", optopt);
		return buf;
	}
	if (optind > 0 && optind <= argc)
		return argv[optind - 1];
	return "?";
}

/* The flags of each command that has any (`help` has none). */
static const struct flag_table {
	const char *command;
	const char *shortopts; /* ':' first: a missing value is ':', not '?' */
	const struct option *longopts;
} flag_tables[] = {
	{ "monitor", ":t:vjc:nfh", monitor_longopts },
	{ "capture", ":s:c:w:vjnh", capture_longopts },
	{ "status", ":jh", status_longopts },
	{ "export clickhouse", ":t:h", export_longopts },
};

static const struct flag_table *flag_table_of(const char *command)
{
	size_t i;

	for (i = 0; i < sizeof(flag_tables) / sizeof(flag_tables[0]); i++)
		if (strcmp(command, flag_tables[i].command) == 0)
			return &flag_tables[i];
	return NULL;
}

bool mm_opts_json(const char *command, int argc, char **argv)
{
	const struct flag_table *t = flag_table_of(command);
	char shortopts[32];
	bool json = false;
	int c;

	if (!t)
		return false;
	/*
	 * A leading '-' makes GNU getopt return non-flags in place (as 1) instead
	 * of permuting argv, so mm_opts_parse later sees argv as the user wrote
	 * it. Bad flags and values are skipped: the answer is needed precisely
	 * when the parse will fail, to print that failure as JSON.
	 */
	snprintf(shortopts, sizeof(shortopts), "-%s", t->shortopts);
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, t->longopts, NULL)) != -1)
		json |= c == 'j';
	optind = 0;
	return json;
}

static int add_proto(struct mm_flow_opts *o, const char *arg, char *err, size_t errlen)
{
	uint8_t p;

	if (mm_ip_proto_parse(arg, &p))
		return fail(err, errlen,
			    "--proto: unknown protocol '%s' (want tcp, udp, icmp, icmpv6 or a number 0-255)",
			    arg);
	if (add_u32(o->protos, &o->n_protos, MM_MAX_VALUES, p))
		return fail(err, errlen, "--proto: too many protocols");
	return 0;
}

static int add_port(struct mm_flow_opts *o, const char *arg, char *err, size_t errlen)
{
	uint64_t v;

	if (mm_parse_u64(arg, 1, 65535, &v))
		return fail(err, errlen, "--port: bad port '%s' (want 1-65535)", arg);
	if (add_u32(o->ports, &o->n_ports, MM_MAX_VALUES, (uint32_t)v))
		return fail(err, errlen, "--port: too many ports");
	return 0;
}

/*
 * --drop-reason NAME[,NAME...]: names as printed, meshmon's (POLICY_DENIED)
 * or the kernel's (NO_SOCKET). The agent knows the running kernel's names
 * and refuses unknown ones; here only their shape is checked.
 */
static int add_drop_reasons(struct mm_flow_opts *o, const char *arg, char *err, size_t errlen)
{
	const char *p = arg;

	do {
		size_t len = strcspn(p, ",");

		if (!len || len > MM_FILTER_MAX_NAME_LEN)
			return fail(err, errlen,
				    "--drop-reason: bad name in '%s' (want names like POLICY_DENIED or NO_SOCKET, comma-separated)",
				    arg);
		if (o->n_drop_reasons >= MM_MAX_VALUES)
			return fail(err, errlen, "--drop-reason: more than %d reasons", MM_MAX_VALUES);
		memcpy(o->drop_reasons[o->n_drop_reasons], p, len);
		o->drop_reasons[o->n_drop_reasons++][len] = '\0';
		p += len;
	} while (*p++ == ',');
	return 0;
}

/* --tcp-flags SYN,ACK: one mask, matched when every flag of it is set. */
static int add_tcp_flags(struct mm_flow_opts *o, const char *arg, char *err, size_t errlen)
{
	const char *p = arg;
	uint32_t mask = 0;

	do {
		size_t len = strcspn(p, ",");
		unsigned int bit;

		for (bit = 0; bit < 8; bit++)
			if (len == strlen(mm_tcp_flag_names[bit]) &&
			    !strncasecmp(p, mm_tcp_flag_names[bit], len))
				break;
		if (bit == 8)
			return fail(err, errlen,
				    "--tcp-flags: bad flags '%s' (want a comma list of FIN, SYN, RST, PSH, ACK, URG, ECE, CWR)",
				    arg);
		mask |= 1u << bit;
		p += len;
	} while (*p++ == ',');
	if (add_u32(o->tcp_flags, &o->n_tcp_flags, MM_MAX_VALUES, mask))
		return fail(err, errlen, "--tcp-flags: more than %d flag sets", MM_MAX_VALUES);
	return 0;
}

static int add_interface(struct mm_flow_opts *o, const char *arg, char *err, size_t errlen)
{
	if (!*arg || strlen(arg) > IF_NAMESIZE - 1)
		return fail(err, errlen, "--interface: bad name '%s' (want 1 to %d bytes)", arg,
			    IF_NAMESIZE - 1);
	for (size_t i = 0; i < o->n_interfaces; i++)
		if (!strcmp(o->interfaces[i], arg))
			return 0;
	if (o->n_interfaces >= MM_MAX_VALUES)
		return fail(err, errlen, "--interface: more than %d interfaces", MM_MAX_VALUES);
	o->interfaces[o->n_interfaces++] = arg;
	return 0;
}

static int add_pid(struct mm_flow_opts *o, const char *arg, char *err, size_t errlen)
{
	uint64_t v;

	if (mm_parse_u64(arg, 1, UINT32_MAX, &v))
		return fail(err, errlen, "--pid: bad pid '%s' (want a process id >= 1)", arg);
	if (add_u32(o->pids, &o->n_pids, MM_MAX_VALUES, (uint32_t)v))
		return fail(err, errlen, "--pid: more than %d pids", MM_MAX_VALUES);
	return 0;
}

/* An exact name: the kernel keeps 15 bytes of it, so a longer one would never match. */
static int add_comm(struct mm_flow_opts *o, const char *arg, char *err, size_t errlen)
{
	if (!*arg)
		return fail(err, errlen, "--comm: empty name");
	if (strlen(arg) > MM_FILTER_MAX_COMM_LEN)
		return fail(err, errlen,
			    "--comm: '%s' is %zu bytes; the kernel keeps at most %d bytes of a process name, so give those (e.g. '%.*s')",
			    arg, strlen(arg), MM_FILTER_MAX_COMM_LEN, MM_FILTER_MAX_COMM_LEN, arg);
	for (size_t i = 0; i < o->n_comms; i++)
		if (!strcmp(o->comms[i], arg))
			return 0;
	if (o->n_comms >= MM_MAX_VALUES)
		return fail(err, errlen, "--comm: more than %d names", MM_MAX_VALUES);
	o->comms[o->n_comms++] = arg;
	return 0;
}

static const char *cgroup_error(int rc)
{
	switch (rc) {
	case -ENOENT:
		return "no such directory";
	case -ENOTDIR:
		return "not a directory";
	case -EMEDIUMTYPE:
		return "not a cgroup v2 directory";
	case -ENOMEDIUM:
		return "no cgroup v2 hierarchy is mounted";
	default:
		return strerror(-rc);
	}
}

/* A cgroup v2 directory, resolved here to the id that records carry. */
static int add_cgroup(struct mm_flow_opts *o, const char *arg, char *err, size_t errlen)
{
	char path[4096], root[4096] = "the cgroup2 mount";
	uint64_t id;
	int rc = mm_cgroup2_resolve(arg, path, sizeof(path), &id);

	if (rc) {
		mm_cgroup2_root(root, sizeof(root));
		return fail(err, errlen,
			    "--cgroup: '%s': %s (want a cgroup v2 directory, absolute or relative to %s)",
			    arg, cgroup_error(rc), root);
	}
	for (size_t i = 0; i < o->n_cgroup_ids; i++)
		if (o->cgroup_ids[i] == id)
			return 0;
	if (o->n_cgroup_ids >= MM_MAX_VALUES)
		return fail(err, errlen, "--cgroup: more than %d cgroups", MM_MAX_VALUES);
	o->cgroup_ids[o->n_cgroup_ids++] = id;
	return 0;
}

static uint64_t wall_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int parse_time(const char *flag, const char *arg, uint64_t *out, char *err, size_t errlen)
{
	if (mm_parse_time_ns(arg, wall_now_ns(), out))
		return fail(err, errlen,
			    "%s: bad time '%s' (want RFC 3339 like 2026-12-01T17:00:00Z, or a duration ago like 30s, 5m, 2h)",
			    flag, arg);
	return 0;
}

/*
 * The filter flags, which --not can negate: into the FlowFilter fl (the
 * whitelist, or the exclude one after --not). -1 for any other flag.
 */
static int parse_filter_flag(struct mm_flow_opts *fl, int c, const char *arg, char *err,
			     size_t errlen)
{
	switch (c) {
	case OPT_FROM:
		return add_endpoint(fl->from, &fl->n_from, "--from", arg, err, errlen);
	case OPT_TO:
		return add_endpoint(fl->to, &fl->n_to, "--to", arg, err, errlen);
	case OPT_RELATED:
		return add_endpoint(fl->related, &fl->n_related, "--related-to", arg, err, errlen);
	case OPT_PROTO:
		return add_proto(fl, arg, err, errlen);
	case OPT_PORT:
		return add_port(fl, arg, err, errlen);
	case OPT_DROP_REASON:
		return add_drop_reasons(fl, arg, err, errlen);
	case OPT_TCP_FLAGS:
		return add_tcp_flags(fl, arg, err, errlen);
	case OPT_INTERFACE:
		return add_interface(fl, arg, err, errlen);
	case OPT_PID:
		return add_pid(fl, arg, err, errlen);
	case OPT_COMM:
		return add_comm(fl, arg, err, errlen);
	case OPT_CGROUP:
		return add_cgroup(fl, arg, err, errlen);
	default:
		return -1;
	}
}

/* The owner flag c is, or NULL for another flag. */
static const char *owner_flag(int c)
{
	return c == OPT_PID ? "--pid" : c == OPT_COMM ? "--comm" : c == OPT_CGROUP ? "--cgroup" : NULL;
}

/* --direction ingress|egress: the tc hook that sees the packet. */
static int parse_direction(struct mm_opts *o, const char *arg, char *err, size_t errlen)
{
	uint32_t point;

	if (!strcmp(arg, "ingress"))
		point = MESHMON__V1__TRACE_POINT__TRACE_POINT_FROM_NETWORK;
	else if (!strcmp(arg, "egress"))
		point = MESHMON__V1__TRACE_POINT__TRACE_POINT_TO_NETWORK;
	else
		return fail(err, errlen, "--direction: bad direction '%s' (want ingress or egress)",
			    arg);
	if (add_u32(o->points, &o->n_points, 16, point))
		return fail(err, errlen, "--direction: too many directions");
	return 0;
}

/* The flags only `meshmon capture` has (its flag table lets no other command reach them). */
static int parse_capture_flag(struct mm_opts *o, int c, const char *arg, char *err,
			      size_t errlen)
{
	uint64_t v;

	switch (c) {
	case OPT_DIRECTION:
		return parse_direction(o, arg, err, errlen);
	case 's':
		if (mm_parse_u64(arg, 0, UINT32_MAX, &v))
			return fail(err, errlen,
				    "--snaplen: bad length '%s' (want bytes per packet; 0: the agent's maximum)",
				    arg);
		o->snaplen = (uint32_t)v;
		return 0;
	case OPT_MAX_BYTES:
		if (mm_parse_u64(arg, 1, UINT64_MAX, &v))
			return fail(err, errlen, "--max-bytes: bad number '%s' (want bytes >= 1)", arg);
		o->max_bytes = v;
		return 0;
	case OPT_DURATION:
		if (mm_parse_u64(arg, 1, UINT32_MAX, &v))
			return fail(err, errlen, "--duration: bad number '%s' (want seconds >= 1)",
				    arg);
		o->duration_s = (uint32_t)v;
		return 0;
	case 'w':
		if (!*arg)
			return fail(err, errlen, "--write: empty file name");
		o->pcap = arg;
		return 0;
	default:
		return -1;
	}
}

/*
 * One flag getopt returned, with its value in arg (NULL for a switch).
 * Returns 0, MM_EXIT_USAGE with the message in err, or -1 for a flag that is
 * not in the tables (the caller reports it as unknown).
 */
static int parse_flag(struct mm_opts *o, int c, const char *arg, char *err, size_t errlen)
{
	uint64_t v;
	int rc;

	switch (c) {
	case OPT_SOCKET:
		if (!*arg)
			return fail(err, errlen, "--socket: empty path");
		o->socket = arg;
		return 0;
	case 't':
		return parse_types(o, arg, err, errlen);
	case OPT_SINCE:
		return parse_time("--since", arg, &o->since_ns, err, errlen);
	case OPT_UNTIL:
		return parse_time("--until", arg, &o->until_ns, err, errlen);
	case 'f':
		o->follow = true;
		return 0;
	case 'c':
		if (mm_parse_u64(arg, 1, UINT64_MAX, &v))
			return fail(err, errlen, "--count: bad count '%s' (want a number >= 1)", arg);
		o->count = v;
		return 0;
	case OPT_LAST:
		if (mm_parse_u64(arg, 1, UINT32_MAX, &v))
			return fail(err, errlen, "--last: bad number '%s' (want a number >= 1)", arg);
		o->last = (uint32_t)v;
		return 0;
	case OPT_PCAP:
		if (!*arg)
			return fail(err, errlen, "--pcap: empty file name");
		o->pcap = arg;
		return 0;
	case OPT_NO_RECONNECT:
		o->no_reconnect = true;
		return 0;
	case OPT_RECONNECT_TIMEOUT:
		if (mm_parse_u64(arg, 0, UINT32_MAX, &v))
			return fail(err, errlen,
				    "--reconnect-timeout: bad number of seconds '%s' (want 0 or more; 0 retries forever)",
				    arg);
		o->reconnect_timeout = (uint32_t)v;
		return 0;
	case 'v':
		if (o->verbose < 2)
			o->verbose++;
		return 0;
	case OPT_HEX:
		o->hex = true;
		return 0;
	case 'j':
		/* Accepted where users write it; the dispatcher decided JSON (mm_opts_json). */
		return 0;
	case 'n':
		o->numeric = true;
		return 0;
	case OPT_TIME:
		o->time = true;
		return 0;
	case OPT_PRINT_NODE_NAME:
		o->print_node_name = true;
		return 0;
	case 'h':
		o->help = true;
		return 0;
	default:
		rc = parse_capture_flag(o, c, arg, err, errlen);
		return rc < 0 ? mm_export_opts__parse_flag(&o->export, c, arg, err, errlen) : rc;
	}
}

int mm_opts_parse(struct mm_opts *o, const char *command, int argc, char **argv, char *err,
		  size_t errlen)
{
	const struct flag_table *t = flag_table_of(command);
	const char *env = getenv(MM_SOCKET_ENV);
	bool negate = false; /* --not was the last flag */
	char fb[8];
	int c, rc;

	memset(o, 0, sizeof(*o));
	o->command = command;
	o->socket = env && *env ? env : MM_SOCKET_DEFAULT;
	o->reconnect_timeout = MM_RECONNECT_TIMEOUT_DEFAULT;
	mm_export_opts__init(&o->export);
	err[0] = '\0';
	if (!t)
		return fail(err, errlen, "'%s' takes no flags", command);
	optind = 0; /* GNU: full reset, so the parser can run more than once */
	opterr = 0;
	while ((c = getopt_long(argc, argv, t->shortopts, t->longopts, NULL)) != -1) {
		if (c == ':')
			return fail(err, errlen, "%s: missing value",
				    bad_flag(argc, argv, fb, sizeof(fb)));
		if (owner_flag(c) && !strcmp(command, "capture"))
			return fail(err, errlen,
				    "%s: a captured packet has no owner (tc sees packets, not sockets); filter the capture by address, port or interface, or use 'meshmon monitor %s'",
				    owner_flag(c), owner_flag(c));
		if (c == OPT_NOT) {
			if (negate)
				return fail(err, errlen, "--not: given twice in a row");
			negate = true;
			continue;
		}
		rc = parse_filter_flag(negate ? &o->not : &o->flow, c, optarg, err, errlen);
		if (rc < 0 && negate)
			return fail(err, errlen,
				    "--not: must be followed by a filter flag (--from, --to, --related-to, --proto, --port, --drop-reason, --tcp-flags, --interface, --pid, --comm or --cgroup)");
		negate = false;
		if (rc < 0)
			rc = parse_flag(o, c, optarg, err, errlen);
		if (rc < 0)
			return fail(err, errlen, "unknown flag '%s' (see 'meshmon %s --help')",
				    bad_flag(argc, argv, fb, sizeof(fb)), command);
		if (rc)
			return rc;
	}
	if (optind < argc)
		return fail(err, errlen, "unexpected argument '%s' (see 'meshmon %s --help')",
			    argv[optind], command);
	if (negate)
		return fail(err, errlen, "--not: no filter flag after it");
	if (o->until_ns && !o->last && !o->since_ns)
		return fail(err, errlen,
			    "--until: give --since or --last too (the history it ends)");
	if (o->until_ns && o->since_ns > o->until_ns)
		return fail(err, errlen, "--since: after --until");
	if (!strcmp(command, "export clickhouse") && !o->help)
		return mm_export_opts__check(&o->export, err, errlen);
	return 0;
}

static void fill_endpoints(const struct mm_endpoint *in, size_t n, Meshmon__V1__Endpoint *eps,
			   Meshmon__V1__Endpoint **ptrs)
{
	size_t i;

	for (i = 0; i < n; i++) {
		meshmon__v1__endpoint__init(&eps[i]);
		eps[i].address.data = (uint8_t *)in[i].addr;
		eps[i].address.len = in[i].addr_len;
		eps[i].prefix_len = in[i].addr_len ? in[i].prefix_len : 0;
		eps[i].port = in[i].port;
		ptrs[i] = &eps[i];
	}
}

/* fl as the FlowFilter of fb; false when fl has no value, so no FlowFilter. */
static bool fill_flow(const struct mm_flow_opts *fl, struct mm_flow_buf *fb)
{
	Meshmon__V1__FlowFilter *f = &fb->filter;
	size_t i;

	meshmon__v1__flow_filter__init(f);
	fill_endpoints(fl->from, fl->n_from, fb->eps, fb->src);
	fill_endpoints(fl->to, fl->n_to, fb->eps + MM_MAX_ENDPOINTS, fb->dst);
	fill_endpoints(fl->related, fl->n_related, fb->eps + 2 * MM_MAX_ENDPOINTS, fb->either);
	f->n_source = fl->n_from;
	f->source = fl->n_from ? fb->src : NULL;
	f->n_destination = fl->n_to;
	f->destination = fl->n_to ? fb->dst : NULL;
	f->n_either = fl->n_related;
	f->either = fl->n_related ? fb->either : NULL;
	f->n_protocols = fl->n_protos;
	f->protocols = fl->n_protos ? (uint32_t *)fl->protos : NULL;
	f->n_ports = fl->n_ports;
	f->ports = fl->n_ports ? (uint32_t *)fl->ports : NULL;
	for (i = 0; i < fl->n_drop_reasons; i++)
		fb->drop_reasons[i] = (char *)fl->drop_reasons[i];
	f->n_drop_reasons = fl->n_drop_reasons;
	f->drop_reasons = fl->n_drop_reasons ? fb->drop_reasons : NULL;
	f->n_tcp_flags = fl->n_tcp_flags;
	f->tcp_flags = fl->n_tcp_flags ? (uint32_t *)fl->tcp_flags : NULL;
	for (i = 0; i < fl->n_interfaces; i++)
		fb->interfaces[i] = (char *)fl->interfaces[i];
	f->n_interfaces = fl->n_interfaces;
	f->interfaces = fl->n_interfaces ? fb->interfaces : NULL;
	f->n_pids = fl->n_pids;
	f->pids = fl->n_pids ? (uint32_t *)fl->pids : NULL;
	for (i = 0; i < fl->n_comms; i++)
		fb->comms[i] = (char *)fl->comms[i];
	f->n_comms = fl->n_comms;
	f->comms = fl->n_comms ? fb->comms : NULL;
	f->n_cgroup_ids = fl->n_cgroup_ids;
	f->cgroup_ids = fl->n_cgroup_ids ? (uint64_t *)fl->cgroup_ids : NULL;
	return fl->n_from || fl->n_to || fl->n_related || fl->n_protos || fl->n_ports ||
	       fl->n_drop_reasons || fl->n_tcp_flags || fl->n_interfaces || fl->n_pids ||
	       fl->n_comms || fl->n_cgroup_ids;
}

void mm_opts_subscribe(const struct mm_opts *o, struct mm_subscribe_buf *sb)
{
	size_t i;

	meshmon__v1__subscribe__init(&sb->sub);
	if (o->types_given) {
		for (i = 0; i < o->n_types; i++)
			sb->types[i] = (Meshmon__V1__EventType)o->types[i];
		sb->sub.n_types = o->n_types;
		sb->sub.types = sb->types;
	} else if (!o->verbose) {
		/* Debug records are for -v (or -t debug): not even sent to us otherwise. */
		static const Meshmon__V1__EventType def[] = {
			MESHMON__V1__EVENT_TYPE__EVENT_TYPE_DROP,
			MESHMON__V1__EVENT_TYPE__EVENT_TYPE_CAPTURE,
			MESHMON__V1__EVENT_TYPE__EVENT_TYPE_TRACE,
			MESHMON__V1__EVENT_TYPE__EVENT_TYPE_POLICY_VERDICT,
			MESHMON__V1__EVENT_TYPE__EVENT_TYPE_TRACE_SOCK,
			MESHMON__V1__EVENT_TYPE__EVENT_TYPE_TCP_PROBE,
		};
		memcpy(sb->types, def, sizeof(def));
		sb->sub.n_types = sizeof(def) / sizeof(def[0]);
		sb->sub.types = sb->types;
	}
	for (i = 0; i < o->n_points; i++)
		sb->points[i] = (Meshmon__V1__TracePoint)o->points[i];
	sb->sub.n_points = o->n_points;
	sb->sub.points = o->n_points ? sb->points : NULL;
	sb->sub.replay = o->last;
	sb->sub.since_ns = o->since_ns;
	sb->sub.until_ns = o->until_ns;
	sb->sub.history_only = mm_opts_history_only(o);

	if (fill_flow(&o->flow, &sb->flow)) {
		sb->filters[0] = &sb->flow.filter;
		sb->sub.n_filters = 1;
		sb->sub.filters = sb->filters;
	}
	if (fill_flow(&o->not, &sb->not)) {
		sb->exclude[0] = &sb->not.filter;
		sb->sub.n_exclude = 1;
		sb->sub.exclude = sb->exclude;
	}
}

void mm_opts_capture(const struct mm_opts *o, struct mm_capture_buf *cb)
{
	size_t i;

	meshmon__v1__capture_request__init(&cb->req);
	if (fill_flow(&o->flow, &cb->flow))
		cb->req.filter = &cb->flow.filter;
	for (i = 0; i < o->n_points; i++)
		cb->points[i] = (Meshmon__V1__TracePoint)o->points[i];
	cb->req.n_points = o->n_points;
	cb->req.points = o->n_points ? cb->points : NULL;
	cb->req.snaplen = o->snaplen;
	cb->req.max_packets = o->count;
	cb->req.max_bytes = o->max_bytes;
	cb->req.max_seconds = o->duration_s;
}

void mm_opts_usage_monitor(FILE *out)
{
	fputs("Usage: meshmon monitor [FLAGS]\n"
	      "\n"
	      "Stream the agent's events until Ctrl-C (or --count). Filters are sent to the\n"
	      "agent in the subscription: different flags are ANDed, repeated flags ORed;\n"
	      "an event that matches the --not flags (ANDed among themselves) is left out.\n"
	      "With --last or --since, print the stored history and exit (0) after it,\n"
	      "unless --follow. When the agent goes away (a restart), reconnect and\n"
	      "resubscribe, and report the span of events that was not seen; not with\n"
	      "--count or when printing the history only.\n"
	      "The 'Listening for events ...' header goes to stderr: stdout holds events.\n"
	      "\n"
	      "Connection:\n"
	      "      --socket PATH       agent socket (default " MM_SOCKET_DEFAULT ", or $" MM_SOCKET_ENV ")\n"
	      "      --no-reconnect      exit when the agent goes away instead of reconnecting\n"
	      "      --reconnect-timeout SECS\n"
	      "                          give up (exit 3) after SECS without an agent\n"
	      "                          (default 60; 0: retry forever)\n"
	      "\n"
	      "Filters:\n"
	      "  -t, --type TYPE         drop, trace, debug, tcp_probe, policy-verdict, trace-sock,\n"
	      "                          or trace:POINT with\n"
	      "                          POINT from-network, to-network, from-stack, to-stack,\n"
	      "                          kernel, from-socket, to-socket, to-endpoint,\n"
	      "                          from-endpoint (repeatable, comma lists)\n"
	      "      --from EP           source side matches EP (repeatable)\n"
	      "      --to EP             destination side matches EP (repeatable)\n"
	      "      --related-to EP     either side matches EP (repeatable)\n"
	      "                          EP: ADDR, ADDR/LEN, ADDR:PORT, [V6ADDR]:PORT or :PORT\n"
	      "      --proto PROTO       tcp, udp, icmp, icmpv6 or a number (repeatable)\n"
	      "      --port N            TCP, UDP or SCTP source or destination port (repeatable)\n"
	      "      --drop-reason NAME  drops of this reason, as printed: POLICY_DENIED,\n"
	      "                          NO_SOCKET, ... (repeatable, comma lists)\n"
	      "      --tcp-flags FLAGS   TCP packets with all of FLAGS set, a comma list of FIN,\n"
	      "                          SYN, RST, PSH, ACK, URG, ECE, CWR (repeatable: any set)\n"
	      "      --interface NAME    events on this interface (repeatable)\n"
	      "      --pid N             events of process N (repeatable); only tcp_probe,\n"
	      "                          endpoint traces and trace-sock have an owner\n"
	      "      --comm NAME         events of processes named NAME, exactly, at most 15\n"
	      "                          bytes as the kernel keeps it (repeatable)\n"
	      "      --cgroup PATH       events of sockets of this cgroup v2 directory,\n"
	      "                          absolute or relative to the cgroup2 mount (repeatable)\n"
	      "      --not               negate the next filter flag: events matching every\n"
	      "                          negated flag are left out\n"
	      "\n"
	      "History:\n"
	      "      --last N            print up to N stored events, then exit\n"
	      "      --since TIME        print the stored events from TIME, then exit\n"
	      "      --until TIME        nothing later than TIME (with --since or --last)\n"
	      "                          TIME: RFC 3339 (2026-12-01T17:00:00Z) or a duration\n"
	      "                          ago (30s, 5m, 2h, 1d, 1h30m)\n"
	      "  -f, --follow            after the history, keep following live events (the\n"
	      "                          history is not replayed again after a reconnect)\n"
	      "\n"
	      "Output:\n"
	      "  -v, --verbose           more fields and debug records; -vv dissects packets\n"
	      "      --hex               hex dump of the captured bytes\n"
	      "  -j, --json              one JSON object per line\n"
	      "  -n, --numeric           interface index only, no names\n"
	      "      --time              start every line with the event's time (RFC 3339,\n"
	      "                          UTC, nanoseconds; -v does too)\n"
	      "      --print-node-name   start every text line with [NODE], the agent's\n"
	      "                          node name (JSON lines always carry \"node\")\n"
	      "  -c, --count N           exit after N events (or when the agent goes away)\n"
	      "      --pcap FILE         write captured Ethernet packets to FILE as pcap\n"
	      "                          ('-': stdout, and no text output)\n"
	      "  -h, --help              this help\n"
	      "\n"
	      "Exit status: 0 after --count, the history or Ctrl-C, 1 agent or I/O error, 2 bad\n"
	      "flag (or a --pcap FILE that cannot be written, checked before connecting), 3\n"
	      "agent not running (or not back within --reconnect-timeout), 4 socket not\n"
	      "permitted.\n",
	      out);
}

void mm_opts_usage_capture(FILE *out)
{
	fputs("Usage: meshmon capture [FLAGS]\n"
	      "\n"
	      "Capture whole packets on demand: the agent installs a capture rule in the\n"
	      "datapath from the filter flags, and the tc hooks send the bytes of the\n"
	      "matching packets only, up to the snap length, until the budget (-c,\n"
	      "--max-bytes, --duration) is spent or Ctrl-C. Different flags are ANDed,\n"
	      "repeated flags ORed. With -w the packets are written as pcap, else printed\n"
	      "one line each; the totals go to stderr at the end.\n"
	      "\n"
	      "      --socket PATH       agent socket (default " MM_SOCKET_DEFAULT ", or $" MM_SOCKET_ENV ")\n"
	      "\n"
	      "Filter:\n"
	      "      --from EP           source side matches EP (repeatable)\n"
	      "      --to EP             destination side matches EP (repeatable)\n"
	      "      --related-to EP     either side matches EP (repeatable)\n"
	      "                          EP: ADDR, ADDR/LEN, ADDR:PORT, [V6ADDR]:PORT or :PORT\n"
	      "      --proto PROTO       tcp, udp, icmp, icmpv6 or a number (repeatable)\n"
	      "      --port N            TCP, UDP or SCTP source or destination port (repeatable)\n"
	      "      --interface NAME    packets on this interface (repeatable)\n"
	      "      --direction DIR     ingress (from the network) or egress (to the network);\n"
	      "                          default both\n"
	      "\n"
	      "Snap length and budget:\n"
	      "  -s, --snaplen N         bytes per packet from the Ethernet header (default 0:\n"
	      "                          the agent's maximum)\n"
	      "  -c, --count N           end after N packets\n"
	      "      --max-bytes N       end after N captured bytes\n"
	      "      --duration SECS     end after SECS seconds\n"
	      "\n"
	      "Output:\n"
	      "  -w, --write FILE        write the packets to FILE as pcap (Ethernet); '-':\n"
	      "                          stdout, flushed per packet (| tcpdump -r -)\n"
	      "  -v, --verbose           more fields; -vv dissects each packet\n"
	      "      --hex               hex dump of each packet\n"
	      "  -j, --json              one JSON object per packet\n"
	      "  -n, --numeric           interface index only, no names\n"
	      "  -h, --help              this help\n"
	      "\n"
	      "Exit status: 0 when the budget is spent, the agent stops or Ctrl-C, 1 agent\n"
	      "error (a refused capture) or I/O error, 2 bad flag (or a -w FILE that cannot\n"
	      "be written, checked before connecting), 3 agent not running, 4 socket not\n"
	      "permitted.\n",
	      out);
}

void mm_opts_usage_status(FILE *out)
{
	fputs("Usage: meshmon status [FLAGS]\n"
	      "\n"
	      "Print the agent's state: versions, rings, uptime, listeners, events read and\n"
	      "lost per source, interfaces, cgroup, rate limit and aggregation.\n"
	      "\n"
	      "      --socket PATH       agent socket (default " MM_SOCKET_DEFAULT ", or $" MM_SOCKET_ENV ")\n"
	      "  -j, --json              print one JSON object\n"
	      "  -h, --help              this help\n",
	      out);
}

void mm_opts_usage_export(FILE *out)
{
	fputs("Usage: meshmon export clickhouse --url URL [FLAGS]\n"
	      "\n"
	      "Write the agent's events into a ClickHouse table over its HTTP interface, in\n"
	      "batches, every row naming the agent's node. Creates the database and the table\n"
	      "when missing. A bounded buffer rides out a ClickHouse outage; events that do\n"
	      "not fit, and the agent's lost notices, become loss rows in the table. Progress\n"
	      "and losses on stderr. Filters as for 'meshmon monitor'; ends on Ctrl-C or\n"
	      "SIGTERM, or when the agent goes away with --no-reconnect, after delivering\n"
	      "what it holds (--drain-timeout).\n"
	      "\n"
	      "ClickHouse:\n"
	      "      --url URL           its HTTP interface, http://HOST:8123 (credentials as\n"
	      "                          http://USER:PASSWORD@HOST:8123)\n"
	      "      --database NAME     default " MM_EXPORT_DATABASE_DEFAULT "\n"
	      "      --table NAME        default " MM_EXPORT_TABLE_DEFAULT "\n"
	      "      --batch-rows N      send a batch at N rows (default 10000) ...\n"
	      "      --batch-interval T  ... or when its first row is T old (default 1s;\n"
	      "                          200ms, 5s, ...)\n"
	      "      --buffer-rows N     rows held while ClickHouse does not take them\n"
	      "                          (default 1000000); more are counted as lost\n"
	      "      --status-interval T a progress line on stderr every T (default 60s;\n"
	      "                          0: only at exit)\n"
	      "      --drain-timeout T   at the end, keep delivering what is held for up to T\n"
	      "                          (default 10s)\n"
	      "      --ttl-days N        drop the table's days older than N days, at start\n"
	      "                          and hourly (default: keep everything)\n"
	      "      --metrics ADDR:PORT serve the exporter's own Prometheus /metrics\n"
	      "                          (default: off)\n"
	      "\n"
	      "Connection to the agent:\n"
	      "      --socket PATH       agent socket (default " MM_SOCKET_DEFAULT ", or $" MM_SOCKET_ENV ")\n"
	      "      --no-reconnect      exit when the agent goes away instead of reconnecting\n"
	      "      --reconnect-timeout SECS\n"
	      "                          give up (exit 3) after SECS without an agent\n"
	      "                          (default 60; 0: retry forever)\n"
	      "\n"
	      "Filters (as meshmon monitor):\n"
	      "  -t, --type TYPE         drop, trace, debug, tcp_probe, policy-verdict,\n"
	      "                          trace-sock or trace:POINT (repeatable, comma lists;\n"
	      "                          default every type but debug)\n"
	      "      --from EP, --to EP, --related-to EP, --proto PROTO, --port N,\n"
	      "      --drop-reason NAME, --tcp-flags FLAGS, --interface NAME, --pid N,\n"
	      "      --comm NAME, --cgroup PATH, --not\n"
	      "  -h, --help              this help\n"
	      "\n"
	      "Exit status: 0 after Ctrl-C or SIGTERM with every row delivered, 1 agent error,\n"
	      "or rows left undelivered, 2 bad flag, 3 agent not running (or not back within\n"
	      "--reconnect-timeout), 4 socket not permitted.\n",
	      out);
}
