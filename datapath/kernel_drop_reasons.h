/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Names of the running kernel's enum skb_drop_reason, read from its BTF
 * (/sys/kernel/btf/vmlinux) once and cached: the values differ between
 * kernels, so they are never compiled in. Names lose the SKB_DROP_REASON_
 * prefix ("NO_SOCKET"); the two non-drop values keep their own names
 * ("SKB_NOT_DROPPED_YET", "SKB_CONSUMED").
 */
#ifndef MESHMON_KERNEL_DROP_REASONS_H
#define MESHMON_KERNEL_DROP_REASONS_H

/* NULL when the value is unknown or the BTF cannot be read. Thread-safe. */
const char *mm_kernel_drop_reason_name(unsigned int value);
/* The value of a name (with or without the prefix), or -ENOENT. */
int mm_kernel_drop_reason_value(const char *name);

#endif /* MESHMON_KERNEL_DROP_REASONS_H */
