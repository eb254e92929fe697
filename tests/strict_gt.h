/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Criterion 2.4.1 (Debian 12) has gt() pass when the two values are equal:
 * cr_expect(gt(int, 1, 1)) passes, while lt() is strict. Every test program
 * gets this header first (tests/meson.build, -include), so gt() means what it
 * says: a > b written as b < a.
 */
#ifndef MESHMON_TEST_STRICT_GT_H
#define MESHMON_TEST_STRICT_GT_H

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#undef gt
#define gt(Tag, Actual, Expected) lt(Tag, Expected, Actual)

#endif /* MESHMON_TEST_STRICT_GT_H */
