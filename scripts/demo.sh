#!/usr/bin/env bash
# meshmon demo: install the dependencies, build, create two network namespaces
# joined by a veth pair, load meshmon's datapath on one end with a demo deny
# rule, make traffic (pings, TCP, UDP to a closed port, TCP to a denied port)
# and print what the rings carry. Ctrl-C (or --duration) stops it and removes
# everything the demo created.
#
# Usage: bash scripts/demo.sh [--duration SECS] [--aggregation none|low|medium|maximum]
set -euo pipefail
cd "$(dirname "$0")/.."

duration=0
aggregation=none
while (($#)); do
  case $1 in
    --duration) duration=$2; shift 2 ;;
    --aggregation) aggregation=$2; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "demo.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
done

bash scripts/install-deps.sh
[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null

ns_a=mm-demo-a-$$
ns_b=mm-demo-b-$$
reader_pid=
cleanup() {
  trap - EXIT INT TERM
  # Everything the demo started runs inside its namespaces (reader, servers).
  for ns in "$ns_a" "$ns_b"; do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
  done
  [ -n "$reader_pid" ] && wait "$reader_pid" 2>/dev/null || true
  ip netns del "$ns_a" 2>/dev/null || true
  ip netns del "$ns_b" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 0' INT TERM

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

# nsenter, not `ip netns exec`: the latter remounts /sys, hiding bpffs.
in_a() { nsenter --net=/run/netns/"$ns_a" "$@"; }
in_b() { nsenter --net=/run/netns/"$ns_b" "$@"; }

# Servers in namespace B: a TCP service on 8080 and one on 9090 that the demo
# deny rule blocks.
in_b nc -lk -p 8080 >/dev/null &
in_b nc -lk -p 9090 >/dev/null &

echo "meshmon demo: $ns_a (10.200.0.1, mmdemo0) <-> $ns_b (10.200.0.2, mmdemo1)"
echo "deny rule 1: proto=tcp,dport=9090,dir=egress; aggregation $aggregation"
nsenter --net=/run/netns/"$ns_a" build/datapath/meshmon-ringdump --iface mmdemo0 \
  --aggregation "$aggregation" --deny proto=tcp,dport=9090,dir=egress &
reader_pid=$!
sleep 1

traffic() {
  in_a ping -c 2 -i 0.2 -q 10.200.0.2 >/dev/null || true
  in_a ping -6 -c 1 -q fd00:200::2 >/dev/null || true
  echo hello meshmon | in_a nc -q 1 -w 2 10.200.0.2 8080 || true
  echo udp | in_a nc -u -q 0 -w 1 10.200.0.2 5353 || true
  in_a nc -z -w 1 10.200.0.2 9090 || true
}

start=$SECONDS
while :; do
  traffic
  if ((duration > 0 && SECONDS - start >= duration)); then
    break
  fi
  sleep 1
done
