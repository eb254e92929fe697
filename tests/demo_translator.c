// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * meshmon-demo-translator: part of scripts/demo.sh, not of meshmon. It plays
 * the socket load balancer (Kmesh, Cilium's socket LB) that meshmon's
 * trace-sock records report: the tests' translator (translator.h) on a
 * cgroup, rewriting connects and UDP sends to the service 10.96.0.10:80 to a
 * backend, until SIGINT or SIGTERM.
 *
 * Usage: meshmon-demo-translator CGROUP BACKEND_IPV4 BACKEND_PORT
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "translator.h"

int main(int argc, char **argv)
{
	struct translator *t;
	sigset_t stop;
	char *end;
	long port;
	int sig;

	if (argc != 4) {
		fprintf(stderr, "usage: meshmon-demo-translator CGROUP BACKEND_IPV4 BACKEND_PORT\n");
		return 2;
	}
	port = strtol(argv[3], &end, 10);
	if (*end || port < 1 || port > 65535) {
		fprintf(stderr, "meshmon-demo-translator: bad port '%s'\n", argv[3]);
		return 2;
	}
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigprocmask(SIG_BLOCK, &stop, NULL);
	t = translator_attach_to(argv[1], argv[2], NULL, (uint16_t)port);
	if (!t) {
		fprintf(stderr, "meshmon-demo-translator: on %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	fprintf(stderr, "demo translator: %s:%d -> %s:%ld on %s\n", TRANSLATOR_SVC4,
		TRANSLATOR_SVC_PORT, argv[2], port, argv[1]);
	sigwait(&stop, &sig);
	translator_free(t);
	return 0;
}
