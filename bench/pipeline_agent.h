/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * meshmon-pipeline-bench: the real meshmon-agent under test, and what the
 * bench reads of it and of other child processes from outside:
 *
 * - started through the harness (harness_agent.h) on the bench's veth, with
 *   the bench's flags then the caller's, pinned to one CPU once ready;
 * - its tc ingress program, found through the TCX link it holds
 *   (/proc/PID/fdinfo), opened by id so the producer can BPF_PROG_TEST_RUN
 *   it, and that program's mm_stats map, the datapath's own loss counters;
 * - the CPU time of a process (its CPU-time clock, every thread, ns) and its
 *   voluntary context switches (every thread, /proc/PID/task/ * /status).
 */
#ifndef MESHMON_BENCH_PIPELINE_AGENT_H
#define MESHMON_BENCH_PIPELINE_AGENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "harness_agent.h"

struct pl_agent {
	struct mm_test_agent t;
	int prog_fd;  /* the agent's tc ingress program */
	uint32_t prog_id;
	int stats_fd; /* its mm_stats (per-CPU array) */
	int ncpus;    /* possible CPUs: values per mm_stats slot */
	int exit_status; /* after pl_agent__stop: the wait status, -1 when killed */
};

/*
 * Start the agent at path: `--iface ifname --socket <temp> <base...> <extra...>`
 * (argv vectors NULL-terminated or NULL), wait for its socket, pin it to cpu
 * (-1: not pinned) and find its tc ingress program. 0, or -errno with err set
 * (the agent's log is in a->t.log_path until pl_agent__free()).
 */
int pl_agent__start(struct pl_agent *a, const char *path, const char *ifname, int ifindex,
		    const char *const *base, const char *const *extra, int cpu, char *err,
		    size_t errlen);
/* 1 while the agent runs; reaps it (exit_status) when it has died. */
int pl_agent__alive(struct pl_agent *a);
/* The datapath's counters, summed over CPUs: RING_FULL, OUTPUT_FAILED, RATE_LIMITED. */
struct pl_dp_stats {
	uint64_t ring_full, output_failed, rate_limited;
};
int pl_agent__dp_stats(const struct pl_agent *a, struct pl_dp_stats *st);
/* SIGTERM and wait (5 s, then SIGKILL); the wait status or -1. */
int pl_agent__stop(struct pl_agent *a);
/* Stop if running, close the fds, remove the temp directory. Accepts a zeroed struct. */
void pl_agent__free(struct pl_agent *a);
/* The last lines of the agent's log to stderr (for an error message). */
void pl_agent__print_log_tail(const struct pl_agent *a, int lines);

/*
 * Other processes that hold an fd of the agent's tc ingress program (anyone
 * with it can BPF_PROG_TEST_RUN it behind the bench's back): up to cap pids
 * into out, and how many there were. The bench and the agent are skipped.
 */
size_t pl_agent__foreign_holders(const struct pl_agent *a, pid_t *out, size_t cap);

/* CPU time and voluntary context switches of a process, all its threads. */
struct pl_proc {
	uint64_t cpu_ns;
	uint64_t vcsw;
};
int pl_proc__sample(pid_t pid, struct pl_proc *out);
/*
 * CPU time the whole machine was busy (user, nice, system, irq, softirq and
 * steal: the hypervisor running someone else), summed over CPUs, from
 * /proc/stat (10 ms ticks). 0 when unreadable.
 */
uint64_t pl_sys__busy_ns(void);
/* The calling process's CPU time, all its threads. */
uint64_t pl_self__cpu_ns(void);
/* Pin every thread of pid to cpu: 0 or -errno. */
int pl_proc__pin(pid_t pid, int cpu);

#endif /* MESHMON_BENCH_PIPELINE_AGENT_H */
