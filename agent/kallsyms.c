// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Kernel text symbols from /proc/kallsyms, sorted, looked up and refreshed (kallsyms.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kallsyms.h"

struct mm_ksym {
	uint64_t addr;
	uint32_t name; /* offset into the name pool */
	uint32_t line; /* order in the file: ties keep it */
};

struct mm_kallsyms {
	char *kallsyms_path, *modules_path;
	uint64_t refresh_ns;
	uint64_t checked_ns; /* the last refresh check (0: none yet) */
	uint64_t modules_hash;
	unsigned int reloads;
	struct mm_ksym *syms;
	size_t n;
	char *pool;
};

/* FNV-1a of the modules file; a missing file hashes as empty. */
static uint64_t modules_hash(const char *path)
{
	uint64_t h = 1469598103934665603ull;
	unsigned char buf[4096];
	FILE *f = fopen(path, "re");
	size_t got;

	if (!f)
		return h;
	while ((got = fread(buf, 1, sizeof(buf), f)) > 0)
		for (size_t i = 0; i < got; i++)
			h = (h ^ buf[i]) * 1099511628211ull;
	fclose(f);
	return h;
}

static int is_text(char type)
{
	return type == 't' || type == 'T' || type == 'w' || type == 'W';
}

static int by_addr(const void *a, const void *b)
{
	const struct mm_ksym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

struct table {
	struct mm_ksym *syms;
	size_t n, cap;
	char *pool;
	size_t pool_len, pool_cap;
};

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t c = *cap ? *cap : 1024;
	void *q;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	q = realloc(*p, c * elem);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = c;
	return 0;
}

/*
 * One line, "ffffffff81000000 T name" or "... t name\t[module]": a text
 * symbol with a non-zero address is added as "name" or "name [module]".
 */
static int add_line(struct table *t, char *line, uint32_t lineno)
{
	char *end, *name, *tab;
	uint64_t addr = strtoull(line, &end, 16);
	size_t len;

	if (end == line || end[0] != ' ' || !end[1] || end[2] != ' ' || !is_text(end[1]) || !addr)
		return 0;
	name = end + 3;
	name[strcspn(name, "\n")] = '\0';
	tab = strchr(name, '\t');
	if (tab)
		*tab = ' ';
	len = strlen(name);
	if (!len || t->pool_len + len + 1 > UINT32_MAX)
		return 0;
	if (grow((void **)&t->syms, &t->cap, t->n + 1, sizeof(*t->syms)) ||
	    grow((void **)&t->pool, &t->pool_cap, t->pool_len + len + 1, 1))
		return -ENOMEM;
	memcpy(t->pool + t->pool_len, name, len + 1);
	t->syms[t->n++] = (struct mm_ksym){addr, (uint32_t)t->pool_len, lineno};
	t->pool_len += len + 1;
	return 0;
}

/* Read the table into k, replacing the old one only when the read succeeds. */
static int load(struct mm_kallsyms *k)
{
	struct table t = {0};
	char *line = NULL;
	size_t cap = 0;
	uint32_t lineno = 0;
	uint64_t hash = modules_hash(k->modules_path);
	FILE *f = fopen(k->kallsyms_path, "re");
	int rc = 0;

	if (!f)
		return -errno;
	while (!rc && getline(&line, &cap, f) > 0)
		rc = add_line(&t, line, lineno++);
	if (!rc && ferror(f))
		rc = -EIO;
	free(line);
	fclose(f);
	if (rc) {
		free(t.syms);
		free(t.pool);
		return rc;
	}
	if (t.n) /* no table at all when every address read 0 (kptr_restrict) */
		qsort(t.syms, t.n, sizeof(*t.syms), by_addr);
	free(k->syms);
	free(k->pool);
	k->syms = t.syms;
	k->n = t.n;
	k->pool = t.pool;
	k->modules_hash = hash;
	return 0;
}

struct mm_kallsyms *mm_kallsyms__new(const char *kallsyms_path, const char *modules_path,
				     uint64_t refresh_ns)
{
	struct mm_kallsyms *k = calloc(1, sizeof(*k));
	int rc = -ENOMEM;

	if (!k)
		return NULL;
	k->kallsyms_path = strdup(kallsyms_path ? kallsyms_path : "/proc/kallsyms");
	k->modules_path = strdup(modules_path ? modules_path : "/proc/modules");
	k->refresh_ns = refresh_ns ? refresh_ns : MM_KALLSYMS_REFRESH_NS;
	if (k->kallsyms_path && k->modules_path)
		rc = load(k);
	if (rc) {
		mm_kallsyms__free(k);
		errno = -rc;
		return NULL;
	}
	return k;
}

void mm_kallsyms__free(struct mm_kallsyms *k)
{
	if (!k)
		return;
	free(k->syms);
	free(k->pool);
	free(k->kallsyms_path);
	free(k->modules_path);
	free(k);
}

size_t mm_kallsyms__count(const struct mm_kallsyms *k)
{
	return k->n;
}

unsigned int mm_kallsyms__reloads(const struct mm_kallsyms *k)
{
	return k->reloads;
}

/* The last symbol at or below addr within MM_KALLSYMS_MAX_OFFSET, or NULL. */
static const struct mm_ksym *find(const struct mm_kallsyms *k, uint64_t addr)
{
	size_t lo = 0, hi = k->n; /* the answer is below hi */

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (k->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || addr - k->syms[lo - 1].addr >= MM_KALLSYMS_MAX_OFFSET)
		return NULL;
	return &k->syms[lo - 1];
}

int mm_kallsyms__lookup_at(struct mm_kallsyms *k, uint64_t addr, uint64_t now_ns, char *buf,
			   size_t len)
{
	const struct mm_ksym *s = find(k, addr);
	const char *name, *module;
	int n;

	if (!k->checked_ns || now_ns - k->checked_ns >= k->refresh_ns) {
		k->checked_ns = now_ns;
		/* A failed re-read keeps the old table. */
		if ((!s || modules_hash(k->modules_path) != k->modules_hash) && !load(k)) {
			k->reloads++;
			s = find(k, addr);
		}
	}
	if (!s)
		return -ENOENT;
	name = k->pool + s->name;
	module = strchr(name, ' ');
	if (module)
		n = snprintf(buf, len, "%.*s+0x%llx%s", (int)(module - name), name,
			     (unsigned long long)(addr - s->addr), module);
	else
		n = snprintf(buf, len, "%s+0x%llx", name, (unsigned long long)(addr - s->addr));
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	return n;
}

int mm_kallsyms__lookup(void *k, uint64_t addr, char *buf, size_t len)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return mm_kallsyms__lookup_at(k, addr, (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec,
				      buf, len);
}
