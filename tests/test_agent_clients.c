// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * meshmon-agent end to end, how it treats clients and scrapers: garbage and
 * oversized frames get an Error while the others stay served, Status, the
 * socket's mode and peer check, the client cap and the handshake deadline,
 * and the Prometheus metrics endpoint (agent_client.h, agent_fixture.h).
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_client.h"
#include "agent_fixture.h"
#include "harness.h"
#include "harness_agent.h"

TestSuite(agent_clients, .init = agent_setup, .fini = agent_teardown, .timeout = 120);

Test(agent_clients, garbage_gets_an_error_and_others_stay_served)
{
	struct client good, bad, big, status;
	struct client *cs[] = {&good};
	const uint8_t garbage[] = {0, 0, 0, 6, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	const uint8_t oversized[] = {0xff, 0xff, 0xff, 0xff};
	Meshmon__V1__ClientMessage m = MESHMON__V1__CLIENT_MESSAGE__INIT;
	Meshmon__V1__StatusRequest sr = MESHMON__V1__STATUS_REQUEST__INIT;

	start_agent("1048576", "128");
	client_subscribe(&good, IPPROTO_ICMP, 0);
	settle(cs, 1, 200);

	cr_assert(eq(int, client_connect(&bad), 0));
	cr_assert(eq(sz, (size_t)write(bad.fd, garbage, sizeof(garbage)), sizeof(garbage)));
	client_poll(&bad, 3000);
	cr_assert(bad.got_hello);
	cr_assert(eq(u32, bad.error_code, MESHMON__V1__ERROR_CODE__ERROR_CODE_BAD_FRAME));
	cr_assert(bad.eof, "the agent closed the garbage client");

	cr_assert(eq(int, client_connect(&big), 0));
	cr_assert(eq(sz, (size_t)write(big.fd, oversized, sizeof(oversized)), sizeof(oversized)));
	client_poll(&big, 3000);
	cr_assert(eq(u32, big.error_code, MESHMON__V1__ERROR_CODE__ERROR_CODE_FRAME_TOO_LARGE));
	cr_assert(big.eof);

	cr_assert(eq(int, mm_test_sh("ping -c 3 -i 0.1 -q 10.199.0.2 >/dev/null"), 0));
	settle(cs, 1, 800);
	cr_assert(ge(u64, good.icmp, 6), "the subscribed client is still served");
	cr_assert(eq(int, good.eof, 0));

	cr_assert(eq(int, client_connect(&status), 0));
	m.msg_case = MESHMON__V1__CLIENT_MESSAGE__MSG_STATUS_REQUEST;
	m.status_request = &sr;
	client_send(&status, &m);
	client_poll(&status, 3000);
	cr_assert(status.got_status);
	cr_assert(gt(u32, status.status_cpus, 0));
	cr_assert(eq(u32, status.status_listeners, 1));
	cr_assert(ge(u64, status.status_events, good.icmp));
	cr_assert(status.eof, "status is answered, then the connection closes");

	client_close(&good);
	client_close(&bad);
	client_close(&big);
	client_close(&status);
	cr_assert(eq(int, stop_agent(), 0));
}

Test(agent_clients, socket_is_0660_and_refuses_other_users)
{
	struct stat st;
	int status;
	pid_t child;

	start_agent("1048576", "128");
	cr_assert(eq(int, stat(agent.sock_path, &st), 0));
	cr_assert(eq(u32, (uint32_t)(st.st_mode & 07777), 0660));
	cr_assert(eq(u32, (uint32_t)st.st_uid, 0));
	child = fork();
	cr_assert(ge(int, child, 0));
	if (child == 0) {
		struct client c;
		int rc;

		if (setgid(65534) || setuid(65534))
			_exit(10);
		rc = client_connect(&c);
		if (rc == -EACCES)
			_exit(0); /* the file mode refused it */
		if (rc)
			_exit(11);
		client_poll(&c, 2000); /* else the agent must refuse it with an Error */
		_exit(c.error_code || c.eof ? (c.got_hello ? 12 : 0) : 13);
	}
	waitpid(child, &status, 0);
	cr_assert(eq(int, WIFEXITED(status) != 0, 1));
	cr_assert(eq(int, WEXITSTATUS(status), 0), "an unprivileged user was served");
	cr_assert(eq(int, stop_agent(), 0));
}

Test(agent_clients, client_cap_and_handshake_deadline)
{
	struct client a, idle, extra;
	uint64_t t0;

	start_agent_with("1048576", "128", "--max-listeners", "2");
	client_subscribe(&a, 0, 0);
	cr_assert(eq(int, client_connect(&idle), 0));
	client_poll(&idle, 300);
	cr_assert(eq(int, idle.got_hello, 1));

	/* Two clients already (one subscribed, one handshaking): a third is refused. */
	cr_assert(eq(int, client_connect(&extra), 0));
	client_poll(&extra, 3000);
	cr_assert(eq(u32, extra.error_code, MESHMON__V1__ERROR_CODE__ERROR_CODE_TOO_MANY_CLIENTS));
	cr_assert(eq(int, extra.eof, 1));

	/* The idle one is closed at the handshake deadline (5 s). */
	t0 = now_ms();
	client_poll(&idle, 8000);
	cr_assert(eq(u32, idle.error_code, MESHMON__V1__ERROR_CODE__ERROR_CODE_HANDSHAKE_TIMEOUT));
	cr_assert(eq(int, idle.eof, 1));
	cr_assert(lt(u64, now_ms() - t0, 7000));
	client_poll(&a, 100);
	cr_assert(eq(int, a.eof, 0), "the subscribed client is unaffected");
	client_close(&a);
	client_close(&idle);
	client_close(&extra);
	cr_assert(eq(int, stop_agent(), 0));
}

Test(agent_clients, metrics_serve_prometheus_text)
{
	char path[160];

	start_agent_with("1048576", "128", "--metrics", "127.0.0.1:19101");
	cr_assert(eq(int, mm_test_sh("ping -c 3 -i 0.1 -q 10.199.0.2 >/dev/null"), 0));
	usleep(300 * 1000);
	snprintf(path, sizeof(path), "%s/metrics.txt", agent.dir);
	cr_assert(eq(int, mm_test_sh("curl -sf http://127.0.0.1:19101/metrics > %s", path), 0));
	cr_assert(eq(int,
		     mm_test_sh("grep -Eq "
				"'^meshmon_traffic_packets_total\\{direction=\"egress\",reason="
				"\"forwarded\"\\} [1-9]' %s",
				path),
		     0));
	cr_assert(eq(int,
		     mm_test_sh("grep -Eq "
				"'^meshmon_traffic_bytes_total\\{direction=\"ingress\",reason="
				"\"forwarded\"\\} [1-9]' %s",
				path),
		     0));
	cr_assert(eq(
	    int, mm_test_sh("grep -Eq '^meshmon_events_total\\{type=\"trace\"\\} [1-9]' %s", path),
	    0));
	cr_assert(
	    eq(int, mm_test_sh("grep -q '^meshmon_lost_events_total{source=\"queue\"} 0' %s", path),
	       0));
	cr_assert(eq(int, mm_test_sh("grep -q '^meshmon_listeners 0' %s", path), 0));
	cr_assert(eq(int, mm_test_sh("grep -q '^meshmon_events_out_of_order_total 0$' %s", path), 0));
	cr_assert(eq(int, mm_test_sh("grep -q '^meshmon_reorder_window_seconds 0.005000$' %s", path),
		     0), "the default --reorder-ms");
	cr_assert(ne(int, mm_test_sh("grep -q '10\\.199' %s", path), 0), "no addresses in labels");
	cr_assert(eq(int, stop_agent(), 0));
}
