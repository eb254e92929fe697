// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * meshmon-ringdump: load the tc datapath on some interfaces and print what the
 * rings carry, one line per raw record, with nothing between the perf buffer
 * and stdout. It is the bare libbpf reader that the agent is measured against,
 * and a way to look at the datapath without the agent.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "datapath.h"
#include "names.h"

#define EXIT_USAGE 2
#define EXIT_RUNTIME 1
#define MAX_IFACES 16
#define MAX_RULES MM_DENY_MAX

static volatile sig_atomic_t stop;
static unsigned long long records_seen;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int silent_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static void format_addr(char *buf, size_t len, const struct mm_tuple *t, const __u32 *addr,
			__u16 port)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	int has_port = t->proto == IPPROTO_TCP || t->proto == IPPROTO_UDP;

	inet_ntop(t->family == MM_FAMILY_IPV6 ? AF_INET6 : AF_INET, addr, ip, sizeof(ip));
	if (!has_port)
		snprintf(buf, len, "%s", ip);
	else if (t->family == MM_FAMILY_IPV6)
		snprintf(buf, len, "[%s]:%u", ip, port);
	else
		snprintf(buf, len, "%s:%u", ip, port);
}

static void format_flags(char *buf, size_t len, __u8 flags)
{
	static const char *const names[] = {"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"};
	size_t off = 0;

	buf[0] = '\0';
	for (int i = 0; i < 8 && off < len; i++)
		if (flags & (1u << i))
			off += snprintf(buf + off, len - off, "%s%s", off ? "," : "", names[i]);
}

static const char *proto_name(__u8 proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "icmpv6";
	default:
		return "proto";
	}
}

static void format_tuple(char *buf, size_t len, const struct mm_tuple *t, __u8 tcp_flags)
{
	char src[64], dst[64], flags[40] = "";

	if (t->family == MM_FAMILY_NONE) {
		snprintf(buf, len, "ethertype 0x%04x", t->ethertype);
		return;
	}
	format_addr(src, sizeof(src), t, t->saddr, t->sport);
	format_addr(dst, sizeof(dst), t, t->daddr, t->dport);
	if (t->proto == IPPROTO_TCP)
		format_flags(flags, sizeof(flags), tcp_flags);
	snprintf(buf, len, "%s -> %s %s%s%s", src, dst, proto_name(t->proto), flags[0] ? " " : "",
		 flags);
}

static void print_trace(int cpu, const struct mm_trace_record *r)
{
	char tuple[200];
	const char *point = mm_trace_point_name(r->hdr.subtype);
	const char *state = mm_trace_state_name(r->state);

	format_tuple(tuple, sizeof(tuple), &r->tuple, r->tcp_flags);
	printf("CPU %02d: %s %s flow 0x%08x state %s ifindex %u", cpu,
	       mm_trace_point_arrow(r->hdr.subtype) ?: "??", point ?: "?", r->hdr.flow_id,
	       state ?: "?", r->ifindex);
	if (r->folded)
		printf(" folded %u", r->folded);
	if (r->parse_error)
		printf(" (%s)", mm_parse_error_text(r->parse_error) ?: "parse error");
	printf(": %s len %u cap %u\n", tuple, r->cap.len_orig, r->cap.cap_len);
}

static void print_drop(int cpu, const struct mm_drop_record *r)
{
	char tuple[200];
	const char *reason = r->hdr.source == MM_SOURCE_TC ? mm_drop_reason_text(r->reason) : NULL;

	format_tuple(tuple, sizeof(tuple), &r->tuple, 0);
	printf("CPU %02d: xx drop (%s", cpu, reason ?: "reason");
	if (!reason)
		printf(" %u", r->reason);
	printf(") flow 0x%08x ifindex %u file %s:%u rule %u", r->hdr.flow_id, r->ifindex,
	       mm_source_file_name(r->file) ?: "?", r->line, r->ext_error);
	if (r->folded)
		printf(" folded %u", r->folded);
	printf(": %s\n", tuple);
}

static void print_debug(int cpu, const struct mm_debug_record *r)
{
	printf("CPU %02d: DEBUG %s ifindex %u args %u %u %u\n", cpu,
	       mm_debug_type_name(r->hdr.subtype) ?: "?", r->ifindex, r->arg1, r->arg2, r->arg3);
}

static void on_sample(void *ctx, int cpu, void *data, __u32 size)
{
	union {
		struct mm_notify_hdr hdr;
		struct mm_trace_record trace;
		struct mm_drop_record drop;
		struct mm_debug_record debug;
	} rec;
	size_t need;

	(void)ctx;
	records_seen++;
	memset(&rec, 0, sizeof(rec));
	/* perf data is not aligned: copy the fixed part out, after checking the length. */
	if (size < sizeof(rec.hdr)) {
		printf("CPU %02d: short record (%u bytes)\n", cpu, size);
		return;
	}
	memcpy(&rec.hdr, data, sizeof(rec.hdr));
	switch (rec.hdr.type) {
	case MM_EVENT_TRACE:
		need = sizeof(rec.trace);
		break;
	case MM_EVENT_DROP:
		need = sizeof(rec.drop);
		break;
	case MM_EVENT_DEBUG:
		need = sizeof(rec.debug);
		break;
	default:
		printf("CPU %02d: %s record (type %u, %u bytes)\n", cpu,
		       mm_event_type_name(rec.hdr.type) ?: "unknown", rec.hdr.type, size);
		return;
	}
	if (size < need) {
		printf("CPU %02d: short %s record (%u bytes)\n", cpu,
		       mm_event_type_name(rec.hdr.type), size);
		return;
	}
	memcpy(&rec, data, need);
	if (rec.hdr.type == MM_EVENT_TRACE)
		print_trace(cpu, &rec.trace);
	else if (rec.hdr.type == MM_EVENT_DROP)
		print_drop(cpu, &rec.drop);
	else
		print_debug(cpu, &rec.debug);
}

static void on_lost(void *ctx, int cpu, __u64 count)
{
	(void)ctx;
	printf("CPU %02d: Lost %llu events (ring)\n", cpu, (unsigned long long)count);
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: meshmon-ringdump --iface NAME [options]\n"
		"Load the tc datapath on interfaces and print every raw record.\n\n"
		"  -i, --iface NAME            attach tc ingress and egress (repeatable)\n"
		"      --deny RULE             deny rule, e.g. proto=tcp,dport=8080 (repeatable)\n"
		"      --aggregation LEVEL     none|low|medium|maximum (default none)\n"
		"      --capture-len N         bytes of each packet to capture (default %d)\n"
		"      --debug                 emit debug records\n"
		"      --duration SECS         stop after SECS seconds (default: until Ctrl-C)\n"
		"  -h, --help                  this text\n",
		MM_CAPTURE_DEFAULT);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"iface", required_argument, NULL, 'i'},
		{"deny", required_argument, NULL, 'd'},
		{"aggregation", required_argument, NULL, 'a'},
		{"capture-len", required_argument, NULL, 'c'},
		{"debug", no_argument, NULL, 'D'},
		{"duration", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct mm_deny_spec rules[MAX_RULES];
	const char *ifaces[MAX_IFACES];
	int ifindexes[MAX_IFACES];
	size_t n_ifaces = 0, n_rules = 0;
	struct mm_datapath *dp = NULL;
	struct perf_buffer *pb = NULL;
	struct mm_config cfg;
	long duration = 0;
	time_t deadline;
	char err[128], *end;
	int opt, ret = EXIT_RUNTIME;

	mm_config__defaults(&cfg);
	cfg.event_mask |= MM_EVENT_BIT(MM_EVENT_DROP);
	while ((opt = getopt_long(argc, argv, "i:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			if (n_ifaces == MAX_IFACES) {
				fprintf(stderr, "meshmon-ringdump: at most %d interfaces\n", MAX_IFACES);
				return EXIT_USAGE;
			}
			ifaces[n_ifaces++] = optarg;
			break;
		case 'd':
			if (n_rules == MAX_RULES) {
				fprintf(stderr, "meshmon-ringdump: at most %d deny rules\n", MAX_RULES);
				return EXIT_USAGE;
			}
			if (mm_deny_spec__parse(optarg, n_rules + 1, &rules[n_rules], err,
						sizeof(err))) {
				fprintf(stderr, "meshmon-ringdump: --deny %s: %s\n", optarg, err);
				return EXIT_USAGE;
			}
			n_rules++;
			break;
		case 'a': {
			int level = mm_aggregation_parse(optarg);

			if (level < 0) {
				fprintf(stderr,
					"meshmon-ringdump: --aggregation: '%s' is not one of none, low, medium, maximum\n",
					optarg);
				return EXIT_USAGE;
			}
			cfg.aggregation = level;
			cfg.aggregate_drops = level == MM_AGG_MAXIMUM;
			break;
		}
		case 'c':
			errno = 0;
			cfg.capture_len = strtoul(optarg, &end, 10);
			if (errno || *end || cfg.capture_len > MM_CAPTURE_MAX) {
				fprintf(stderr, "meshmon-ringdump: --capture-len: 0 to %d\n",
					MM_CAPTURE_MAX);
				return EXIT_USAGE;
			}
			break;
		case 'D':
			cfg.event_mask |= MM_EVENT_BIT(MM_EVENT_DEBUG);
			break;
		case 't':
			errno = 0;
			duration = strtol(optarg, &end, 10);
			if (errno || *end || duration <= 0) {
				fprintf(stderr, "meshmon-ringdump: --duration: a positive number of seconds\n");
				return EXIT_USAGE;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc || !n_ifaces) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < n_ifaces; i++) {
		ifindexes[i] = if_nametoindex(ifaces[i]);
		if (!ifindexes[i]) {
			fprintf(stderr, "meshmon-ringdump: no interface named '%s'\n", ifaces[i]);
			return EXIT_USAGE;
		}
	}

	libbpf_set_print(silent_print);
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	dp = mm_datapath__open(&cfg);
	if (!dp) {
		fprintf(stderr, "meshmon-ringdump: load the datapath: %s\n", strerror(errno));
		return EXIT_RUNTIME;
	}
	if (n_rules && mm_datapath__set_deny_rules(dp, rules, n_rules)) {
		fprintf(stderr, "meshmon-ringdump: install deny rules: %s\n", strerror(errno));
		goto out;
	}
	for (size_t i = 0; i < n_ifaces; i++) {
		int err_attach = mm_datapath__attach_tc(dp, ifindexes[i]);

		if (err_attach) {
			fprintf(stderr, "meshmon-ringdump: attach tc on %s: %s\n", ifaces[i],
				strerror(-err_attach));
			goto out;
		}
	}
	pb = perf_buffer__new(mm_datapath__events_fd(dp), 64, on_sample, on_lost, NULL, NULL);
	if (!pb) {
		fprintf(stderr, "meshmon-ringdump: open the rings: %s\n", strerror(errno));
		goto out;
	}
	printf("Listening on %zu interface(s), %d CPUs. Press Ctrl-C to quit\n", n_ifaces,
	       libbpf_num_possible_cpus());
	deadline = duration ? time(NULL) + duration : 0;
	while (!stop && (!deadline || time(NULL) < deadline)) {
		int n = perf_buffer__poll(pb, 200);

		if (n < 0 && n != -EINTR) {
			fprintf(stderr, "meshmon-ringdump: poll: %s\n", strerror(-n));
			goto out;
		}
	}
	perf_buffer__consume(pb);
	{
		__u64 stats[MM_STAT_MAX] = {0};

		if (!mm_datapath__read_stats(dp, stats)) {
			printf("%llu records;", records_seen);
			for (int i = 0; i < MM_STAT_MAX; i++)
				printf(" %s %llu", mm_stat_name(i), (unsigned long long)stats[i]);
			printf("\n");
		}
	}
	ret = 0;
out:
	perf_buffer__free(pb);
	mm_datapath__free(dp);
	return ret;
}
