// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The tests' socket-layer translator (translator.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "translator.h"
#include "translator.skel.h"

struct translator {
	struct mm_test_translator *skel;
	struct bpf_link *links[3];
};

void translator_free(struct translator *t)
{
	if (!t)
		return;
	for (int i = 2; i >= 0; i--)
		bpf_link__destroy(t->links[i]);
	mm_test_translator__destroy(t->skel);
	free(t);
}

struct translator *translator_attach(const char *cgroup_path, uint16_t backend_port)
{
	return translator_attach_to(cgroup_path, NULL, NULL, backend_port);
}

struct translator *translator_attach_to(const char *cgroup_path, const char *backend4,
					const char *backend6, uint16_t backend_port)
{
	struct translator *t = calloc(1, sizeof(*t));
	int fd = -1, err = 0;

	if (!t)
		return NULL;
	t->skel = mm_test_translator__open();
	if (!t->skel)
		goto fail_errno;
	inet_pton(AF_INET, TRANSLATOR_SVC4, (void *)&t->skel->rodata->svc4);
	inet_pton(AF_INET6, TRANSLATOR_SVC6, (void *)t->skel->rodata->svc6);
	if (inet_pton(AF_INET, backend4 ? backend4 : TRANSLATOR_BACKEND4,
		      (void *)&t->skel->rodata->backend4) != 1 ||
	    inet_pton(AF_INET6, backend6 ? backend6 : TRANSLATOR_BACKEND6,
		      (void *)t->skel->rodata->backend6) != 1) {
		errno = EINVAL;
		goto fail_errno;
	}
	t->skel->rodata->svc_port = TRANSLATOR_SVC_PORT;
	t->skel->rodata->backend_port = backend_port;
	if (mm_test_translator__load(t->skel))
		goto fail_errno;
	fd = open(cgroup_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		goto fail_errno;
	t->links[0] = bpf_program__attach_cgroup(t->skel->progs.mm_test_xlate_connect4, fd);
	t->links[1] = t->links[0] ? bpf_program__attach_cgroup(t->skel->progs.mm_test_xlate_connect6, fd) : NULL;
	t->links[2] = t->links[1] ? bpf_program__attach_cgroup(t->skel->progs.mm_test_xlate_sendmsg4, fd) : NULL;
	if (!t->links[2])
		goto fail_errno;
	close(fd);
	return t;

fail_errno:
	err = errno;
	if (fd >= 0)
		close(fd);
	translator_free(t);
	errno = err;
	return NULL;
}

uint64_t translator_rewrites(const struct translator *t)
{
	return __atomic_load_n(&t->skel->bss->rewrites, __ATOMIC_RELAXED);
}
