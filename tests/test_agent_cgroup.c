// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * meshmon-agent end to end with a private cgroup holding the test process:
 * tcp_probe, endpoint traces and kernel drops through the agent, and SIGTERM
 * leaving no cgroup program or other kernel program behind (agent_client.h,
 * agent_fixture.h).
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "agent_client.h"
#include "agent_fixture.h"
#include "harness.h"
#include "harness_agent.h"
#include "tcp_probe.h"

TestSuite(agent_cgroup, .init = agent_setup, .fini = agent_teardown, .timeout = 120);

/* --- tcp_probe and kernel drops ---------------------------------------------- */

static struct sockaddr_in sin4(const char *addr, uint16_t port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};

	cr_assert(eq(int, inet_pton(AF_INET, addr, &sa.sin_addr), 1));
	return sa;
}

static uint16_t bound_port(int fd)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);

	cr_assert(eq(int, getsockname(fd, (struct sockaddr *)&sa, &len), 0));
	return ntohs(sa.sin_port);
}

static int ip4_is(const uint8_t *bytes, size_t len, const char *addr)
{
	struct in_addr a;

	return len == 4 && inet_pton(AF_INET, addr, &a) == 1 && !memcmp(bytes, &a, 4);
}

/* An outbound tcp_probe report of one state and ports, 10.199.0.1 -> 10.199.0.2. */
struct probe_want {
	uint32_t state;
	uint16_t sport, dport;
};

/* The index of the first such event in c's log, or -1. */
static int find_probe(const struct client *c, const struct probe_want *w)
{
	for (size_t i = 0; i < c->n_log; i++) {
		const struct ev_rec *r = &c->log[i];

		if (r->type == MESHMON__V1__EVENT_TYPE__EVENT_TYPE_TCP_PROBE &&
		    r->probe_state == w->state &&
		    r->probe_dir == MESHMON__V1__PROBE_DIRECTION__PROBE_DIRECTION_OUTBOUND &&
		    r->proto == IPPROTO_TCP && r->sport == w->sport && r->dport == w->dport &&
		    ip4_is(r->src, r->src_len, "10.199.0.1") &&
		    ip4_is(r->dst, r->dst_len, "10.199.0.2"))
			return (int)i;
	}
	return -1;
}

static int find_udp_drop(const struct client *c, uint16_t dport)
{
	for (size_t i = 0; i < c->n_log; i++) {
		const struct ev_rec *r = &c->log[i];

		if (r->type == MESHMON__V1__EVENT_TYPE__EVENT_TYPE_DROP &&
		    r->source == MESHMON__V1__SOURCE__SOURCE_KERNEL && r->proto == IPPROTO_UDP &&
		    r->dport == dport && ip4_is(r->src, r->src_len, "10.199.0.2") &&
		    ip4_is(r->dst, r->dst_len, "10.199.0.1"))
			return (int)i;
	}
	return -1;
}

Test(agent_cgroup, tcp_probe_and_kernel_drops_through_the_agent)
{
	static Meshmon__V1__EventType types[] = {MESHMON__V1__EVENT_TYPE__EVENT_TYPE_TCP_PROBE,
						 MESHMON__V1__EVENT_TYPE__EVENT_TYPE_DROP};
	const uint16_t closed_port = 39999; /* nothing listens in the private netns */
	struct client c;
	struct client *cs[] = {&c};
	struct sockaddr_in sa;
	struct probe_want open_w, closed_w;
	int lfd, cfd, afd, ufd, i_open = -1, i_closed = -1, i_drop = -1;
	uint64_t end;

	enter_private_cgroup();
	start_agent_argv("1048576", "128",
			 (const char *[]){"--cgroup", cg.path, "--kernel-drops", "on",
					  "--probe-interval", "1", NULL});
	next_types = types;
	next_n_types = 2;
	client_subscribe(&c, 0, 0);
	next_types = NULL;
	next_n_types = 0;
	c.keep = 1;
	settle(cs, 1, 300);

	/* A TCP connection from this process to a listener in the peer netns, closed. */
	lfd = mm_test_pair_socket(&pair, AF_INET, SOCK_STREAM);
	cr_assert(ge(int, lfd, 0), "socket in the peer netns: %s", strerror(-lfd));
	sa = sin4("10.199.0.2", 0);
	cr_assert(eq(int, bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0));
	cr_assert(eq(int, listen(lfd, 4), 0));
	sa = sin4("10.199.0.2", bound_port(lfd));
	cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(cfd >= 0);
	cr_assert(eq(int, connect(cfd, (struct sockaddr *)&sa, sizeof(sa)), 0), "connect: %s",
		  strerror(errno));
	afd = accept(lfd, NULL, NULL);
	cr_assert(afd >= 0);
	cr_assert(eq(sz, (size_t)write(cfd, "hello", 5), 5));
	open_w = (struct probe_want){MESHMON__V1__PROBE_STATE__PROBE_STATE_OPEN, bound_port(cfd),
				     bound_port(lfd)};
	closed_w = open_w;
	closed_w.state = MESHMON__V1__PROBE_STATE__PROBE_STATE_CLOSED;
	close(cfd);
	close(afd);
	close(lfd);

	/* A UDP datagram from the peer to a closed local port: NO_SOCKET, here. */
	ufd = mm_test_pair_socket(&pair, AF_INET, SOCK_DGRAM);
	cr_assert(ge(int, ufd, 0), "socket in the peer netns: %s", strerror(-ufd));
	sa = sin4("10.199.0.1", closed_port);
	for (int k = 0; k < 3; k++) {
		cr_assert(
		    eq(sz, (size_t)sendto(ufd, "x", 1, 0, (struct sockaddr *)&sa, sizeof(sa)), 1));
		usleep(50 * 1000);
	}
	close(ufd);

	end = now_ms() + 10000;
	while (now_ms() < end && (i_open < 0 || i_closed < 0 || i_drop < 0)) {
		client_poll(&c, 100);
		i_open = find_probe(&c, &open_w);
		i_closed = find_probe(&c, &closed_w);
		i_drop = find_udp_drop(&c, closed_port);
	}
	cr_assert(ge(int, i_open, 0), "TCP_PROBE OPEN 10.199.0.1:%u -> 10.199.0.2:%u (%zu events)",
		  open_w.sport, open_w.dport, c.n_log);
	cr_assert(ge(int, i_closed, 0), "TCP_PROBE CLOSED for the same tuple (%zu events)",
		  c.n_log);
	cr_assert(eq(u32, c.log[i_open].pid, (uint32_t)getpid()));
	cr_assert(eq(u32, c.log[i_closed].pid, (uint32_t)getpid()));
	cr_assert(eq(u32, c.log[i_open].source, MESHMON__V1__SOURCE__SOURCE_SOCKOPS));
	cr_assert(ge(int, i_drop, 0), "a kernel DROP of the UDP datagram to port %u (%zu events)",
		  closed_port, c.n_log);
	cr_assert(eq(str, c.log[i_drop].reason, "NO_SOCKET"));
	cr_assert(eq(u64, c.lost_queue, 0));
	for (size_t i = 0; i < c.n_log; i++)
		cr_assert(c.log[i].type == MESHMON__V1__EVENT_TYPE__EVENT_TYPE_TCP_PROBE ||
			      c.log[i].type == MESHMON__V1__EVENT_TYPE__EVENT_TYPE_DROP,
			  "only the subscribed types: got type %u", c.log[i].type);
	client_close(&c);
	cr_assert(eq(int, stop_agent(), 0), "SIGTERM exits 0");
}

/* --- endpoint traces ------------------------------------------------------------- */

/* The first endpoint trace at point of 127.0.0.1:sport -> 127.0.0.1:dport in c's log, or -1. */
static int find_endpoint_trace(const struct client *c, uint32_t point, uint16_t sport,
			       uint16_t dport)
{
	for (size_t i = 0; i < c->n_log; i++) {
		const struct ev_rec *r = &c->log[i];

		if (r->type == MESHMON__V1__EVENT_TYPE__EVENT_TYPE_TRACE &&
		    r->source == MESHMON__V1__SOURCE__SOURCE_CGROUP_SKB && r->point == point &&
		    r->proto == IPPROTO_TCP && r->sport == sport && r->dport == dport &&
		    ip4_is(r->src, r->src_len, "127.0.0.1") && ip4_is(r->dst, r->dst_len, "127.0.0.1"))
			return (int)i;
	}
	return -1;
}

/* A loopback connection of this process: both points reach a client with the socket's owner. */
Test(agent_cgroup, endpoint_traces_through_the_agent)
{
	static Meshmon__V1__EventType types[] = {MESHMON__V1__EVENT_TYPE__EVENT_TYPE_TRACE};
	static const uint32_t points[] = {MESHMON__V1__TRACE_POINT__TRACE_POINT_FROM_ENDPOINT,
					  MESHMON__V1__TRACE_POINT__TRACE_POINT_TO_ENDPOINT};
	struct client c;
	struct client *cs[] = {&c};
	struct sockaddr_in sa;
	struct stat st;
	int lfd, cfd, afd, found[2] = {-1, -1};
	uint16_t lport, cport;
	uint64_t end;

	enter_private_cgroup();
	cr_assert(eq(int, stat(cg.path, &st), 0));
	cr_assert(eq(int, prctl(PR_SET_NAME, "ep-agent-test", 0, 0, 0), 0));
	start_agent_argv("1048576", "128",
			 (const char *[]){"--cgroup", cg.path, "--endpoint-traces", "on", NULL});
	next_types = types;
	next_n_types = 1;
	client_subscribe(&c, 0, 0);
	next_types = NULL;
	next_n_types = 0;
	c.keep = 1;
	settle(cs, 1, 300);

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(lfd >= 0);
	sa = sin4("127.0.0.1", 0);
	cr_assert(eq(int, bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0));
	cr_assert(eq(int, listen(lfd, 4), 0));
	lport = bound_port(lfd);
	sa = sin4("127.0.0.1", lport);
	cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(cfd >= 0);
	cr_assert(eq(int, connect(cfd, (struct sockaddr *)&sa, sizeof(sa)), 0), "connect: %s",
		  strerror(errno));
	cport = bound_port(cfd);
	afd = accept(lfd, NULL, NULL);
	cr_assert(afd >= 0);
	close(cfd);
	close(afd);
	close(lfd);

	end = now_ms() + 10000;
	while (now_ms() < end && (found[0] < 0 || found[1] < 0)) {
		client_poll(&c, 100);
		for (int k = 0; k < 2; k++)
			found[k] = find_endpoint_trace(&c, points[k], cport, lport);
	}
	for (int k = 0; k < 2; k++) {
		const struct ev_rec *r;

		cr_assert(ge(int, found[k], 0), "a %s trace 127.0.0.1:%u -> :%u (%zu events)",
			  k ? "to-endpoint" : "from-endpoint", cport, lport, c.n_log);
		r = &c.log[found[k]];
		cr_expect(eq(u32, r->pid, (uint32_t)getpid()), "point %u", r->point);
		cr_expect(eq(str, (char *)r->comm, "ep-agent-test"), "point %u", r->point);
		cr_expect(eq(u64, r->cgroup_id, (uint64_t)st.st_ino), "point %u", r->point);
		cr_expect(not(eq(u64, r->socket_cookie, 0)), "point %u", r->point);
	}
	cr_expect(not(eq(u64, c.log[found[0]].socket_cookie, c.log[found[1]].socket_cookie)),
		  "the client's socket and the listener");
	client_close(&c);
	/* The packets at both points are in Status.points, from the shared counter. */
	client_status(&c);
	cr_expect(ge(u64, c.status_point_packets[MESHMON__V1__TRACE_POINT__TRACE_POINT_TO_ENDPOINT],
		     2), "to-endpoint: at least the SYN and the SYN|ACK");
	cr_expect(ge(u64, c.status_point_packets[MESHMON__V1__TRACE_POINT__TRACE_POINT_FROM_ENDPOINT],
		     2));
	cr_expect(eq(int, c.status_endpoint_traces, 1), "Status.endpoint_traces");
	client_close(&c);
	cr_assert(eq(int, stop_agent(), 0), "SIGTERM exits 0");
}

/* Programs attached directly to the cgroup dir with attach type type (bpf_prog_query). */
static uint32_t cgroup_attached(const char *dir, enum bpf_attach_type type)
{
	uint32_t ids[64], n = 64;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	cr_assert(ge(int, fd, 0), "open %s: %s", dir, strerror(errno));
	rc = bpf_prog_query(fd, type, 0, NULL, ids, &n);
	close(fd);
	cr_assert(eq(int, rc, 0), "bpf_prog_query %s type %d: %s", dir, (int)type, strerror(errno));
	return n;
}

/* The default (off): no cgroup_skb or sock_create program on the cgroup, no endpoint trace
 * for real loopback traffic and nothing counted at the points, while tcp_probe still reports. */
Test(agent_cgroup, endpoint_traces_off_attaches_nothing)
{
	static Meshmon__V1__EventType types[] = {MESHMON__V1__EVENT_TYPE__EVENT_TYPE_TRACE,
						 MESHMON__V1__EVENT_TYPE__EVENT_TYPE_TCP_PROBE};
	struct client c;
	struct client *cs[] = {&c};
	struct sockaddr_in sa;
	int lfd, cfd, afd, closed = -1;
	uint16_t lport, cport;
	uint64_t end;

	enter_private_cgroup();
	start_agent_argv("1048576", "128", (const char *[]){"--cgroup", cg.path, NULL});
	cr_assert(eq(u32, cgroup_attached(cg.path, BPF_CGROUP_SOCK_OPS), 1), "tcp_probe is on");
	cr_assert(eq(u32, cgroup_attached(cg.path, BPF_CGROUP_INET_INGRESS), 0));
	cr_assert(eq(u32, cgroup_attached(cg.path, BPF_CGROUP_INET_EGRESS), 0));
	cr_assert(eq(u32, cgroup_attached(cg.path, BPF_CGROUP_INET_SOCK_CREATE), 0));
	next_types = types;
	next_n_types = 2;
	client_subscribe(&c, 0, 0);
	next_types = NULL;
	next_n_types = 0;
	c.keep = 1;
	settle(cs, 1, 300);

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(lfd >= 0);
	sa = sin4("127.0.0.1", 0);
	cr_assert(eq(int, bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0));
	cr_assert(eq(int, listen(lfd, 4), 0));
	lport = bound_port(lfd);
	sa = sin4("127.0.0.1", lport);
	cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(cfd >= 0);
	cr_assert(eq(int, connect(cfd, (struct sockaddr *)&sa, sizeof(sa)), 0), "connect: %s",
		  strerror(errno));
	cport = bound_port(cfd);
	afd = accept(lfd, NULL, NULL);
	cr_assert(afd >= 0);
	cr_assert(eq(sz, (size_t)write(cfd, "hello", 5), 5));
	close(cfd);
	close(afd);
	close(lfd);

	/* tcp_probe's CLOSED report comes after every packet of the connection. */
	end = now_ms() + 10000;
	while (now_ms() < end && closed < 0) {
		client_poll(&c, 100);
		for (size_t i = 0; i < c.n_log && closed < 0; i++)
			if (c.log[i].type == MESHMON__V1__EVENT_TYPE__EVENT_TYPE_TCP_PROBE &&
			    c.log[i].probe_state == MESHMON__V1__PROBE_STATE__PROBE_STATE_CLOSED &&
			    c.log[i].sport == cport && c.log[i].dport == lport)
				closed = (int)i;
	}
	cr_assert(ge(int, closed, 0), "tcp_probe CLOSED 127.0.0.1:%u -> :%u (%zu events)", cport,
		  lport, c.n_log);
	client_poll(&c, 200);
	for (size_t i = 0; i < c.n_log; i++)
		cr_assert(ne(u32, c.log[i].source, MESHMON__V1__SOURCE__SOURCE_CGROUP_SKB),
			  "an endpoint trace with --endpoint-traces off (point %u)", c.log[i].point);
	client_close(&c);
	client_status(&c);
	cr_expect(eq(int, c.status_endpoint_traces, 0), "Status.endpoint_traces");
	cr_expect(eq(u64, c.status_point_packets[MESHMON__V1__TRACE_POINT__TRACE_POINT_TO_ENDPOINT],
		     0));
	cr_expect(eq(u64, c.status_point_packets[MESHMON__V1__TRACE_POINT__TRACE_POINT_FROM_ENDPOINT],
		     0));
	client_close(&c);
	cr_assert(eq(int, stop_agent(), 0), "SIGTERM exits 0");
}

/* --- BPF programs as bpftool lists them ------------------------------------- */

#define BPFTOOL	      "/usr/sbin/bpftool"
#define MAX_PROGS     8192
#define MAX_PROG_MAPS 16

struct prog {
	uint32_t id;
	char name[64];
	uint32_t maps[MAX_PROG_MAPS];
	size_t n_maps;
};

/* Every loaded program whose name starts with mm_ (meshmon's objects). */
static size_t list_mm_progs(struct prog *out, size_t cap)
{
	FILE *f = popen(BPFTOOL " prog show 2>/dev/null", "r");
	char line[1024];
	size_t n = 0;
	int cur = 0; /* the current program is kept */

	cr_assert(f != NULL);
	while (fgets(line, sizeof(line), f)) {
		unsigned int id;
		char *p;

		if (sscanf(line, "%u:", &id) == 1 && line[0] != '\t' && line[0] != ' ') {
			p = strstr(line, " name ");
			cur = 0;
			if (p && !strncmp(p + 6, "mm_", 3) && n < cap) {
				struct prog *pr = &out[n++];

				memset(pr, 0, sizeof(*pr));
				pr->id = id;
				sscanf(p + 6, "%63s", pr->name);
				cur = 1;
			}
			continue;
		}
		p = strstr(line, "map_ids ");
		if (cur && p) {
			struct prog *pr = &out[n - 1];

			p += 8;
			while (pr->n_maps < MAX_PROG_MAPS) {
				char *e;
				unsigned long v = strtoul(p, &e, 10);

				if (e == p)
					break;
				pr->maps[pr->n_maps++] = (uint32_t)v;
				if (*e != ',')
					break;
				p = e + 1;
			}
		}
	}
	pclose(f);
	return n;
}

static const struct prog *find_prog(const struct prog *v, size_t n, uint32_t id)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].id == id)
			return &v[i];
	return NULL;
}

/* The ids of the programs attached to a cgroup (directly), and bpftool's text. */
static size_t cgroup_prog_ids(const char *dir, uint32_t *ids, size_t cap, char *text,
			      size_t text_len)
{
	char cmd[700], line[512];
	FILE *f;
	size_t n = 0, used = 0;

	snprintf(cmd, sizeof(cmd), BPFTOOL " cgroup show %s 2>&1", dir);
	f = popen(cmd, "r");
	cr_assert(f != NULL);
	text[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		unsigned int id;

		if (used + strlen(line) < text_len) {
			memcpy(text + used, line, strlen(line) + 1);
			used += strlen(line);
		}
		if (sscanf(line, "%u", &id) == 1 && n < cap)
			ids[n++] = id;
	}
	pclose(f);
	return n;
}

static int has_map(const struct prog *p, const uint32_t *maps, size_t n)
{
	for (size_t i = 0; i < p->n_maps; i++)
		for (size_t j = 0; j < n; j++)
			if (p->maps[i] == maps[j])
				return 1;
	return 0;
}

Test(agent_cgroup, sigterm_leaves_no_cgroup_program_or_kernel_program_behind)
{
	struct prog *before = calloc(MAX_PROGS, sizeof(*before));
	struct prog *during = calloc(MAX_PROGS, sizeof(*during));
	struct prog *after = calloc(MAX_PROGS, sizeof(*after));
	uint32_t cg_ids[64], agent_maps[256], mine[256];
	size_t n_before, n_during, n_after, n_cg, n_maps = 0, n_mine = 0, n_kdrop = 0;
	char text[4096], cmd[256];
	uint64_t end;

	cr_assert(before && during && after);
	enter_private_cgroup();
	n_before = list_mm_progs(before, MAX_PROGS);
	start_agent_argv("1048576", "128",
			 (const char *[]){"--cgroup", cg.path, "--kernel-drops", "on", NULL});

	/* While it runs: sockops, connect4 and connect6 on the cgroup, all meshmon's. */
	n_cg = cgroup_prog_ids(cg.path, cg_ids, 64, text, sizeof(text));
	cr_assert(ge(sz, n_cg, 3), "bpftool cgroup show %s:\n%s", cg.path, text);
	n_during = list_mm_progs(during, MAX_PROGS);
	for (size_t i = 0; i < n_cg; i++) {
		const struct prog *p = find_prog(during, n_during, cg_ids[i]);

		cr_assert(p != NULL, "cgroup program %u is not an mm_ program:\n%s", cg_ids[i],
			  text);
		cr_assert(eq(int, find_prog(before, n_before, p->id) == NULL, 1));
		for (size_t m = 0; m < p->n_maps && n_maps < 256; m++)
			agent_maps[n_maps++] = p->maps[m];
	}
	cr_assert(gt(sz, n_maps, 0), "the cgroup programs use the agent's maps");
	/* The agent's programs: new since before it started, and sharing its maps (the
	 * datapath, tcp_probe and kernel drops share one events map). Agents of tests
	 * running in parallel have maps of their own. */
	for (size_t i = 0; i < n_during; i++) {
		const struct prog *p = &during[i];

		if (find_prog(before, n_before, p->id) || !has_map(p, agent_maps, n_maps))
			continue;
		cr_assert(lt(sz, n_mine, 256));
		mine[n_mine++] = p->id;
		if (!strncmp(p->name, "mm_kdrop", 8))
			n_kdrop++;
	}
	cr_assert(eq(sz, n_kdrop, 1), "one kernel drop program (mm_kdrop_btf or mm_kdrop_raw)");
	cr_assert(ge(sz, n_mine, n_cg + 2), "tc, cgroup and kernel drop programs: %zu", n_mine);

	cr_assert(eq(int, stop_agent(), 0), "SIGTERM exits 0");

	n_cg = cgroup_prog_ids(cg.path, cg_ids, 64, text, sizeof(text));
	cr_assert(eq(sz, n_cg, 0), "left on the cgroup:\n%s", text);
	cr_assert(strstr(text, "mm_") == NULL, "left on the cgroup:\n%s", text);
	for (int d = 0; d < 2; d++) {
		FILE *f;
		size_t n;

		snprintf(cmd, sizeof(cmd), "tc filter show dev %s %s 2>&1", pair.local_if,
			 d ? "egress" : "ingress");
		f = popen(cmd, "r");
		cr_assert(f != NULL);
		n = fread(text, 1, sizeof(text) - 1, f);
		text[n] = '\0';
		pclose(f);
		cr_assert(strstr(text, "bpf") == NULL && strstr(text, "mm_") == NULL ? 1 : 0,
			  "a meshmon filter is left: %s", text);
	}
	/* Program ids are not reused soon; freeing may trail the exit by a moment. */
	end = now_ms() + 3000;
	for (;;) {
		size_t left = 0;
		uint32_t first = 0;

		n_after = list_mm_progs(after, MAX_PROGS);
		for (size_t i = 0; i < n_mine; i++)
			if (find_prog(after, n_after, mine[i]) && !left++)
				first = mine[i];
		if (!left)
			break;
		cr_assert(lt(u64, now_ms(), end), "%zu of the agent's %zu programs remain (id %u)",
			  left, n_mine, first);
		usleep(100 * 1000);
	}
	free(before);
	free(during);
	free(after);
}

/* SIGKILL: every link the agent held (tc, cgroup, tracing, iterators) goes with the process. */
Test(agent_cgroup, sigkill_leaves_no_link_behind)
{
	struct mm_test_link links[32];
	size_t n_tcx = 0, n_cgroup = 0, n_tp = 0;
	char text[4096];
	int n;

	enter_private_cgroup();
	start_agent_argv("1048576", "128",
			 (const char *[]){"--cgroup", cg.path, "--kernel-drops", "on", NULL});
	n = mm_test_proc_links(agent.pid, links, 32);
	cr_assert(gt(int, n, 0), "fdinfo: %d", n);
	for (int i = 0; i < n; i++) {
		n_tcx += !strcmp(links[i].type, "tcx");
		n_cgroup += !strcmp(links[i].type, "cgroup");
		n_tp += !strcmp(links[i].type, "tracing") || !strcmp(links[i].type, "raw_tracepoint");
	}
	cr_assert(eq(sz, n_tcx, 2), "tc ingress and egress are TCX links");
	cr_assert(ge(sz, n_cgroup, 3), "sockops, connect4 and connect6 are cgroup links");
	cr_assert(eq(sz, n_tp, 2), "kfree_skb and inet_sock_set_state are links");

	mm_test_agent_kill(&agent);
	for (int i = 0; i < n; i++) {
		cr_assert(ne(int, mm_test_sh("bpftool link show id %u >/dev/null 2>&1", links[i].id),
			     0), "%s link %u outlived the agent", links[i].type, links[i].id);
		cr_assert(eq(int, mm_test_prog_exists(links[i].prog_id), 0), "program %u remains",
			  links[i].prog_id);
	}
	cr_assert(eq(sz, cgroup_prog_ids(cg.path, (uint32_t[64]){0}, 64, text, sizeof(text)), 0),
		  "left on the cgroup:\n%s", text);
}
