// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Network namespaces for kernel tests: a private namespace for the calling
 * test process, and a veth pair whose peer end lives in a namespace held open
 * by a helper child. The child dies with the test (PR_SET_PDEATHSIG), so the
 * peer namespace and the veth never outlive a crashed test.
 *
 * Shell commands run through nsenter --net=, never `ip netns exec`, which
 * remounts /sys and hides bpffs and cgroupfs.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "harness.h"

static int link_up(const char *ifname)
{
	struct ifreq ifr;
	int fd, err = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
		err = -errno;
		goto out;
	}
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		err = -errno;
out:
	close(fd);
	return err;
}

int mm_test_private_netns(void)
{
	if (unshare(CLONE_NEWNET) < 0)
		return -errno;
	return link_up("lo");
}

static int run_argv(char *const argv[])
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static char *vformat(const char *fmt, va_list ap)
{
	char *s = NULL;

	if (vasprintf(&s, fmt, ap) < 0)
		return NULL;
	return s;
}

int mm_test_jq(const char *filter, const char *path)
{
	return mm_test_sh("jq -e -s '%s' %s >/dev/null", filter, path);
}

int mm_test_sh(const char *fmt, ...)
{
	va_list ap;
	char *cmd;
	int ret;

	va_start(ap, fmt);
	cmd = vformat(fmt, ap);
	va_end(ap);
	if (!cmd)
		return -1;
	ret = run_argv((char *const[]){ "sh", "-c", cmd, NULL });
	free(cmd);
	return ret;
}

int mm_test_pair_sh(const struct mm_test_pair *pair, const char *fmt, ...)
{
	char nsarg[96];
	va_list ap;
	char *cmd;
	int ret;

	if (!pair || pair->peer_pid <= 0)
		return -1;
	va_start(ap, fmt);
	cmd = vformat(fmt, ap);
	va_end(ap);
	if (!cmd)
		return -1;
	snprintf(nsarg, sizeof(nsarg), "--net=%s", pair->peer_ns_path);
	ret = run_argv((char *const[]){ "nsenter", nsarg, "sh", "-c", cmd, NULL });
	free(cmd);
	return ret;
}

/* The child: a new namespace with lo up, then wait to be killed. */
static void __attribute__((noreturn)) peer_main(int ready_fd, pid_t parent)
{
	char ok;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	ok = (unshare(CLONE_NEWNET) == 0 && link_up("lo") == 0) ? 'y' : 'n';
	if (write(ready_fd, &ok, 1) != 1)
		_exit(1);
	close(ready_fd);
	/* PR_SET_PDEATHSIG (checked against the race above) ends this. */
	for (;;)
		pause();
}

static void reap(pid_t pid)
{
	int status;

	kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
}

int mm_test_pair_create(struct mm_test_pair *pair)
{
	int ready[2] = { -1, -1 };
	pid_t parent = getpid(), pid;
	char ok = 0;
	int err;

	memset(pair, 0, sizeof(*pair));
	if (pipe2(ready, O_CLOEXEC) < 0) {
		err = -errno;
		goto fail_pipes;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		err = -errno;
		goto fail_pipes;
	}
	if (pid == 0) {
		close(ready[0]);
		peer_main(ready[1], parent);
	}
	close(ready[1]);
	ready[1] = -1;
	pair->peer_pid = pid;
	if (read(ready[0], &ok, 1) != 1 || ok != 'y') {
		err = -ECHILD;
		goto fail;
	}
	close(ready[0]);
	ready[0] = -1;

	snprintf(pair->peer_ns_path, sizeof(pair->peer_ns_path), "/proc/%d/ns/net", (int)pid);
	/* Unique per test process: "mmt" + pid + a/b fits in IFNAMSIZ. */
	snprintf(pair->local_if, sizeof(pair->local_if), "mmt%da", (int)parent % 10000000);
	snprintf(pair->peer_if, sizeof(pair->peer_if), "mmt%db", (int)parent % 10000000);

	if (mm_test_sh("ip link add %s type veth peer name %s netns %d", pair->local_if,
		       pair->peer_if, (int)pid) != 0 ||
	    mm_test_sh("ip addr add 10.199.0.1/24 dev %s && "
		       "ip -6 addr add fd00:199::1/64 dev %s nodad && ip link set %s up",
		       pair->local_if, pair->local_if, pair->local_if) != 0 ||
	    mm_test_pair_sh(pair,
			    "ip addr add 10.199.0.2/24 dev %s && "
			    "ip -6 addr add fd00:199::2/64 dev %s nodad && ip link set %s up",
			    pair->peer_if, pair->peer_if, pair->peer_if) != 0) {
		err = -EIO;
		goto fail;
	}
	pair->local_ifindex = (int)if_nametoindex(pair->local_if);
	if (pair->local_ifindex <= 0) {
		err = -ENODEV;
		goto fail;
	}
	/*
	 * Usable only once the veth has carrier (LOWER_UP needs both ends up) and
	 * no IPv6 address is still tentative on either side: a neighbour
	 * solicitation sent earlier is lost and a quick ping -6 fails.
	 */
	if (mm_test_sh("for i in $(seq 100); do "
		       "ip link show dev %s | grep -q LOWER_UP && "
		       "[ -z \"$(ip -6 addr show dev %s tentative)\" ] && exit 0; "
		       "sleep 0.05; done; exit 1",
		       pair->local_if, pair->local_if) != 0 ||
	    mm_test_pair_sh(pair,
			    "for i in $(seq 100); do "
			    "[ -z \"$(ip -6 addr show dev %s tentative)\" ] && exit 0; "
			    "sleep 0.05; done; exit 1",
			    pair->peer_if) != 0) {
		err = -ETIMEDOUT;
		goto fail;
	}
	return 0;

fail:
	reap(pid);
	pair->peer_pid = 0;
fail_pipes:
	for (int i = 0; i < 2; i++) {
		if (ready[i] >= 0)
			close(ready[i]);
	}
	return err;
}

void mm_test_pair_destroy(struct mm_test_pair *pair)
{
	if (!pair || pair->peer_pid <= 0)
		return;
	reap(pair->peer_pid);
	pair->peer_pid = 0;
	/* The local end goes with its peer; delete it in case it lingers. */
	if (pair->local_if[0] && if_nametoindex(pair->local_if) > 0)
		mm_test_sh("ip link del %s 2>/dev/null", pair->local_if);
}

int mm_test_pair_quiet(const struct mm_test_pair *pair)
{
	static const char local_mac[] = "02:00:00:00:98:01", peer_mac[] = "02:00:00:00:98:02";

	if (mm_test_sh("sysctl -qw net.ipv6.conf.%s.disable_ipv6=1 && "
		       "ip link set dev %s address %s && "
		       "ip neigh replace 10.199.0.2 lladdr %s dev %s nud permanent",
		       pair->local_if, pair->local_if, local_mac, peer_mac, pair->local_if) != 0 ||
	    mm_test_pair_sh(pair,
			    "sysctl -qw net.ipv6.conf.%s.disable_ipv6=1 && "
			    "ip link set dev %s address %s && "
			    "ip neigh replace 10.199.0.1 lladdr %s dev %s nud permanent",
			    pair->peer_if, pair->peer_if, peer_mac, local_mac, pair->peer_if) != 0)
		return -EIO;
	return 0;
}
