// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * `meshmon status`: a StatusRequest after the Hello, the agent's Status
 * printed as text or as one JSON object.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "commands.h"
#include "format_common.h"
#include "json.h"
#include "names.h"
#include "options.h"

/* A counter's label: the table's name, or the number when this build does not know it. */
static const char *counter_label(const char *name, unsigned int value, char *num, size_t len)
{
	if (name)
		return name;
	snprintf(num, len, "%u", value);
	return num;
}

/* Status.points and Status.drops (the agent's meshmon_observed_* and meshmon_drops_total). */
static void status_counters_text(FILE *out, const Meshmon__V1__Status *st)
{
	char num[16];
	size_t i;

	fprintf(out, "Observed:\n");
	if (!st->n_points)
		fprintf(out, "  none\n");
	for (i = 0; i < st->n_points; i++) {
		const Meshmon__V1__PointCounter *p = st->points[i];

		fprintf(out, "  %-16s %" PRIu64 " packets, %" PRIu64 " bytes\n",
			counter_label(mm_trace_point_name(p->point), p->point, num, sizeof(num)),
			p->packets, p->bytes);
	}
	fprintf(out, "Drops:\n");
	if (!st->n_drops)
		fprintf(out, "  none\n");
	for (i = 0; i < st->n_drops; i++) {
		const Meshmon__V1__DropCounter *d = st->drops[i];

		fprintf(out, "  %-6s ", counter_label(mm_source_name(d->source), d->source, num,
						       sizeof(num)));
		mm_fmt_clean(out, d->reason);
		fprintf(out, "%*s %" PRIu64 " packets, %" PRIu64 " bytes\n",
			(int)(strlen(d->reason) < 24 ? 24 - strlen(d->reason) : 0), "", d->packets,
			d->bytes);
	}
}

static void status_counters_json(struct mm_json *j, const Meshmon__V1__Status *st)
{
	char num[16];
	size_t i;

	mm_json__key(j, "points");
	mm_json__arr_open(j);
	for (i = 0; i < st->n_points; i++) {
		const Meshmon__V1__PointCounter *p = st->points[i];

		mm_json__obj_open(j);
		mm_json__kv_str(j, "point",
				counter_label(mm_trace_point_name(p->point), p->point, num, sizeof(num)));
		mm_json__kv_u64(j, "packets", p->packets);
		mm_json__kv_u64(j, "bytes", p->bytes);
		mm_json__obj_close(j);
	}
	mm_json__arr_close(j);
	mm_json__key(j, "drops");
	mm_json__arr_open(j);
	for (i = 0; i < st->n_drops; i++) {
		const Meshmon__V1__DropCounter *d = st->drops[i];

		mm_json__obj_open(j);
		mm_json__kv_str(j, "source",
				counter_label(mm_source_name(d->source), d->source, num, sizeof(num)));
		mm_json__kv_u64(j, "reason_code", d->reason_code);
		mm_json__kv_str(j, "reason", d->reason);
		mm_json__kv_u64(j, "packets", d->packets);
		mm_json__kv_u64(j, "bytes", d->bytes);
		mm_json__obj_close(j);
	}
	mm_json__arr_close(j);
}

/* Status.types: per record type, the switch, the datapath's counters and its own limit. */
static void types_text(FILE *out, const Meshmon__V1__Status *st)
{
	if (!st->n_types)
		return;
	fprintf(out, "Record types:      on/off  emitted  refused  limit\n");
	for (size_t i = 0; i < st->n_types; i++) {
		const Meshmon__V1__TypeCounters *t = st->types[i];
		const char *tn = mm_event_type_name(t->type);
		char name[24];

		if (tn)
			snprintf(name, sizeof(name), "%s", tn);
		else
			snprintf(name, sizeof(name), "type %u", t->type);
		fprintf(out, "  %-16s %-7s %-8" PRIu64 " %-8" PRIu64 " ", name, t->enabled ? "on" : "off",
			t->emitted, t->refused);
		if (t->rate_per_sec)
			fprintf(out, "%u/s, burst %u\n", t->rate_per_sec, t->burst);
		else
			fprintf(out, "none\n");
	}
}

static void types_json(struct mm_json *j, const Meshmon__V1__Status *st)
{
	mm_json__key(j, "types");
	mm_json__arr_open(j);
	for (size_t i = 0; i < st->n_types; i++) {
		const Meshmon__V1__TypeCounters *t = st->types[i];
		const char *tn = mm_event_type_name(t->type);

		mm_json__obj_open(j);
		if (tn)
			mm_json__kv_str(j, "type", tn);
		else
			mm_json__kv_u64(j, "type", t->type);
		mm_json__key(j, "enabled");
		mm_json__bool(j, t->enabled);
		mm_json__kv_u64(j, "emitted", t->emitted);
		mm_json__kv_u64(j, "refused", t->refused);
		mm_json__kv_u64(j, "rate_per_sec", t->rate_per_sec);
		mm_json__kv_u64(j, "burst", t->burst);
		mm_json__obj_close(j);
	}
	mm_json__arr_close(j);
}

/* A loss counter's name: its source, and the record type whose own limit refused them. */
static const char *loss_name(const Meshmon__V1__LossCounter *l, char *buf, size_t len)
{
	const char *tn = l->type ? mm_event_type_name(l->type) : NULL;

	if (!tn)
		return mm_loss_source_name(l->source);
	snprintf(buf, len, "%s, %s", mm_loss_source_name(l->source), tn);
	return buf;
}

void mm_status_text(FILE *out, const Meshmon__V1__Status *st)
{
	char up[32], iv[32];
	const char *agg = st->aggregation_name[0] ? st->aggregation_name
						  : mm_aggregation_name(st->aggregation);
	size_t i;

	mm_fmt_duration(st->uptime_ns, up, sizeof(up));
	fputs("Node:              ", out);
	mm_fmt_clean(out, st->node_name[0] ? st->node_name : "(none)");
	fputc('\n', out);
	fputs("Agent version:     ", out);
	mm_fmt_clean(out, st->agent_version);
	fputc('\n', out);
	fprintf(out, "Protocol version:  %u\n", st->protocol_version);
	fprintf(out, "CPUs:              %u\n", st->num_cpus);
	fprintf(out, "Ring:              %u pages of %u bytes per CPU\n", st->pages_per_cpu,
		st->page_size);
	fprintf(out, "Capture length:    %u bytes\n", st->capture_len);
	fprintf(out, "Policy verdicts:   %s\n", st->policy_verdicts ? "on" : "off");
	fprintf(out, "Endpoint traces:   %s\n", st->endpoint_traces ? "on" : "off");
	fprintf(out, "Uptime:            %s\n", up);
	fprintf(out, "Listeners:         %u\n", st->listeners);
	fprintf(out, "Captures:          %u of at most %u\n", st->capture_rules,
		st->capture_rules_max);
	fprintf(out, "Events read:       %" PRIu64 "\n", st->events_read);
	for (i = 0; i < st->n_event_counts; i++) {
		const char *tn = mm_event_type_name(st->event_counts[i]->type);

		if (tn)
			fprintf(out, "  %-16s %" PRIu64 "\n", tn, st->event_counts[i]->count);
		else
			fprintf(out, "  type %-11u %" PRIu64 "\n", st->event_counts[i]->type,
				st->event_counts[i]->count);
	}
	types_text(out, st);
	fprintf(out, "Unknown records:   %" PRIu64 "\n", st->events_unknown);
	fprintf(out, "Short records:     %" PRIu64 "\n", st->events_short);
	fprintf(out, "Out of order:      %" PRIu64 "\n", st->events_out_of_order);
	if (st->reorder_window_us)
		fprintf(out, "Reorder window:    %u us\n", st->reorder_window_us);
	else
		fprintf(out, "Reorder window:    off (events as read)\n");
	/* Kernel drops of packets meshmon's own deny rules dropped: shown once, as the tc drop. */
	fprintf(out, "Merged drops:      %" PRIu64 "\n", st->kernel_drops_merged);
	status_counters_text(out, st);
	fprintf(out, "Lost:\n");
	if (!st->n_losses)
		fprintf(out, "  none\n");
	for (i = 0; i < st->n_losses; i++) {
		const Meshmon__V1__LossCounter *l = st->losses[i];
		char name[48];

		if (l->cpu == MM_CPU_NONE)
			fprintf(out, "  %-16s %" PRIu64 "\n", loss_name(l, name, sizeof(name)), l->count);
		else
			fprintf(out, "  %-10s CPU %02u %" PRIu64 "\n", mm_loss_source_name(l->source),
				l->cpu, l->count);
	}
	fprintf(out, "Interfaces:        ");
	if (!st->n_interfaces)
		fputs("none", out);
	for (i = 0; i < st->n_interfaces; i++) {
		fputs(i ? ", " : "", out);
		mm_fmt_clean(out, st->interfaces[i]);
	}
	fputc('\n', out);
	fputs("Cgroup:            ", out);
	mm_fmt_clean(out, st->cgroup[0] ? st->cgroup : "none");
	fputc('\n', out);
	if (st->tc_attach[0]) {
		fputs("TC attach:         ", out);
		mm_fmt_clean(out, st->tc_attach);
		fputc('\n', out);
	}
	if (st->rate_limit_per_sec)
		fprintf(out, "Rate limit:        %u events/s, burst %u\n", st->rate_limit_per_sec,
			st->rate_limit_burst);
	else
		fprintf(out, "Rate limit:        off\n");
	mm_fmt_duration(st->aggregation_interval_ns, iv, sizeof(iv));
	if (agg) {
		fputs("Aggregation:       ", out);
		mm_fmt_clean(out, agg);
		fprintf(out, ", interval %s\n", iv);
	} else {
		fprintf(out, "Aggregation:       level %u, interval %s\n", st->aggregation, iv);
	}
}

void mm_status_json(FILE *out, const Meshmon__V1__Status *st)
{
	const char *agg = st->aggregation_name[0] ? st->aggregation_name
						  : mm_aggregation_name(st->aggregation);
	struct mm_json j;
	size_t i;

	mm_json__init(&j, out);
	mm_json__obj_open(&j);
	mm_json__kv_str_or_null(&j, "node", st->node_name); /* the key monitor --json uses */
	mm_json__kv_str(&j, "agent_version", st->agent_version);
	mm_json__kv_u64(&j, "protocol_version", st->protocol_version);
	mm_json__kv_u64(&j, "num_cpus", st->num_cpus);
	mm_json__kv_u64(&j, "pages_per_cpu", st->pages_per_cpu);
	mm_json__kv_u64(&j, "page_size", st->page_size);
	mm_json__kv_u64(&j, "capture_len", st->capture_len);
	mm_json__kv_bool(&j, "policy_verdicts", st->policy_verdicts);
	mm_json__kv_bool(&j, "endpoint_traces", st->endpoint_traces);
	mm_json__kv_u64(&j, "uptime_ns", st->uptime_ns);
	mm_json__kv_u64(&j, "listeners", st->listeners);
	mm_json__kv_u64(&j, "capture_rules", st->capture_rules);
	mm_json__kv_u64(&j, "capture_rules_max", st->capture_rules_max);
	mm_json__kv_u64(&j, "events_read", st->events_read);
	mm_json__key(&j, "event_counts");
	mm_json__obj_open(&j);
	for (i = 0; i < st->n_event_counts; i++) {
		const char *tn = mm_event_type_name(st->event_counts[i]->type);
		char num[16];

		if (!tn) {
			snprintf(num, sizeof(num), "%u", st->event_counts[i]->type);
			tn = num;
		}
		mm_json__kv_u64(&j, tn, st->event_counts[i]->count);
	}
	mm_json__obj_close(&j);
	types_json(&j, st);
	mm_json__kv_u64(&j, "events_unknown", st->events_unknown);
	mm_json__kv_u64(&j, "events_short", st->events_short);
	mm_json__kv_u64(&j, "events_out_of_order", st->events_out_of_order);
	mm_json__kv_u64(&j, "reorder_window_us", st->reorder_window_us);
	mm_json__kv_u64(&j, "kernel_drops_merged", st->kernel_drops_merged);
	status_counters_json(&j, st);
	mm_json__key(&j, "lost");
	mm_json__arr_open(&j);
	for (i = 0; i < st->n_losses; i++) {
		const Meshmon__V1__LossCounter *l = st->losses[i];

		mm_json__obj_open(&j);
		mm_json__kv_str(&j, "source", mm_loss_source_key(l->source));
		mm_json__key(&j, "cpu");
		if (l->cpu == MM_CPU_NONE)
			mm_json__null(&j);
		else
			mm_json__u64(&j, l->cpu);
		mm_json__kv_u64(&j, "count", l->count);
		if (l->type && mm_event_type_name(l->type))
			mm_json__kv_str(&j, "record_type", mm_event_type_name(l->type));
		mm_json__obj_close(&j);
	}
	mm_json__arr_close(&j);
	mm_json__key(&j, "interfaces");
	mm_json__arr_open(&j);
	for (i = 0; i < st->n_interfaces; i++)
		mm_json__str(&j, st->interfaces[i]);
	mm_json__arr_close(&j);
	mm_json__kv_str_or_null(&j, "cgroup", st->cgroup);
	mm_json__kv_str_or_null(&j, "tc_attach", st->tc_attach);
	mm_json__kv_u64(&j, "rate_limit_per_sec", st->rate_limit_per_sec);
	mm_json__kv_u64(&j, "rate_limit_burst", st->rate_limit_burst);
	mm_json__kv_str_or_null(&j, "aggregation", agg);
	mm_json__kv_u64(&j, "aggregation_interval_ns", st->aggregation_interval_ns);
	mm_json__obj_close(&j);
	mm_json__end_line(&j);
}

int cmd_status(const struct mm_cmd_ctx *ctx, int argc, char **argv)
{
	struct mm_client c = { .fd = -1 };
	Meshmon__V1__ServerMessage *hello = NULL, *m = NULL;
	Meshmon__V1__ClientMessage cm = MESHMON__V1__CLIENT_MESSAGE__INIT;
	Meshmon__V1__StatusRequest req = MESHMON__V1__STATUS_REQUEST__INIT;
	struct mm_opts *o = calloc(1, sizeof(*o));
	bool json = ctx->json;
	char err[512], msg[600];
	int rc;

	if (!o)
		return MM_EXIT_FAILURE;
	rc = mm_opts_parse(o, "status", argc, argv, err, sizeof(err));
	if (rc) {
		mm_report_usage(json, "status", err);
		goto out;
	}
	if (o->help) {
		mm_opts_usage_status(stdout);
		goto out;
	}
	rc = mm_client__handshake(&c, o->socket, &hello, err, sizeof(err));
	if (rc != MM_EXIT_OK || !hello) {
		if (rc != MM_EXIT_OK)
			mm_report_error(json, err);
		goto out;
	}
	cm.msg_case = MESHMON__V1__CLIENT_MESSAGE__MSG_STATUS_REQUEST;
	cm.status_request = &req;
	rc = mm_client__send(&c, &cm);
	if (rc < 0) {
		snprintf(msg, sizeof(msg), "meshmon: sending the status request: %s", strerror(-rc));
		mm_report_error(json, msg);
		rc = MM_EXIT_FAILURE;
		goto out;
	}
	for (;;) {
		rc = mm_client__recv(&c, &m);
		if (rc <= 0) {
			snprintf(msg, sizeof(msg), "meshmon: no status from the agent: %s",
				 rc == 0 ? "connection closed" : strerror(-rc));
			mm_report_error(json, msg);
			rc = MM_EXIT_FAILURE;
			goto out;
		}
		if (m->msg_case == MESHMON__V1__SERVER_MESSAGE__MSG_STATUS) {
			if (json)
				mm_status_json(stdout, m->status);
			else
				mm_status_text(stdout, m->status);
			rc = MM_EXIT_OK;
			break;
		}
		if (m->msg_case == MESHMON__V1__SERVER_MESSAGE__MSG_ERROR) {
			snprintf(msg, sizeof(msg), "meshmon: the agent reported an error: %s (code %u)",
				 m->error->message, m->error->code);
			mm_report_error(json, msg);
			rc = MM_EXIT_FAILURE;
			break;
		}
		mm_frame__free_server(m);
		m = NULL;
	}
out:
	if (m)
		mm_frame__free_server(m);
	if (hello)
		mm_frame__free_server(hello);
	mm_client__close(&c);
	free(o);
	fflush(stdout);
	return rc;
}
