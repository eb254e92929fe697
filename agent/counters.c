// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Point and drop counters for Status and /metrics (counters.h). */
#include <stdio.h>
#include <string.h>

#include "counters.h"
#include "names.h"

static void add_points(struct mm_counters *c, const struct mm_traffic_counter *traffic)
{
	for (unsigned int p = 1; p < MM_TRAFFIC_POINTS; p++) {
		struct mm_point_count pc = {.point = p};

		if (!mm_trace_point_name(p))
			continue;
		for (unsigned int r = 0; traffic && r < MM_TRAFFIC_REASONS; r++) {
			pc.packets += traffic[MM_TRAFFIC_INDEX(p, r)].packets;
			pc.bytes += traffic[MM_TRAFFIC_INDEX(p, r)].bytes;
		}
		if (p == MM_POINT_FROM_NETWORK || p == MM_POINT_TO_NETWORK || pc.packets)
			c->points[c->n_points++] = pc;
	}
}

static void add_drop(struct mm_counters *c, unsigned int source, uint32_t code, const char *name,
		     const struct mm_traffic_counter *n)
{
	struct mm_drop_count *d = &c->drops[c->n_drops++];

	d->source = source;
	d->reason_code = code;
	if (name)
		snprintf(d->reason, sizeof(d->reason), "%s", name);
	else
		snprintf(d->reason, sizeof(d->reason), "%u", code);
	d->packets = n->packets;
	d->bytes = n->bytes;
}

void mm_counters__collect(struct mm_counters *c, const struct mm_traffic_counter *traffic,
			  const struct mm_traffic_counter *kernel,
			  const char *(*kernel_name)(unsigned int reason))
{
	memset(c, 0, sizeof(*c));
	add_points(c, traffic);
	for (unsigned int r = 1; traffic && r < MM_TRAFFIC_REASONS; r++) {
		struct mm_traffic_counter sum = {0, 0};

		for (unsigned int p = 0; p < MM_TRAFFIC_POINTS; p++) {
			sum.packets += traffic[MM_TRAFFIC_INDEX(p, r)].packets;
			sum.bytes += traffic[MM_TRAFFIC_INDEX(p, r)].bytes;
		}
		if (sum.packets)
			add_drop(c, MM_SOURCE_TC, r, mm_drop_reason_name(r), &sum);
	}
	for (unsigned int r = 0; kernel && r < MM_KDROP_REASON_SLOTS; r++)
		if (kernel[r].packets)
			add_drop(c, MM_SOURCE_KERNEL, r, kernel_name ? kernel_name(r) : NULL,
				 &kernel[r]);
	if (kernel && kernel[MM_KDROP_OVERFLOW_SLOT].packets)
		add_drop(c, MM_SOURCE_KERNEL, MM_KDROP_OVERFLOW_CODE, MM_KDROP_OVERFLOW_NAME,
			 &kernel[MM_KDROP_OVERFLOW_SLOT]);
}
