// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * agent/kallsyms: symbol tables written by the test (unsorted, with data
 * symbols, module symbols and zero addresses), lookups at and around every
 * boundary, the kptr_restrict case, and the refresh: on an address not
 * covered, on a change of the modules file, never more than once per
 * interval. The real /proc/kallsyms is read too.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "kallsyms.h"

#define SEC 1000000000ull

static char dir[64], syms_path[96], mods_path[96];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/mm-kallsyms-XXXXXX");
	cr_assert(mkdtemp(dir) != NULL);
	snprintf(syms_path, sizeof(syms_path), "%s/kallsyms", dir);
	snprintf(mods_path, sizeof(mods_path), "%s/modules", dir);
}

static void teardown(void)
{
	unlink(syms_path);
	unlink(mods_path);
	rmdir(dir);
}

TestSuite(kallsyms, .init = setup, .fini = teardown);

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert(f != NULL);
	cr_assert(eq(int, fputs(text, f) >= 0, 1));
	cr_assert(eq(int, fclose(f), 0));
}

/* Out of order on purpose; a data symbol (D) between two functions is not one. */
static const char table_v1[] = "ffffffff81000200 T second_fn\n"
			       "ffffffff81000100 t first_fn\n"
			       "ffffffff81000180 D some_data\n"
			       "ffffffff81000300 W weak_fn\n"
			       "ffffffffc0001000 t mod_fn\t[mymod]\n"
			       "0000000000000000 A fixed_percpu_data\n";

static const char *look(struct mm_kallsyms *k, unsigned long long addr, unsigned long long now)
{
	static char buf[128];
	int n = mm_kallsyms__lookup_at(k, addr, now, buf, sizeof(buf));

	if (n < 0)
		snprintf(buf, sizeof(buf), "error %d", n);
	else
		cr_assert(eq(sz, strlen(buf), (size_t)n));
	return buf;
}

Test(kallsyms, sorted_lookup_and_boundaries)
{
	struct mm_kallsyms *k;

	write_file(syms_path, table_v1);
	write_file(mods_path, "mymod 16384 0 - Live 0x0\n");
	k = mm_kallsyms__new(syms_path, mods_path, 0);
	cr_assert(k != NULL, "%s", strerror(errno));
	cr_expect(eq(sz, mm_kallsyms__count(k), 4), "text symbols with an address only");
	cr_expect(eq(str, (char *)look(k, 0xffffffff81000100ull, 1), "first_fn+0x0"));
	cr_expect(eq(str, (char *)look(k, 0xffffffff810001abull, 1), "first_fn+0xab"),
		  "the data symbol in between is not a function");
	cr_expect(eq(str, (char *)look(k, 0xffffffff810001ffull, 1), "first_fn+0xff"));
	cr_expect(eq(str, (char *)look(k, 0xffffffff81000200ull, 1), "second_fn+0x0"));
	cr_expect(eq(str, (char *)look(k, 0xffffffff81000301ull, 1), "weak_fn+0x1"));
	cr_expect(eq(str, (char *)look(k, 0xffffffffc0001010ull, 1), "mod_fn+0x10 [mymod]"));
	cr_expect(eq(str, (char *)look(k, 0xffffffff810000ffull, 1), "error -2"),
		  "below the first symbol");
	cr_expect(eq(str, (char *)look(k, 0xffffffff81000300ull + MM_KALLSYMS_MAX_OFFSET - 1, 1),
		     "weak_fn+0xfffff"));
	cr_expect(eq(str, (char *)look(k, 0xffffffff81000300ull + MM_KALLSYMS_MAX_OFFSET, 1),
		     "error -2"),
		  "too far past the nearest symbol");
	{
		char small[8];

		cr_expect(eq(int, mm_kallsyms__lookup_at(k, 0xffffffff81000100ull, 1, small,
							 sizeof(small)),
			     -ENOSPC));
	}
	cr_expect(eq(u32, mm_kallsyms__reloads(k), 0), "the modules file never changed");
	mm_kallsyms__free(k);
}

Test(kallsyms, kptr_restrict_means_no_symbols)
{
	struct mm_kallsyms *k;

	write_file(syms_path, "0000000000000000 T _text\n0000000000000000 t ping_rcv\n");
	k = mm_kallsyms__new(syms_path, mods_path, 0); /* no modules file: none */
	cr_assert(k != NULL, "%s", strerror(errno));
	cr_expect(eq(sz, mm_kallsyms__count(k), 0));
	cr_expect(eq(str, (char *)look(k, 0xffffffff8206e0ebull, 1), "error -2"));
	mm_kallsyms__free(k);
}

Test(kallsyms, missing_table_is_an_error)
{
	errno = 0;
	cr_expect(eq(ptr, mm_kallsyms__new(syms_path, mods_path, 0), NULL));
	cr_expect(eq(int, errno, ENOENT));
}

/* A module loaded after the first read: its addresses are not covered until a re-read. */
Test(kallsyms, refresh_on_uncovered_address_at_most_once_per_interval)
{
	struct mm_kallsyms *k;
	unsigned long long t0 = 100 * SEC;

	write_file(syms_path, table_v1);
	k = mm_kallsyms__new(syms_path, mods_path, SEC);
	cr_assert(k != NULL);
	cr_expect(eq(str, (char *)look(k, 0xffffffffc1000010ull, t0), "error -2"));
	cr_expect(eq(u32, mm_kallsyms__reloads(k), 1), "the first uncovered address re-reads");

	/* newmod appears; within the interval nothing is re-read, however often asked */
	write_file(syms_path, "ffffffffc1000000 t new_fn\t[newmod]\n");
	cr_expect(eq(str, (char *)look(k, 0xffffffffc1000010ull, t0 + 1), "error -2"));
	cr_expect(eq(str, (char *)look(k, 0xffffffffc1000010ull, t0 + SEC - 1), "error -2"));
	cr_expect(eq(u32, mm_kallsyms__reloads(k), 1));
	/* one interval later it is */
	cr_expect(eq(str, (char *)look(k, 0xffffffffc1000010ull, t0 + SEC), "new_fn+0x10 [newmod]"));
	cr_expect(eq(u32, mm_kallsyms__reloads(k), 2));
	mm_kallsyms__free(k);
}

/* A module replaced at the same place: covered either way, re-read when /proc/modules changes. */
Test(kallsyms, refresh_when_the_modules_file_changes)
{
	struct mm_kallsyms *k;
	unsigned long long t0 = 100 * SEC;

	write_file(syms_path, "ffffffffc0001000 t old_fn\t[old]\n");
	write_file(mods_path, "old 16384 0 - Live 0x0\n");
	k = mm_kallsyms__new(syms_path, mods_path, SEC);
	cr_assert(k != NULL);
	cr_expect(eq(str, (char *)look(k, 0xffffffffc0001004ull, t0), "old_fn+0x4 [old]"));

	write_file(syms_path, "ffffffffc0001000 t new_fn\t[new]\n");
	cr_expect(eq(str, (char *)look(k, 0xffffffffc0001004ull, t0 + 2 * SEC), "old_fn+0x4 [old]"),
		  "same modules file: the table is kept");
	cr_expect(eq(u32, mm_kallsyms__reloads(k), 0));
	write_file(mods_path, "new 16384 0 - Live 0x0\n");
	cr_expect(eq(str, (char *)look(k, 0xffffffffc0001004ull, t0 + 2 * SEC + 1), "old_fn+0x4 [old]"),
		  "checked at most once per interval");
	cr_expect(eq(str, (char *)look(k, 0xffffffffc0001004ull, t0 + 3 * SEC), "new_fn+0x4 [new]"));
	cr_expect(eq(u32, mm_kallsyms__reloads(k), 1));
	mm_kallsyms__free(k);
}

/* The running kernel: a function found by name in /proc/kallsyms maps back to itself. */
Test(kallsyms, real_proc_kallsyms)
{
	struct mm_kallsyms *k = mm_kallsyms__new(NULL, NULL, 0);
	unsigned long long addr = 0;
	char line[256], name[128], type;
	FILE *f = fopen("/proc/kallsyms", "re");

	cr_assert(k != NULL, "%s", strerror(errno));
	cr_assert(f != NULL);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%llx %c %127s", &addr, &type, name) == 3 &&
		    !strcmp(name, "kfree_skb_list_reason"))
			break;
	fclose(f);
	cr_assert(gt(sz, mm_kallsyms__count(k), 10000), "as root the addresses are visible");
	cr_assert(not(eq(u64, addr, 0)));
	cr_expect(eq(str, (char *)look(k, addr + 4, 1), "kfree_skb_list_reason+0x4"));
	mm_kallsyms__free(k);
}
