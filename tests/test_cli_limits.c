// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The CLI never builds a Subscribe the agent refuses: each repeated filter
 * flag takes up to the agent's per-field limit (proto/protocol.h) and refuses
 * one more with its usual message, and the Subscribe of every flag at its
 * limit compiles in the agent's filter (agent/filter.h).
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <string.h>

#include "filter.h"
#include "options.h"
#include "protocol.h"

_Static_assert(MM_MAX_ENDPOINTS == MM_FILTER_MAX_VALUES, "the CLI takes what the agent takes");
_Static_assert(MM_MAX_VALUES == MM_FILTER_MAX_VALUES, "the CLI takes what the agent takes");

#define FLAGS	5
#define MAXARGS (1 + 2 * FLAGS * (MM_FILTER_MAX_VALUES + 1))

static const char *const flag_names[FLAGS] = {"--from", "--to", "--related-to", "--proto",
					      "--port"};

static char values[FLAGS][MM_FILTER_MAX_VALUES + 1][24];
static char *argv[MAXARGS + 1];
static struct mm_opts o;
static char err[512];

/* Value i of flag f: distinct for every i. */
static const char *value(int f, int i)
{
	if (f < 3)
		snprintf(values[f][i], sizeof(values[f][i]), "10.%d.0.%d/32", f, i);
	else
		snprintf(values[f][i], sizeof(values[f][i]), "%d", f == 3 ? i : i + 1);
	return values[f][i];
}

/* Parses `monitor` with n[f] values of each flag f. */
static int parse_counts(const int *n)
{
	int argc = 0;

	argv[argc++] = "monitor";
	for (int f = 0; f < FLAGS; f++)
		for (int i = 0; i < n[f]; i++) {
			argv[argc++] = (char *)flag_names[f];
			argv[argc++] = (char *)value(f, i);
		}
	argv[argc] = NULL;
	return mm_opts_parse(&o, "monitor", argc, argv, err, sizeof(err));
}

Test(cli_limits, every_flag_at_the_limit_compiles_in_the_agent)
{
	int n[FLAGS] = {64, 64, 64, 64, 64};
	struct mm_subscribe_buf sb;
	struct mm_filter f;
	char ferr[256];

	cr_assert(eq(int, parse_counts(n), 0), "%s", err);
	mm_opts_subscribe(&o, &sb);
	cr_assert(eq(sz, sb.sub.n_filters, 1));
	cr_expect(eq(sz, sb.flow.filter.n_source, 64));
	cr_expect(eq(sz, sb.flow.filter.n_protocols, 64));
	cr_expect(eq(sz, sb.flow.filter.n_ports, 64));
	cr_assert(eq(int, mm_filter__compile(&f, &sb.sub, ferr, sizeof(ferr)), 0), "%s", ferr);
	mm_filter__release(&f);
}

/* Arrays, not pointers: criterion copies parameters into another process. */
struct past_case {
	int flag;
	char want[64];
};

ParameterizedTestParameters(cli_limits, one_past_the_limit)
{
	static struct past_case cases[] = {
	    {0, "--from: more than 64 endpoints"},
	    {1, "--to: more than 64 endpoints"},
	    {2, "--related-to: more than 64 endpoints"},
	    {3, "--proto: too many protocols"},
	    {4, "--port: too many ports"},
	};

	return cr_make_param_array(struct past_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct past_case *c, cli_limits, one_past_the_limit)
{
	int n[FLAGS] = {0};

	n[c->flag] = MM_FILTER_MAX_VALUES + 1;
	cr_assert(eq(int, parse_counts(n), MM_EXIT_USAGE));
	cr_expect(eq(str, err, c->want));
}
