/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What every meshmon metrics endpoint shares (metrics_http.c): the listener
 * on ADDR:PORT (libevent's evhttp), the GET/HEAD-only rule (405 with Allow
 * otherwise), the 200 reply that HEAD gets without its body, and the label
 * escaping of the Prometheus text format. The agent's /metrics
 * (agent/metrics.c) and the exporter's (monitor-cli/export_metrics.c) both
 * use it. A library of its own beside lib/'s parsers: it needs libevent,
 * which lib_dep keeps out.
 */
#ifndef MESHMON_LIB_METRICS_HTTP_H
#define MESHMON_LIB_METRICS_HTTP_H

#include <stddef.h>

struct event_base;
struct evhttp;
struct evhttp_request;

/*
 * An evhttp on base listening on addr_port ("ADDR:PORT", "[::1]:9000" for
 * IPv6), every method parsed so that mm_http__method_allowed can refuse it
 * with 405. NULL with errno set (EINVAL for a bad ADDR:PORT).
 */
struct evhttp *mm_http__listen(struct event_base *base, const char *addr_port);
/* True for GET and HEAD; otherwise the request is answered 405 with Allow. */
int mm_http__method_allowed(struct evhttp_request *req);
/* 200 with text as the body, or for HEAD its headers alone. */
void mm_http__reply(struct evhttp_request *req, const char *content_type, const char *text,
		    size_t len);
/*
 * v as a label value of the exposition format (backslash, double quote and
 * newline escaped) into dst, like snprintf: the length it needs, dst always
 * terminated when len > 0.
 */
size_t mm_prom__escape_label(char *dst, size_t len, const char *v);

#endif /* MESHMON_LIB_METRICS_HTTP_H */
