// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Captures on demand end to end: the real agent on a veth pair, real
 * traffic, CaptureRequests from a minimal client (agent_client.h). A capture
 * gets exactly its own packets, whole; its budget of packets, bytes or
 * seconds ends it with CaptureEnded; a client that leaves takes its rule out
 * of the datapath's map; bad requests and one capture too many get a clear
 * Error.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <dirent.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "agent_client.h"
#include "agent_fixture.h"
#include "config.h"
#include "harness.h"
#include "harness_agent.h"

TestSuite(agent_capture, .init = agent_setup, .fini = agent_teardown, .timeout = 180);

#define END(x) MESHMON__V1__CAPTURE_END_REASON__CAPTURE_END_REASON_##x
#define PEER "10.199.0.2"

static uint8_t peer_addr[4];

/* A capture request and what it points to. */
struct flow_req {
	Meshmon__V1__CaptureRequest req;
	Meshmon__V1__FlowFilter ff;
	Meshmon__V1__Endpoint ep, *epp;
	uint32_t proto;
};

/* A request for the flow with the peer on port (either side), of proto (0: any), snaplen bytes. */
static void flow_request(struct flow_req *f, uint32_t proto, uint32_t port, uint32_t snaplen)
{
	meshmon__v1__capture_request__init(&f->req);
	meshmon__v1__flow_filter__init(&f->ff);
	meshmon__v1__endpoint__init(&f->ep);
	inet_pton(AF_INET, PEER, peer_addr);
	f->ep.address.data = peer_addr;
	f->ep.address.len = 4;
	f->ep.prefix_len = 32;
	f->ep.port = port;
	f->epp = &f->ep;
	f->ff.n_either = 1;
	f->ff.either = &f->epp;
	f->proto = proto;
	if (proto) {
		f->ff.n_protocols = 1;
		f->ff.protocols = &f->proto;
	}
	f->req.filter = &f->ff;
	f->req.snaplen = snaplen;
}

static void wait_started(struct client *c)
{
	for (int i = 0; i < 150 && !c->capture_started && !c->error_code; i++)
		client_poll(c, 20);
	cr_assert(c->capture_started, "CaptureStarted (error %u: %s)", c->error_code,
		  c->error_message);
}

static void wait_ended(struct client *c, int ms)
{
	for (int i = 0; i < ms / 20 && !c->eof; i++)
		client_poll(c, 20);
	cr_assert(c->capture_ended, "CaptureEnded");
	cr_assert(c->eof, "the stream ends after CaptureEnded");
}

static void wait_error(struct client *c)
{
	for (int i = 0; i < 150 && !c->eof; i++)
		client_poll(c, 20);
	cr_assert(eq(u32, c->error_code, MESHMON__V1__ERROR_CODE__ERROR_CODE_INVALID_SUBSCRIPTION),
		  "error %u: %s", c->error_code, c->error_message);
	cr_assert(eq(int, c->capture_started, 0));
}

static uint32_t status_captures(void)
{
	struct client st = {.fd = -1};
	uint32_t n;

	client_status(&st);
	n = st.status_capture_rules;
	cr_expect(eq(u32, st.status_capture_rules_max, MM_CAPTURE_RULES_MAX));
	client_close(&st);
	return n;
}

/* The TCP payload of an Ethernet/IPv4/TCP frame toward dport, or 0 bytes. */
static size_t tcp_payload_to(const struct cap_frame *f, uint16_t dport, const uint8_t **out)
{
	const uint8_t *ip = f->data + 14, *tcp;
	size_t ihl, doff, total;

	cr_assert(gt(sz, f->len, 14 + 20));
	if (ip[9] != IPPROTO_TCP)
		return 0;
	ihl = (size_t)(ip[0] & 0xf) * 4;
	total = ((size_t)ip[2] << 8) | ip[3];
	tcp = ip + ihl;
	cr_assert(ge(sz, f->len, 14 + total), "the whole packet is captured");
	if ((((uint16_t)tcp[2] << 8) | tcp[3]) != dport)
		return 0;
	doff = (size_t)(tcp[12] >> 4) * 4;
	*out = tcp + doff;
	return total - ihl - doff;
}

/* Whether the frame's TCP or UDP ports include port. */
static int frame_has_port(const struct cap_frame *f, uint16_t port)
{
	const uint8_t *ip = f->data + 14, *l4 = ip + (size_t)(ip[0] & 0xf) * 4;

	return (((uint16_t)l4[0] << 8) | l4[1]) == port || (((uint16_t)l4[2] << 8) | l4[3]) == port;
}

Test(agent_capture, one_flow_whole_while_others_run)
{
	struct flow_req fr;
	struct client cap = {.fd = -1}, sub = {.fd = -1};
	struct client *cs[] = {&cap, &sub};
	char *sent = NULL, *got, path[512];
	size_t sent_len = 0, got_len = 0;
	FILE *f;

	/*
	 * One segment per skb, as on the wire (no GSO super-packets), and frames
	 * of at most 1,414 bytes: each fits the 1,500-byte snap length whole.
	 */
	cr_assert(eq(int, mm_test_sh("ip link set %s mtu 1400 gso_max_segs 1", pair.local_if), 0));
	start_agent("4194304", "128");
	flow_request(&fr, IPPROTO_TCP, 7001, 1500);
	client_capture(&cap, &fr.req);
	wait_started(&cap);
	cr_expect(eq(u32, cap.capture_snaplen, 1500));
	cr_expect(eq(u32, status_captures(), 1));
	client_subscribe(&sub, 0, 0);
	settle(cs, 2, 200);

	cr_assert(eq(int,
		     mm_test_pair_sh(&pair, "(timeout 20 nc -l 7001 >/dev/null &) ; "
					    "(timeout 20 nc -l 7002 >/dev/null &)"),
		     0));
	usleep(300 * 1000);
	/* 20,000 bytes of text to 7001, the same to 7002, pings meanwhile */
	cr_assert(eq(int, mm_test_sh("seq 1 3889 > %s/flow.txt", agent.dir), 0));
	cr_assert(eq(int,
		     mm_test_sh("ping -c 3 -i 0.1 -q " PEER " >/dev/null & "
				"nc -N -w 5 " PEER " 7002 < %s/flow.txt & "
				"nc -N -w 5 " PEER " 7001 < %s/flow.txt; wait",
				agent.dir, agent.dir),
		     0));
	settle(cs, 2, 1500);

	cr_assert(gt(sz, cap.n_frames, 10));
	got = malloc(cap.n_frames * 1500);
	cr_assert(got != NULL);
	for (size_t i = 0; i < cap.n_frames; i++) {
		const uint8_t *pl = NULL;
		size_t n;

		cr_assert(eq(u32, cap.frames[i].rule_id, cap.capture_rule));
		cr_assert(frame_has_port(&cap.frames[i], 7001), "frame %zu is not of the flow", i);
		cr_assert(eq(sz, cap.frames[i].len, cap.frames[i].len_orig), "whole under 1500");
		/* the payload once, as it leaves toward the peer */
		if (cap.frames[i].point != MESHMON__V1__TRACE_POINT__TRACE_POINT_TO_NETWORK)
			continue;
		n = tcp_payload_to(&cap.frames[i], 7001, &pl);
		memcpy(got + got_len, pl, n);
		got_len += n;
	}
	snprintf(path, sizeof(path), "%s/flow.txt", agent.dir);
	f = fopen(path, "r");
	cr_assert(f != NULL);
	sent = malloc(65536);
	sent_len = fread(sent, 1, 65536, f);
	fclose(f);
	cr_expect(eq(sz, got_len, sent_len));
	cr_expect(eq(int, memcmp(got, sent, sent_len < got_len ? sent_len : got_len), 0),
		  "the captured payload is what was sent");
	cr_expect(eq(sz, sub.n_frames, 0), "a subscriber gets no capture event");
	cr_expect(gt(u64, sub.tcp, 0), "the subscriber still gets its traces");
	cr_expect(eq(u64, cap.lost_capture, 0));
	free(got);
	free(sent);
	client_close(&cap);
	client_close(&sub);
	cr_assert(eq(int, stop_agent(), 0));
}

/* The agent's mm_capture_rules map, found through its fds: -1 when it has none. */
static int agent_rules_map(void)
{
	char dir[64], path[512], line[256];
	struct dirent *d;
	DIR *dp;
	int found = -1;

	snprintf(dir, sizeof(dir), "/proc/%d/fdinfo", (int)agent.pid);
	dp = opendir(dir);
	cr_assert(dp != NULL);
	while (found < 0 && (d = readdir(dp))) {
		unsigned int id = 0;
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f))
			sscanf(line, "map_id: %u", &id);
		fclose(f);
		if (id) {
			struct bpf_map_info info = {0};
			__u32 len = sizeof(info);
			int fd = bpf_map_get_fd_by_id(id);

			if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len) &&
			    !strncmp(info.name, "mm_capture_rul", 14))
				found = fd;
			else if (fd >= 0)
				close(fd);
		}
	}
	closedir(dp);
	return found;
}

static size_t rules_in_map(int fd)
{
	size_t n = 0;

	for (__u32 slot = 0; slot < MM_CAPTURE_RULES_MAX; slot++) {
		struct mm_capture_rule r;

		cr_assert(eq(int, bpf_map_lookup_elem(fd, &slot, &r), 0));
		n += r.id != 0;
	}
	return n;
}

/* 0 when the agent's /metrics (port 19131) has the line "name value". */
static int metric_is(const char *name, unsigned int value)
{
	return mm_test_sh("curl -sf http://127.0.0.1:19131/metrics | grep -qx '%s %u'", name, value);
}

Test(agent_capture, a_client_that_leaves_takes_its_rule_out)
{
	struct flow_req fr;
	struct client cap = {.fd = -1};
	int fd;

	start_agent_with("1048576", "128", "--metrics", "127.0.0.1:19131");
	fd = agent_rules_map();
	cr_assert(ge(int, fd, 0), "the agent's capture rule map");
	cr_assert(eq(sz, rules_in_map(fd), 0));
	flow_request(&fr, 0, 0, 0);
	client_capture(&cap, &fr.req);
	wait_started(&cap);
	cr_expect(eq(u32, cap.capture_snaplen, MM_CAPTURE_SNAP_MAX), "0: the maximum");
	cr_assert(eq(sz, rules_in_map(fd), 1));
	cr_assert(eq(int, metric_is("meshmon_capture_rules", 1), 0));
	client_close(&cap);
	for (int i = 0; i < 150 && rules_in_map(fd); i++)
		usleep(20 * 1000);
	cr_expect(eq(sz, rules_in_map(fd), 0), "the slot is empty once the client left");
	cr_expect(eq(u32, status_captures(), 0));
	cr_expect(eq(int, metric_is("meshmon_capture_rules", 0), 0));
	close(fd);
	cr_assert(eq(int, stop_agent(), 0));
}

Test(agent_capture, packet_budget_ends_with_exactly_n_events)
{
	struct flow_req fr;
	struct client cap = {.fd = -1};

	start_agent("1048576", "128");
	flow_request(&fr, IPPROTO_ICMP, 0, 200);
	fr.req.max_packets = 7;
	client_capture(&cap, &fr.req);
	wait_started(&cap);
	cr_assert(eq(int, mm_test_sh("ping -c 10 -i 0.05 -q " PEER " >/dev/null"), 0));
	wait_ended(&cap, 3000);
	cr_expect(eq(u32, cap.end_reason, END(PACKETS)));
	cr_expect(eq(sz, cap.n_frames, 7));
	cr_expect(eq(u64, cap.end_packets, 7));
	cr_expect(eq(u32, status_captures(), 0), "the rule is gone with its budget");
	client_close(&cap);
	cr_assert(eq(int, stop_agent(), 0));
}

Test(agent_capture, byte_and_time_budgets)
{
	struct flow_req fr;
	struct client bytes = {.fd = -1}, timed = {.fd = -1};
	size_t sum = 0;

	start_agent("1048576", "128");
	flow_request(&fr, IPPROTO_ICMP, 0, 60);
	fr.req.max_bytes = 250;
	client_capture(&bytes, &fr.req);
	wait_started(&bytes);
	fr.req.max_bytes = 0;
	fr.req.max_seconds = 1;
	client_capture(&timed, &fr.req);
	wait_started(&timed);
	cr_assert(eq(int, mm_test_sh("ping -c 4 -i 0.05 -q " PEER " >/dev/null"), 0));
	wait_ended(&bytes, 3000);
	cr_expect(eq(u32, bytes.end_reason, END(BYTES)));
	cr_expect(eq(u64, bytes.end_bytes, 250));
	for (size_t i = 0; i < bytes.n_frames; i++)
		sum += bytes.frames[i].len;
	cr_expect(eq(sz, sum, 250), "60 + 60 + 60 + 60 + 10 bytes");
	cr_expect(eq(sz, bytes.n_frames, 5));
	wait_ended(&timed, 5000);
	cr_expect(eq(u32, timed.end_reason, END(TIME)));
	cr_expect(eq(u64, timed.end_packets, timed.n_frames));
	cr_expect(ge(sz, timed.n_frames, 8), "4 requests and 4 replies in the second");
	client_close(&bytes);
	client_close(&timed);
	cr_assert(eq(int, stop_agent(), 0));
}

/*
 * Records still in the rings when a capture ends by time never reach its
 * client: they are its capture loss, told before CaptureEnded. The rings are
 * not read here (no drain timer, a wakeup only every 1000 records), so all
 * of the pings' records are still there at the end.
 */
Test(agent_capture, records_on_the_way_at_a_time_end_are_capture_loss)
{
	static const char *const unread[] = {"--wakeup-events", "1000", "--drain-ms", "0", NULL};
	struct flow_req fr;
	struct client timed = {.fd = -1};

	start_agent_argv("1048576", "128", unread);
	flow_request(&fr, IPPROTO_ICMP, 0, 60);
	fr.req.max_seconds = 1;
	client_capture(&timed, &fr.req);
	wait_started(&timed);
	cr_assert(eq(int, mm_test_sh("ping -c 4 -i 0.05 -q " PEER " >/dev/null"), 0));
	wait_ended(&timed, 5000);
	cr_expect(eq(u32, timed.end_reason, END(TIME)));
	cr_expect(eq(u64, timed.end_packets, 0), "nothing was read from the rings");
	cr_expect(eq(sz, timed.n_frames, 0));
	cr_expect(eq(u64, timed.lost_capture, 8), "4 requests and 4 replies, counted as lost");
	cr_expect(eq(u32, timed.lost_capture_rule, timed.capture_rule));
	client_close(&timed);
	cr_assert(eq(int, stop_agent(), 0));
}

Test(agent_capture, two_captures_each_get_their_own)
{
	struct flow_req fi, ft;
	struct client ci = {.fd = -1}, ct = {.fd = -1};
	struct client *cs[] = {&ci, &ct};

	start_agent("1048576", "128");
	flow_request(&fi, IPPROTO_ICMP, 0, 1500);
	flow_request(&ft, IPPROTO_TCP, 7003, 1500);
	client_capture(&ci, &fi.req);
	client_capture(&ct, &ft.req);
	wait_started(&ci);
	wait_started(&ct);
	cr_assert(not(eq(u32, ci.capture_rule, ct.capture_rule)));
	cr_assert(eq(int, mm_test_pair_sh(&pair, "(timeout 10 nc -l 7003 >/dev/null &)"), 0));
	usleep(300 * 1000);
	cr_assert(eq(int, mm_test_sh("ping -c 3 -i 0.1 -q " PEER " >/dev/null"), 0));
	cr_assert(eq(int, mm_test_sh("echo hello | nc -N -w 2 " PEER " 7003"), 0));
	settle(cs, 2, 1000);
	cr_assert(eq(sz, ci.n_frames, 6), "3 requests and 3 replies");
	cr_assert(gt(sz, ct.n_frames, 3));
	for (size_t i = 0; i < ci.n_frames; i++) {
		cr_assert(eq(u32, ci.frames[i].rule_id, ci.capture_rule));
		cr_assert(eq(u8, ci.frames[i].data[14 + 9], IPPROTO_ICMP));
	}
	for (size_t i = 0; i < ct.n_frames; i++) {
		cr_assert(eq(u32, ct.frames[i].rule_id, ct.capture_rule));
		cr_assert(frame_has_port(&ct.frames[i], 7003));
	}
	client_close(&ci);
	client_close(&ct);
	cr_assert(eq(int, stop_agent(), 0));
}

Test(agent_capture, jumbo_frames_whole_with_a_9000_byte_snap)
{
	struct flow_req fr;
	struct client cap = {.fd = -1};
	struct client *cs[] = {&cap};

	cr_assert(eq(int, mm_test_sh("ip link set %s mtu 9000", pair.local_if), 0));
	cr_assert(eq(int, mm_test_pair_sh(&pair, "ip link set %s mtu 9000", pair.peer_if), 0));
	start_agent("4194304", "128");
	flow_request(&fr, IPPROTO_ICMP, 0, 9100);
	client_capture(&cap, &fr.req);
	wait_started(&cap);
	cr_assert(eq(int, mm_test_sh("ping -M do -s 8900 -c 2 -i 0.2 -q " PEER " >/dev/null"), 0));
	settle(cs, 1, 1000);
	cr_assert(eq(sz, cap.n_frames, 4));
	for (size_t i = 0; i < cap.n_frames; i++) {
		cr_expect(eq(u32, cap.frames[i].len_orig, 14 + 20 + 8 + 8900));
		cr_expect(eq(sz, cap.frames[i].len, cap.frames[i].len_orig), "the whole jumbo frame");
	}
	client_close(&cap);
	cr_assert(eq(int, stop_agent(), 0));
}

Test(agent_capture, bad_requests_and_one_too_many_get_a_clear_error)
{
	struct flow_req fr;
	struct client c[MM_CAPTURE_RULES_MAX + 1], bad = {.fd = -1};

	start_agent("1048576", "128");
	flow_request(&fr, 0, 0, MM_CAPTURE_SNAP_MAX + 1);
	client_capture(&bad, &fr.req);
	wait_error(&bad);
	cr_expect(not(eq(ptr, strstr(bad.error_message, "snaplen"), NULL)), "%s", bad.error_message);
	client_close(&bad);

	flow_request(&fr, 0, 0, 100);
	fr.ep.prefix_len = 33;
	memset(&bad, 0, sizeof(bad));
	bad.fd = -1;
	client_capture(&bad, &fr.req);
	wait_error(&bad);
	cr_expect(not(eq(ptr, strstr(bad.error_message, "prefix /33"), NULL)), "%s",
		  bad.error_message);
	client_close(&bad);

	/* A captured packet has no owner: a pid (comm, cgroup) filter is refused, not ignored. */
	uint32_t pid = (uint32_t)getpid();

	flow_request(&fr, 0, 0, 100);
	fr.ff.n_pids = 1;
	fr.ff.pids = &pid;
	memset(&bad, 0, sizeof(bad));
	bad.fd = -1;
	client_capture(&bad, &fr.req);
	wait_error(&bad);
	cr_expect(not(eq(ptr, strstr(bad.error_message, "no owner"), NULL)), "%s",
		  bad.error_message);
	client_close(&bad);
	fr.ff.n_pids = 0;
	cr_expect(eq(u32, status_captures(), 0), "a bad request costs nothing");

	fr.ep.prefix_len = 32;
	for (int i = 0; i < MM_CAPTURE_RULES_MAX; i++) {
		memset(&c[i], 0, sizeof(c[i]));
		c[i].fd = -1;
		client_capture(&c[i], &fr.req);
		wait_started(&c[i]);
	}
	memset(&c[MM_CAPTURE_RULES_MAX], 0, sizeof(c[0]));
	c[MM_CAPTURE_RULES_MAX].fd = -1;
	client_capture(&c[MM_CAPTURE_RULES_MAX], &fr.req);
	wait_error(&c[MM_CAPTURE_RULES_MAX]);
	cr_expect(not(eq(ptr, strstr(c[MM_CAPTURE_RULES_MAX].error_message, "at most 16"), NULL)),
		  "%s", c[MM_CAPTURE_RULES_MAX].error_message);
	cr_expect(eq(u32, status_captures(), MM_CAPTURE_RULES_MAX));
	for (int i = 0; i <= MM_CAPTURE_RULES_MAX; i++)
		client_close(&c[i]);
	cr_assert(eq(int, stop_agent(), 0));
}

Test(agent_capture, agent_stopping_ends_the_capture)
{
	struct flow_req fr;
	struct client cap = {.fd = -1};

	start_agent("1048576", "128");
	flow_request(&fr, 0, 0, 100);
	client_capture(&cap, &fr.req);
	wait_started(&cap);
	cr_assert(eq(int, stop_agent(), 0));
	wait_ended(&cap, 3000);
	cr_expect(eq(u32, cap.end_reason, END(AGENT_STOPPING)));
	client_close(&cap);
}

/* --events without capture: every capture is refused, saying why; the rule table stays empty. */
Test(agent_capture, switched_off_by_events_is_refused)
{
	struct flow_req fr;
	struct client c = {.fd = -1};

	start_agent_with("1048576", "128", "--events", "trace,drop");
	flow_request(&fr, 0, 0, 100);
	client_capture(&c, &fr.req);
	wait_error(&c);
	cr_expect(not(eq(ptr, strstr(c.error_message, "switched off"), NULL)), "%s",
		  c.error_message);
	client_close(&c);
	cr_expect(eq(u32, status_captures(), 0));
	cr_assert(eq(int, stop_agent(), 0));
}
