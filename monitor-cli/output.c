// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * stdout of `meshmon monitor` (see output.h): line buffered on a terminal,
 * else a fully buffered cookie stream over fd 1 whose writes retry EINTR.
 */
#include <errno.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <unistd.h>

#include "output.h"

static const volatile sig_atomic_t *stop_signals;

/*
 * All of buf to fd 1, or 0 with errno set (what fopencookie asks of a
 * write function). A signal interrupts a blocked write with EINTR and
 * nothing written: write again, unless this is the second stop signal.
 */
static ssize_t write_stdout(void *cookie, const char *buf, size_t len)
{
	size_t off = 0;
	ssize_t n;

	(void)cookie;
	while (off < len) {
		n = write(STDOUT_FILENO, buf + off, len - off);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR && !(stop_signals && *stop_signals >= 2))
			continue;
		if (n == 0)
			errno = EIO;
		return 0;
	}
	return (ssize_t)len;
}

int mm_output__setup(bool full, const volatile sig_atomic_t *signals)
{
	static const cookie_io_functions_t io = { .write = write_stdout };
	/* glibc ignores the size unless it is given the buffer. */
	static char buf[MM_OUTPUT_BUFFER];
	FILE *f;

	stop_signals = signals;
	if (!full && isatty(STDOUT_FILENO))
		return setvbuf(stdout, NULL, _IOLBF, 0) ? -errno : 0;
	f = fopencookie(NULL, "w", io);
	if (!f)
		return -errno;
	if (setvbuf(f, buf, _IOFBF, sizeof(buf))) {
		fclose(f);
		return -ENOMEM;
	}
	/*
	 * glibc locks a new stream for every call, fputc included (it cost more
	 * than the rest of a JSON line); `meshmon` has one thread.
	 */
	__fsetlocking(f, FSETLOCKING_BYCALLER);
	/* Nothing is pending on the old stdout: errors before this were flushed. */
	fflush(stdout);
	stdout = f;
	return 0;
}
