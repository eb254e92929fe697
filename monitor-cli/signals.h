/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * SIGINT and SIGTERM for the streaming commands (meshmon monitor, meshmon
 * capture): the first asks the command to stop (mm_stop_requested), the
 * second also gives up output that cannot be written (mm_stop_signals reaches
 * 2, output.h). No SA_RESTART, so a blocked read() returns EINTR and the loop
 * ends; SIGPIPE is ignored (a write to a closed pipe fails with EPIPE).
 */
#ifndef MESHMON_CLI_SIGNALS_H
#define MESHMON_CLI_SIGNALS_H

#include <pthread.h>
#include <signal.h>

/* Set by SIGINT or SIGTERM, or by the command for an end it decides itself. */
extern volatile sig_atomic_t mm_stop_requested;
/* SIGINT and SIGTERM received, counted up to 2. */
extern volatile sig_atomic_t mm_stop_signals;

void mm_signals__install(void);
/*
 * Block SIGINT and SIGTERM for the rest of the process: called once the
 * command has decided to end, so a signal that arrives while the process
 * exits stays pending instead of interrupting the exit (LeakSanitizer's
 * exit-time check deadlocks when a signal lands while it has the threads
 * stopped).
 */
void mm_signals__block(void);

/*
 * pthread_create with SIGINT and SIGTERM blocked in the new thread: they are
 * the command's main thread's (its blocking read must see EINTR). 0 or
 * pthread_create's error number.
 */
int mm_signals__thread_create(pthread_t *thread, void *(*fn)(void *), void *arg);

#endif /* MESHMON_CLI_SIGNALS_H */
