#!/usr/bin/env bash
# meshmon demo: install the dependencies, build, and watch meshmon at work on a
# self-contained network: two network namespaces joined by a veth pair, with
# meshmon-agent monitoring one end and `meshmon monitor` printing what it sees.
#
# Traffic, every few seconds: pings (IPv4, IPv6), short TCP exchanges, one TCP
# connection kept open and idle (periodic tcp_probe reports), UDP to a closed
# port (a kernel drop, NO_SOCKET), TCP to a port a demo deny rule blocks (a
# policy drop), a ping burst beyond the demo rate limit (lost records), and a
# TCP exchange with the service address 10.96.0.10:80, which the demo's own
# socket load balancer (build/tests/meshmon-demo-translator, part of the demo,
# not of meshmon) rewrites to 10.200.0.2:8080 at connect time: meshmon reports
# it as a trace-sock record, and the connection's tcp_probe reports carry the
# original destination. The agent's endpoint traces (--endpoint-traces on, on
# the demo's cgroup) show each packet where it meets one of the demo's sockets,
# with the process that owns it.
#
# Usage: bash scripts/demo.sh [--duration SECS] [--aggregation LEVEL] [-- MONITOR FLAGS...]
#   --duration SECS      stop after SECS seconds (default: until Ctrl-C)
#   --aggregation LEVEL  none|low|medium|maximum (default none)
#   -- FLAGS             passed to `meshmon monitor` (e.g. -- --json, -- -t drop)
# Ctrl-C (or the end of --duration) stops everything and removes what the demo created.
# The demo's own messages go to stderr, so stdout carries only what meshmon prints.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=0
aggregation=none
monitor_flags=()
while (($#)); do
  case $1 in
    --duration) duration=$2; shift 2 ;;
    --aggregation) aggregation=$2; shift 2 ;;
    --) shift; monitor_flags=("$@"); break ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "demo.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
done

bash scripts/install-deps.sh
[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null

ns_a=mm-demo-a-$$
ns_b=mm-demo-b-$$
cgroup_root=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
cgroup=$cgroup_root/meshmon-demo-$$
run_dir=$(mktemp -d /tmp/meshmon-demo.XXXXXX)
sock=$run_dir/monitor.sock
agent_pid=
monitor_pid=
translator_pid=

cleanup() {
  trap - EXIT INT TERM
  # Background jobs of a script ignore SIGINT: stop them with SIGTERM.
  [ -n "$monitor_pid" ] && kill -TERM "$monitor_pid" 2>/dev/null
  # SIGTERM: the agent detaches everything it attached and exits 0.
  [ -n "$agent_pid" ] && kill -TERM "$agent_pid" 2>/dev/null
  [ -n "$translator_pid" ] && kill -TERM "$translator_pid" 2>/dev/null
  # Whatever else still runs inside the demo namespaces (servers, clients).
  for ns in "$ns_a" "$ns_b"; do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
  done
  # Only the agent and the monitor: anything else was killed above.
  for pid in $agent_pid $monitor_pid $translator_pid; do wait "$pid" 2>/dev/null || true; done
  ip netns del "$ns_a" 2>/dev/null || true
  ip netns del "$ns_b" 2>/dev/null || true
  if [ -d "$cgroup" ]; then
    echo $$ >"$cgroup_root/cgroup.procs" 2>/dev/null || true
    rmdir "$cgroup" 2>/dev/null || true
  fi
  rm -rf "$run_dir"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

# Everything the demo starts runs in its own cgroup, so tcp_probe (and the
# socket-side records: trace-sock, endpoint traces) report the demo's
# connections and nothing else on this host.
mkdir "$cgroup"
echo $$ >"$cgroup/cgroup.procs"

ip netns add "$ns_a"
ip netns add "$ns_b"
ip link add mmdemo0 netns "$ns_a" type veth peer name mmdemo1 netns "$ns_b"
ip -n "$ns_a" addr add 10.200.0.1/24 dev mmdemo0
ip -n "$ns_a" addr add fd00:200::1/64 dev mmdemo0 nodad
ip -n "$ns_b" addr add 10.200.0.2/24 dev mmdemo1
ip -n "$ns_b" addr add fd00:200::2/64 dev mmdemo1 nodad
for ns in "$ns_a" "$ns_b"; do
  ip -n "$ns" link set lo up
done
ip -n "$ns_a" link set mmdemo0 up
ip -n "$ns_b" link set mmdemo1 up

# nsenter, not `ip netns exec`: the latter remounts /sys, hiding bpffs and cgroupfs.
in_a() { nsenter --net=/run/netns/"$ns_a" "$@"; }
in_b() { nsenter --net=/run/netns/"$ns_b" "$@"; }


# Started by nsenter itself (which execs), so $! is the agent.
nsenter --net=/run/netns/"$ns_a" build/agent/meshmon-agent --socket "$sock" --iface mmdemo0 --cgroup "$cgroup" \
  --kernel-drops on --probe-interval 3 --aggregation "$aggregation" \
  --events trace,drop,capture,tcp_probe,trace-sock --endpoint-traces on \
  --deny proto=tcp,dport=9090,dir=egress --rate-limit 400:200 2>"$run_dir/agent.log" &
agent_pid=$!
for _ in $(seq 100); do
  [ -S "$sock" ] && break
  if ! kill -0 "$agent_pid" 2>/dev/null; then
    echo "meshmon-agent did not start:" >&2
    cat "$run_dir/agent.log" >&2
    exit 1
  fi
  sleep 0.1
done

# The demo's socket load balancer, standing in for Kmesh or Cilium's socket LB:
# connects to the service 10.96.0.10:80 from the demo cgroup go to 10.200.0.2:8080.
if [ ! -x build/tests/meshmon-demo-translator ]; then
  echo "build/tests/meshmon-demo-translator is missing (a build with -Dtests=false?)" >&2
  exit 1
fi
build/tests/meshmon-demo-translator "$cgroup" 10.200.0.2 8080 2>>"$run_dir/agent.log" &
translator_pid=$!

# Servers in namespace B, started once tcp_probe is attached so that
# accepted connections carry their pid: TCP services on 8080 (short exchanges) and 8081 (the
# idle connection; nc serves one connection at a time), and one on 9090 that
# the demo deny rule blocks.
for port in 8080 8081 9090; do
  in_b nc -lk -p "$port" >/dev/null &
done

echo "meshmon demo: $ns_a (10.200.0.1, mmdemo0, monitored) <-> $ns_b (10.200.0.2, mmdemo1)" >&2
echo "deny rule 1: proto=tcp,dport=9090,dir=egress; aggregation $aggregation; rate limit 400/s" >&2
echo "demo socket LB (part of the demo): 10.96.0.10:80 -> 10.200.0.2:8080" >&2
echo "agent log: $run_dir/agent.log; Ctrl-C stops the demo" >&2
build/monitor-cli/meshmon monitor --socket "$sock" "${monitor_flags[@]}" &
monitor_pid=$!
sleep 0.5

# One connection that stays open and idle: tcp_probe reports it periodically.
# Both sides of the pipe run in namespace A, so the cleanup finds them.
in_a sh -c 'sleep 100000 | nc 10.200.0.2 8081' &

traffic() {
  in_a ping -c 2 -i 0.2 -q 10.200.0.2 >/dev/null || true
  in_a ping -6 -c 1 -q fd00:200::2 >/dev/null || true
  echo hello meshmon | in_a nc -q 1 -w 2 10.200.0.2 8080 || true
  # Through the demo's socket LB: a trace-sock record, tcp_probe with orig dst.
  echo hello service | in_a nc -q 1 -w 2 10.96.0.10 80 || true
  head -c 200000 /dev/zero | in_a nc -q 1 -w 2 10.200.0.2 8080 || true
  echo udp | in_b nc -u -q 0 -w 1 10.200.0.1 5353 || true
  in_a nc -z -w 1 10.200.0.2 9090 || true
}

start=$SECONDS
round=0
while kill -0 "$monitor_pid" 2>/dev/null; do
  traffic
  # Every third round, from the first on, a burst of 300 pings in a fraction
  # of a second: more records than the rate limit lets through, reported as lost.
  if ((round++ % 3 == 0)); then
    in_a ping -f -c 300 -q 10.200.0.2 >/dev/null || true
  fi
  if ((duration > 0 && SECONDS - start >= duration)); then
    sleep 2 # the last periodic reports and lost notices
    break
  fi
  sleep 1
done
