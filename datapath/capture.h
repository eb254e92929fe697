/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Capture rules, userspace side: writing, reading and clearing one slot of
 * the mm_capture_rules array (capture.bpf.h) together with its bit in
 * mm_config.capture_slots, in the order that keeps the tc programs from ever
 * seeing half a rule: a rule is written before its bit is set, and its bit
 * cleared before the slot is emptied.
 *
 * Errors: 0 or a negative errno.
 */
#ifndef MESHMON_CAPTURE_H
#define MESHMON_CAPTURE_H

#include "config.h"

/* Install r (r->id != 0) in slot (< MM_CAPTURE_RULES_MAX), counters zeroed. */
int mm_capture__install(int rules_fd, int config_fd, __u32 slot, const struct mm_capture_rule *r);
/*
 * Clear slot's bit, then the slot itself; last (NULL: not wanted) gets the
 * rule as it was between the two, its final counters included.
 */
int mm_capture__remove(int rules_fd, int config_fd, __u32 slot, struct mm_capture_rule *last);
/* The rule in slot as the datapath has it, counters included. */
int mm_capture__read(int rules_fd, __u32 slot, struct mm_capture_rule *out);

#endif /* MESHMON_CAPTURE_H */
