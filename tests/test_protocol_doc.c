// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * docs/protocol.md against the real agent, read by an independent Python
 * client (tests/protocol_client.py, Debian's python3-protobuf): an Error
 * instead of the Hello (too many clients, permission denied), the 5 s
 * handshake deadline, empty requests that must be set explicitly and unknown
 * members refused, a half-closed subscriber that keeps its stream, and the
 * tuple of a real non-IP frame (ARP through the veth pair).
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_fixture.h"

#ifndef MM_PROTO_DESC
#error "MM_PROTO_DESC must name the FileDescriptorSet of proto/meshmon.proto"
#endif
#ifndef MM_PROTOCOL_CLIENT
#error "MM_PROTOCOL_CLIENT must name tests/protocol_client.py"
#endif
#define PYTHON3 "/usr/bin/python3"

TestSuite(protocol_doc, .init = agent_setup, .fini = agent_teardown, .timeout = 120);

/*
 * The client's files where uid 65534 can read them: the checkout and the
 * build tree may be in a 0700 directory (CI clones into one). The agent's
 * directory is made reachable by the test that runs as 65534.
 */
static void copy_client(char *script, char *desc, size_t cap)
{
	char cmd[2048], src_dir[512], *slash;

	snprintf(src_dir, sizeof(src_dir), "%s", MM_PROTOCOL_CLIENT);
	slash = strrchr(src_dir, '/');
	cr_assert(slash != NULL);
	*slash = '\0';
	snprintf(script, cap, "%s/protocol_client.py", agent.dir);
	snprintf(desc, cap, "%s/meshmon.desc", agent.dir);
	snprintf(cmd, sizeof(cmd), "install -m 0644 %s %s/meshmon_schema.py %s && install -m 0644 %s %s",
		 MM_PROTOCOL_CLIENT, src_dir, agent.dir, MM_PROTO_DESC, desc);
	cr_assert(eq(int, system(cmd), 0), "%s", cmd);
}

/* One check of the client, as uid (0: the test's own): its exit status; its output in out. */
static int client(const char *check, uid_t uid, char *out, size_t cap)
{
	char cmd[2048], line[512], script[512] = MM_PROTOCOL_CLIENT, desc[512] = MM_PROTO_DESC;
	FILE *p;
	int st;

	if (uid)
		copy_client(script, desc, sizeof(script));
	snprintf(cmd, sizeof(cmd), "%s" PYTHON3 " %s %s --socket %s --descriptor %s --iface %s 2>&1",
		 uid ? "setpriv --reuid=65534 --regid=65534 --clear-groups " : "", script, check,
		 agent.sock_path, desc, pair.local_if);
	p = popen(cmd, "r");
	cr_assert(p != NULL);
	out[0] = '\0';
	while (fgets(line, sizeof(line), p))
		strncat(out, line, cap - strlen(out) - 1);
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

Test(protocol_doc, empty_requests_and_unknown_members)
{
	char out[4096];

	start_agent("1048576", "128");
	cr_assert(eq(int, client("empty", 0, out, sizeof(out)), 0), "%s", out);
}

Test(protocol_doc, handshake_deadline_is_5s)
{
	char out[4096];

	start_agent("1048576", "128");
	cr_assert(eq(int, client("deadline", 0, out, sizeof(out)), 0), "%s", out);
}

Test(protocol_doc, too_many_clients_instead_of_hello)
{
	char out[4096];

	start_agent_with("1048576", "128", "--max-listeners", "2");
	cr_assert(eq(int, client("toomany", 0, out, sizeof(out)), 0), "%s", out);
}

/* uid 65534, not in the meshmon group, given a way to the socket: refused in-band. */
Test(protocol_doc, permission_denied_instead_of_hello)
{
	char out[4096], run[sizeof(agent.sock_path)];

	start_agent("1048576", "128");
	snprintf(run, sizeof(run), "%s", agent.sock_path);
	*strrchr(run, '/') = '\0';
	cr_assert(eq(int, chmod(agent.dir, 0755), 0));
	cr_assert(eq(int, chmod(run, 0755), 0));
	cr_assert(eq(int, chmod(agent.sock_path, 0666), 0));
	cr_assert(eq(int, client("perm", 65534, out, sizeof(out)), 0), "%s", out);
}

Test(protocol_doc, half_closed_subscriber_and_non_ip_tuple)
{
	char out[4096];

	start_agent("1048576", "128");
	cr_assert(eq(int, client("halfclose", 0, out, sizeof(out)), 0), "%s", out);
}
