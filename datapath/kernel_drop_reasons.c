// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Kernel drop reason names from the running kernel's BTF: enum
 * skb_drop_reason is looked up once (libbpf btf__load_vmlinux_btf), its
 * names copied into a table indexed by value, and the BTF freed.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/btf.h>

#include "kernel_drop_reasons.h"

#define MM_DROP_REASON_PREFIX "SKB_DROP_REASON_"
#define MM_DROP_REASON_MAX    4096 /* values beyond are ignored: subsystem-encoded reasons */

static char **reason_names;
static unsigned int reason_count;
static pthread_once_t reason_once = PTHREAD_ONCE_INIT;

static void reasons_load(void)
{
	const struct btf_type *t;
	const struct btf_enum *e;
	struct btf *btf;
	int id, i, n;

	btf = btf__load_vmlinux_btf();
	if (!btf)
		return;
	id = btf__find_by_name_kind(btf, "skb_drop_reason", BTF_KIND_ENUM);
	if (id < 0)
		goto out;
	t = btf__type_by_id(btf, id);
	n = btf_vlen(t);
	e = btf_enum(t);
	for (i = 0; i < n; i++)
		if ((unsigned int)e[i].val < MM_DROP_REASON_MAX &&
		    (unsigned int)e[i].val + 1 > reason_count)
			reason_count = e[i].val + 1;
	reason_names = calloc(reason_count ? reason_count : 1, sizeof(*reason_names));
	if (!reason_names) {
		reason_count = 0;
		goto out;
	}
	for (i = 0; i < n; i++) {
		const char *name = btf__name_by_offset(btf, e[i].name_off);
		unsigned int v = e[i].val;

		if (!name || v >= reason_count)
			continue;
		if (!strncmp(name, MM_DROP_REASON_PREFIX, strlen(MM_DROP_REASON_PREFIX)))
			name += strlen(MM_DROP_REASON_PREFIX);
		if (!strcmp(name, "MAX"))
			continue;
		reason_names[v] = strdup(name);
	}
out:
	btf__free(btf);
}

const char *mm_kernel_drop_reason_name(unsigned int value)
{
	pthread_once(&reason_once, reasons_load);
	if (value >= reason_count)
		return NULL;
	return reason_names[value];
}

int mm_kernel_drop_reason_value(const char *name)
{
	unsigned int v;

	pthread_once(&reason_once, reasons_load);
	if (!strncmp(name, MM_DROP_REASON_PREFIX, strlen(MM_DROP_REASON_PREFIX)))
		name += strlen(MM_DROP_REASON_PREFIX);
	for (v = 0; v < reason_count; v++)
		if (reason_names[v] && !strcmp(reason_names[v], name))
			return (int)v;
	return -ENOENT;
}
