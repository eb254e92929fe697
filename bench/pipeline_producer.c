// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * meshmon-pipeline-bench: the producer thread (pipeline_producer.h).
 */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "pipeline_producer.h"

uint64_t pl_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int pl_pin_self(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return -pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static int run_batch(struct pl_producer *p, __u32 repeat)
{
	struct __sk_buff skb;
	LIBBPF_OPTS(bpf_test_run_opts, opts);

	memset(&skb, 0, sizeof(skb));
	skb.ifindex = (__u32)p->ifindex;
	opts.data_in = p->frame;
	opts.data_size_in = (__u32)p->frame_len;
	opts.ctx_in = &skb;
	opts.ctx_size_in = sizeof(skb);
	opts.repeat = repeat;
	if (bpf_prog_test_run_opts(p->prog_fd, &opts) < 0)
		return -errno;
	p->produced += repeat;
	return 0;
}

static void to_timespec(uint64_t ns, struct timespec *ts)
{
	ts->tv_sec = (time_t)(ns / 1000000000ull);
	ts->tv_nsec = (long)(ns % 1000000000ull);
}

static void *producer_main(void *arg)
{
	struct pl_producer *p = arg;
	uint64_t end, next;

	p->err = pl_pin_self(p->cpu);
	p->t_start_ns = pl_now_ns();
	atomic_store(&p->started, 1);
	end = p->t_start_ns + p->duration_ns;
	next = p->t_start_ns;
	while (!p->err && !atomic_load(&p->stop) && !(p->interrupt && *p->interrupt)) {
		if (p->rate) {
			struct timespec ts;

			/* Every tick of the schedule runs, late or not, but a producer
			 * that cannot keep up stops at twice the duration. */
			if (next >= end || pl_now_ns() >= end + p->duration_ns)
				break;
			to_timespec(next, &ts);
			while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
				;
			p->err = run_batch(p, (__u32)(p->rate / 1000));
			next += PL_TICK_NS;
		} else {
			if (pl_now_ns() >= end)
				break;
			p->err = run_batch(p, PL_FLAT_REPEAT);
		}
	}
	p->t_end_ns = pl_now_ns();
	atomic_store(&p->done, 1);
	return NULL;
}

int pl_producer__start(struct pl_producer *p)
{
	int err;

	p->produced = 0;
	p->err = 0;
	p->t_start_ns = p->t_end_ns = 0;
	atomic_store(&p->started, 0);
	atomic_store(&p->done, 0);
	atomic_store(&p->stop, 0);
	if (p->rate % 1000) /* one burst of rate / 1000 per millisecond */
		return -EINVAL;
	err = pthread_create(&p->thread, NULL, producer_main, p);
	return -err;
}

void pl_producer__stop(struct pl_producer *p)
{
	atomic_store(&p->stop, 1);
}

int pl_producer__join(struct pl_producer *p)
{
	pthread_join(p->thread, NULL);
	return p->err;
}

double pl_producer__rate(const struct pl_producer *p)
{
	uint64_t ns = p->t_end_ns - p->t_start_ns;

	return ns ? (double)p->produced * 1e9 / (double)ns : 0;
}
