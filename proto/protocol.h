/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The facts that every party to meshmon's socket protocol shares, in the
 * spirit of tmux's tmux-protocol.h: the protocol version, where the socket
 * is, the limits of a Subscribe, the "no CPU" value, the loss sources with
 * their names, and the exit codes of both binaries. The agent, the CLI and
 * the tests include this; nothing else repeats these values. docs/protocol.md
 * documents them for clients in other languages.
 */
#ifndef MESHMON_PROTOCOL_H
#define MESHMON_PROTOCOL_H

/* Protocol version carried in Hello.protocol_version. */
#define MM_PROTOCOL_VERSION 1

/* The agent's socket when no --socket is given, and the CLI's override variable. */
#define MM_SOCKET_DEFAULT "/run/meshmon/monitor.sock"
#define MM_SOCKET_ENV "MESHMON_SOCK"

/*
 * Limits of one Subscribe (docs/protocol.md, "Filters", "Limits"): at most
 * MM_SUBSCRIBE_MAX_FILTERS FlowFilters in filters and exclude together, at
 * most MM_FILTER_MAX_VALUES values in each repeated field of a FlowFilter
 * (source, destination, either, protocols, ports, drop_reasons, tcp_flags,
 * interfaces, pids, comms, cgroup_ids), and names of at most
 * MM_FILTER_MAX_NAME_LEN bytes in drop_reasons (interfaces: the kernel's
 * IFNAMSIZ - 1, 15; comms: MM_FILTER_MAX_COMM_LEN). A Subscribe past
 * any is refused with ERROR_CODE_INVALID_SUBSCRIPTION. Types and points are
 * limited only by their enums (any number of values, duplicates included,
 * each a value of its enum).
 */
#define MM_SUBSCRIBE_MAX_FILTERS 64
#define MM_FILTER_MAX_VALUES 64
#define MM_FILTER_MAX_NAME_LEN 64
/* Bytes of one FlowFilter.comms value: the kernel's TASK_COMM_LEN (16) less its NUL. */
#define MM_FILTER_MAX_COMM_LEN 15

/*
 * The longest Hello.node_name / Status.node_name an agent sends: a DNS name's
 * length, as Kubernetes node names (meshmon-agent --node-name).
 */
#define MM_NODE_NAME_MAX 253

/* LostNotice.cpu and LossCounter.cpu of a loss that is not per CPU. */
#define MM_CPU_NONE 0xffffffffu

/*
 * Where events are lost: X(NAME, LossSource value, "display name", "key").
 * The display name is what text output prints ("CPU 01: Lost 3 events
 * (rate limit)"); the key is the JSON value and the metrics label.
 */
#define MM_LOSS_SOURCE_TABLE(X)                                   \
	X(DATAPATH, 1, "datapath", "datapath")                    \
	X(RING, 2, "ring", "ring")                                \
	X(RATE_LIMIT, 3, "rate limit", "rate_limit")              \
	X(QUEUE, 4, "queue", "queue")                             \
	X(CAPTURE, 5, "capture", "capture")

/* Slots of an array indexed by LossSource value (0, UNSPECIFIED, unused). */
#define MM_LOSS_SOURCES 6

/* Display name of a loss source, "unknown" for a value not in the table. */
const char *mm_loss_source_name(unsigned int source);
/* JSON / metrics key of a loss source, "unknown" for a value not in the table. */
const char *mm_loss_source_key(unsigned int source);

/* Exit codes of meshmon-agent and meshmon (docs/cli.md, docs/agent.md). */
enum mm_exit {
	MM_EXIT_OK = 0,          /* done: --count reached, Ctrl-C, a signal, or help */
	MM_EXIT_FAILURE = 1,     /* at run time: a resource missing, an attach or bind
				  * failed, the peer broke the protocol, I/O error */
	MM_EXIT_USAGE = 2,       /* a bad flag or value */
	MM_EXIT_UNREACHABLE = 3, /* CLI: no agent at the socket (ENOENT, ECONNREFUSED) */
	MM_EXIT_PERMISSION = 4,  /* CLI: the socket is not permitted (EACCES, EPERM) */
};

#endif /* MESHMON_PROTOCOL_H */
