// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * meshmon-pipeline-bench: the agent under test (pipeline_agent.h).
 */
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "harness.h"
#include "pipeline_agent.h"
#include "records.h"

#define MAX_ARGS 128
#define READY_MS 15000
#define TCX_INGRESS 46 /* BPF_TCX_INGRESS; Debian 12's headers lack it */

static int find_ingress_prog(pid_t pid, int ifindex, uint32_t *prog_id)
{
	struct mm_test_link links[64];
	int n = mm_test_proc_links(pid, links, 64);

	if (n < 0)
		return n;
	for (int i = 0; i < n && i < 64; i++) {
		if (!strcmp(links[i].type, "tcx") && links[i].ifindex == ifindex &&
		    links[i].attach_type == TCX_INGRESS) {
			*prog_id = links[i].prog_id;
			return 0;
		}
	}
	return -ENOENT;
}

/* The map called name among the maps prog_fd uses: its fd or -errno. */
static int find_prog_map(int prog_fd, const char *name)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info), ids[64];
	int found = -ENOENT;

	memset(&info, 0, sizeof(info));
	info.nr_map_ids = 64;
	info.map_ids = (__u64)(unsigned long)ids;
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return -errno;
	for (__u32 i = 0; i < info.nr_map_ids && i < 64 && found < 0; i++) {
		struct bpf_map_info mi;
		__u32 mlen = sizeof(mi);
		int fd = bpf_map_get_fd_by_id(ids[i]);

		if (fd < 0)
			continue;
		memset(&mi, 0, sizeof(mi));
		if (!bpf_obj_get_info_by_fd(fd, &mi, &mlen) && !strcmp(mi.name, name)) {
			found = fd;
			continue;
		}
		close(fd);
	}
	return found;
}

int pl_agent__start(struct pl_agent *a, const char *path, const char *ifname, int ifindex,
		    const char *const *base, const char *const *extra, int cpu, char *err,
		    size_t errlen)
{
	const char *argv[MAX_ARGS];
	uint32_t prog_id = 0;
	size_t n = 0;
	int rc, status = 0;

	memset(a, 0, sizeof(*a));
	a->prog_fd = a->stats_fd = -1;
	a->exit_status = -1;
	rc = mm_test_agent_init(&a->t, path, "pipe", "monitor.sock");
	if (rc) {
		snprintf(err, errlen, "temp directory: %s", strerror(-rc));
		return rc;
	}
	argv[n++] = "meshmon-agent";
	argv[n++] = "--iface";
	argv[n++] = ifname;
	argv[n++] = "--socket";
	argv[n++] = a->t.sock_path;
	for (size_t i = 0; base && base[i] && n < MAX_ARGS - 1; i++)
		argv[n++] = base[i];
	for (size_t i = 0; extra && extra[i] && n < MAX_ARGS - 1; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	rc = mm_test_agent_spawn(&a->t, argv);
	if (rc) {
		snprintf(err, errlen, "start %s: %s", path, strerror(-rc));
		return rc;
	}
	rc = mm_test_agent_wait_ready(&a->t, READY_MS, &status);
	if (rc == -ECHILD) {
		a->exit_status = status;
		snprintf(err, errlen, "meshmon-agent exited at start (%s %d)",
			 WIFEXITED(status) ? "exit status" : "signal",
			 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		return rc;
	}
	if (rc) {
		snprintf(err, errlen, "meshmon-agent's socket did not appear within %d ms", READY_MS);
		return rc;
	}
	if (cpu >= 0 && (rc = pl_proc__pin(a->t.pid, cpu))) {
		snprintf(err, errlen, "pin meshmon-agent to CPU %d: %s", cpu, strerror(-rc));
		return rc;
	}
	rc = find_ingress_prog(a->t.pid, ifindex, &prog_id);
	if (rc) {
		snprintf(err, errlen,
			 "no TCX ingress link on %s held by meshmon-agent (%s); this bench drives "
			 "the program of a TCX link only",
			 ifname, strerror(-rc));
		return rc;
	}
	a->prog_id = prog_id;
	a->prog_fd = bpf_prog_get_fd_by_id(prog_id);
	if (a->prog_fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "open the agent's tc ingress program (id %u): %s", prog_id,
			 strerror(-rc));
		return rc;
	}
	a->stats_fd = find_prog_map(a->prog_fd, "mm_stats");
	if (a->stats_fd < 0) {
		rc = a->stats_fd;
		snprintf(err, errlen, "find the agent's mm_stats map: %s", strerror(-rc));
		return rc;
	}
	a->ncpus = libbpf_num_possible_cpus();
	if (a->ncpus <= 0) {
		snprintf(err, errlen, "cannot count the possible CPUs");
		return -EINVAL;
	}
	return 0;
}

int pl_agent__alive(struct pl_agent *a)
{
	int st;

	if (a->t.pid <= 0)
		return 0;
	if (waitpid(a->t.pid, &st, WNOHANG) == a->t.pid) {
		a->exit_status = st;
		a->t.pid = 0;
		return 0;
	}
	return 1;
}

static int read_stat(const struct pl_agent *a, __u32 key, uint64_t *sum)
{
	__u64 vals[1024];

	if (a->ncpus > 1024)
		return -E2BIG;
	if (bpf_map_lookup_elem(a->stats_fd, &key, vals))
		return -errno;
	*sum = 0;
	for (int i = 0; i < a->ncpus; i++)
		*sum += vals[i];
	return 0;
}

int pl_agent__dp_stats(const struct pl_agent *a, struct pl_dp_stats *st)
{
	int rc;

	memset(st, 0, sizeof(*st));
	rc = read_stat(a, MM_STAT_RING_FULL, &st->ring_full);
	if (!rc)
		rc = read_stat(a, MM_STAT_OUTPUT_FAILED, &st->output_failed);
	if (!rc)
		rc = read_stat(a, MM_STAT_RATE_LIMITED, &st->rate_limited);
	return rc;
}

int pl_agent__stop(struct pl_agent *a)
{
	if (a->t.pid > 0)
		a->exit_status = mm_test_agent_stop(&a->t, 5000);
	return a->exit_status;
}

void pl_agent__free(struct pl_agent *a)
{
	if (!a)
		return;
	if (a->t.pid > 0)
		pl_agent__stop(a);
	if (a->prog_fd >= 0)
		close(a->prog_fd);
	if (a->stats_fd >= 0)
		close(a->stats_fd);
	a->prog_fd = a->stats_fd = -1;
	mm_test_agent_cleanup(&a->t);
}

void pl_agent__print_log_tail(const struct pl_agent *a, int lines)
{
	char buf[256][256];
	int n = 0;
	FILE *f = a->t.log_path[0] ? fopen(a->t.log_path, "re") : NULL;

	if (!f)
		return;
	if (lines < 1)
		lines = 1;
	if (lines > 256)
		lines = 256;
	while (fgets(buf[n % lines], sizeof(buf[0]), f))
		n++;
	fclose(f);
	for (int i = n > lines ? n - lines : 0; i < n; i++)
		fprintf(stderr, "  agent log: %s", buf[i % lines]);
}

/* 1 when process pid has an fd of BPF program prog_id. */
static int holds_prog(const char *pid, uint32_t prog_id)
{
	char dir[64], path[64 + 256 + 2], line[128];
	struct dirent *de;
	int found = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%s/fdinfo", pid);
	d = opendir(dir);
	if (!d)
		return 0;
	while (!found && (de = readdir(d))) {
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			unsigned int id;

			/* A program fd's fdinfo has prog_id; a link's has it too, for its program. */
			if (sscanf(line, "prog_id:\t%u", &id) == 1 && id == prog_id) {
				found = 1;
				break;
			}
		}
		fclose(f);
	}
	closedir(d);
	return found;
}

/* The parent of pid, from /proc/PID/stat (after the command name's closing parenthesis). */
static pid_t parent_of(const char *pid)
{
	char path[64], buf[512], *p;
	int ppid = 0;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')');
	if (p && sscanf(p + 1, " %*c %d", &ppid) != 1)
		ppid = 0;
	return (pid_t)ppid;
}

size_t pl_agent__foreign_holders(const struct pl_agent *a, pid_t *out, size_t cap)
{
	struct dirent *de;
	size_t n = 0;
	DIR *d = opendir("/proc");

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		pid_t pid = (pid_t)atoi(de->d_name);

		/* The bench, the agent, and the bench's forked clients (which inherit its fds). */
		if (pid <= 0 || pid == getpid() || pid == a->t.pid || parent_of(de->d_name) == getpid())
			continue;
		if (!holds_prog(de->d_name, a->prog_id))
			continue;
		if (n < cap)
			out[n] = pid;
		n++;
	}
	closedir(d);
	return n;
}

/* Voluntary context switches of one thread, from /proc/PID/task/TID/status. */
static uint64_t thread_vcsw(const char *path)
{
	char line[256];
	unsigned long long v = 0;
	FILE *f = fopen(path, "re");

	if (!f)
		return 0; /* the thread ended while we looked */
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "voluntary_ctxt_switches: %llu", &v) == 1)
			break;
	}
	fclose(f);
	return v;
}

int pl_proc__sample(pid_t pid, struct pl_proc *out)
{
	char dir[64], path[64 + 256 + 16];
	struct timespec ts;
	struct dirent *de;
	clockid_t clk;
	DIR *d;

	memset(out, 0, sizeof(out[0]));
	/* A process's CPU-time clock sums its threads, in ns (no schedstat on this kernel). */
	if (clock_getcpuclockid(pid, &clk) || clock_gettime(clk, &ts))
		return -ESRCH;
	out->cpu_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	snprintf(dir, sizeof(dir), "/proc/%d/task", (int)pid);
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/status", dir, de->d_name);
		out->vcsw += thread_vcsw(path);
	}
	closedir(d);
	return 0;
}

uint64_t pl_sys__busy_ns(void)
{
	unsigned long long user, nice, sys, idle, iowait, irq, softirq, steal;
	long hz = sysconf(_SC_CLK_TCK);
	FILE *f = fopen("/proc/stat", "re");
	int n;

	if (!f)
		return 0;
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &user, &nice, &sys, &idle,
		   &iowait, &irq, &softirq, &steal);
	fclose(f);
	if (n != 8 || hz <= 0)
		return 0;
	return (user + nice + sys + irq + softirq + steal) * (1000000000ull / (uint64_t)hz);
}

uint64_t pl_self__cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int pl_proc__pin(pid_t pid, int cpu)
{
	char dir[64];
	struct dirent *de;
	cpu_set_t set;
	int rc = 0;
	DIR *d;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	snprintf(dir, sizeof(dir), "/proc/%d/task", (int)pid);
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (sched_setaffinity(atoi(de->d_name), sizeof(set), &set) && errno != ESRCH)
			rc = -errno;
	}
	closedir(d);
	return rc;
}
