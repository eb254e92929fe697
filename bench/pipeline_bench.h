/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * meshmon-pipeline-bench: what the entry point (pipeline_bench.c), the case
 * runner (pipeline_cases.c) and the table printer (pipeline_report.c) share:
 * the run's environment, one case, and one row of results.
 */
#ifndef MESHMON_BENCH_PIPELINE_BENCH_H
#define MESHMON_BENCH_PIPELINE_BENCH_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "harness.h"
#include "pipeline_hist.h"
#include "protocol.h"

#define PL_PRODUCER_CPU 0
#define PL_READER_CPU 1 /* the agent and the reference reader */
/*
 * The bench's flow: UDP 10.199.0.2:sport -> 10.199.0.1:9000, sport from the
 * bench's pid, so that events of anyone else who runs the same program are
 * told apart.
 */
#define PL_DPORT 9000
#define PL_CAPTURE_LEN 128
#define PL_MAX_EXTRA 64 /* --agent-arg values */

struct mm_datapath;

/* LossSource values by name, from protocol.h's table: PL_LOST_RING, ... */
enum {
#define X(name, value, ...) PL_LOST_##name = value,
	MM_LOSS_SOURCE_TABLE(X)
#undef X
};

/* Set by SIGINT/SIGTERM/SIGHUP: finish the case at hand quickly and stop. */
extern volatile sig_atomic_t pl_interrupted;

struct pl_env {
	const char *agent_path, *cli_path;
	const char *extra[PL_MAX_EXTRA + 1]; /* --agent-arg values, NULL-terminated */
	size_t n_extra;
	struct mm_test_pair pair;  /* the veth: the agent's --iface, the producer's ifindex */
	uint16_t sport;
	uint8_t frame[512];
	size_t frame_len;
	struct mm_datapath *ref_dp; /* the reference reader's own datapath */
};

enum pl_kind {
	PL_REF,      /* the bare libbpf reader */
	PL_CLIENTS,  /* the agent with N counting clients */
	PL_CLI_TEXT, /* the agent with `meshmon monitor` */
	PL_CLI_JSON, /* the agent with `meshmon monitor --json` */
};

struct pl_case {
	char label[32];
	enum pl_kind kind;
	uint64_t rate; /* records/s; 0 flat out */
	unsigned int listeners;
	const char *agent_args[8]; /* this case's agent flags, NULL-terminated */
	/* the reference reader's ring settings (the agent's defaults) */
	unsigned int pages, wakeup_events, drain_ms;
	uint64_t duration_ns;
};

struct pl_result {
	int ok;
	char err[512];
	char note[512]; /* something odd but not an error: other events, an exit status */
	uint64_t emitted;           /* test runs made */
	double prod_rate;           /* records/s the producer achieved */
	unsigned int listeners;
	uint64_t deliv_min, deliv_max, deliv_sum;
	uint64_t lost[MM_LOSS_SOURCES]; /* agent Status deltas (reference: RING = PERF_RECORD_LOST) */
	uint64_t dp_failed;         /* the datapath's RING_FULL + OUTPUT_FAILED delta */
	int64_t unacc;              /* the listener's emitted - delivered - lost furthest from 0 */
	int64_t unacc_agent;        /* emitted - Status events_read - ring - datapath - rate limit */
	double deliv_per_s;         /* per listener, mean: delivered / (last delivery - start) */
	double cpu_ns_per_event;    /* agent (reference: reader) CPU / emitted */
	double cpu_ns_per_deliv;    /* agent CPU / deliveries summed over listeners */
	double client_ns_per_event; /* client CPU / delivered, over all listeners; < 0: none */
	uint64_t wakeups;           /* agent (reference: reader) voluntary context switches */
	int have_latency;
	struct pl_hist hist;        /* every listener's latencies */
	double case_s;              /* wall time of the whole case, setup included */
	double other_cpus;          /* CPUs busy with anything but the bench's processes; < 0: - */
};

/* Run one case; res->ok or res->err. Never blocks for long: every wait has a deadline. */
void pl_case__run(const struct pl_env *env, const struct pl_case *c, struct pl_result *res);

/* The table (pipeline_report.c). */
void pl_report__machine(void);
/* /proc/loadavg, labelled. */
void pl_report__load(const char *when);
void pl_report__header(void);
/* base: the row the x columns divide by (NULL: print "-"). */
void pl_report__row(const struct pl_case *c, const struct pl_result *r,
		    const struct pl_result *base);
void pl_report__legend(void);

#endif /* MESHMON_BENCH_PIPELINE_BENCH_H */
