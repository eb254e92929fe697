// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The agent's HTTP endpoint (--metrics) byte for byte, through a socket of
 * the test's own (curl would hide what HEAD sends after the headers): the
 * real agent on a quiet veth pair in a private netns (cli_agent.h), metrics
 * on the namespace's loopback.
 * - GET /metrics: 200, the exposition content type, a Content-Length that is
 *   the body's, meshmon_build_info with the version and protocol,
 *   meshmon_node_info with the --node-name, and no node label on any other
 *   series;
 * - HEAD /metrics: the same status and headers, the Content-Length GET's body
 *   has, and not one byte after the headers;
 * - GET and HEAD /healthz: 200 "ok\n", HEAD without it;
 * - every other method on either path: 405 with Allow: GET, HEAD;
 * - another path: 404.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "cli_agent.h"

#define METRICS_PORT 19105
#define NODE	     "http-node.example"

static void setup(void)
{
	const char *extra[] = {"--metrics", "127.0.0.1:19105", "--node-name", NODE, NULL};

	cli_agent_prepare("metrics-http");
	cr_assert(eq(int, mm_test_pair_quiet(&pair), 0),
		  "nothing on the pair changes the counters");
	cli_agent_start_with(extra);
}

TestSuite(metrics_http, .init = setup, .fini = cli_agent_teardown, .timeout = 60);

struct response {
	char *raw; /* everything the agent sent, NUL-terminated */
	size_t len;
	const char *body; /* after the blank line */
	size_t body_len;
	int status;
};

/* One request on a new connection (Connection: close), read until the agent closes. */
static void request(const char *method, const char *path, struct response *r)
{
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(METRICS_PORT)};
	struct timeval tv = {.tv_sec = 10};
	char req[256], buf[4096];
	FILE *mem;
	int fd, n;
	ssize_t got;
	const char *end;

	memset(r, 0, sizeof(*r));
	inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(ge(int, fd, 0));
	cr_assert(eq(int, setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0));
	cr_assert(eq(int, connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0));
	n = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n",
		     method, path);
	cr_assert(eq(long, write(fd, req, (size_t)n), (long)n));
	mem = open_memstream(&r->raw, &r->len);
	cr_assert(mem != NULL);
	while ((got = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)got, mem);
	cr_assert(eq(long, got, 0L), "%s %s: the agent closed the connection", method, path);
	fclose(mem);
	close(fd);
	cr_assert(eq(int, sscanf(r->raw, "HTTP/1.1 %d ", &r->status), 1), "%s %s: %s", method, path,
		  r->raw);
	end = strstr(r->raw, "\r\n\r\n");
	cr_assert(end != NULL, "%s %s: no end of the headers", method, path);
	r->body = end + 4;
	r->body_len = r->len - (size_t)(r->body - r->raw);
}

/* The value of header name (the line "name: value"), or NULL. */
static char *header(const struct response *r, const char *name, char *buf, size_t cap)
{
	size_t n = strlen(name);

	for (const char *p = strstr(r->raw, "\r\n"); p && p < r->body; p = strstr(p + 2, "\r\n"))
		if (!strncasecmp(p + 2, name, n) && p[2 + n] == ':') {
			const char *v = p + 3 + n + strspn(p + 3 + n, " ");

			snprintf(buf, cap, "%.*s", (int)strcspn(v, "\r"), v);
			return buf;
		}
	return NULL;
}

static long content_length(const struct response *r)
{
	char buf[32];

	cr_assert(header(r, "Content-Length", buf, sizeof(buf)) != NULL, "%s", r->raw);
	return atol(buf);
}

Test(metrics_http, get_metrics_carries_build_and_node_info_only_there)
{
	struct response r;
	char ct[64];

	request("GET", "/metrics", &r);
	cr_expect(eq(int, r.status, 200));
	cr_expect(eq(str, header(&r, "Content-Type", ct, sizeof(ct)) ?: "(none)",
		     "text/plain; version=0.0.4"));
	cr_expect(eq(long, content_length(&r), (long)r.body_len));
	cr_expect(strstr(r.body, "\nmeshmon_build_info{version=\"" MESHMON_VERSION
				 "\",protocol=\"1\"} 1\n") != NULL,
		  "%s", r.body);
	cr_expect(strstr(r.body, "\nmeshmon_node_info{node_name=\"" NODE "\"} 1\n") != NULL, "%s",
		  r.body);
	/* The name is in that one series: no other line names the node. */
	cr_assert(strstr(r.body, NODE) != NULL);
	cr_expect(eq(ptr, (void *)strstr(strstr(r.body, NODE) + 1, NODE), NULL),
		  "the node name on more than meshmon_node_info");
	cr_expect(eq(ptr, (void *)strstr(r.body, "node=\""), NULL),
		  "a node label in the exposition");
	free(r.raw);
}

Test(metrics_http, head_is_get_without_the_body)
{
	struct response get, head, again;
	char a[64], b[64];

	/* Bracketed by two GETs of one length: nothing changed the body in between. */
	request("GET", "/metrics", &get);
	request("HEAD", "/metrics", &head);
	request("GET", "/metrics", &again);
	cr_assert(eq(sz, get.body_len, again.body_len),
		  "the counters moved; the pair is not quiet");
	cr_expect(eq(int, head.status, 200));
	cr_expect(eq(sz, head.body_len, 0), "HEAD sent a body: %s", head.raw);
	cr_expect(eq(long, content_length(&head), (long)get.body_len));
	cr_expect(eq(str, header(&head, "Content-Type", a, sizeof(a)) ?: "(none)",
		     header(&get, "Content-Type", b, sizeof(b)) ?: "(none of GET's)"));

	free(get.raw);
	free(again.raw);
	free(head.raw);
	request("GET", "/healthz", &get);
	cr_expect(eq(int, get.status, 200));
	cr_expect(eq(str, (char *)get.body, "ok\n"));
	request("HEAD", "/healthz", &head);
	cr_expect(eq(int, head.status, 200));
	cr_expect(eq(sz, head.body_len, 0), "HEAD /healthz sent a body: %s", head.raw);
	cr_expect(eq(long, content_length(&head), 3L));
	free(get.raw);
	free(head.raw);
}

Test(metrics_http, other_methods_405_with_allow_other_paths_404)
{
	static const char *const methods[] = {"POST", "PUT", "DELETE", "OPTIONS", "PATCH"};
	static const char *const paths[] = {"/metrics", "/healthz"};
	struct response r;
	char allow[64];

	for (size_t p = 0; p < 2; p++)
		for (size_t m = 0; m < sizeof(methods) / sizeof(methods[0]); m++) {
			request(methods[m], paths[p], &r);
			cr_expect(eq(int, r.status, 405), "%s %s", methods[m], paths[p]);
			cr_expect(eq(str, header(&r, "Allow", allow, sizeof(allow)) ?: "(none)",
				     "GET, HEAD"),
				  "%s %s", methods[m], paths[p]);
			free(r.raw);
		}
	request("GET", "/", &r);
	cr_expect(eq(int, r.status, 404));
	free(r.raw);
	request("GET", "/metricsx", &r);
	cr_expect(eq(int, r.status, 404));
	free(r.raw);
}
