// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Owns what the metrics endpoints share: listener, methods, replies, label escaping. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/buffer.h>
#include <event2/http.h>

#include "metrics_http.h"

#define ALLOWED "GET, HEAD"

struct evhttp *mm_http__listen(struct event_base *base, const char *addr_port)
{
	const char *colon = strrchr(addr_port, ':');
	struct evhttp *http;
	char host[128];
	size_t hlen;
	int port;

	if (!colon || (hlen = (size_t)(colon - addr_port)) == 0 || hlen >= sizeof(host))
		goto inval;
	memcpy(host, addr_port, hlen);
	host[hlen] = '\0';
	if (host[0] == '[' && host[hlen - 1] == ']') {
		memmove(host, host + 1, hlen - 2);
		host[hlen - 2] = '\0';
	}
	port = atoi(colon + 1);
	if (port <= 0 || port > 65535)
		goto inval;
	http = evhttp_new(base);
	if (!http) {
		errno = ENOMEM;
		return NULL;
	}
	/* Every method evhttp parses reaches the callbacks, which refuse all but GET and HEAD. */
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
					     EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
					     EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
					     EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
	if (evhttp_bind_socket(http, host, (ev_uint16_t)port)) {
		int e = errno ? errno : EADDRNOTAVAIL;

		evhttp_free(http);
		errno = e;
		return NULL;
	}
	return http;
inval:
	errno = EINVAL;
	return NULL;
}

/*
 * GET and HEAD only: anything else is answered 405 with the Allow header (RFC
 * 9110), here rather than by evhttp, which would answer 501 without one.
 * HEAD gets the headers GET would, Content-Length included, and no body.
 */
int mm_http__method_allowed(struct evhttp_request *req)
{
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evbuffer *body;

	if (cmd == EVHTTP_REQ_GET || cmd == EVHTTP_REQ_HEAD)
		return 1;
	body = evbuffer_new();
	/* Not evhttp_send_error: it clears the headers, Allow among them. */
	evhttp_add_header(h, "Allow", ALLOWED);
	evhttp_add_header(h, "Content-Type", "text/plain");
	if (body)
		evbuffer_add_printf(body, "405 method not allowed: " ALLOWED " only\n");
	evhttp_send_reply(req, 405, "Method Not Allowed", body);
	if (body)
		evbuffer_free(body);
	return 0;
}

void mm_http__reply(struct evhttp_request *req, const char *content_type, const char *text,
		    size_t len)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evbuffer *body = NULL;
	char clen[24];

	evhttp_add_header(h, "Content-Type", content_type);
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		/* evhttp writes what it is given even for HEAD: the length, without the bytes. */
		snprintf(clen, sizeof(clen), "%zu", len);
		evhttp_add_header(h, "Content-Length", clen);
	} else {
		body = evbuffer_new();
		if (!body || evbuffer_add(body, text, len)) {
			if (body)
				evbuffer_free(body);
			evhttp_send_error(req, 500, "out of memory");
			return;
		}
	}
	evhttp_send_reply(req, 200, "OK", body);
	if (body)
		evbuffer_free(body);
}

size_t mm_prom__escape_label(char *dst, size_t len, const char *v)
{
	size_t n = 0;

	for (; *v; v++) {
		char esc = *v == '\n' ? 'n' : (*v == '\\' || *v == '"') ? *v : 0;

		if (esc) {
			if (n + 1 < len)
				dst[n] = '\\';
			n++;
		}
		if (n + 1 < len)
			dst[n] = esc ? esc : *v;
		n++;
	}
	if (len)
		dst[n < len ? n : len - 1] = '\0';
	return n;
}
