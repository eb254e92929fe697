/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * How `meshmon monitor` writes its stdout (output.c). On a terminal stdout is
 * line buffered, as people watching it expect. Anywhere else (a pipe, a file)
 * a write(2) per line was most of the cost of a line, so stdout is fully
 * buffered and written when the input goes idle (monitor.c flushes it after
 * each batch read from the agent that leaves no whole frame to print), before
 * exit and when the buffer fills. `meshmon monitor --json | jq` still shows each event
 * as soon as the agent has nothing more to send.
 *
 * A buffered stream must not lose what it holds when a signal interrupts its
 * write (a reader that is slower than the agent, then Ctrl-C or SIGTERM):
 * glibc's stdio drops the whole buffer on EINTR. So the fully buffered stdout
 * is a stream of our own whose write retries EINTR, after the first stop
 * signal too; only a second one gives up what is left (a reader that never
 * reads must not hold the process forever).
 */
#ifndef MESHMON_CLI_OUTPUT_H
#define MESHMON_CLI_OUTPUT_H

#include <signal.h>
#include <stdbool.h>

/* Bytes of stdout's buffer when it is not a terminal. */
#define MM_OUTPUT_BUFFER (64 * 1024)

/*
 * Sets stdout up: line buffered on a terminal (unless `full`, for a pcap on
 * stdout), else the fully buffered stream described above, which replaces
 * stdout (glibc lets programs assign it) so every writer of stdout, the
 * error objects of --json included, shares one buffer and one order.
 * signals counts the stop signals received. 0 or -errno (stdout unchanged).
 */
int mm_output__setup(bool full, const volatile sig_atomic_t *signals);

#endif /* MESHMON_CLI_OUTPUT_H */
