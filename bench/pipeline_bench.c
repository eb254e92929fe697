// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * meshmon-pipeline-bench: the whole pipeline, from the datapath's perf write
 * to a client's unpacked Event, against a bare libbpf reader of the same
 * rings. See docs/performance.md.
 *
 * One process in a private network namespace with a veth pair. For every
 * case a fresh meshmon-agent runs on the veth, pinned to CPU 1; a producer
 * thread on CPU 0 drives the agent's own tc ingress program with
 * BPF_PROG_TEST_RUN at an offered rate; the listeners are forked counting
 * clients (pipeline_client.h) or `meshmon monitor`. The reference rows read
 * a datapath the bench loads itself with a bare libbpf perf buffer on CPU 1.
 * A sweep varies the agent's ring flags one at a time around the defaults.
 *
 * This file: flags, setup, the lists of cases, sections and the exit code.
 * It prints figures, never pass/fail (a case that could not run is an error).
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "datapath.h"
#include "pipeline_agent.h"
#include "pipeline_bench.h"
#include "pipeline_producer.h"
#include "textparse.h"

#ifndef MESHMON_AGENT_PATH
#error "MESHMON_AGENT_PATH must name the built meshmon-agent"
#endif
#ifndef MESHMON_CLI_PATH
#error "MESHMON_CLI_PATH must name the built meshmon CLI"
#endif

/* The agent's defaults, which the reference reader copies. */
#define RING_PAGES 64
#define WAKEUP_EVENTS 64
#define DRAIN_MS 10

volatile sig_atomic_t pl_interrupted;

struct bench_opts {
	int quick, sweep, main_cases;
	uint64_t case_ms, sweep_ms;
	uint64_t quiet_wait_s; /* before each case, wait up to this long for a quiet machine */
};

/* A machine busy with under this many CPUs of other work counts as quiet. */
#define QUIET_CPUS 0.15
#define QUIET_WINDOW_MS 250

static const uint64_t main_rates[] = {10000, 100000, 1000000, 0};
static const uint64_t quick_rates[] = {10000, 0};
static const uint64_t sweep_rates[] = {10000, 100000, 0};

/* One flag around the defaults per sweep row; the first row is the defaults. */
struct sweep_row {
	const char *label;
	const char *flag, *value;
	int quick; /* part of --quick --sweep */
};

static const struct sweep_row sweep_rows[] = {
	{"defaults", NULL, NULL, 1},
	{"wakeup 1", "--wakeup-events", "1", 1},
	{"wakeup 16", "--wakeup-events", "16", 0},
	{"wakeup 256", "--wakeup-events", "256", 0},
	{"drain 1", "--drain-ms", "1", 0},
	{"drain 100", "--drain-ms", "100", 0},
	{"pages 16", "--pages", "16", 1},
	{"pages 256", "--pages", "256", 0},
	/* what the merge across CPUs (agent/reorder.h) costs: the defaults hold it on */
	{"reorder 0", "--reorder-ms", "0", 1},
};

static void on_signal(int sig)
{
	(void)sig;
	pl_interrupted = 1;
}

static int silent_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN)
		return vfprintf(stderr, fmt, ap);
	return 0;
}

static void usage(FILE *out, const char *argv0)
{
	fprintf(out,
		"usage: %s [--quick] [--sweep | --no-sweep] [--case-ms N] [--sweep-ms N]\n"
		"       [--agent PATH] [--cli PATH] [--agent-arg ARG]... [--quiet-wait S]\n"
		"  --quick          6 short cases (CI, ~10 s): at 10k/s the reference, 1 and 4\n"
		"                   clients and meshmon monitor --json; flat out the reference and\n"
		"                   1 client (with --sweep: 4 sweep rows at 100k/s)\n"
		"  --sweep          only the sweep of --wakeup-events, --drain-ms, --pages,\n"
		"                   --reorder-ms\n"
		"  --no-sweep       only the main cases (reference, counting clients, the CLI)\n"
		"  --case-ms N      production time of a main case (default 3000; --quick 400)\n"
		"  --sweep-ms N     production time of a sweep case (default 2000; --quick 400)\n"
		"  --agent PATH     meshmon-agent to run (default %s)\n"
		"  --cli PATH       meshmon CLI to run (default %s)\n"
		"  --agent-arg ARG  one more argument for every agent (repeatable, in order;\n"
		"                   e.g. --agent-arg --queue-bytes --agent-arg 1048576)\n"
		"  --quiet-wait S   before each case wait up to S s until other work keeps less\n"
		"                   than %.2f CPUs busy (default 0: do not wait)\n"
		"Runs as root; needs CPUs %d and %d. Prints figures, never pass/fail; exits 0\n"
		"when every case ran, 1 when one could not, 2 on a bad flag.\n",
		argv0, MESHMON_AGENT_PATH, MESHMON_CLI_PATH, QUIET_CPUS, PL_PRODUCER_CPU,
		PL_READER_CPU);
}

static int parse_args(struct bench_opts *o, struct pl_env *env, int argc, char **argv, int *done)
{
	enum { O_QUICK = 256, O_SWEEP, O_NO_SWEEP, O_CASE_MS, O_SWEEP_MS, O_AGENT, O_CLI, O_ARG,
	       O_QUIET };
	static const struct option longopts[] = {
		{"quick", no_argument, NULL, O_QUICK},
		{"sweep", no_argument, NULL, O_SWEEP},
		{"no-sweep", no_argument, NULL, O_NO_SWEEP},
		{"case-ms", required_argument, NULL, O_CASE_MS},
		{"sweep-ms", required_argument, NULL, O_SWEEP_MS},
		{"agent", required_argument, NULL, O_AGENT},
		{"cli", required_argument, NULL, O_CLI},
		{"agent-arg", required_argument, NULL, O_ARG},
		{"quiet-wait", required_argument, NULL, O_QUIET},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int opt, only_sweep = 0, no_sweep = 0;
	uint64_t case_ms = 0, sweep_ms = 0;

	*done = 0;
	memset(o, 0, sizeof(*o));
	env->agent_path = MESHMON_AGENT_PATH;
	env->cli_path = MESHMON_CLI_PATH;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case O_QUICK:
			o->quick = 1;
			break;
		case O_SWEEP:
			only_sweep = 1;
			break;
		case O_NO_SWEEP:
			no_sweep = 1;
			break;
		case O_CASE_MS:
		case O_SWEEP_MS:
			if (mm_parse_u64(optarg, 100, 600000, opt == O_CASE_MS ? &case_ms : &sweep_ms)) {
				fprintf(stderr, "--%s: '%s' is not a number of ms in 100..600000\n",
					opt == O_CASE_MS ? "case-ms" : "sweep-ms", optarg);
				return 2;
			}
			break;
		case O_QUIET:
			if (mm_parse_u64(optarg, 0, 3600, &o->quiet_wait_s)) {
				fprintf(stderr, "--quiet-wait: '%s' is not a number of s in 0..3600\n",
					optarg);
				return 2;
			}
			break;
		case O_AGENT:
			env->agent_path = optarg;
			break;
		case O_CLI:
			env->cli_path = optarg;
			break;
		case O_ARG:
			if (env->n_extra == PL_MAX_EXTRA) {
				fprintf(stderr, "--agent-arg: at most %d\n", PL_MAX_EXTRA);
				return 2;
			}
			env->extra[env->n_extra++] = optarg;
			break;
		case 'h':
			usage(stdout, argv[0]);
			*done = 1;
			return 0;
		default:
			usage(stderr, argv[0]);
			return 2;
		}
	}
	if (optind != argc || (only_sweep && no_sweep)) {
		usage(stderr, argv[0]);
		return 2;
	}
	env->extra[env->n_extra] = NULL;
	o->main_cases = !only_sweep;
	o->sweep = !no_sweep && (only_sweep || !o->quick);
	o->case_ms = case_ms ? case_ms : o->quick ? 400 : 3000;
	o->sweep_ms = sweep_ms ? sweep_ms : o->quick ? 400 : 2000;
	return 0;
}

/* The namespace, the veth (IPv6 off so the kernel sends nothing on it), the frame, the
 * reference datapath: 0 or 1 (said why). */
static int setup(struct pl_env *env)
{
	struct mm_test_pkt_spec spec = {
		.family = 4, .proto = IPPROTO_UDP, .src = "10.199.0.2", .dst = "10.199.0.1",
		.dport = PL_DPORT, .payload_len = 200,
	};
	struct mm_config cfg;
	int err;

	if (geteuid() != 0) {
		fprintf(stderr, "meshmon-pipeline-bench needs root (BPF, network namespaces)\n");
		return 1;
	}
	if (sysconf(_SC_NPROCESSORS_ONLN) <= PL_READER_CPU) {
		fprintf(stderr, "need at least %d CPUs online\n", PL_READER_CPU + 1);
		return 1;
	}
	if (access(env->agent_path, X_OK) || access(env->cli_path, X_OK)) {
		fprintf(stderr, "cannot run %s: %s (pass --agent / --cli)\n",
			access(env->agent_path, X_OK) ? env->agent_path : env->cli_path,
			strerror(errno));
		return 1;
	}
	err = mm_test_private_netns();
	if (err) {
		fprintf(stderr, "private network namespace: %s\n", strerror(-err));
		return 1;
	}
	err = mm_test_pair_create(&env->pair);
	if (err) {
		fprintf(stderr, "veth pair: %s\n", strerror(-err));
		return 1;
	}
	if (mm_test_sh("sysctl -qw net.ipv6.conf.%s.disable_ipv6=1", env->pair.local_if) ||
	    mm_test_pair_sh(&env->pair, "sysctl -qw net.ipv6.conf.%s.disable_ipv6=1",
			    env->pair.peer_if)) {
		fprintf(stderr, "cannot turn IPv6 off on the veth pair\n");
		return 1;
	}
	env->sport = (uint16_t)(40000 + getpid() % 20000);
	spec.sport = env->sport;
	env->frame_len = mm_test_pkt_build(env->frame, sizeof(env->frame), &spec);
	if (!env->frame_len) {
		fprintf(stderr, "cannot build the test frame\n");
		return 1;
	}
	mm_config__defaults(&cfg);
	cfg.aggregation = MM_AGG_NONE;
	cfg.capture_len = PL_CAPTURE_LEN;
	cfg.rate_per_cpu = 0;
	env->ref_dp = mm_datapath__open(&cfg);
	if (!env->ref_dp) {
		fprintf(stderr, "load the reference datapath: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}

static void case_init(struct pl_case *c, const char *label, enum pl_kind kind, uint64_t rate,
		      unsigned int listeners, uint64_t ms)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->label, sizeof(c->label), "%s", label);
	c->kind = kind;
	c->rate = rate;
	c->listeners = listeners;
	c->pages = RING_PAGES;
	c->wakeup_events = WAKEUP_EVENTS;
	c->drain_ms = DRAIN_MS;
	c->duration_ns = ms * 1000000ull;
}

/*
 * Wait until a window of QUIET_WINDOW_MS had less than QUIET_CPUS of other
 * work, at most max_s: the machine is shared, and the row's "other CPUs"
 * says what it was in the end anyway.
 */
static void wait_quiet(uint64_t max_s)
{
	uint64_t end = pl_now_ns() + max_s * 1000000000ull;
	struct timespec win = {0, QUIET_WINDOW_MS * 1000000l};

	while (!pl_interrupted && pl_now_ns() < end) {
		uint64_t t0 = pl_now_ns(), sys0 = pl_sys__busy_ns(), self0 = pl_self__cpu_ns();
		double other;

		nanosleep(&win, NULL);
		other = (double)(pl_sys__busy_ns() - sys0) - (double)(pl_self__cpu_ns() - self0);
		if (other / (double)(pl_now_ns() - t0) < QUIET_CPUS)
			return;
	}
}

/* Run and print one case; returns 1 when it failed. */
static int run_row(const struct pl_env *env, const struct bench_opts *o, const struct pl_case *c,
		   struct pl_result *res, const struct pl_result *base)
{
	if (o->quiet_wait_s)
		wait_quiet(o->quiet_wait_s);
	pl_case__run(env, c, res);
	pl_report__row(c, res, base);
	fflush(stdout);
	return !res->ok;
}

static void rate_name(char *buf, size_t len, uint64_t rate)
{
	if (!rate)
		snprintf(buf, len, "flat out");
	else if (rate % 1000000 == 0)
		snprintf(buf, len, "%lluM/s", (unsigned long long)(rate / 1000000));
	else
		snprintf(buf, len, "%lluk/s", (unsigned long long)(rate / 1000));
}

/* The main cases: for each rate the reference, 1/4/16 clients, the CLI in text and JSON. */
static int run_main(const struct pl_env *env, const struct bench_opts *o)
{
	static const unsigned int sets[] = {1, 4, 16};
	const uint64_t *rates = o->quick ? quick_rates : main_rates;
	size_t n_rates = o->quick ? 2 : 4;
	struct pl_result *ref = calloc(1, sizeof(*ref)), *res = calloc(1, sizeof(*res));
	struct pl_case c;
	int failed = 0;
	char rn[32];

	if (!ref || !res) {
		free(ref);
		free(res);
		return 1;
	}
	printf("\n## main cases: x ref = over the libbpf ref row of the same rate\n");
	pl_report__header();
	for (size_t r = 0; r < n_rates && !pl_interrupted; r++) {
		int flat = rates[r] == 0;

		rate_name(rn, sizeof(rn), rates[r]);
		printf("-- %s\n", rn);
		case_init(&c, "libbpf ref", PL_REF, rates[r], 1, o->case_ms);
		failed += run_row(env, o, &c, ref, NULL);
		for (size_t s = 0; s < 3 && !pl_interrupted; s++) {
			char label[32];

			if (o->quick && (sets[s] > 4 || (flat && sets[s] > 1)))
				continue;
			snprintf(label, sizeof(label), "agent x%u", sets[s]);
			case_init(&c, label, PL_CLIENTS, rates[r], sets[s], o->case_ms);
			failed += run_row(env, o, &c, res, ref);
		}
		for (int json = 0; json < 2 && !pl_interrupted; json++) {
			if (o->quick && (flat || !json))
				continue;
			case_init(&c, json ? "cli --json" : "cli text", json ? PL_CLI_JSON : PL_CLI_TEXT,
				  rates[r], 1, o->case_ms);
			failed += run_row(env, o, &c, res, ref);
		}
	}
	free(ref);
	free(res);
	return failed;
}

/* The sweep: one counting client, one flag at a time around the defaults. */
static int run_sweep(const struct pl_env *env, const struct bench_opts *o)
{
	size_t n_rows = sizeof(sweep_rows) / sizeof(sweep_rows[0]);
	struct pl_result *def = calloc(1, sizeof(*def)), *res = calloc(1, sizeof(*res));
	struct pl_case c;
	int failed = 0;
	char rn[32];

	if (!def || !res) {
		free(def);
		free(res);
		return 1;
	}
	printf("\n## sweep: 1 counting client; x ref = over the defaults row of the same rate\n");
	pl_report__header();
	for (size_t r = 0; r < sizeof(sweep_rates) / sizeof(sweep_rates[0]) && !pl_interrupted;
	     r++) {
		if (o->quick && sweep_rates[r] != 100000)
			continue;
		rate_name(rn, sizeof(rn), sweep_rates[r]);
		printf("-- %s\n", rn);
		for (size_t i = 0; i < n_rows && !pl_interrupted; i++) {
			if (o->quick && !sweep_rows[i].quick)
				continue;
			case_init(&c, sweep_rows[i].label, PL_CLIENTS, sweep_rates[r], 1, o->sweep_ms);
			c.agent_args[0] = sweep_rows[i].flag;
			c.agent_args[1] = sweep_rows[i].value;
			failed += run_row(env, o, &c, i ? res : def, i ? def : NULL);
		}
	}
	free(def);
	free(res);
	return failed;
}

static void print_settings(const struct pl_env *env, const struct bench_opts *o)
{
	printf("agent: %s, pinned to CPU %d, flags --iface %s --aggregation none --rate-limit 0 "
	       "--cgroup none --capture-len %d",
	       env->agent_path, PL_READER_CPU, env->pair.local_if, PL_CAPTURE_LEN);
	for (size_t i = 0; i < env->n_extra; i++)
		printf(" %s", env->extra[i]);
	printf(" (one fresh agent per case)\ncli: %s\n", env->cli_path);
	printf("producer: CPU %d, BPF_PROG_TEST_RUN of the agent's tc ingress program on a %zu-byte "
	       "IPv4/UDP frame (10.199.0.2:%u -> 10.199.0.1:%d, record %d bytes), ctx ifindex %d\n",
	       PL_PRODUCER_CPU, env->frame_len, env->sport, PL_DPORT, 80 + PL_CAPTURE_LEN,
	       env->pair.local_ifindex);
	printf("libbpf ref: the bench's own datapath, perf_buffer__new_raw %d pages, wakeup_events "
	       "%d, %d ms drain timer, reader thread on CPU %d\n",
	       RING_PAGES, WAKEUP_EVENTS, DRAIN_MS, PL_READER_CPU);
	printf("listeners: forked counting clients (protobuf-c unpack of every frame) or meshmon "
	       "monitor > /dev/null, not pinned\n");
	printf("case: %llu ms of production (sweep %llu ms)%s", (unsigned long long)o->case_ms,
	       (unsigned long long)o->sweep_ms, o->quick ? ", --quick" : "");
	if (o->quiet_wait_s)
		printf(", each after waiting up to %llu s for under %.2f CPUs of other work",
		       (unsigned long long)o->quiet_wait_s, QUIET_CPUS);
	printf("\n");
}

int main(int argc, char **argv)
{
	struct pl_env *env = calloc(1, sizeof(*env));
	struct sigaction sa;
	struct bench_opts o;
	uint64_t t0 = pl_now_ns();
	int rc, done, failed = 0;

	if (!env)
		return 1;
	rc = parse_args(&o, env, argc, argv, &done);
	if (rc || done)
		goto out;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	libbpf_set_print(silent_libbpf);
	setvbuf(stdout, NULL, _IOLBF, 0);
	rc = setup(env);
	if (rc)
		goto out;
	pl_report__machine();
	print_settings(env, &o);
	if (o.main_cases)
		failed += run_main(env, &o);
	if (o.sweep && !pl_interrupted)
		failed += run_sweep(env, &o);
	pl_report__legend();
	printf("\n");
	pl_report__load("load average at the end");
	printf("total %.0f s\n", (double)(pl_now_ns() - t0) / 1e9);
	if (pl_interrupted)
		fprintf(stderr, "interrupted\n");
	else if (failed)
		fprintf(stderr, "%d case(s) could not run; see the error rows\n", failed);
	rc = failed || pl_interrupted ? 1 : 0;
out:
	mm_datapath__free(env->ref_dp);
	mm_test_pair_destroy(&env->pair);
	free(env);
	return rc;
}
