/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The tests' own socket-layer translator (tests/bpf/translator.bpf.c) on a
 * cgroup: connects and UDP sends to the service 10.96.0.10:80 or
 * [fd00:96::10]:80 go to a backend, by default 10.199.0.2 / fd00:199::2 (the
 * harness pair's peer) at backend_port. Also loaded by the demo
 * (demo_translator.c). Helpers return NULL with errno set.
 */
#ifndef MESHMON_TEST_TRANSLATOR_H
#define MESHMON_TEST_TRANSLATOR_H

#include <stdint.h>

#define TRANSLATOR_SVC4 "10.96.0.10"
#define TRANSLATOR_SVC6 "fd00:96::10"
#define TRANSLATOR_SVC_PORT 80
#define TRANSLATOR_BACKEND4 "10.199.0.2"
#define TRANSLATOR_BACKEND6 "fd00:199::2"

struct translator;

/* Load and attach connect4, connect6 and sendmsg4 to the cgroup at path. */
struct translator *translator_attach(const char *cgroup_path, uint16_t backend_port);
/* The same with other backend addresses (text; NULL: the default of that family). */
struct translator *translator_attach_to(const char *cgroup_path, const char *backend4,
					const char *backend6, uint16_t backend_port);
/* How many connects and sends it rewrote. */
uint64_t translator_rewrites(const struct translator *t);
/* Detach and free; accepts NULL. */
void translator_free(struct translator *t);

#endif /* MESHMON_TEST_TRANSLATOR_H */
