// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* SIGINT and SIGTERM for the streaming commands (signals.h). */
#include <string.h>

#include "signals.h"

volatile sig_atomic_t mm_stop_requested;
volatile sig_atomic_t mm_stop_signals;

static void on_signal(int sig)
{
	(void)sig;
	mm_stop_requested = 1;
	if (mm_stop_signals < 2)
		mm_stop_signals++;
}

void mm_signals__install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

void mm_signals__block(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
}

int mm_signals__thread_create(pthread_t *thread, void *(*fn)(void *), void *arg)
{
	sigset_t block, old;
	int rc;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	rc = pthread_create(thread, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}
