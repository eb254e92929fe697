/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What `meshmon --version` and `meshmon-agent --version` print: meson's
 * project version, and `git describe` of the tree when it was built from a
 * git checkout (generated at build time; empty otherwise).
 */
#ifndef MESHMON_VERSION_H
#define MESHMON_VERSION_H

/* "0.1.0", or "0.1.0 (git 54ae7d5-dirty)". Static storage. */
const char *mm_version_string(void);

#endif /* MESHMON_VERSION_H */
