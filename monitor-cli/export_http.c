// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ClickHouse over HTTP with libcurl (see export_http.h). libcurl rather than
 * libevent's evhttp client: the exporter sends from a thread of its own, so a
 * blocking client with keep-alive, timeouts, https and credentials in the URL
 * is what it needs, and libcurl is the well-kept one Debian has.
 */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_http.h"

/* How long connecting may take, and a whole request (a big batch included). */
#define CONNECT_TIMEOUT_MS 5000L
#define REQUEST_TIMEOUT_MS 60000L

struct mm_ch {
	CURL *curl;
	char *url; /* without a trailing '/' */
	long timeout_ms;
	char curl_err[CURL_ERROR_SIZE];
};

/* The start of the answer: ClickHouse's message on an error, the result on success. */
struct answer {
	char *buf;
	size_t len, cap;
};

static size_t on_answer(char *data, size_t size, size_t n, void *arg)
{
	struct answer *a = arg;
	size_t bytes = size * n, room;

	if (a->cap) {
		room = a->cap - 1 - a->len;
		if (bytes < room)
			room = bytes;
		memcpy(a->buf + a->len, data, room);
		a->len += room;
		a->buf[a->len] = '\0';
	}
	return bytes;
}

int mm_ch__global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void mm_ch__global_cleanup(void)
{
	curl_global_cleanup();
}

struct mm_ch *mm_ch__open(const char *url)
{
	struct mm_ch *ch = calloc(1, sizeof(*ch));
	size_t n;

	if (!ch)
		return NULL;
	ch->url = strdup(url);
	ch->curl = curl_easy_init();
	if (!ch->url || !ch->curl) {
		mm_ch__close(ch);
		errno = ENOMEM;
		return NULL;
	}
	ch->timeout_ms = REQUEST_TIMEOUT_MS;
	n = strlen(ch->url);
	while (n && ch->url[n - 1] == '/')
		ch->url[--n] = '\0';
	return ch;
}

void mm_ch__set_timeout(struct mm_ch *ch, long ms)
{
	ch->timeout_ms = ms > 0 ? ms : 1;
}

void mm_ch__close(struct mm_ch *ch)
{
	if (!ch)
		return;
	if (ch->curl)
		curl_easy_cleanup(ch->curl);
	free(ch->url);
	free(ch);
}

/* The first line of s, cut to fit. */
static void first_line(char *dst, size_t cap, const char *s)
{
	size_t n = strcspn(s, "\r\n");

	if (n >= cap)
		n = cap - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

int mm_ch__request(struct mm_ch *ch, const char *query, const char *body, size_t len, char *out,
		   size_t cap, char *err, size_t errlen)
{
	char msg[512] = "";
	struct answer a = { out ? out : msg, 0, out ? cap : sizeof(msg) };
	CURL *c = ch->curl;
	char *url = NULL, *escaped = NULL;
	long status = 0;
	CURLcode rc;
	int ret = -1;

	if (a.cap)
		a.buf[0] = '\0';
	if (body) {
		escaped = curl_easy_escape(c, query, 0);
		if (!escaped || asprintf(&url, "%s/?query=%s", ch->url, escaped) < 0) {
			url = NULL;
			snprintf(err, errlen, "out of memory");
			goto out;
		}
	} else if (asprintf(&url, "%s/", ch->url) < 0) {
		url = NULL;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : query);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? len : strlen(query)));
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_answer);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &a);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ch->curl_err);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
			 ch->timeout_ms < CONNECT_TIMEOUT_MS ? ch->timeout_ms : CONNECT_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, ch->timeout_ms);
	/* A thread of a process with signal handlers: no SIGALRM from name lookups. */
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	ch->curl_err[0] = '\0';
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "%s", ch->curl_err[0] ? ch->curl_err : curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		char line[300];

		first_line(line, sizeof(line), a.buf);
		snprintf(err, errlen, "HTTP %ld: %s", status, line);
		goto out;
	}
	ret = 0;
out:
	curl_free(escaped);
	free(url);
	return ret;
}
