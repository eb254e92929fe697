// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The agent's preflight: everything that can make a start fail is checked
 * before anything is loaded or attached, so that a start that cannot
 * succeed (a typo in --iface, a second agent on the same socket, a bad
 * --cgroup) never touches what is running. Nothing here changes the host.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "log.h"
#include "server.h"
#include "tcp_probe.h"

static int check_ifaces(struct mm_agent *a)
{
	for (size_t i = 0; i < a->opts.n_ifaces; i++) {
		a->ifindex[i] = (int)if_nametoindex(a->opts.ifaces[i]);
		if (!a->ifindex[i]) {
			mm_log("--iface %s: no such interface (see `ip link`)", a->opts.ifaces[i]);
			return -ENODEV;
		}
	}
	return 0;
}

/* tcp_probe's cgroup: --cgroup PATH, or the root of the cgroup v2 hierarchy. */
static int check_cgroup(struct mm_agent *a)
{
	int rc = 0;

	if (!a->opts.tcp_probe)
		return 0;
	if (a->opts.cgroup)
		snprintf(a->cgroup_path, sizeof(a->cgroup_path), "%s", a->opts.cgroup);
	else
		rc = mm_cgroup2_root(a->cgroup_path, sizeof(a->cgroup_path));
	if (rc) {
		mm_log("tcp_probe: no cgroup v2 hierarchy mounted (%s); use --cgroup PATH or "
		       "--cgroup none",
		       strerror(-rc));
		return rc;
	}
	rc = mm_cgroup2_check(a->cgroup_path);
	if (rc) {
		mm_log("--cgroup %s: %s; give a cgroup v2 directory, or --cgroup none", a->cgroup_path,
		       rc == -EMEDIUMTYPE ? "not a cgroup v2 directory" : strerror(-rc));
		a->cgroup_path[0] = '\0';
	}
	return rc;
}

/*
 * Status carries the interface names and the cgroup path as strings, which
 * must be valid UTF-8; Linux allows any bytes in both, so keep sanitized
 * copies to show (the real names are what the agent attaches to).
 */
static void names_to_show(struct mm_agent *a)
{
	for (size_t i = 0; i < a->opts.n_ifaces; i++) {
		mm_utf8_sanitize(a->iface_shown[i], sizeof(a->iface_shown[i]), a->opts.ifaces[i],
				 strlen(a->opts.ifaces[i]));
		a->iface_shown_list[i] = a->iface_shown[i];
	}
	mm_utf8_sanitize(a->cgroup_shown, sizeof(a->cgroup_shown), a->cgroup_path,
			 strlen(a->cgroup_path));
}

int mm_agent__preflight(struct mm_agent *a)
{
	char err[256];
	int rc;

	rc = check_ifaces(a);
	if (rc)
		return rc;
	rc = mm_server__check_path(a->opts.socket_path, err, sizeof(err));
	if (rc) {
		mm_log("%s", err);
		return rc;
	}
	rc = check_cgroup(a);
	names_to_show(a);
	return rc;
}
