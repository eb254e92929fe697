/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Debian's clickhouse-server as a child of a test or a benchmark
 * (clickhouse.c, harness_clickhouse_dep), for `meshmon export clickhouse`:
 * a private temp directory holds its config, users and data; it listens on
 * 127.0.0.1 only (HTTP on port, the native protocol on port + 1 for a
 * one-shard cluster "fleet" of itself, no interserver port), so run it in a
 * private network namespace and the ports never collide. The process is
 * handled as the agent is (harness_agent.h: SIGKILLed when the test dies,
 * the directory removed by cleanup). Queries go over the HTTP interface
 * through libcurl, the client the exporter uses.
 */
#ifndef MESHMON_TEST_HARNESS_CLICKHOUSE_H
#define MESHMON_TEST_HARNESS_CLICKHOUSE_H

#include <stddef.h>
#include <stdint.h>

#include "harness_agent.h"

#define MM_TEST_CH_SERVER "/usr/sbin/clickhouse-server"

struct mm_test_ch {
	struct mm_test_agent proc; /* the server process, its directory and log */
	int port;
	char url[64]; /* http://127.0.0.1:PORT */
};

/*
 * Writes the config into a new temp directory (tag names it), starts the
 * server on 127.0.0.1:port (and port + 1) and waits until it answers /ping (30 s at most).
 * 0 or -errno (-ETIMEDOUT; -ECHILD when it exited: see ch->proc.log_path).
 */
int mm_test_ch_start(struct mm_test_ch *ch, const char *tag, int port);
/* SIGTERM and wait (SIGKILL after 20 s): the server is down, its data kept. */
void mm_test_ch_stop(struct mm_test_ch *ch);
/* Starts it again on the same directory and port, and waits as mm_test_ch_start. */
int mm_test_ch_restart(struct mm_test_ch *ch);
/* Kill a server still running and remove the directory. Safe on a zeroed struct. */
void mm_test_ch_cleanup(struct mm_test_ch *ch);

/*
 * One statement; its answer (TabSeparated by default) in out, cut to cap - 1
 * bytes. 0, or -EIO with ClickHouse's error (or curl's) in out.
 */
int mm_test_ch_query(const struct mm_test_ch *ch, const char *sql, char *out, size_t cap);
/* A statement whose answer is one number: 0 with *v set, else -EIO. */
int mm_test_ch_u64(const struct mm_test_ch *ch, const char *sql, uint64_t *v);

#endif /* MESHMON_TEST_HARNESS_CLICKHOUSE_H */
