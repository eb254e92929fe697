#!/usr/bin/env bash
# Install everything meshmon needs to build, test and run, from Debian 12's
# packages. Idempotent; run as root.
set -euo pipefail

packages=(
  # build
  meson ninja-build pkg-config gcc clang llvm bpftool
  # libFuzzer and the sanitizer runtimes of clang 14 (libclang_rt.fuzzer-x86_64.a)
  libclang-rt-14-dev
  libbpf-dev libelf-dev zlib1g-dev libevent-dev libprotobuf-c-dev protobuf-c-compiler
  # meshmon export clickhouse: ClickHouse's HTTP interface through libcurl
  libcurl4-openssl-dev
  libsystemd-dev
  # man pages: scdoc turns docs/man/*.scd into roff at build time; man-db
  # renders them (tests/install)
  scdoc man-db
  # the Debian package (debian/) and its test: dpkg-buildpackage with
  # debhelper (no fakeroot: Rules-Requires-Root: no); systemd for systemd.pc
  # (the unit and sysusers.d directories), systemd-analyze verify and
  # systemd-sysusers --dry-run
  debhelper dpkg-dev systemd
  # tests and the demo
  libcriterion-dev iproute2 iputils-ping netcat-openbsd jq tcpdump libpcap-dev util-linux
  # an independent client that enforces UTF-8 in string fields, as Go and Java
  # clients do (tests/utf8_client.py, run with /usr/bin/python3)
  python3-protobuf
  # capinfos, which checks that a --pcap file is in strict time order (tests/test_agent_order.c)
  wireshark-common
  # promtool, which lints the agent's /metrics (tests/test_metrics_counters.c);
  # the server it comes with is not used and must not run (see below)
  prometheus
  # tshark, which reads the pcap of meshmon capture back (tests/test_cli_client.c,
  # tests/test_cli_capture_e2e.c); it depends on wireshark-common (preseeded below)
  tshark
  # the ClickHouse that meshmon export clickhouse writes into in its tests and
  # benchmark (tests/test_export_clickhouse.c, the clickhouse row of
  # bench/cli_bench.c), which start it themselves on a private loopback; the
  # service must not run (see below)
  clickhouse-server
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  # wireshark-common asks whether non-root users may capture: no (tests run as root).
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
  apt-get update -qq
  # prometheus's and clickhouse-server's maintainer scripts start their servers (invoke-rc.d, or
  # deb-systemd-invoke under systemd; both ask policy-rc.d first): forbid
  # service starts for this install unless the machine has a policy-rc.d of
  # its own.
  policy=/usr/sbin/policy-rc.d
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Only promtool and the clickhouse-server binary are needed: a server the
  # machine's own policy let start is stopped and kept from starting at boot.
  for service in prometheus clickhouse-server; do
    [[ " ${missing[*]} " == *" $service "* ]] || continue
    if [[ -d /run/systemd/system ]]; then
      systemctl disable --now "$service.service" >/dev/null 2>&1 || true
    elif [[ -x /etc/init.d/$service ]]; then
      "/etc/init.d/$service" stop >/dev/null 2>&1 || true
      update-rc.d "$service" disable >/dev/null 2>&1 || true
    fi
  done
fi

# bpffs, for pinning and for bpftool; some machines boot without it.
if ! mountpoint -q /sys/fs/bpf; then
  mount -t bpf bpf /sys/fs/bpf
fi
