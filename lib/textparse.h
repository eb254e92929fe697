/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Strict text parsing shared by every userspace parser of user input: the
 * deny rule parser (datapath/deny.c), the CIDR, endpoint and protocol parsers
 * beside it, the agent's flags and filters, the CLI's flags. One definition,
 * so a number means the same thing everywhere.
 */
#ifndef MESHMON_TEXTPARSE_H
#define MESHMON_TEXTPARSE_H

#include <stddef.h>
#include <stdint.h>

/*
 * A decimal number in [min, max] that uses the whole string: no sign, no
 * space, no suffix. 0, or -EINVAL (out is left alone).
 */
int mm_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/*
 * A duration as one or more <number><unit> parts, units s, m, h, d ("30s",
 * "5m", "1h30m"): 0, or -EINVAL for anything else, a zero total or a total
 * past 2^63 ns.
 */
int mm_parse_duration_ns(const char *s, uint64_t *out);

/*
 * A point in time as nanoseconds since the Unix epoch: an RFC 3339 date-time
 * ("2026-12-01T17:00:00Z", "2026-12-01T18:00:00.5+01:00"; 'T' or a space
 * between date and time; Z or a numeric offset required), or a duration
 * (mm_parse_duration_ns) meaning that long before now_ns. 0, or -EINVAL.
 */
int mm_parse_time_ns(const char *s, uint64_t now_ns, uint64_t *out);

/*
 * A listening address as --metrics takes it, "ADDR:PORT" ("[::1]:9100" for
 * IPv6): a non-empty ADDR and a port in 1..65535. 0, or -EINVAL. The
 * address itself is checked when it is bound.
 */
int mm_parse_listen_addr(const char *s);

/* Format a one-line message into err (when err and errlen allow) and return ret. */
int mm_errorf(char *err, size_t errlen, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif /* MESHMON_TEXTPARSE_H */
