// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * meshmon-pipeline-bench: the bare libbpf reader (pipeline_ref.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/timerfd.h>
#include <bpf/libbpf.h>

#include "datapath.h"
#include "perf_records.h"
#include "pipeline_ref.h"
#include "records.h"

#define SETTLE_NS (3ull * 1000000000ull)

struct ref_run {
	struct mm_datapath *dp;
	const struct pl_ref_opts *o;
	struct pl_producer *p;
	struct pl_ref_result *res;
	uint64_t failed_base;
	uint64_t now; /* receipt time of the batch being consumed */
	_Atomic int ready;
	int err;
};

static uint64_t failed_now(const struct mm_datapath *dp)
{
	__u64 st[MM_STAT_MAX];

	if (mm_datapath__read_stats(dp, st))
		return 0;
	return st[MM_STAT_RING_FULL] + st[MM_STAT_OUTPUT_FAILED];
}

static enum bpf_perf_event_ret on_event(void *ctx, int cpu, struct perf_event_header *e)
{
	struct ref_run *r = ctx;

	(void)cpu;
	if (e->type == PERF_RECORD_SAMPLE) {
		const struct mm_perf_sample *s = (const void *)e;
		struct mm_notify_hdr hdr;

		/* Copied out: perf data is not aligned. */
		if (e->size < sizeof(*s) || s->size > e->size - sizeof(*s) || s->size < sizeof(hdr))
			return LIBBPF_PERF_EVENT_CONT;
		memcpy(&hdr, s->data, sizeof(hdr));
		r->res->received++;
		r->res->t_last_ns = r->now;
		pl_hist__add(&r->res->hist, r->now > hdr.ktime_ns ? r->now - hdr.ktime_ns : 0);
	} else if (e->type == PERF_RECORD_LOST) {
		const struct mm_perf_lost *l = (const void *)e;

		r->res->perf_lost += l->lost;
	}
	return LIBBPF_PERF_EVENT_CONT;
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Every produced record read or failed, or the stragglers took too long. */
static int finished(struct ref_run *r)
{
	uint64_t failed;

	if (!atomic_load(&r->p->done))
		return 0;
	failed = failed_now(r->dp) - r->failed_base;
	return r->res->received + failed >= r->p->produced ||
	       pl_now_ns() > r->p->t_end_ns + SETTLE_NS;
}

/*
 * The ring fds go into the reader's own epoll set, one entry per ring as the
 * agent has one libevent event per ring: a perf fd's readiness is consumed by
 * the poll that sees it, so nesting the perf buffer's own epoll fd inside
 * another would lose wakeups.
 */
static int reader_loop(struct ref_run *r, struct perf_buffer *pb, int tfd)
{
	size_t n_rings = perf_buffer__buffer_cnt(pb);
	struct epoll_event ev[64];
	int ep, err = 0;

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		return -errno;
	for (size_t i = 0; i <= n_rings; i++) {
		struct epoll_event e = {.events = EPOLLIN, .data.u64 = i};
		int fd = i < n_rings ? perf_buffer__buffer_fd(pb, i) : tfd; /* the timer last */

		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e)) {
			err = -errno;
			goto out;
		}
	}
	atomic_store(&r->ready, 1);
	while (!finished(r)) {
		int n = epoll_wait(ep, ev, 64, 20);

		if (n < 0 && errno != EINTR) {
			err = -errno;
			break;
		}
		for (int i = 0; i < n; i++) {
			r->now = pl_now_ns();
			if (ev[i].data.u64 < n_rings) {
				perf_buffer__consume_buffer(pb, ev[i].data.u64); /* the ring that woke us */
			} else {
				uint64_t ticks;

				if (read(tfd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
					err = -errno;
				perf_buffer__consume(pb); /* the drain timer: every ring */
			}
		}
	}
	r->now = pl_now_ns();
	perf_buffer__consume(pb);
out:
	close(ep);
	return err;
}

static void *reader_main(void *arg)
{
	struct ref_run *r = arg;
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_BPF_OUTPUT,
		.sample_type = PERF_SAMPLE_RAW,
		.sample_period = 1,
		.wakeup_events = r->o->wakeup_events ? r->o->wakeup_events : 1,
	};
	struct itimerspec its = {0};
	struct perf_buffer *pb = NULL;
	struct rusage ru0, ru1;
	uint64_t cpu0;
	int tfd = -1;

	r->err = pl_pin_self(r->o->cpu);
	if (r->err)
		goto out;
	pb = perf_buffer__new_raw(mm_datapath__events_fd(r->dp), r->o->pages, &attr, on_event, r,
				  NULL);
	if (!pb) {
		r->err = -errno;
		goto out;
	}
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (tfd < 0) {
		r->err = -errno;
		goto out;
	}
	if (r->o->drain_ms) {
		its.it_interval.tv_sec = r->o->drain_ms / 1000;
		its.it_interval.tv_nsec = (long)(r->o->drain_ms % 1000) * 1000000;
		its.it_value = its.it_interval;
		if (timerfd_settime(tfd, 0, &its, NULL)) {
			r->err = -errno;
			goto out;
		}
	}
	getrusage(RUSAGE_THREAD, &ru0);
	cpu0 = thread_cpu_ns();
	r->err = reader_loop(r, pb, tfd);
	r->res->cpu_ns = thread_cpu_ns() - cpu0;
	getrusage(RUSAGE_THREAD, &ru1);
	r->res->wakeups = (uint64_t)(ru1.ru_nvcsw - ru0.ru_nvcsw);
out:
	if (tfd >= 0)
		close(tfd);
	perf_buffer__free(pb);
	atomic_store(&r->ready, -1); /* also: the reader failed before it was ready */
	return NULL;
}

int pl_ref__run(struct mm_datapath *dp, const struct pl_ref_opts *o, struct pl_producer *p,
		struct pl_ref_result *res)
{
	struct timespec tick = {0, 1000000};
	struct ref_run r = {.dp = dp, .o = o, .p = p, .res = res};
	pthread_t thr;
	int err;

	memset(res, 0, sizeof(*res));
	r.failed_base = failed_now(dp);
	atomic_store(&p->done, 0);
	err = pthread_create(&thr, NULL, reader_main, &r);
	if (err)
		return -err;
	while (atomic_load(&r.ready) == 0)
		nanosleep(&tick, NULL);
	if (atomic_load(&r.ready) < 0) {
		pthread_join(thr, NULL);
		return r.err ? r.err : -EIO;
	}
	err = pl_producer__start(p);
	if (err) {
		/* The reader stops once "done" and everything (nothing) is accounted for. */
		p->produced = 0;
		p->t_end_ns = pl_now_ns();
		atomic_store(&p->done, 1);
	} else {
		err = pl_producer__join(p);
	}
	pthread_join(thr, NULL);
	res->failed = failed_now(dp) - r.failed_base;
	return err ? err : r.err;
}
