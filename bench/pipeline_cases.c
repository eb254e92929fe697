// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * meshmon-pipeline-bench: one case from start to finish (pipeline_bench.h).
 *
 * An agent case starts a fresh meshmon-agent (so its counters, rings and
 * queues hold nothing of the case before), connects its listeners and waits
 * until Status counts them, samples the agent, runs the producer on the
 * agent's own tc ingress program, waits until every listener has accounted
 * for every record (delivered or reported lost) or gave up, samples again and
 * stops the agent. The reference case runs the bare reader on the bench's
 * own datapath instead.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>

#include "pipeline_agent.h"
#include "pipeline_bench.h"
#include "pipeline_cli.h"
#include "pipeline_client.h"
#include "pipeline_producer.h"
#include "pipeline_ref.h"
#include "pipeline_wire.h"
#include "datapath.h"

#define STATUS_MS 3000
#define SUBSCRIBE_MS 10000
#define FINISH_MS 60000   /* listeners' last chance to account for everything */
#define LEDGER_MS 3000    /* the agent's 1 s loss poll catching up with the datapath */
#define CLI_IDLE_NS (300ull * 1000000ull)
#define STR_(x) #x
#define STR(x) STR_(x)

/* The bench's flags for every agent: nothing folded, nothing refused, no tcp_probe. */
static const char *const agent_base[] = {
	"--aggregation", "none", "--rate-limit", "0", "--cgroup", "none",
	"--capture-len", STR(PL_CAPTURE_LEN), NULL,
};

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

/* The row's error, unless it has one already (the first cause is the one to tell). */
static void fail(struct pl_result *res, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct pl_result *res, const char *fmt, ...)
{
	va_list ap;

	if (res->err[0])
		return;
	va_start(ap, fmt);
	vsnprintf(res->err, sizeof(res->err), fmt, ap);
	va_end(ap);
}

/* Append a note to the row's notes. */
static void note(struct pl_result *res, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct pl_result *res, const char *fmt, ...)
{
	size_t used = strlen(res->note);
	va_list ap;

	if (used && used + 2 < sizeof(res->note)) {
		strcpy(res->note + used, "; ");
		used += 2;
	}
	va_start(ap, fmt);
	vsnprintf(res->note + used, sizeof(res->note) - used, fmt, ap);
	va_end(ap);
}

/*
 * Anyone else holding the agent's program can run it during the case, and
 * the agent would forward those records too: name them.
 */
static void check_foreign(const struct pl_agent *a, struct pl_result *res)
{
	pid_t pids[8];
	size_t n = pl_agent__foreign_holders(a, pids, 8);
	char list[128] = "";

	if (!n || strstr(res->note, "hold the agent's tc program"))
		return;
	for (size_t i = 0; i < n && i < 8; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%d", i ? "," : "",
			 (int)pids[i]);
	note(res, "pid %s%s hold the agent's tc program (they may run it too)", list,
	     n > 8 ? ",..." : "");
}

/* The bench's pass-through flags, then the case's own (the case's value wins). */
static void agent_extra(const struct pl_env *env, const struct pl_case *c, const char **out,
			size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < env->n_extra && n + 1 < cap; i++)
		out[n++] = env->extra[i];
	for (size_t i = 0; c->agent_args[i] && n + 1 < cap; i++)
		out[n++] = c->agent_args[i];
	out[n] = NULL;
}

static void describe_exit(char *buf, size_t len, int status)
{
	if (status == -1)
		snprintf(buf, len, "killed after not stopping");
	else if (WIFEXITED(status))
		snprintf(buf, len, "exit status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d", WTERMSIG(status));
	else
		snprintf(buf, len, "wait status 0x%x", status);
}

/* Wait until Status counts want listeners: 0 or -errno. */
static int wait_listeners(struct pl_agent *a, unsigned int want)
{
	uint64_t deadline = pl_now_ns() + SUBSCRIBE_MS * 1000000ull;
	struct pl_status st;
	int rc;

	for (;;) {
		rc = pl_wire__status(a->t.sock_path, &st, STATUS_MS);
		if (!rc && st.listeners >= want)
			return 0;
		if (!pl_agent__alive(a))
			return -ECHILD;
		if (pl_now_ns() > deadline || pl_interrupted)
			return rc ? rc : -ETIMEDOUT;
		sleep_ms(20);
	}
}

/* Run the producer on the agent's program, watching the agent: 0 or -errno. */
static int produce(struct pl_agent *a, const struct pl_env *env, const struct pl_case *c,
		   struct pl_producer *p)
{
	int rc;

	memset(p, 0, sizeof(*p));
	p->prog_fd = a->prog_fd;
	p->frame = env->frame;
	p->frame_len = env->frame_len;
	p->ifindex = env->pair.local_ifindex;
	p->rate = c->rate;
	p->duration_ns = c->duration_ns;
	p->cpu = PL_PRODUCER_CPU;
	p->interrupt = &pl_interrupted;
	rc = pl_producer__start(p);
	if (rc)
		return rc;
	while (!atomic_load(&p->done)) {
		if (!pl_agent__alive(a) || pl_interrupted)
			pl_producer__stop(p);
		sleep_ms(20);
	}
	rc = pl_producer__join(p);
	if (!rc && !pl_agent__alive(a))
		rc = -ECHILD;
	return rc;
}

/*
 * Status once the agent's ledger holds every loss the datapath counted (it
 * reads the datapath's counters every second): 0 or -errno.
 */
static int settled_status(struct pl_agent *a, const struct pl_status *st0,
			  const struct pl_dp_stats *d0, struct pl_status *st,
			  struct pl_dp_stats *d)
{
	uint64_t deadline = pl_now_ns() + LEDGER_MS * 1000000ull;
	int rc;

	for (;;) {
		rc = pl_agent__dp_stats(a, d);
		if (!rc)
			rc = pl_wire__status(a->t.sock_path, st, STATUS_MS);
		if (rc)
			return rc;
		if (st->lost[PL_LOST_RING] - st0->lost[PL_LOST_RING] >=
			    d->ring_full - d0->ring_full &&
		    st->lost[PL_LOST_DATAPATH] - st0->lost[PL_LOST_DATAPATH] >=
			    d->output_failed - d0->output_failed &&
		    st->lost[PL_LOST_RATE_LIMIT] - st0->lost[PL_LOST_RATE_LIMIT] >=
			    d->rate_limited - d0->rate_limited)
			return 0;
		if (pl_now_ns() > deadline)
			return 0; /* what it has: the difference shows in the row */
		sleep_ms(50);
	}
}

/* Where the machine's busy time over a case window went: ours, or someone else's. */
struct window {
	uint64_t t, sys, self;
};

static void window_open(struct window *w)
{
	w->t = pl_now_ns();
	w->sys = pl_sys__busy_ns();
	w->self = pl_self__cpu_ns();
}

/* CPUs other work kept busy: the machine's busy time minus the bench's own, over the wall. */
static double window_other(const struct window *w, uint64_t children_cpu_ns)
{
	uint64_t t = pl_now_ns(), sys = pl_sys__busy_ns(), self = pl_self__cpu_ns();
	double ours = (double)(self - w->self) + (double)children_cpu_ns;
	double other = (double)(sys - w->sys) - ours;

	if (!w->sys || !sys || t <= w->t)
		return -1;
	return other > 0 ? other / (double)(t - w->t) : 0;
}

/* The agent-side columns of a case, from the samples before and after. */
static void agent_columns(struct pl_result *res, const struct pl_status *st0,
			  const struct pl_status *st1, const struct pl_dp_stats *d0,
			  const struct pl_dp_stats *d1, const struct pl_proc *a0,
			  const struct pl_proc *a1)
{
	uint64_t cpu = a1->cpu_ns - a0->cpu_ns;

	for (int s = 0; s < MM_LOSS_SOURCES; s++)
		res->lost[s] = st1->lost[s] - st0->lost[s];
	res->dp_failed = (d1->ring_full - d0->ring_full) + (d1->output_failed - d0->output_failed);
	res->unacc_agent = (int64_t)res->emitted - (int64_t)(st1->events_read - st0->events_read) -
			   (int64_t)res->lost[PL_LOST_RING] -
			   (int64_t)res->lost[PL_LOST_DATAPATH] -
			   (int64_t)res->lost[PL_LOST_RATE_LIMIT];
	res->cpu_ns_per_event = res->emitted ? (double)cpu / (double)res->emitted : 0;
	res->cpu_ns_per_deliv = res->deliv_sum ? (double)cpu / (double)res->deliv_sum : 0;
	res->wakeups = a1->vcsw - a0->vcsw;
}

/* The agent's counters before a case: its Status, the datapath's stats, its CPU. 0 or -errno. */
static int snapshot_agent(struct pl_agent *a, struct pl_status *st, struct pl_dp_stats *d,
			  struct pl_proc *cpu)
{
	int rc = pl_wire__status(a->t.sock_path, st, STATUS_MS);

	if (!rc)
		rc = pl_agent__dp_stats(a, d);
	if (!rc)
		rc = pl_proc__sample(a->t.pid, cpu);
	return rc;
}

/* The measured production of a case, into res; 0, or -1 with res failed. */
static int produce_into(struct pl_agent *a, const struct pl_env *env, const struct pl_case *c,
			struct pl_producer *p, struct window *win, struct pl_result *res)
{
	int rc;

	window_open(win);
	rc = produce(a, env, c, p);
	check_foreign(a, res);
	res->emitted = p->produced;
	res->prod_rate = pl_producer__rate(p);
	if (!rc)
		return 0;
	fail(res, rc == -ECHILD ? "meshmon-agent died during the run%s" : "producer: %s",
	     rc == -ECHILD ? "" : strerror(-rc));
	return -1;
}

static void run_clients(const struct pl_env *env, const struct pl_case *c, struct pl_agent *a,
			struct pl_result *res)
{
	struct pl_clients cl = {0};
	struct pl_status st0, st1;
	struct pl_dp_stats d0, d1;
	struct pl_proc a0, a1;
	struct pl_producer p;
	struct window win;
	uint64_t client_cpu = 0, other = 0;
	double rate_sum = 0;
	char err[256];
	int rc;

	rc = pl_clients__start(&cl, c->listeners, a->t.sock_path, env->sport, PL_DPORT,
			       SUBSCRIBE_MS, err, sizeof(err));
	if (rc) {
		fail(res, "%s", err);
		return;
	}
	rc = wait_listeners(a, c->listeners);
	if (!rc)
		rc = snapshot_agent(a, &st0, &d0, &a0);
	if (rc) {
		fail(res, "before the run: %s", strerror(-rc));
		goto out;
	}
	if (produce_into(a, env, c, &p, &win, res))
		goto out;
	if (pl_clients__finish(&cl, p.produced, FINISH_MS) != cl.n) {
		for (size_t i = 0; i < cl.n && !res->err[0]; i++) {
			if (cl.rep[i].died)
				snprintf(res->err, sizeof(res->err),
					 "client %zu exited without reporting", i);
			else if (cl.rep[i].timed_out)
				snprintf(res->err, sizeof(res->err),
					 "client %zu did not report within %d s (killed)", i,
					 FINISH_MS / 1000 + 1);
		}
	}
	if (pl_proc__sample(a->t.pid, &a1) || settled_status(a, &st0, &d0, &st1, &d1)) {
		fail(res, "%s", "meshmon-agent did not answer after the run");
		goto out;
	}
	res->listeners = (unsigned int)cl.n;
	res->deliv_min = UINT64_MAX;
	res->have_latency = 1;
	for (size_t i = 0; i < cl.n; i++) {
		const struct pl_client_report *r = &cl.rep[i];
		int64_t un = (int64_t)p.produced - (int64_t)r->delivered;

		for (int s = 0; s < MM_LOSS_SOURCES; s++)
			un -= (int64_t)r->lost[s];
		if (i == 0 || (un < 0 ? -un : un) > (res->unacc < 0 ? -res->unacc : res->unacc))
			res->unacc = un;
		if (r->delivered < res->deliv_min)
			res->deliv_min = r->delivered;
		if (r->delivered > res->deliv_max)
			res->deliv_max = r->delivered;
		res->deliv_sum += r->delivered;
		client_cpu += r->cpu_ns;
		other += r->other;
		if (r->delivered && r->t_last_ns > p.t_start_ns)
			rate_sum += (double)r->delivered * 1e9 / (double)(r->t_last_ns - p.t_start_ns);
		pl_hist__merge(&res->hist, &r->hist);
		if (r->err || r->error_code || r->eof)
			fail(res, "client %zu: %s%s%s", i, r->err ? strerror(-r->err) : "",
			     r->error_code ? " (the agent sent an Error)" : "",
			     r->eof ? " (end of stream)" : "");
	}
	res->deliv_per_s = rate_sum / (double)cl.n;
	res->other_cpus = window_other(&win, client_cpu + (a1.cpu_ns - a0.cpu_ns));
	res->client_ns_per_event = res->deliv_sum ? (double)client_cpu / (double)res->deliv_sum : 0;
	agent_columns(res, &st0, &st1, &d0, &d1, &a0, &a1);
	check_foreign(a, res);
	if (other)
		note(res, "listeners saw %llu events that are not the bench's flow",
		     (unsigned long long)other);
	res->ok = !res->err[0];
out:
	pl_clients__free(&cl);
}

/*
 * The CLI is done when the agent has taken every record off the rings and
 * neither the CLI nor the agent has used CPU for CLI_IDLE_NS: its socket is
 * then empty. Returns the time it last worked, or 0 on a timeout.
 */
static uint64_t wait_cli_done(struct pl_agent *a, struct pl_cli *cli, uint64_t produced,
			      const struct pl_status *st0, struct pl_result *res)
{
	uint64_t deadline = pl_now_ns() + FINISH_MS * 1000000ull, busy_at = pl_now_ns();
	struct pl_proc c_prev = {0}, a_prev = {0}, cs, as;
	int all_read = 0;

	pl_proc__sample(cli->pid, &c_prev);
	pl_proc__sample(a->t.pid, &a_prev);
	while (pl_now_ns() < deadline && !pl_interrupted) {
		uint64_t now;

		sleep_ms(50);
		if (!pl_cli__alive(cli)) {
			char how[64];

			describe_exit(how, sizeof(how), cli->exit_status);
			snprintf(res->err, sizeof(res->err), "meshmon monitor exited (%s)", how);
			return 0;
		}
		if (!pl_agent__alive(a))
			return 0; /* said by the caller's caller */
		if (!all_read) {
			struct pl_status st;

			if (!pl_wire__status(a->t.sock_path, &st, STATUS_MS))
				all_read = st.events_read - st0->events_read +
						   st.lost[PL_LOST_RING] -
						   st0->lost[PL_LOST_RING] +
						   st.lost[PL_LOST_DATAPATH] -
						   st0->lost[PL_LOST_DATAPATH] >=
					   produced;
		}
		now = pl_now_ns();
		if (pl_proc__sample(cli->pid, &cs) || pl_proc__sample(a->t.pid, &as))
			continue; /* it just exited: the next turn says so */
		/* Idle: under 1% of a CPU each since the last sample. */
		if (cs.cpu_ns - c_prev.cpu_ns > 500000 || as.cpu_ns - a_prev.cpu_ns > 500000 ||
		    !all_read)
			busy_at = now;
		else if (now - busy_at > CLI_IDLE_NS)
			return busy_at;
		c_prev = cs;
		a_prev = as;
	}
	return 0;
}

static void run_cli(const struct pl_env *env, const struct pl_case *c, struct pl_agent *a,
		    struct pl_result *res)
{
	struct pl_cli cli = {0};
	struct pl_status st0, st1;
	struct pl_dp_stats d0, d1;
	struct pl_proc a0, a1, c0, c1;
	struct pl_producer p;
	struct window win;
	char log[192], how[64];
	uint64_t done_at, lost = 0;
	int rc, st;

	snprintf(log, sizeof(log), "%s/cli.log", a->t.dir);
	rc = pl_cli__start(&cli, env->cli_path, a->t.sock_path, c->kind == PL_CLI_JSON, log);
	if (rc) {
		fail(res, "start meshmon monitor: %s", strerror(-rc));
		return;
	}
	rc = wait_listeners(a, 1);
	if (!rc)
		rc = snapshot_agent(a, &st0, &d0, &a0);
	if (!rc)
		rc = pl_proc__sample(cli.pid, &c0);
	if (rc) {
		fail(res, "before the run (is %s a meshmon CLI?)", env->cli_path);
		goto out;
	}
	if (produce_into(a, env, c, &p, &win, res))
		goto out;
	done_at = wait_cli_done(a, &cli, p.produced, &st0, res);
	if (!done_at) {
		fail(res, "meshmon monitor was still reading %d s after the run", FINISH_MS / 1000);
		goto out;
	}
	if (pl_proc__sample(a->t.pid, &a1) || pl_proc__sample(cli.pid, &c1) ||
	    settled_status(a, &st0, &d0, &st1, &d1)) {
		fail(res, "%s", "meshmon-agent did not answer after the run");
		goto out;
	}
	res->listeners = 1;
	agent_columns(res, &st0, &st1, &d0, &d1, &a0, &a1);
	check_foreign(a, res);
	for (int s = 0; s < MM_LOSS_SOURCES; s++)
		lost += res->lost[s];
	/* The CLI's output goes to /dev/null: what it got is what the agent did not lose. */
	res->deliv_min = res->deliv_max = res->deliv_sum = p.produced > lost ? p.produced - lost : 0;
	res->unacc = (int64_t)p.produced - (int64_t)res->deliv_sum - (int64_t)lost;
	/* agent_columns() ran before the deliveries were known. */
	res->cpu_ns_per_deliv =
		res->deliv_sum ? (double)(a1.cpu_ns - a0.cpu_ns) / (double)res->deliv_sum : 0;
	res->deliv_per_s = done_at > p.t_start_ns ? (double)res->deliv_sum * 1e9 /
							   (double)(done_at - p.t_start_ns)
						 : 0;
	res->client_ns_per_event =
		res->deliv_sum ? (double)(c1.cpu_ns - c0.cpu_ns) / (double)res->deliv_sum : 0;
	res->other_cpus = window_other(&win, (c1.cpu_ns - c0.cpu_ns) + (a1.cpu_ns - a0.cpu_ns));
	st = pl_cli__stop(&cli);
	if (st != 0) {
		describe_exit(how, sizeof(how), st);
		note(res, "meshmon monitor: %s on SIGINT", how);
	}
	res->ok = !res->err[0];
out:
	pl_cli__stop(&cli);
}

static void run_ref(const struct pl_env *env, const struct pl_case *c, struct pl_result *res)
{
	struct pl_ref_opts o = {.pages = c->pages, .wakeup_events = c->wakeup_events,
				.drain_ms = c->drain_ms, .cpu = PL_READER_CPU};
	struct pl_ref_result *r = calloc(1, sizeof(*r));
	struct pl_producer p;
	struct window win;
	int rc;

	if (!r) {
		fail(res, "%s", "out of memory");
		return;
	}
	memset(&p, 0, sizeof(p));
	p.prog_fd = mm_datapath__tc_ingress_fd(env->ref_dp);
	p.frame = env->frame;
	p.frame_len = env->frame_len;
	p.ifindex = env->pair.local_ifindex;
	p.rate = c->rate;
	p.duration_ns = c->duration_ns;
	p.cpu = PL_PRODUCER_CPU;
	p.interrupt = &pl_interrupted;
	window_open(&win);
	rc = pl_ref__run(env->ref_dp, &o, &p, r);
	res->other_cpus = window_other(&win, 0);
	if (rc) {
		fail(res, "reference reader: %s", strerror(-rc));
		free(r);
		return;
	}
	res->emitted = p.produced;
	res->prod_rate = pl_producer__rate(&p);
	res->listeners = 1;
	res->deliv_min = res->deliv_max = res->deliv_sum = r->received;
	res->lost[PL_LOST_RING] = r->perf_lost;
	res->dp_failed = r->failed;
	res->unacc = (int64_t)p.produced - (int64_t)r->received - (int64_t)r->failed;
	res->deliv_per_s = r->t_last_ns > p.t_start_ns
				   ? (double)r->received * 1e9 / (double)(r->t_last_ns - p.t_start_ns)
				   : 0;
	res->cpu_ns_per_event = p.produced ? (double)r->cpu_ns / (double)p.produced : 0;
	res->cpu_ns_per_deliv = r->received ? (double)r->cpu_ns / (double)r->received : 0;
	res->client_ns_per_event = -1;
	res->wakeups = r->wakeups;
	res->have_latency = 1;
	res->hist = r->hist;
	res->ok = 1;
	free(r);
}

void pl_case__run(const struct pl_env *env, const struct pl_case *c, struct pl_result *res)
{
	const char *extra[PL_MAX_EXTRA + 16];
	uint64_t t0 = pl_now_ns();
	struct pl_agent a;
	char how[64];
	int st;

	memset(res, 0, sizeof(*res));
	res->client_ns_per_event = -1;
	res->other_cpus = -1;
	if (c->kind == PL_REF) {
		run_ref(env, c, res);
		res->case_s = (double)(pl_now_ns() - t0) / 1e9;
		if (pl_interrupted) {
			res->ok = 0;
			snprintf(res->err, sizeof(res->err), "interrupted");
		}
		return;
	}
	agent_extra(env, c, extra, sizeof(extra) / sizeof(extra[0]));
	if (pl_agent__start(&a, env->agent_path, env->pair.local_if, env->pair.local_ifindex,
			    agent_base, extra, PL_READER_CPU, res->err, sizeof(res->err))) {
		pl_agent__print_log_tail(&a, 5);
		pl_agent__free(&a);
		return;
	}
	if (c->kind == PL_CLIENTS)
		run_clients(env, c, &a, res);
	else
		run_cli(env, c, &a, res);
	if (!pl_agent__alive(&a)) {
		describe_exit(how, sizeof(how), a.exit_status);
		res->ok = 0;
		snprintf(res->err, sizeof(res->err), "meshmon-agent died (%s)", how);
	} else if ((st = pl_agent__stop(&a)) != 0) {
		describe_exit(how, sizeof(how), st);
		note(res, "meshmon-agent: %s on SIGTERM", how);
	}
	if (!res->ok && !pl_interrupted)
		pl_agent__print_log_tail(&a, 5);
	pl_agent__free(&a);
	res->case_s = (double)(pl_now_ns() - t0) / 1e9;
	if (pl_interrupted) {
		res->ok = 0;
		snprintf(res->err, sizeof(res->err), "interrupted");
	}
}
