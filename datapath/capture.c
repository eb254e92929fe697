// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Capture rules in the datapath's maps (capture.h). */
#include <errno.h>
#include <string.h>
#include <bpf/bpf.h>

#include "capture.h"

/* Set or clear slot's bit in mm_config.capture_slots. The agent is the one writer. */
static int set_slot_bit(int config_fd, __u32 slot, int on)
{
	struct mm_config cfg;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(config_fd, &zero, &cfg))
		return -errno;
	if (on)
		cfg.capture_slots |= 1u << slot;
	else
		cfg.capture_slots &= ~(1u << slot);
	if (bpf_map_update_elem(config_fd, &zero, &cfg, BPF_ANY))
		return -errno;
	return 0;
}

int mm_capture__install(int rules_fd, int config_fd, __u32 slot, const struct mm_capture_rule *r)
{
	struct mm_capture_rule rule;

	if (slot >= MM_CAPTURE_RULES_MAX || !r || !r->id || r->snaplen > MM_CAPTURE_SNAP_MAX)
		return -EINVAL;
	rule = *r;
	rule.packets = rule.bytes = rule.failed = 0;
	if (bpf_map_update_elem(rules_fd, &slot, &rule, BPF_ANY))
		return -errno;
	return set_slot_bit(config_fd, slot, 1);
}

int mm_capture__remove(int rules_fd, int config_fd, __u32 slot, struct mm_capture_rule *last)
{
	struct mm_capture_rule empty;
	int rc;

	if (slot >= MM_CAPTURE_RULES_MAX)
		return -EINVAL;
	rc = set_slot_bit(config_fd, slot, 0);
	/* No new packet takes the rule now: its counters are final (but for a
	 * program already past the bit), and emptying the slot would lose them. */
	if (last && bpf_map_lookup_elem(rules_fd, &slot, last) && !rc)
		rc = -errno;
	memset(&empty, 0, sizeof(empty));
	if (bpf_map_update_elem(rules_fd, &slot, &empty, BPF_ANY) && !rc)
		rc = -errno;
	return rc;
}

int mm_capture__read(int rules_fd, __u32 slot, struct mm_capture_rule *out)
{
	if (slot >= MM_CAPTURE_RULES_MAX || !out)
		return -EINVAL;
	if (bpf_map_lookup_elem(rules_fd, &slot, out))
		return -errno;
	return 0;
}
