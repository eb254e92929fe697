// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * meshmon-pipeline-bench: the machine line, the table and its legend
 * (pipeline_bench.h). One row per case; a failed case prints its error in
 * place of the figures.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/utsname.h>

#include "bench_machine.h"
#include "pipeline_bench.h"

void pl_report__machine(void)
{
	mm_bench_print_machine();
	pl_report__load("load average at start");
}

void pl_report__load(const char *when)
{
	char buf[128] = "?";
	FILE *f = fopen("/proc/loadavg", "re");

	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			snprintf(buf, sizeof(buf), "?");
		fclose(f);
	}
	buf[strcspn(buf, "\n")] = 0;
	/* Other work on the machine shares the two CPUs: say how much there was. */
	printf("%s: %s\n", when, buf);
}

#define ROW_FMT                                                                            \
	"%-12s %5s %9s %3s %9s %9s %9s %8s %6s %6s %8s %8s %6s %9s %7s %7s %7s %8s %7s %7s %8s " \
	"%6s %6s %6s\n"

void pl_report__header(void)
{
	printf(ROW_FMT, "listener", "rate", "prod", "lis", "emitted", "delivered", "per lis",
	       "lost:", "", "", "", "dp", "unacc", "deliv/s", "agent", "agent", "client", "agent",
	       "p50", "p99", "max", "x ref", "x ref", "other");
	printf(ROW_FMT, "", "", "rec/s", "", "", "min", "max", "ring", "dpath", "rate", "queue",
	       "failed", "", "/lis", "ns/ev", "ns/dlv", "ns/ev", "wakeups", "us", "us", "us",
	       "dlv/s", "cpu/ev", "CPUs");
}

static void fmt_rate(char *buf, size_t len, uint64_t rate)
{
	if (!rate)
		snprintf(buf, len, "flat");
	else if (rate % 1000000 == 0)
		snprintf(buf, len, "%" PRIu64 "M", rate / 1000000);
	else if (rate % 1000 == 0)
		snprintf(buf, len, "%" PRIu64 "k", rate / 1000);
	else
		snprintf(buf, len, "%" PRIu64, rate);
}

static void fmt_u(char *buf, size_t len, uint64_t v)
{
	snprintf(buf, len, "%" PRIu64, v);
}

static void fmt_f(char *buf, size_t len, double v, int have)
{
	if (have)
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "-");
}

static void fmt_x(char *buf, size_t len, double num, double den, int have)
{
	if (have && den > 0)
		snprintf(buf, len, "%.2f", num / den);
	else
		snprintf(buf, len, "-");
}

void pl_report__row(const struct pl_case *c, const struct pl_result *r,
		    const struct pl_result *base)
{
	char rate[24], prod[24], lis[8], em[24], dmin[24], dmax[24], ring[24], dpath[24], rl[24];
	char queue[24], dpf[24], unacc[24], dps[24], ane[24], and_[24], cne[24], wk[24];
	char p50[24], p99[24], mx[24], xd[16], xc[16], oth[16];
	int agent = c->kind != PL_REF, lat = r->have_latency;

	fmt_rate(rate, sizeof(rate), c->rate);
	if (!r->ok) {
		printf("%-12s %5s  error: %s\n", c->label, rate, r->err);
		return;
	}
	fmt_f(prod, sizeof(prod), r->prod_rate, 1);
	snprintf(lis, sizeof(lis), "%u", r->listeners);
	fmt_u(em, sizeof(em), r->emitted);
	fmt_u(dmin, sizeof(dmin), r->deliv_min);
	fmt_u(dmax, sizeof(dmax), r->deliv_max);
	fmt_u(ring, sizeof(ring), r->lost[PL_LOST_RING]);
	fmt_u(dpath, sizeof(dpath), r->lost[PL_LOST_DATAPATH]);
	fmt_u(rl, sizeof(rl), r->lost[PL_LOST_RATE_LIMIT]);
	fmt_u(queue, sizeof(queue), r->lost[PL_LOST_QUEUE]);
	if (!agent) { /* the bare reader has no agent ledger: only the kernel's counters */
		snprintf(dpath, sizeof(dpath), "-");
		snprintf(rl, sizeof(rl), "-");
		snprintf(queue, sizeof(queue), "-");
	}
	fmt_u(dpf, sizeof(dpf), r->dp_failed);
	snprintf(unacc, sizeof(unacc), "%" PRId64, r->unacc);
	fmt_f(dps, sizeof(dps), r->deliv_per_s, 1);
	fmt_f(ane, sizeof(ane), r->cpu_ns_per_event, 1);
	fmt_f(and_, sizeof(and_), r->cpu_ns_per_deliv, 1);
	fmt_f(cne, sizeof(cne), r->client_ns_per_event, r->client_ns_per_event >= 0);
	fmt_u(wk, sizeof(wk), r->wakeups);
	fmt_f(p50, sizeof(p50), (double)pl_hist__quantile(&r->hist, 0.50) / 1e3, lat && r->hist.count);
	fmt_f(p99, sizeof(p99), (double)pl_hist__quantile(&r->hist, 0.99) / 1e3, lat && r->hist.count);
	fmt_f(mx, sizeof(mx), (double)r->hist.max / 1e3, lat && r->hist.count);
	fmt_x(xd, sizeof(xd), r->deliv_per_s, base ? base->deliv_per_s : 0, base && base->ok);
	fmt_x(xc, sizeof(xc), r->cpu_ns_per_event, base ? base->cpu_ns_per_event : 0,
	      base && base->ok);
	if (r->other_cpus >= 0)
		snprintf(oth, sizeof(oth), "%.2f", r->other_cpus);
	else
		snprintf(oth, sizeof(oth), "-");
	printf(ROW_FMT, c->label, rate, prod, lis, em, dmin, dmax, ring, dpath, rl, queue, dpf, unacc,
	       dps, ane, and_, cne, wk, p50, p99, mx, xd, xc, oth);
	if (agent && r->unacc_agent)
		printf("%-12s   note: the agent's own ledger does not add up: emitted - events read - "
		       "ring - datapath - rate limit = %" PRId64 "\n",
		       "", r->unacc_agent);
	if (r->note[0])
		printf("%-12s   note: %s\n", "", r->note);
}

void pl_report__legend(void)
{
	printf("\n"
"rate: offered records/s (paced: one BPF_PROG_TEST_RUN of repeat rate/1000 every 1 ms;\n"
"  flat: repeat 1024 back to back); prod rec/s: what the producer achieved. lis: listeners.\n"
"emitted: test runs made (one record meant per run). delivered per lis: the bench flow's\n"
"  events each listener received (for meshmon monitor, which writes to /dev/null: emitted\n"
"  minus the agent's losses). lost: the agent's Status totals over the case, by source\n"
"  (queue: summed over listeners); for libbpf ref, ring = PERF_RECORD_LOST counts.\n"
"dp failed: the datapath's own RING_FULL + OUTPUT_FAILED counters (mm_stats), read by the\n"
"  bench; they count the same refused writes as ring (do not add them).\n"
"unacc: emitted - delivered - lost of the listener furthest from 0, where lost is the sum\n"
"  of its LostNotices (libbpf ref: emitted - received - dp failed); must be 0.\n"
"deliv/s /lis: per listener, delivered / (its last delivery - the first test run), mean.\n"
"agent ns/ev: agent CPU time (all threads) / emitted; ns/dlv: / deliveries summed over\n"
"  listeners (libbpf ref: the reader thread). client ns/ev: the listeners' CPU / their\n"
"  deliveries. agent wakeups: voluntary context switches of the agent (reader).\n"
"p50/p99/max: CLOCK_MONOTONIC when the read that brought an event returned - the record's\n"
"  ktime_ns, over every listener's events. x ref: deliv/s and agent ns/ev over the row\n"
"  named in the section's heading. other CPUs: how many CPUs work other than the bench's\n"
"  (its threads, the agent, the listeners) kept busy during the run, steal included\n"
"  (/proc/stat, 10 ms ticks): above 0.1 or so, that row's figures are disturbed.\n");
}
