/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the agent says about itself: the Status message a client asks for and
 * the numbers behind each /metrics scrape. Both read the datapath's loss
 * counters first, so they are at most one read old.
 */
#ifndef MESHMON_AGENT_REPORT_H
#define MESHMON_AGENT_REPORT_H

#include "metrics.h"

struct bufferevent;

/* mm_server_opts.send_status, ctx a struct mm_agent: 0 or -errno. */
int mm_report__send_status(void *ctx, struct bufferevent *bev);
/* mm_metrics_snapshot_fn, ctx a struct mm_agent. */
void mm_report__metrics_snapshot(void *ctx, struct mm_metrics_snapshot *s);

#endif /* MESHMON_AGENT_REPORT_H */
