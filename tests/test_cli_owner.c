// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * `meshmon monitor --pid N`, `--comm NAME` and `--cgroup PATH`.
 *
 * cli_owner_flags: the flags into the Subscribe's FlowFilter (and, after
 * --not, the exclude one), --cgroup resolved to the id the kernel reports
 * (the directory's file handle, equal to its inode number) whether the path
 * is absolute, relative to the cgroup2 mount or in the form of
 * /proc/PID/cgroup; bad values refused with the reason; 64 values of each at
 * most, which the agent's filter compiles; `meshmon capture` refuses them.
 *
 * cli_owner: the real agent with tcp_probe on a private cgroup holding two
 * private child cgroups; one child process in each (a comm of its own)
 * makes a TCP connection to the peer namespace. The whole history is
 * recorded once, then each owner filter must print exactly the recorded
 * events that the known answer selects: one connection's tcp_probe reports,
 * or with --not everything but them (events without an owner included). The
 * live stream filters alike (periodic reports of open connections).
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup2.h"
#include "cli_agent.h"
#include "filter.h"
#include "format_common.h"
#include "harness.h"
#include "harness_agent.h"
#include "options.h"

#ifndef MESHMON_CLI_PATH
#error "MESHMON_CLI_PATH must name the built meshmon"
#endif

/* The private cgroups: parent (the agent's --cgroup) and the two children a and b. */
static struct mm_test_cgroup parent, cg_a, cg_b;

static void make_cgroups(void)
{
	char root[256];

	cr_assert(eq(int, mm_cgroup2_root(root, sizeof(root)), 0));
	cr_assert(eq(int, mm_test_cgroup_create(&parent, root, "owner"), 0));
	cr_assert(eq(int, mm_test_cgroup_create(&cg_a, parent.path, "a"), 0));
	cr_assert(eq(int, mm_test_cgroup_create(&cg_b, parent.path, "b"), 0));
}

static void remove_cgroups(void)
{
	mm_test_cgroup_destroy(&cg_a);
	mm_test_cgroup_destroy(&cg_b);
	mm_test_cgroup_destroy(&parent);
}

/* --- the flags ---------------------------------------------------------------- */

/* One timeout for both suites: with two, criterion 2.4.1's runner leaks an allocation
 * (LeakSanitizer, under CI's ASan run). */
TestSuite(cli_owner_flags, .init = make_cgroups, .fini = remove_cgroups, .timeout = 180);

static struct mm_opts o;
static char err[512];

static int parse_v(const char *cmd, const char *const *args)
{
	char *argv[32];
	int argc = 0;

	argv[argc++] = (char *)cmd;
	while (*args && argc < 31)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	return mm_opts_parse(&o, cmd, argc, argv, err, sizeof(err));
}

#define PARSE(...) parse_v("monitor", (const char *const[]){__VA_ARGS__, NULL})

static uint64_t inode_of(const char *path)
{
	struct stat st;

	cr_assert(eq(int, stat(path, &st), 0), "stat %s", path);
	return st.st_ino;
}

Test(cli_owner_flags, into_the_subscription)
{
	struct mm_subscribe_buf sb;
	const Meshmon__V1__FlowFilter *f, *x;

	cr_assert(eq(int, PARSE("--pid", "42", "--pid", "7", "--pid", "42", "--comm", "curl",
				"--cgroup", cg_a.path, "--not", "--comm", "nginx", "--not", "--pid",
				"9", "--port", "80"),
		     0),
		  "%s", err);
	mm_opts_subscribe(&o, &sb);
	cr_assert(eq(sz, sb.sub.n_filters, 1));
	cr_assert(eq(sz, sb.sub.n_exclude, 1));
	f = sb.sub.filters[0];
	x = sb.sub.exclude[0];
	cr_assert(eq(sz, f->n_pids, 2), "a repeated value once");
	cr_expect(eq(u32, f->pids[0], 42));
	cr_expect(eq(u32, f->pids[1], 7));
	cr_assert(eq(sz, f->n_comms, 1));
	cr_expect(eq(str, f->comms[0], "curl"));
	cr_assert(eq(sz, f->n_cgroup_ids, 1));
	cr_expect(eq(u64, f->cgroup_ids[0], inode_of(cg_a.path)));
	cr_expect(eq(sz, f->n_ports, 1), "ANDed with the other flags");
	cr_assert(eq(sz, x->n_comms, 1));
	cr_expect(eq(str, x->comms[0], "nginx"));
	cr_assert(eq(sz, x->n_pids, 1));
	cr_expect(eq(u32, x->pids[0], 9));
	cr_expect(eq(sz, x->n_cgroup_ids, 0));
}

/* Absolute, relative to the mount, or as /proc/PID/cgroup prints it: one directory, one id. */
Test(cli_owner_flags, cgroup_paths_resolve_to_the_kernels_id)
{
	const char *rel = cg_b.path + strlen(parent.root) + 1; /* mmtest-owner-N/mmtest-b-N */
	char proc_form[600], dotted[600];
	uint64_t id = 0;
	char path[4096];

	cr_assert(eq(int, mm_cgroup2_id(cg_b.path, &id), 0));
	cr_expect(eq(u64, id, inode_of(cg_b.path)), "the file handle is the inode number");
	cr_expect(not(eq(u64, id, inode_of(cg_a.path))));
	snprintf(proc_form, sizeof(proc_form), "/%s", rel);
	snprintf(dotted, sizeof(dotted), "%s/../%s", parent.path, rel);
	const char *forms[] = {cg_b.path, rel, proc_form, dotted};

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		cr_assert(eq(int, PARSE("--cgroup", forms[i]), 0), "%s: %s", forms[i], err);
		cr_assert(eq(sz, o.flow.n_cgroup_ids, 1));
		cr_expect(eq(u64, o.flow.cgroup_ids[0], id), "%s", forms[i]);
	}
	cr_expect(eq(int, mm_cgroup2_resolve(rel, path, sizeof(path), &id), 0));
	cr_expect(eq(str, path, cg_b.path), "the directory found");
	/* The root itself is a cgroup too. */
	cr_assert(eq(int, PARSE("--cgroup", parent.root), 0), "%s", err);
	cr_expect(eq(u64, o.flow.cgroup_ids[0], inode_of(parent.root)));
}

Test(cli_owner_flags, bad_values_say_why)
{
	char procs[600], want[700];
	const struct {
		const char *flag, *value, *want;
	} cases[] = {
		{"--pid", "0", "--pid: bad pid '0' (want a process id >= 1)"},
		{"--pid", "4294967296", "--pid: bad pid '4294967296' (want a process id >= 1)"},
		{"--pid", "12x", "--pid: bad pid '12x'"},
		{"--comm", "", "--comm: empty name"},
		{"--comm", "a234567890123456",
		 "--comm: 'a234567890123456' is 16 bytes; the kernel keeps at most 15 bytes of a process name, so give those (e.g. 'a23456789012345')"},
		{"--cgroup", "/tmp", "--cgroup: '/tmp': not a cgroup v2 directory (want a cgroup v2 directory, absolute or relative to "},
		{"--cgroup", "mmtest-no-such-cgroup", "--cgroup: 'mmtest-no-such-cgroup': no such directory"},
		{"--cgroup", "", "--cgroup: '': no such directory"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_expect(eq(int, PARSE(cases[i].flag, cases[i].value), MM_EXIT_USAGE), "%s %s",
			  cases[i].flag, cases[i].value);
		cr_expect(eq(int, strncmp(err, cases[i].want, strlen(cases[i].want)), 0),
			  "'%s' does not start with '%s'", err, cases[i].want);
		cr_expect(eq(ptr, strchr(err, '\n'), NULL), "one line");
	}
	/* A file of the cgroup, not a directory. */
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg_a.path);
	cr_expect(eq(int, PARSE("--cgroup", procs), MM_EXIT_USAGE));
	snprintf(want, sizeof(want), "--cgroup: '%s': not a directory", procs);
	cr_expect(eq(int, strncmp(err, want, strlen(want)), 0), "%s", err);
	/* A comm of exactly 15 bytes is what the kernel keeps: accepted. */
	cr_expect(eq(int, PARSE("--comm", "a23456789012345"), 0), "%s", err);
	cr_expect(eq(int, PARSE("--not", "--comm", "x"), 0), "%s", err);
	cr_expect(eq(sz, o.not.n_comms, 1));
}

/* 64 values of each flag, which the agent's filter compiles; a 65th is refused. */
Test(cli_owner_flags, at_most_64_of_each)
{
	static struct mm_test_cgroup many[MM_FILTER_MAX_VALUES + 1];
	static char values[2][MM_FILTER_MAX_VALUES + 1][16];
	static char *argv[1 + 6 * (MM_FILTER_MAX_VALUES + 1)];
	struct mm_subscribe_buf sb;
	struct mm_filter f;
	char ferr[256], tag[16];
	int argc = 0, rc;

	argv[argc++] = "monitor";
	for (int i = 0; i < MM_FILTER_MAX_VALUES; i++) {
		snprintf(values[0][i], sizeof(values[0][i]), "%d", i + 1);
		snprintf(values[1][i], sizeof(values[1][i]), "comm%d", i);
		snprintf(tag, sizeof(tag), "m%d", i);
		cr_assert(eq(int, mm_test_cgroup_create(&many[i], parent.path, tag), 0));
		argv[argc++] = "--pid";
		argv[argc++] = values[0][i];
		argv[argc++] = "--comm";
		argv[argc++] = values[1][i];
		argv[argc++] = "--cgroup";
		argv[argc++] = many[i].path;
	}
	rc = mm_opts_parse(&o, "monitor", argc, argv, err, sizeof(err));
	cr_expect(eq(int, rc, 0), "%s", err);
	mm_opts_subscribe(&o, &sb);
	cr_expect(eq(sz, sb.flow.filter.n_pids, 64));
	cr_expect(eq(sz, sb.flow.filter.n_comms, 64));
	cr_expect(eq(sz, sb.flow.filter.n_cgroup_ids, 64));
	cr_expect(eq(int, mm_filter__compile(&f, &sb.sub, ferr, sizeof(ferr)), 0), "%s", ferr);
	mm_filter__release(&f);

	const char *past[][3] = {{"--pid", "65", "--pid: more than 64 pids"},
				 {"--comm", "comm64", "--comm: more than 64 names"},
				 {"--cgroup", NULL, "--cgroup: more than 64 cgroups"}};

	cr_assert(eq(int, mm_test_cgroup_create(&many[64], parent.path, "m64"), 0));
	past[2][1] = many[64].path;
	for (int i = 0; i < 3; i++) {
		argv[argc] = (char *)past[i][0];
		argv[argc + 1] = (char *)past[i][1];
		argv[argc + 2] = NULL;
		cr_expect(eq(int, mm_opts_parse(&o, "monitor", argc + 2, argv, err, sizeof(err)),
			     MM_EXIT_USAGE));
		cr_expect(eq(str, err, (char *)past[i][2]));
	}
	for (int i = 0; i <= MM_FILTER_MAX_VALUES; i++)
		mm_test_cgroup_destroy(&many[i]);
}

/* A captured packet has no owner: refused, not ignored, with the reason. */
Test(cli_owner_flags, capture_refuses_them)
{
	const char *const args[][3] = {{"--pid", "1"}, {"--comm", "curl"}, {"--cgroup", "/"}};
	char want[256];

	for (size_t i = 0; i < 3; i++) {
		cr_expect(eq(int, parse_v("capture", (const char *const[]){args[i][0], args[i][1],
									    NULL}),
			     MM_EXIT_USAGE));
		snprintf(want, sizeof(want),
			 "%s: a captured packet has no owner (tc sees packets, not sockets); filter the capture by address, port or interface, or use 'meshmon monitor %s'",
			 args[i][0], args[i][0]);
		cr_expect(eq(str, err, want));
	}
}

/* --- through the agent -------------------------------------------------------- */

static void setup_agent(void)
{
	make_cgroups();
	cli_agent_prepare("cli-owner");
	cli_agent_start_with((const char *[]){"--cgroup", parent.path, "--probe-interval", "1",
					      "--history", "4096", NULL});
}

static void teardown_agent(void)
{
	cli_agent_teardown();
	remove_cgroups();
}

TestSuite(cli_owner, .init = setup_agent, .fini = teardown_agent, .timeout = 180);

/* One connection's owner: its process, name, cgroup and local port. */
struct owner {
	pid_t pid;
	const char *comm;
	struct mm_test_cgroup *cg;
	int sport;
};

/*
 * A child in owner's cgroup, named owner's comm, connects to the peer's
 * listener, sends some bytes, and closes once the peer has closed; it reports
 * its local port on the pipe first.
 */
static void connect_from_child(struct owner *w, int port)
{
	int ports[2];
	pid_t pid;

	cr_assert(eq(int, pipe(ports), 0));
	pid = fork();
	cr_assert(ge(int, pid, 0));
	if (pid == 0) {
		struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
		struct sockaddr_in me;
		socklen_t len = sizeof(me);
		char buf[64];
		int fd, sport;

		close(ports[0]);
		/* Into the cgroup before the socket exists: the socket is the cgroup's. */
		if (mm_test_cgroup_enter(w->cg, getpid()) || prctl(PR_SET_NAME, w->comm))
			_exit(2);
		inet_pton(AF_INET, "10.199.0.2", &sa.sin_addr);
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
		    getsockname(fd, (struct sockaddr *)&me, &len))
			_exit(3);
		sport = ntohs(me.sin_port);
		if (write(ports[1], &sport, sizeof(sport)) != sizeof(sport) ||
		    write(fd, "hello from an owner", 19) != 19 || shutdown(fd, SHUT_WR))
			_exit(4);
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		close(fd);
		_exit(0);
	}
	close(ports[1]);
	w->pid = pid;
	cr_assert(eq(long, (long)read(ports[0], &w->sport, sizeof(w->sport)),
		     (long)sizeof(w->sport)),
		  "the child of %s could not connect", w->comm);
	close(ports[0]);
}

/* Accept one connection, read it to its end, close it. */
static void serve_one(int lfd)
{
	char buf[256];
	int fd = accept(lfd, NULL, NULL);

	cr_assert(ge(int, fd, 0));
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
}

static void reap(const struct owner *w)
{
	int st;

	cr_assert(eq(int, waitpid(w->pid, &st, 0), w->pid));
	cr_assert(eq(int, st, 0), "child %s: wait status %d (exit 2: cgroup or name, 3: connect)",
		  w->comm, st);
}

/* Runs `meshmon monitor --json ARGS` into path: its exit status (124: it did not end). */
static int monitor(const char *args, const char *path)
{
	char cmd[4096];
	int st;

	snprintf(cmd, sizeof(cmd), "timeout 20 %s monitor --json --socket %s %s >%s 2>>%s/cli.err",
		 MESHMON_CLI_PATH, agent.sock_path, args, path, agent.dir);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static long count_lines(const char *path)
{
	char cmd[512];
	long n = -1;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "wc -l < %s", path);
	p = popen(cmd, "r");
	cr_assert(p != NULL);
	cr_assert(eq(int, fscanf(p, "%ld", &n), 1));
	pclose(p);
	return n;
}

/* The wall clock now, as the CLI prints times and reads --until (mm_fmt_time). */
static void rfc3339_now(char *buf, size_t cap)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	mm_fmt_time((uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec, buf, cap);
}

static char all_path[256], until[64];
static long total;

/*
 * `--last 4096 --until END FLAGS` ends by itself with 0 and prints exactly
 * the recorded events that answer (a jq condition) selects, in order; the
 * answer is neither empty nor everything.
 */
static void check(const char *flags, const char *answer)
{
	char args[1024], got[256], want[256], cmd[2048];
	long n_want;
	int rc;

	snprintf(args, sizeof(args), "--last 4096 --until %s %s", until, flags);
	snprintf(got, sizeof(got), "%s/got.json", agent.dir);
	snprintf(want, sizeof(want), "%s/want.json", agent.dir);
	rc = monitor(args, got);
	cr_expect(eq(int, rc, 0), "'%s': exit status %d", flags, rc);
	snprintf(cmd, sizeof(cmd), "jq -c 'select(%s)' %s > %s", answer, all_path, want);
	cr_assert(eq(int, system(cmd), 0), "jq: %s", answer);
	n_want = count_lines(want);
	cr_expect(gt(long, n_want, 0), "'%s': the known answer is empty", flags);
	cr_expect(lt(long, n_want, total), "'%s': the known answer is every event", flags);
	snprintf(cmd, sizeof(cmd), "jq -c . %s | cmp -s - %s", got, want);
	cr_expect(eq(int, system(cmd), 0), "'%s': %ld lines, want the %ld that '%s' selects", flags,
		  count_lines(got), n_want, answer);
}

/* Whether the recording holds the closed report of w's connection. */
static bool recorded_closed(const struct owner *w)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd),
		 "jq -e -s 'any(.[]; .type == \"tcp_probe\" and .state == \"closed\" and .tuple.sport == %d)' %s >/dev/null",
		 w->sport, all_path);
	return system(cmd) == 0;
}

Test(cli_owner, each_owner_filter_selects_its_connection)
{
	struct owner a = {.comm = "mmtest-own-a", .cg = &cg_a};
	struct owner b = {.comm = "mmtest-own-b", .cg = &cg_b};
	char flags[1024];
	int lfd = mm_test_pair_listen(&pair, AF_INET, 0, 4), port;
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	const char *rel_b = cg_b.path + strlen(parent.root) + 1;

	cr_assert(ge(int, lfd, 0), "listen in the peer: %s", strerror(-lfd));
	cr_assert(eq(int, getsockname(lfd, (struct sockaddr *)&sa, &len), 0));
	port = ntohs(sa.sin_port);
	connect_from_child(&a, port);
	serve_one(lfd);
	connect_from_child(&b, port);
	serve_one(lfd);
	reap(&a);
	reap(&b);
	close(lfd);

	/* Until both closed reports are in the history (the rings are drained every 10 ms). */
	snprintf(all_path, sizeof(all_path), "%s/all.json", agent.dir);
	for (int i = 0; i < 100; i++) {
		cr_assert(eq(int, monitor("--last 4096", all_path), 0));
		if (recorded_closed(&a) && recorded_closed(&b))
			break;
		usleep(100000);
	}
	cr_assert(recorded_closed(&a) && recorded_closed(&b), "no closed report of both");
	/* The end of the recording: every event up to now is in the history once this is. */
	rfc3339_now(until, sizeof(until));
	usleep(300000);
	snprintf(flags, sizeof(flags), "--last 4096 --until %s", until);
	cr_assert(eq(int, monitor(flags, all_path), 0));
	total = count_lines(all_path);

	/* The recording: the reports name each child, its comm and its cgroup; and traces. */
	uint64_t id_a, id_b;
	char cmd[2048];

	cr_assert(eq(int, mm_cgroup2_id(cg_a.path, &id_a), 0));
	cr_assert(eq(int, mm_cgroup2_id(cg_b.path, &id_b), 0));
	snprintf(cmd, sizeof(cmd),
		 "jq -e -s 'all(.[]; .type != \"tcp_probe\" or (.tuple.sport == %d and .pid == %d and .comm == \"%s\" and .cgroup_id == %llu) or (.tuple.sport == %d and .pid == %d and .comm == \"%s\" and .cgroup_id == %llu)) and any(.[]; .type == \"trace\")' %s >/dev/null",
		 a.sport, (int)a.pid, a.comm, (unsigned long long)id_a, b.sport, (int)b.pid, b.comm,
		 (unsigned long long)id_b, all_path);
	cr_assert(eq(int, system(cmd), 0),
		  "the recording %s: tcp_probe reports of the two children only, and traces",
		  all_path);

	/* Each filter, and its negation, against the recording. */
	char want_a[128], want_b[128], not_a[160], not_b[160];

	snprintf(want_a, sizeof(want_a), ".type == \"tcp_probe\" and .tuple.sport == %d", a.sport);
	snprintf(want_b, sizeof(want_b), ".type == \"tcp_probe\" and .tuple.sport == %d", b.sport);
	snprintf(not_a, sizeof(not_a), "(%s) | not", want_a);
	snprintf(not_b, sizeof(not_b), "(%s) | not", want_b);

	snprintf(flags, sizeof(flags), "--pid %d", (int)a.pid);
	check(flags, want_a);
	snprintf(flags, sizeof(flags), "--not --pid %d", (int)a.pid);
	check(flags, not_a);
	snprintf(flags, sizeof(flags), "--pid %d --pid %d", (int)a.pid, (int)b.pid);
	check(flags, ".type == \"tcp_probe\"");
	check("--comm mmtest-own-b", want_b);
	check("--not --comm mmtest-own-b", not_b);
	snprintf(flags, sizeof(flags), "--cgroup %s", cg_a.path);
	check(flags, want_a);
	snprintf(flags, sizeof(flags), "--cgroup %s", rel_b);
	check(flags, want_b);
	snprintf(flags, sizeof(flags), "--not --cgroup %s", rel_b);
	check(flags, not_b);
	/* ANDed with each other and with the tuple's fields. */
	snprintf(flags, sizeof(flags), "--comm mmtest-own-a --cgroup %s --to 10.199.0.2:%d",
		 cg_a.path, port);
	check(flags, want_a);

	/* Nothing: a pid of neither, A's comm in B's cgroup, the parent (no socket of its own). */
	const char *none[3];
	char none_pid[64], none_and[600], none_parent[600];
	char got[256], args[1024];

	snprintf(none_pid, sizeof(none_pid), "--pid %d", (int)getpid());
	snprintf(none_and, sizeof(none_and), "--comm mmtest-own-a --cgroup %s", cg_b.path);
	snprintf(none_parent, sizeof(none_parent), "--cgroup %s", parent.path);
	none[0] = none_pid;
	none[1] = none_and;
	none[2] = none_parent;
	snprintf(got, sizeof(got), "%s/none.json", agent.dir);
	for (int i = 0; i < 3; i++) {
		snprintf(args, sizeof(args), "--last 4096 --until %s %s", until, none[i]);
		cr_expect(eq(int, monitor(args, got), 0), "'%s'", none[i]);
		cr_expect(eq(long, count_lines(got), 0), "'%s' selects nothing", none[i]);
	}
}

/*
 * The live stream (no history): while both connections stay open, their
 * periodic reports keep coming; a monitor with --comm of one and --not
 * --cgroup of the other gets three reports, all of that one connection.
 */
Test(cli_owner, live_stream_filters_by_owner)
{
	struct owner a = {.comm = "mmtest-own-a", .cg = &cg_a};
	struct owner b = {.comm = "mmtest-own-b", .cg = &cg_b};
	int lfd = mm_test_pair_listen(&pair, AF_INET, 0, 4), port, fa, fb;
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	char out[256], rc_path[256], cmd[2048];
	struct stat st;
	FILE *f;
	int rc = -1;

	cr_assert(ge(int, lfd, 0), "listen in the peer: %s", strerror(-lfd));
	cr_assert(eq(int, getsockname(lfd, (struct sockaddr *)&sa, &len), 0));
	port = ntohs(sa.sin_port);
	/* Accepted and kept open: each child waits for the peer's FIN, which comes at the end. */
	connect_from_child(&a, port);
	fa = accept(lfd, NULL, NULL);
	connect_from_child(&b, port);
	fb = accept(lfd, NULL, NULL);
	cr_assert(ge(int, fa, 0));
	cr_assert(ge(int, fb, 0));

	snprintf(out, sizeof(out), "%s/live.json", agent.dir);
	snprintf(rc_path, sizeof(rc_path), "%s/live.rc", agent.dir);
	snprintf(cmd, sizeof(cmd),
		 "(timeout 30 %s monitor --json -c 3 --socket %s --comm mmtest-own-b --not --cgroup %s >%s 2>>%s/cli.err; echo $? >%s.tmp; mv %s.tmp %s) &",
		 MESHMON_CLI_PATH, agent.sock_path, cg_a.path, out, agent.dir, rc_path, rc_path,
		 rc_path);
	cr_assert(eq(int, system(cmd), 0));
	/* Until the monitor has its three events (periodic reports come every second). */
	for (int i = 0; i < 400 && stat(rc_path, &st); i++)
		usleep(100000);
	f = fopen(rc_path, "r");
	cr_assert(f != NULL, "the monitor did not end");
	cr_assert(eq(int, fscanf(f, "%d", &rc), 1));
	fclose(f);
	close(fa);
	close(fb);
	close(lfd);
	reap(&a);
	reap(&b);
	cr_expect(eq(int, rc, 0), "monitor exit status %d", rc);
	/* -c counts events; a lost notice (a line of its own, not filtered) may come too. */
	snprintf(cmd, sizeof(cmd),
		 "jq -e -s 'map(select(.type != \"lost\")) | length == 3 and all(.[]; .type == \"tcp_probe\" and .tuple.sport == %d and .pid == %d and .comm == \"mmtest-own-b\")' %s >/dev/null",
		 b.sport, (int)b.pid, out);
	cr_expect(eq(int, system(cmd), 0), "%s: three reports of b's connection", out);
}
