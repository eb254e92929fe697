// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* clickhouse-server as a child process (see harness_clickhouse.h). */
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness_clickhouse.h"

#define READY_TIMEOUT_MS 30000

/*
 * The smallest config 18.16 starts with: its paths in the directory, HTTP on
 * loopback only, warnings to the log, UTC for DateTime text, small caches;
 * and the native port (HTTP's + 1) with a one-shard cluster "fleet" of this
 * server, for the Distributed table of docs/fleet.md.
 */
static const char config_fmt[] =
	"<?xml version=\"1.0\"?>\n"
	"<yandex>\n"
	"  <logger><level>warning</level><log>%1$s/server.log</log>"
	"<errorlog>%1$s/server.err.log</errorlog></logger>\n"
	"  <http_port>%2$d</http_port>\n"
	"  <tcp_port>%3$d</tcp_port>\n"
	"  <remote_servers><fleet><shard><replica><host>127.0.0.1</host><port>%3$d</port>"
	"</replica></shard></fleet></remote_servers>\n"
	"  <listen_host>127.0.0.1</listen_host>\n"
	"  <path>%1$s/data/</path>\n"
	"  <tmp_path>%1$s/data/tmp/</tmp_path>\n"
	"  <user_files_path>%1$s/data/user_files/</user_files_path>\n"
	"  <format_schema_path>%1$s/data/format_schemas/</format_schema_path>\n"
	"  <users_config>%1$s/users.xml</users_config>\n"
	"  <default_profile>default</default_profile>\n"
	"  <default_database>default</default_database>\n"
	"  <mark_cache_size>67108864</mark_cache_size>\n"
	"  <uncompressed_cache_size>67108864</uncompressed_cache_size>\n"
	"  <timezone>UTC</timezone>\n"
	"</yandex>\n";

static const char users_xml[] =
	"<?xml version=\"1.0\"?>\n"
	"<yandex>\n"
	"  <profiles><default/></profiles>\n"
	"  <users><default><password></password><networks><ip>127.0.0.1</ip></networks>"
	"<profile>default</profile><quota>default</quota></default></users>\n"
	"  <quotas><default/></quotas>\n"
	"</yandex>\n";

static int write_file(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *f;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	if (fputs(text, f) == EOF)
		rc = -EIO;
	if (fclose(f) && !rc)
		rc = -EIO;
	return rc;
}

struct answer {
	char *buf;
	size_t len, cap;
};

static size_t on_answer(char *data, size_t size, size_t n, void *arg)
{
	struct answer *a = arg;
	size_t bytes = size * n, room = a->cap - 1 - a->len;

	if (bytes < room)
		room = bytes;
	memcpy(a->buf + a->len, data, room);
	a->len += room;
	a->buf[a->len] = '\0';
	return bytes;
}

/* GET (sql NULL: /ping) or POST sql: the HTTP status, or -1 when no answer came. */
static long request(const struct mm_test_ch *ch, const char *sql, char *out, size_t cap)
{
	struct answer a = { out, 0, cap };
	char url[96];
	long status = -1;
	CURL *c = curl_easy_init();

	out[0] = '\0';
	if (!c)
		return -1;
	snprintf(url, sizeof(url), "%s/%s", ch->url, sql ? "" : "ping");
	curl_easy_setopt(c, CURLOPT_URL, url);
	if (sql)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, sql);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_answer);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &a);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 30000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	else
		snprintf(out, cap, "no answer from %s", ch->url);
	curl_easy_cleanup(c);
	return status;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int wait_ready(struct mm_test_ch *ch)
{
	uint64_t end = now_ms() + READY_TIMEOUT_MS;
	char out[64];
	int status;

	while (now_ms() < end) {
		if (request(ch, NULL, out, sizeof(out)) == 200)
			return 0;
		if (waitpid(ch->proc.pid, &status, WNOHANG) == ch->proc.pid) {
			ch->proc.pid = 0;
			return -ECHILD;
		}
		usleep(50 * 1000);
	}
	return -ETIMEDOUT;
}

static int spawn(struct mm_test_ch *ch)
{
	char arg[128];
	const char *argv[] = { "clickhouse-server", arg, NULL };
	int rc;

	snprintf(arg, sizeof(arg), "--config-file=%s/config.xml", ch->proc.dir);
	rc = mm_test_agent_spawn(&ch->proc, argv);
	return rc ? rc : wait_ready(ch);
}

int mm_test_ch_start(struct mm_test_ch *ch, const char *tag, int port)
{
	char config[4096];
	int rc;

	memset(ch, 0, sizeof(*ch));
	ch->port = port;
	snprintf(ch->url, sizeof(ch->url), "http://127.0.0.1:%d", port);
	rc = mm_test_agent_init(&ch->proc, MM_TEST_CH_SERVER, tag, "unused");
	if (rc)
		return rc;
	snprintf(config, sizeof(config), config_fmt, ch->proc.dir, port, port + 1);
	rc = write_file(ch->proc.dir, "config.xml", config);
	if (!rc)
		rc = write_file(ch->proc.dir, "users.xml", users_xml);
	return rc ? rc : spawn(ch);
}

void mm_test_ch_stop(struct mm_test_ch *ch)
{
	mm_test_agent_stop(&ch->proc, 20000);
}

int mm_test_ch_restart(struct mm_test_ch *ch)
{
	return spawn(ch);
}

void mm_test_ch_cleanup(struct mm_test_ch *ch)
{
	if (ch)
		mm_test_agent_cleanup(&ch->proc);
}

int mm_test_ch_query(const struct mm_test_ch *ch, const char *sql, char *out, size_t cap)
{
	return request(ch, sql, out, cap) == 200 ? 0 : -EIO;
}

int mm_test_ch_u64(const struct mm_test_ch *ch, const char *sql, uint64_t *v)
{
	char out[256], *end;

	if (mm_test_ch_query(ch, sql, out, sizeof(out)))
		return -EIO;
	errno = 0;
	*v = strtoull(out, &end, 10);
	return errno || end == out || (*end && *end != '\n') ? -EIO : 0;
}
