/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The line every benchmark starts with, so that figures carry the machine
 * they were measured on: "machine: N CPUs online (MODEL), kernel ...".
 */
#ifndef MESHMON_BENCH_MACHINE_H
#define MESHMON_BENCH_MACHINE_H

void mm_bench_print_machine(void);

#endif /* MESHMON_BENCH_MACHINE_H */
