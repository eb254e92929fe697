/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * ClickHouse's HTTP interface through libcurl (export_http.c): one
 * connection kept alive between requests, used by the exporter's sender
 * thread only. A statement is POSTed as the body; an INSERT names itself in
 * the URL's query parameter and carries its rows as the body. Credentials go
 * in the URL (http://USER:PASSWORD@HOST:8123), as curl takes them.
 */
#ifndef MESHMON_CLI_EXPORT_HTTP_H
#define MESHMON_CLI_EXPORT_HTTP_H

#include <stddef.h>

struct mm_ch;

/*
 * Once per process, before any thread starts (libcurl's global state):
 * 0 or -1.
 */
int mm_ch__global_init(void);
void mm_ch__global_cleanup(void);

/* A client of the server at url: NULL with errno set. */
struct mm_ch *mm_ch__open(const char *url);
void mm_ch__close(struct mm_ch *ch);
/* How long a whole request may take from now on, in ms (default 60 s). */
void mm_ch__set_timeout(struct mm_ch *ch, long ms);

/*
 * One request: query in the URL when body is not NULL (then body holds the
 * data), else query as the body. 0 when ClickHouse answered 200; otherwise
 * -1 with a one-line reason in err (the HTTP status and the start of
 * ClickHouse's message, or curl's error: connection refused, timeout).
 * The answer's body, up to cap - 1 bytes, goes into out when out is not NULL.
 */
int mm_ch__request(struct mm_ch *ch, const char *query, const char *body, size_t len, char *out,
		   size_t cap, char *err, size_t errlen);

#endif /* MESHMON_CLI_EXPORT_HTTP_H */
