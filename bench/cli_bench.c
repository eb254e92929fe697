// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * meshmon-cli-bench: what `meshmon monitor` costs per line.
 *
 * The bench plays the agent. It listens on a Unix socket in a private
 * temporary directory, and for each output format runs `meshmon monitor
 * --socket SOCK --no-reconnect FLAGS` as a child with stdout on /dev/null.
 * Like the agent (agent/server.c) it sends the Hello at once, reads the
 * Subscribe, then writes the frames of the recorded stream (cli_stream.h)
 * that the subscription asks for (without -v the CLI asks for every type but
 * debug) as fast as the CLI reads them, and hangs up; the CLI reports the
 * end of stream and exits.
 *
 * Per row: lines (frames sent: one line each), wall seconds from the first
 * frame written to the CLI's exit, lines/s, the CLI's CPU time per line
 * (user + sys from wait4's rusage: the whole process, start-up included),
 * the write calls it made and the bytes it wrote (/proc/PID/io syscw and
 * wchar, read while the child is a zombie; stdout, stderr and the pcap
 * file, the socket not included). Each row runs --runs times, the CLIs
 * taking turns, and the run with the median CPU per line is shown, with the
 * range over the runs.
 *
 * With more than one --cli, every CLI's output of every format (stdout,
 * stderr, the pcap file) is also captured once to files and compared with
 * the first CLI's byte for byte (not timed); --save DIR keeps those files.
 *
 * The row "clickhouse" runs `meshmon export clickhouse` instead, into a
 * Debian clickhouse-server the bench starts on the loopback of a private
 * network namespace (tests/harness/clickhouse.c; the table dropped before
 * each run): its seconds run until the exporter exited, so every row is
 * in ClickHouse by then, and the rows there are counted back against the
 * frames sent (a run whose count differs fails). Its figures are the rows
 * per second exported and the exporter's CPU per row.
 *
 * It prints figures, never pass/fail, and is not a meson test.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_machine.h"
#include "cli_stream.h"
#include "framing.h"
#include "harness.h"
#include "harness_clickhouse.h"

#ifndef MESHMON_CLI_PATH
#define MESHMON_CLI_PATH "meshmon"
#endif

#define MAX_CLIS    8
#define MAX_RUNS    15
#define EVENTS_FULL 500000
#define EVENTS_QUICK 100000
/* Seconds a CLI may stall (not read, not subscribe, not exit) before its run fails. */
#define STALL_S 10

/* The output formats: the flags after `monitor --socket S --no-reconnect`. */
struct format {
	const char *name;
	const char *flags[10]; /* "PCAP" is replaced by the pcap file's path, "CHURL" by ClickHouse's */
	bool on;
	bool export_ch; /* `meshmon export clickhouse FLAGS` instead of `meshmon monitor FLAGS` */
};

/* The exporter's table in the bench's ClickHouse. */
#define CH_DB "meshmon_bench"
#define CH_PORT 8123 /* on the loopback of the bench's own network namespace */

static struct format formats[] = {
	{ "text", { NULL }, true, false },
	{ "verbose", { "-v", NULL }, true, false },
	{ "json", { "--json", NULL }, true, false },
	{ "pcap", { "--pcap", "PCAP", NULL }, true, false },
	{ "clickhouse",
	  { "--url", "CHURL", "--database", CH_DB, "--status-interval", "0", "--drain-timeout", "5m",
	    NULL },
	  true, true },
	/* Not run unless asked for with --format. */
	{ "vv", { "-vv", NULL }, false, false },
	{ "hex", { "--hex", NULL }, false, false },
	{ "json-hex", { "--json", "--hex", NULL }, false, false },
	{ "pcap-stdout", { "--pcap", "-", NULL }, false, false },
};

#define N_FORMATS (sizeof(formats) / sizeof(formats[0]))

struct cli {
	char label[32];
	const char *path;
};

struct result {
	bool ok;
	char why[160];
	size_t lines;
	double wall_s;
	double cpu_us, user_us, sys_us; /* per line */
	uint64_t writes, bytes;
};

static struct {
	struct cli clis[MAX_CLIS];
	size_t n_clis;
	size_t events;
	unsigned int runs;
	bool pin;
	bool check;
	const char *record, *replay, *save;
	uint64_t seed;
} cfg = { .runs = 0, .pin = true, .check = true, .seed = 1 };

static char dir[64], sock_path[128], pcap_path[160];
static struct mm_test_ch ch; /* started only when the clickhouse row runs */
static int lfd = -1;
static struct cli_stream stream;

/* The selected stream of one subscription (types mask), kept across runs. */
static struct selection {
	bool used;
	uint64_t mask;
	uint8_t *buf;
	size_t len, frames;
} selections[4];

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(FILE *out)
{
	fputs("Usage: meshmon-cli-bench [--cli [LABEL=]PATH]... [--events N] [--runs R] [--quick]\n"
	      "                         [--format NAME]... [--record FILE] [--replay FILE]\n"
	      "                         [--save DIR] [--no-check] [--no-pin] [--seed S]\n"
	      "\n"
	      "What `meshmon monitor` costs per line, for each output format, fed a recorded\n"
	      "stream by a fake agent on a private socket; stdout goes to /dev/null.\n"
	      "\n"
	      "  --cli [LABEL=]PATH  the meshmon binary (repeatable: the CLIs take turns and are\n"
	      "                      compared); default " MESHMON_CLI_PATH "\n"
	      "  --events N          frames in the stream (default 500000; --quick 100000)\n"
	      "  --runs R            runs per row, the median shown (default 3; --quick 1)\n"
	      "  --quick             a short run for CI (under 5 s for one CLI)\n"
	      "  --format NAME       text, verbose, json, pcap, clickhouse (the default five),\n"
	      "                      vv, hex, json-hex, pcap-stdout (repeatable; replaces the\n"
	      "                      default list)\n"
	      "  --record FILE       also write the stream (Hello and frames) to FILE\n"
	      "  --replay FILE       play FILE (framed ServerMessages, Hello first) instead of\n"
	      "                      the generated stream, repeated to --events when given\n"
	      "  --save DIR          keep the outputs compared between CLIs in DIR\n"
	      "  --no-check          do not compare the outputs of several CLIs\n"
	      "  --no-pin            do not pin the bench to CPU 0 and the CLI to CPU 1\n"
	      "  --seed S            the generator's seed (default 1)\n",
	      out);
}

static int parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cli", required_argument, NULL, 'c' },
		{ "events", required_argument, NULL, 'n' },
		{ "runs", required_argument, NULL, 'r' },
		{ "quick", no_argument, NULL, 'q' },
		{ "format", required_argument, NULL, 'f' },
		{ "record", required_argument, NULL, 'R' },
		{ "replay", required_argument, NULL, 'P' },
		{ "save", required_argument, NULL, 's' },
		{ "no-check", no_argument, NULL, 'C' },
		{ "no-pin", no_argument, NULL, 'N' },
		{ "seed", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool quick = false, formats_given = false;
	const char *eq;
	size_t i;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			if (cfg.n_clis == MAX_CLIS) {
				fprintf(stderr, "meshmon-cli-bench: at most %d --cli\n", MAX_CLIS);
				return 2;
			}
			eq = strchr(optarg, '=');
			if (eq && eq != optarg && (size_t)(eq - optarg) < sizeof(cfg.clis[0].label) &&
			    memchr(optarg, '/', (size_t)(eq - optarg)) == NULL) {
				snprintf(cfg.clis[cfg.n_clis].label, sizeof(cfg.clis[0].label), "%.*s",
					 (int)(eq - optarg), optarg);
				cfg.clis[cfg.n_clis].path = eq + 1;
			} else {
				snprintf(cfg.clis[cfg.n_clis].label, sizeof(cfg.clis[0].label), "%c",
					 (int)('A' + cfg.n_clis));
				cfg.clis[cfg.n_clis].path = optarg;
			}
			cfg.n_clis++;
			break;
		case 'n':
			cfg.events = strtoull(optarg, NULL, 10);
			if (!cfg.events) {
				fprintf(stderr, "meshmon-cli-bench: --events: want a number >= 1\n");
				return 2;
			}
			break;
		case 'r':
			cfg.runs = (unsigned int)strtoul(optarg, NULL, 10);
			if (cfg.runs < 1 || cfg.runs > MAX_RUNS) {
				fprintf(stderr, "meshmon-cli-bench: --runs: want 1-%d\n", MAX_RUNS);
				return 2;
			}
			break;
		case 'q':
			quick = true;
			break;
		case 'f':
			if (!formats_given)
				for (i = 0; i < N_FORMATS; i++)
					formats[i].on = false;
			formats_given = true;
			for (i = 0; i < N_FORMATS && strcmp(formats[i].name, optarg); i++)
				;
			if (i == N_FORMATS) {
				fprintf(stderr, "meshmon-cli-bench: --format: unknown format '%s'\n",
					optarg);
				return 2;
			}
			formats[i].on = true;
			break;
		case 'R':
			cfg.record = optarg;
			break;
		case 'P':
			cfg.replay = optarg;
			break;
		case 's':
			cfg.save = optarg;
			break;
		case 'C':
			cfg.check = false;
			break;
		case 'N':
			cfg.pin = false;
			break;
		case 'S':
			cfg.seed = strtoull(optarg, NULL, 0);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "meshmon-cli-bench: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (!cfg.n_clis) {
		snprintf(cfg.clis[0].label, sizeof(cfg.clis[0].label), "A");
		cfg.clis[0].path = MESHMON_CLI_PATH;
		cfg.n_clis = 1;
	}
	if (!cfg.events && !cfg.replay)
		cfg.events = quick ? EVENTS_QUICK : EVENTS_FULL;
	if (!cfg.runs)
		cfg.runs = quick ? 1 : 3;
	return 0;
}

static void print_stream(void)
{
	size_t i;
	int col = 0;

	printf("stream: %zu frames, %.1f MB, %s; capture length %u\n", stream.n_frames,
	       (double)stream.len / 1e6,
	       cfg.replay ? cfg.replay : "generated (bench/cli_stream.c)", stream.capture_len);
	printf("mix:");
	for (i = 0; i < CLI_KINDS; i++) {
		if (!stream.kinds[i])
			continue;
		if (col > 70) {
			printf("\n    ");
			col = 0;
		}
		col += printf(" %s %.1f%%", cli_frame_kind_name((enum cli_frame_kind)i),
			      100.0 * (double)stream.kinds[i] / (double)stream.n_frames);
	}
	printf("\n");
}

/* --- the fake agent ---------------------------------------------------- */

static int listen_private(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	snprintf(dir, sizeof(dir), "/tmp/meshmon-cli-bench.XXXXXX");
	if (!mkdtemp(dir))
		return -errno;
	snprintf(sock_path, sizeof(sock_path), "%s/agent.sock", dir);
	snprintf(pcap_path, sizeof(pcap_path), "%s/out.pcap", dir);
	memcpy(sa.sun_path, sock_path, strlen(sock_path) + 1); /* /tmp/...XXXXXX/agent.sock: fits */
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 4))
		return -errno;
	return 0;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads the client's one request: the Subscribe's types as a mask, or -errno. */
static int read_subscribe(int fd, uint64_t *mask)
{
	struct mm_frame_reader r;
	Meshmon__V1__ClientMessage *m = NULL;
	const uint8_t *payload;
	uint8_t buf[4096];
	size_t len, i;
	ssize_t n;
	int rc = -EPROTO;

	mm_frame_reader__init(&r);
	for (;;) {
		if (mm_frame_reader__next(&r, &payload, &len) == 1) {
			m = mm_frame__unpack_client(payload, len);
			break;
		}
		n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		mm_frame_reader__feed(&r, buf, (size_t)n);
	}
	mm_frame_reader__release(&r);
	if (m && m->msg_case == MESHMON__V1__CLIENT_MESSAGE__MSG_SUBSCRIBE) {
		*mask = m->subscribe->n_types ? 0 : ~0ull;
		for (i = 0; i < m->subscribe->n_types; i++)
			if ((unsigned int)m->subscribe->types[i] < 64)
				*mask |= 1ull << m->subscribe->types[i];
		rc = 0;
	}
	if (m)
		mm_frame__free_client(m);
	return rc;
}

static struct selection *select_stream(uint64_t mask)
{
	size_t i;

	for (i = 0; i < sizeof(selections) / sizeof(selections[0]); i++) {
		struct selection *s = &selections[i];

		if (s->used && s->mask == mask)
			return s;
		if (!s->used) {
			if (cli_stream__select(&stream, mask, &s->buf, &s->len, &s->frames))
				return NULL;
			s->used = true;
			s->mask = mask;
			return s;
		}
	}
	return NULL;
}

/* --- one run ----------------------------------------------------------- */

static uint64_t proc_io(pid_t pid, const char *key)
{
	char path[64], line[128];
	uint64_t v = 0;
	size_t kl = strlen(key);
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/io", (int)pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, key, kl) == 0 && line[kl] == ':')
			v = strtoull(line + kl + 1, NULL, 10);
	if (f)
		fclose(f);
	return v;
}

static void pin_to(int cpu)
{
	cpu_set_t set;

	if (!cfg.pin || sysconf(_SC_NPROCESSORS_ONLN) < 2)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static pid_t spawn(const struct cli *cli, const struct format *fmt, const char *out,
		   const char *err, const char *pcap)
{
	const char *argv[20];
	int argc = 0, i, fd;
	pid_t pid;

	argv[argc++] = cli->path;
	if (fmt->export_ch) {
		argv[argc++] = "export";
		argv[argc++] = "clickhouse";
	} else {
		argv[argc++] = "monitor";
	}
	argv[argc++] = "--socket";
	argv[argc++] = sock_path;
	argv[argc++] = "--no-reconnect";
	for (i = 0; fmt->flags[i]; i++)
		argv[argc++] = !strcmp(fmt->flags[i], "PCAP")	 ? pcap
			       : !strcmp(fmt->flags[i], "CHURL") ? ch.url
								 : fmt->flags[i];
	argv[argc] = NULL;
	fflush(stdout);
	pid = fork();
	if (pid != 0)
		return pid;
	pin_to(1);
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0)
		_exit(97);
	fd = open(err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || dup2(fd, STDERR_FILENO) < 0)
		_exit(97);
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		dup2(fd, STDIN_FILENO);
	execv(cli->path, (char *const *)argv);
	_exit(98);
}

/* Accepts the CLI's connection within 10 s, or -ETIMEDOUT (the CLI died first). */
static int accept_cli(pid_t pid, int *status)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };
	int i;

	*status = -1;
	for (i = 0; i < 100; i++) {
		if (poll(&p, 1, 100) == 1)
			return accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (waitpid(pid, status, WNOHANG) == pid) {
			errno = ECHILD;
			return -1;
		}
	}
	errno = ETIMEDOUT;
	return -1;
}

/* Every frame sent (event or lost notice) is one row in ClickHouse: true, else why in res. */
static bool rows_arrived(size_t frames, struct result *res)
{
	uint64_t rows = 0;

	if (mm_test_ch_u64(&ch, "SELECT count() FROM " CH_DB ".events", &rows) || rows != frames) {
		snprintf(res->why, sizeof(res->why), "%" PRIu64 " rows in ClickHouse, %zu frames sent",
			 rows, frames);
		return false;
	}
	return true;
}

static off_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : st.st_size;
}

/*
 * One run of cli in fmt: stdout to out (/dev/null for a timed run), stderr
 * and the pcap file in the private directory.
 */
static void run_one(const struct cli *cli, const struct format *fmt, const char *out,
		    const char *err, const char *pcap, struct result *res)
{
	struct selection *sel;
	struct rusage ru;
	siginfo_t si;
	double t0, t1;
	uint64_t mask = 0, wchar, syscw;
	int fd, st, rc;
	pid_t pid;

	memset(res, 0, sizeof(*res));
	if (fmt->export_ch &&
	    mm_test_ch_query(&ch, "DROP TABLE IF EXISTS " CH_DB ".events", res->why, sizeof(res->why)))
		return;
	pid = spawn(cli, fmt, out, err, pcap);
	if (pid < 0) {
		snprintf(res->why, sizeof(res->why), "fork: %s", strerror(errno));
		return;
	}
	fd = accept_cli(pid, &st);
	if (fd < 0 && st != -1) {
		snprintf(res->why, sizeof(res->why), "%s exited before connecting (status 0x%x%s)",
			 cli->path, st,
			 WIFEXITED(st) && WEXITSTATUS(st) == 98 ? ": cannot execute it" : "");
		return;
	}
	if (fd < 0) {
		snprintf(res->why, sizeof(res->why), "the CLI did not connect: %s", strerror(errno));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return;
	}
	/* A CLI that stops reading or never subscribes fails the row instead of hanging the bench. */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &(struct timeval){ .tv_sec = STALL_S },
		   sizeof(struct timeval));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &(struct timeval){ .tv_sec = STALL_S },
		   sizeof(struct timeval));
	/* As the agent: Hello first, then the Subscribe, then the stream it asked for. */
	rc = write_all(fd, stream.hello, stream.hello_len);
	if (!rc)
		rc = read_subscribe(fd, &mask);
	sel = rc ? NULL : select_stream(mask);
	t0 = now_s();
	if (sel)
		rc = write_all(fd, sel->buf, sel->len);
	close(fd);
	if (!sel || rc)
		kill(pid, SIGKILL); /* the stream failed: nothing to wait for */
	/*
	 * Wait for the exit without reaping, so /proc/PID/io is still there; a
	 * CLI that does not end at the end of the stream is killed.
	 */
	for (;;) {
		si.si_pid = 0;
		if (waitid(P_PID, pid, &si, WEXITED | WNOWAIT | WNOHANG) < 0 && errno != EINTR)
			break;
		if (si.si_pid == pid)
			break;
		if (now_s() - t0 > STALL_S + (double)(sel ? sel->frames : 0) * 1e-4) {
			kill(pid, SIGKILL);
			if (!rc)
				rc = -ETIMEDOUT;
		}
		usleep(1000);
	}
	t1 = now_s();
	wchar = proc_io(pid, "wchar");
	syscw = proc_io(pid, "syscw");
	while (wait4(pid, &st, 0, &ru) < 0 && errno == EINTR)
		;
	if (!sel || rc) {
		snprintf(res->why, sizeof(res->why), "stream: %s",
			 sel ? strerror(-rc) : "no Subscribe");
		return;
	}
	/* End of stream with --no-reconnect: "the agent closed the connection", exit 1. */
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 1) {
		snprintf(res->why, sizeof(res->why), "the CLI ended with status 0x%x (see %s)", st,
			 err);
		return;
	}
	if (fmt->export_ch && !rows_arrived(sel->frames, res))
		return;
	res->ok = true;
	res->lines = sel->frames;
	res->wall_s = t1 - t0;
	res->user_us = ((double)ru.ru_utime.tv_sec * 1e6 + (double)ru.ru_utime.tv_usec) /
		       (double)(sel->frames ? sel->frames : 1);
	res->sys_us = ((double)ru.ru_stime.tv_sec * 1e6 + (double)ru.ru_stime.tv_usec) /
		      (double)(sel->frames ? sel->frames : 1);
	res->cpu_us = res->user_us + res->sys_us;
	res->writes = syscw;
	res->bytes = wchar;
}

/* --- the table --------------------------------------------------------- */

static int cmp_cpu(const void *a, const void *b)
{
	const struct result *x = a, *y = b;

	return (x->cpu_us > y->cpu_us) - (x->cpu_us < y->cpu_us);
}

static void print_header(void)
{
	printf("%-12s %-8s %9s %8s %10s %9s %8s %8s %13s %9s %12s %6s %8s\n", "format", "cli",
	       "lines", "seconds", "lines/s", "us CPU", "us user", "us sys", "us CPU range",
	       "writes", "bytes out", "B/line", "x CPU");
	printf("%-12s %-8s %9s %8s %10s %9s %8s %8s %13s %9s %12s %6s %8s\n", "", "", "", "", "",
	       "/line", "/line", "/line", "(runs)", "", "", "", "/line");
}

/* Prints the median run of runs[0..n) (sorting them); returns its CPU per line, 0 if none. */
static double print_row(const struct format *fmt, const struct cli *cli, struct result *runs,
			unsigned int n, double base_cpu)
{
	struct result *m;
	char range[32];
	unsigned int i, ok = 0;

	for (i = 0; i < n; i++)
		if (runs[i].ok)
			runs[ok++] = runs[i];
	if (!ok) {
		printf("%-12s %-8s failed: %s\n", fmt->name, cli->label, runs[0].why);
		return 0;
	}
	qsort(runs, ok, sizeof(runs[0]), cmp_cpu);
	m = &runs[ok / 2];
	snprintf(range, sizeof(range), "%.3f-%.3f", runs[0].cpu_us, runs[ok - 1].cpu_us);
	printf("%-12s %-8s %9zu %8.3f %10.0f %9.3f %8.3f %8.3f %13s %9" PRIu64 " %12" PRIu64
	       " %6.1f %8.2f\n",
	       fmt->name, cli->label, m->lines, m->wall_s, (double)m->lines / m->wall_s, m->cpu_us,
	       m->user_us, m->sys_us, range, m->writes, m->bytes,
	       (double)m->bytes / (double)m->lines, base_cpu > 0 ? m->cpu_us / base_cpu : 1.0);
	if (ok < n)
		printf("%-12s %-8s (%u of %u runs failed)\n", "", "", n - ok, n);
	return m->cpu_us;
}

/* --- the output comparison --------------------------------------------- */

/* -1 when equal, else the offset of the first difference (the shorter file's length). */
static long long first_difference(const char *a, const char *b)
{
	FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
	static uint8_t ba[1 << 16], bb[1 << 16];
	long long off = 0, diff = -1;
	size_t na, nb, i;

	if (!fa || !fb) {
		diff = 0;
		goto out;
	}
	for (;;) {
		na = fread(ba, 1, sizeof(ba), fa);
		nb = fread(bb, 1, sizeof(bb), fb);
		for (i = 0; i < na && i < nb && ba[i] == bb[i]; i++)
			;
		if (i < na || i < nb) {
			diff = off + (long long)i;
			break;
		}
		if (!na)
			break;
		off += (long long)na;
	}
out:
	if (fa)
		fclose(fa);
	if (fb)
		fclose(fb);
	return diff;
}

static void out_paths(const char *where, size_t ci, const struct format *fmt, char *out,
		      char *err, char *pcap, size_t cap)
{
	snprintf(out, cap, "%s/%s.%s.out", where, cfg.clis[ci].label, fmt->name);
	snprintf(err, cap, "%s/%s.%s.err", where, cfg.clis[ci].label, fmt->name);
	snprintf(pcap, cap, "%s/%s.%s.pcap", where, cfg.clis[ci].label, fmt->name);
}

static void check_outputs(void)
{
	const char *where = cfg.save ? cfg.save : dir;
	char out[3][512], err[3][512], pcap[3][512], *f0[3], *f1[3];
	static const char *const what[3] = { "stdout", "stderr", "pcap" };
	struct result res;
	size_t fi, ci, k;
	long long d;

	if (cfg.save && mkdir(cfg.save, 0700) && errno != EEXIST) {
		printf("--save %s: %s\n", cfg.save, strerror(errno));
		return;
	}
	printf("\noutput of each CLI compared with %s's (one untimed run each, stdout to a file):\n",
	       cfg.clis[0].label);
	for (fi = 0; fi < N_FORMATS; fi++) {
		const struct format *fmt = &formats[fi];

		if (!fmt->on || fmt->export_ch) /* its output is the table, counted in the run */
			continue;
		for (ci = 0; ci < cfg.n_clis; ci++) {
			size_t slot = ci ? 1 : 0;

			out_paths(where, ci, fmt, out[slot], err[slot], pcap[slot], sizeof(out[0]));
			run_one(&cfg.clis[ci], fmt, out[slot], err[slot], pcap[slot], &res);
			if (!res.ok) {
				printf("  %-12s %-8s run failed: %s\n", fmt->name, cfg.clis[ci].label,
				       res.why);
				continue;
			}
			if (!ci)
				continue;
			f0[0] = out[0], f0[1] = err[0], f0[2] = pcap[0];
			f1[0] = out[1], f1[1] = err[1], f1[2] = pcap[1];
			printf("  %-12s %-8s", fmt->name, cfg.clis[ci].label);
			for (k = 0; k < 3; k++) {
				if (k == 2 && access(f0[2], F_OK) && access(f1[2], F_OK))
					continue;
				d = first_difference(f0[k], f1[k]);
				if (d < 0)
					printf("%s %s identical (%lld bytes)", k ? "," : "", what[k],
					       (long long)file_size(f0[k]));
				else
					printf("%s %s DIFFERS at byte %lld", k ? "," : "", what[k], d);
			}
			printf("\n");
			if (!cfg.save) {
				unlink(out[1]);
				unlink(err[1]);
				unlink(pcap[1]);
			}
		}
		if (!cfg.save) {
			unlink(out[0]);
			unlink(err[0]);
			unlink(pcap[0]);
		}
	}
}

/* --- main -------------------------------------------------------------- */

static void cleanup(void)
{
	char path[160];
	size_t i;

	if (lfd >= 0)
		close(lfd);
	if (!dir[0])
		return;
	unlink(sock_path);
	unlink(pcap_path);
	snprintf(path, sizeof(path), "%s/err", dir);
	unlink(path);
	rmdir(dir);
	for (i = 0; i < sizeof(selections) / sizeof(selections[0]); i++)
		free(selections[i].buf);
	mm_test_ch_cleanup(&ch);
}

static void on_signal(int sig)
{
	(void)sig;
	cleanup();
	_exit(130);
}

/*
 * For the clickhouse row: a private network namespace (only the bench's
 * loopback changes: the CLI reaches the fake agent by a Unix socket path)
 * and clickhouse-server on it. 0 when the row is off, or -errno.
 */
static int start_clickhouse(void)
{
	size_t fi;
	int rc;

	for (fi = 0; fi < N_FORMATS; fi++)
		if (formats[fi].on && formats[fi].export_ch)
			break;
	if (fi == N_FORMATS)
		return 0;
	rc = mm_test_private_netns();
	return rc ? rc : mm_test_ch_start(&ch, "bench-ch", CH_PORT);
}

int main(int argc, char **argv)
{
	static struct result runs[MAX_CLIS][MAX_RUNS];
	char errpath[160];
	double t_start = now_s(), base;
	size_t fi, ci;
	unsigned int r;
	int rc;

	if ((rc = parse_args(argc, argv)))
		return rc;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	rc = cfg.replay ? cli_stream__load(&stream, cfg.replay, cfg.events)
			: cli_stream__generate(&stream, cfg.events, cfg.seed);
	if (rc) {
		fprintf(stderr, "meshmon-cli-bench: %s: %s\n", cfg.replay ? cfg.replay : "stream",
			rc == -EBADMSG ? "not a stream of framed ServerMessages starting with a Hello"
				       : strerror(-rc));
		return 1;
	}
	if (cfg.record && (rc = cli_stream__save(&stream, cfg.record))) {
		fprintf(stderr, "meshmon-cli-bench: --record %s: %s\n", cfg.record, strerror(-rc));
		return 1;
	}
	if ((rc = listen_private())) {
		fprintf(stderr, "meshmon-cli-bench: listening in %s: %s\n", dir, strerror(-rc));
		cleanup();
		return 1;
	}
	atexit(cleanup);
	if ((rc = start_clickhouse())) {
		fprintf(stderr, "meshmon-cli-bench: clickhouse-server: %s (log %s)\n", strerror(-rc),
			ch.proc.log_path[0] ? ch.proc.log_path : "none");
		return 1;
	}
	pin_to(0);
	snprintf(errpath, sizeof(errpath), "%s/err", dir);

	printf("meshmon-cli-bench: what `meshmon monitor` costs per line\n");
	mm_bench_print_machine();
	print_stream();
	for (ci = 0; ci < cfg.n_clis; ci++)
		printf("cli %s: %s\n", cfg.clis[ci].label, cfg.clis[ci].path);
	printf("runs: %u per row, the CLIs taking turns, the median by CPU/line shown; %s\n",
	       cfg.runs,
	       cfg.pin && sysconf(_SC_NPROCESSORS_ONLN) >= 2 ? "bench on CPU 0, CLI on CPU 1"
							     : "not pinned");
	printf("stdout: /dev/null (pcap: text on /dev/null and the pcap file in a private temp dir)\n\n");
	print_header();
	for (fi = 0; fi < N_FORMATS; fi++) {
		if (!formats[fi].on)
			continue;
		for (r = 0; r < cfg.runs; r++)
			for (ci = 0; ci < cfg.n_clis; ci++) {
				run_one(&cfg.clis[ci], &formats[fi], "/dev/null", errpath, pcap_path,
					&runs[ci][r]);
				unlink(pcap_path);
			}
		base = 0;
		for (ci = 0; ci < cfg.n_clis; ci++) {
			double m = print_row(&formats[fi], &cfg.clis[ci], runs[ci], cfg.runs, base);

			if (ci == 0)
				base = m;
		}
	}
	printf("\nlines: frames sent (one output line each); seconds: first frame written to the\n"
	       "CLI's exit; us CPU: the CLI's user+sys (wait4) per line, start-up included;\n"
	       "writes, bytes out: the CLI's write calls and bytes (/proc/PID/io: stdout,\n"
	       "stderr, pcap file); x CPU/line: over the first CLI's median.\n"
	       "clickhouse: meshmon export clickhouse into clickhouse-server on loopback, a\n"
	       "line is a row: seconds until every row was in ClickHouse (the exporter's exit),\n"
	       "lines/s the rows exported per second, us CPU/line the exporter's CPU per row\n"
	       "(the server's own CPU not included).\n");
	if (cfg.check && cfg.n_clis > 1)
		check_outputs();
	printf("\ntotal %.1f s\n", now_s() - t_start);
	return 0;
}
