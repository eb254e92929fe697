#!/usr/bin/env bash
# What meson install and the Debian package put on a system, checked the way
# a user meets it: `meson install --destdir` from a configured build
# directory (default: build), the installed binaries run, the unit through
# `systemd-analyze verify`, the sysusers entry through `systemd-sysusers
# --dry-run`, both man pages through `man --warnings -l` (and against the
# binaries' --help), then `dpkg-buildpackage -b` in a copy of the source
# tree, its .deb read with dpkg -c / dpkg -I and unpacked with dpkg-deb -x.
#
# Usage: tests/install/test_install.sh [BUILD_DIR]
# One line per check ("ok - NAME" or "FAIL - NAME" with the evidence), then
# "test_install: N passed, M failed"; exits non-zero when a check failed.
# scripts/test.sh adds N and M to its totals. Nothing is skipped: a missing
# tool or file is a failure. Everything happens in one temporary directory,
# removed on exit, failure and interrupt alike; nothing is installed on the
# machine, and nothing in the source tree is written but the build directory
# (brought up to date with ninja -j2 before the install).
set -uo pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "$src" && realpath -m "${1:-build}")
tmp=$(mktemp -d /tmp/meshmon-install-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

passed=0
failed=0
# check NAME COMMAND...: one check. COMMAND's output is shown only when it fails.
check() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then
		passed=$((passed + 1))
		echo "ok - $name"
	else
		failed=$((failed + 1))
		echo "FAIL - $name"
		[ -n "$out" ] && printf '%s\n' "$out" | tail -n 25 | sed 's/^/    /'
	fi
	return 0
}
# die MESSAGE: the check fails here. Every check runs in the subshell of
# check's $(...), so exit ends that check only, not the script.
die() { echo "$*" >&2; exit 1; }

# --- meson install ---------------------------------------------------------

dest=$tmp/destdir
option() { # the value of a meson option of the build directory
	meson introspect "$build" --buildoptions | jq -r --arg n "$1" '.[] | select(.name == $n) | .value'
}
under_prefix() { # a meson directory option as an absolute path
	local v
	v=$(option "$1")
	case $v in /*) echo "$v" ;; *) echo "$prefix/$v" ;; esac
}
systemd_dir() { # OPTION PKGCONFIG-VARIABLE FALLBACK: what dist/meson.build resolves
	local v
	v=$(option "$1")
	if [ -z "$v" ] && pkg-config --exists systemd; then
		v=$(pkg-config --variable="$2" systemd)
	fi
	echo "${v:-$prefix/$3}"
}

install_tree() {
	[ -f "$build/build.ninja" ] || die "$build is not a configured meson build directory"
	ninja -C "$build" -j2 >"$tmp/ninja.log" 2>&1 || { cat "$tmp/ninja.log"; return 1; }
	meson install -C "$build" --no-rebuild --destdir "$dest"
}
check "meson install --destdir from $(basename "$build")" install_tree

prefix=$(option prefix)
bindir=$(under_prefix bindir)
sbindir=$(under_prefix sbindir)
mandir=$(under_prefix mandir)
sysconfdir=$(under_prefix sysconfdir)
unitdir=$(systemd_dir systemdsystemunitdir systemdsystemunitdir lib/systemd/system)
sysusersdir=$(systemd_dir sysusersdir sysusersdir lib/sysusers.d)

agent=$sbindir/meshmon-agent
cli=$bindir/meshmon
unit=$unitdir/meshmon-agent.service
export_unit=$unitdir/meshmon-export-clickhouse.service
sysusers=$sysusersdir/meshmon.conf
envfile=$sysconfdir/default/meshmon-agent
export_envfile=$sysconfdir/default/meshmon-export-clickhouse
man_cli=$mandir/man8/meshmon.8
man_agent=$mandir/man8/meshmon-agent.8

installed() { [ -f "$dest$1" ] || die "not installed: $1 (destdir has: $(cd "$dest" 2>/dev/null && find . -type f | tr '\n' ' '))"; }
installed_exe() { installed "$1" && { [ -x "$dest$1" ] || die "not executable: $1"; }; }
check "installed $agent" installed_exe "$agent"
check "installed $cli" installed_exe "$cli"
check "installed $unit" installed "$unit"
check "installed $export_unit" installed "$export_unit"
check "installed $export_envfile" installed "$export_envfile"
check "installed $sysusers" installed "$sysusers"
check "installed $envfile" installed "$envfile"
check "installed $man_cli" installed "$man_cli"
check "installed $man_agent" installed "$man_agent"

# run_help BINARY ARGS...: exits 0 and prints a usage text.
run_help() {
	local out
	out=$("$@") || die "$* exited $?"
	grep -q '^Usage: ' <<<"$out" || die "$*: no Usage line in: $out"
}
check "installed meshmon-agent --help" run_help "$dest$agent" --help
check "installed meshmon --help" run_help "$dest$cli" --help
check "installed meshmon monitor --help" run_help "$dest$cli" monitor --help
check "installed meshmon status --help" run_help "$dest$cli" status --help
check "installed meshmon export clickhouse --help" run_help "$dest$cli" export clickhouse --help

# run_version BINARY NAME: exits 0 and prints "NAME X.Y.Z", meson's version.
run_version() {
	local out want
	want=$(sed -n "s/^ *version: '\(.*\)',$/\1/p" "$src/meson.build")
	out=$("$1" --version) || die "$1 --version exited $?"
	grep -q "^$2 $want" <<<"$out" || die "$1 --version: '$out', want '$2 $want...'"
}
check "installed meshmon-agent --version" run_version "$dest$agent" meshmon-agent
check "installed meshmon --version" run_version "$dest$cli" meshmon

# The unit runs the installed binary with the installed environment file.
unit_paths() {
	grep -qx "ExecStart=$agent \$MESHMON_AGENT_OPTS" "$dest$unit" ||
		die "want ExecStart=$agent \$MESHMON_AGENT_OPTS, have: $(grep ExecStart= "$dest$unit")"
	grep -qx "EnvironmentFile=-$envfile" "$dest$unit" ||
		die "want EnvironmentFile=-$envfile, have: $(grep EnvironmentFile= "$dest$unit")"
}
check "unit runs $agent with $envfile" unit_paths

# systemd-analyze verify ROOT UNIT-PATH MANPATH: PID 1 need not be systemd.
# With --root the unit's binary is looked up inside ROOT (so the installed one
# is checked); the targets the unit refers to come from the host's units,
# copied beside it. Documentation= man pages are looked up in MANPATH. Any
# output (unknown keys, bad values are only warnings) is a failure.
verify_unit() {
	local root=$1 unit=$2 manpath=$3 vroot out hostdir
	vroot=$(mktemp -d "$tmp/verify.XXXXXX")
	cp -a "$root/." "$vroot/"
	for hostdir in /lib/systemd/system /usr/lib/systemd/system; do
		if [ ! -d "$hostdir" ] || [ -L "$hostdir" ]; then continue; fi
		mkdir -p "$vroot$hostdir"
		cp -an "$hostdir/." "$vroot$hostdir/"
	done
	out=$(cd "$tmp" && MANPATH="$manpath:" systemd-analyze verify --root="$vroot" "$vroot$unit" 2>&1) ||
		die "systemd-analyze verify failed: $out"
	[ -z "$out" ] || die "systemd-analyze verify complained: $out"
}
check "systemd-analyze verify $unit" verify_unit "$dest" "$unit" "$dest$mandir"

# The exporter's unit runs the installed meshmon with its environment file.
export_unit_paths() {
	grep -qx "ExecStart=$cli export clickhouse --url \${MESHMON_CLICKHOUSE_URL} --reconnect-timeout 0 \$MESHMON_EXPORT_OPTS" "$dest$export_unit" ||
		die "want ExecStart=$cli export clickhouse ..., have: $(grep ExecStart= "$dest$export_unit")"
	grep -qx "EnvironmentFile=$export_envfile" "$dest$export_unit" ||
		die "want EnvironmentFile=$export_envfile, have: $(grep EnvironmentFile= "$dest$export_unit")"
}
check "unit runs $cli export clickhouse with $export_envfile" export_unit_paths
check "systemd-analyze verify $export_unit" verify_unit "$dest" "$export_unit" "$dest$mandir"

# The exporter's environment file sets a URL and flags meshmon accepts.
export_envfile_opts() {
	local url opts
	url=$(env -i sh -c ". '$dest$export_envfile' && printf %s \"\$MESHMON_CLICKHOUSE_URL\"") ||
		die "cannot read $export_envfile"
	opts=$(env -i sh -c ". '$dest$export_envfile' && printf %s \"\$MESHMON_EXPORT_OPTS\"")
	[ -n "$url" ] || die "$export_envfile does not set MESHMON_CLICKHOUSE_URL"
	# shellcheck disable=SC2086 # split into flags, as systemd does
	"$dest$cli" export clickhouse --url "$url" --reconnect-timeout 0 $opts --help >/dev/null ||
		die "meshmon export clickhouse refuses --url \"$url\" $opts"
}
check "$export_envfile sets a URL and flags meshmon export clickhouse accepts" export_envfile_opts

# sysusers_group ROOT FILE: systemd-sysusers would create the group meshmon.
sysusers_group() {
	local root=$1 file=$2 out
	mkdir -p "$root/etc"
	out=$(systemd-sysusers --dry-run --root="$root" "$(basename "$file")" 2>&1) ||
		die "systemd-sysusers --dry-run failed: $out"
	grep -q "Creating group 'meshmon'" <<<"$out" || die "no group meshmon created: $out"
}
check "sysusers.d entry creates the group meshmon" sysusers_group "$dest" "$sysusers"

# The environment file sets MESHMON_AGENT_OPTS to flags the agent accepts.
envfile_opts() {
	local opts
	opts=$(env -i sh -c ". '$dest$envfile' && printf %s \"\$MESHMON_AGENT_OPTS\"") ||
		die "cannot read $envfile"
	[ -n "$opts" ] || die "$envfile does not set MESHMON_AGENT_OPTS"
	# shellcheck disable=SC2086 # split into flags, as systemd does
	"$dest$agent" $opts --help >/dev/null || die "meshmon-agent refuses MESHMON_AGENT_OPTS=\"$opts\""
}
check "$envfile sets MESHMON_AGENT_OPTS the agent accepts" envfile_opts

# man_page FILE NAME: renders without a warning and has NAME "NAME - ...".
man_page() {
	local out err
	err=$(mktemp "$tmp/man.XXXXXX")
	out=$(MANWIDTH=100 man --warnings -l "$1" 2>"$err") || die "man -l $1 failed: $(cat "$err")"
	[ ! -s "$err" ] || die "man --warnings -l $1: $(cat "$err")"
	grep -q '^NAME$' <<<"$out" || die "$1: no NAME section"
	grep -Eq "^ +$2 - " <<<"$out" || die "$1: NAME does not name $2"
}
check "man -l $man_cli" man_page "$dest$man_cli" meshmon
check "man -l $man_agent" man_page "$dest$man_agent" meshmon-agent

# man_flags PAGE HELP-TEXT...: every flag the binary's --help lists is in the
# page, and every flag the page's option headings name is in --help.
flags_of() { grep -oE -- '(^|[ ,[])--?[a-zA-Z][a-zA-Z-]*' | grep -oE -- '--?[a-zA-Z][a-zA-Z-]*' | sort -u; }
man_flags() {
	local page=$1 rendered help missing extra
	shift
	rendered=$(MANWIDTH=200 man -l "$page" 2>/dev/null) # plain text: not a terminal
	help=$(printf '%s\n' "$@" | flags_of)
	missing=$(for f in $help; do grep -qe "$f\b" <<<"$rendered" || echo "$f"; done)
	# option headings: lines indented by 7 that start with a flag
	extra=$(grep -E '^       --?[a-zA-Z]' <<<"$rendered" | flags_of | grep -vxF -e "$help")
	[ -z "$missing" ] || die "$page lacks flags of --help: $missing"
	[ -z "$extra" ] || die "$page documents flags --help does not list: $extra"
}
check "meshmon-agent(8) documents exactly the flags of meshmon-agent --help" \
	man_flags "$dest$man_agent" "$("$dest$agent" --help)"
check "meshmon(8) documents exactly the flags of meshmon monitor/capture/status/export --help" \
	man_flags "$dest$man_cli" "$("$dest$cli" --help)" "$("$dest$cli" monitor --help)" \
	"$("$dest$cli" capture --help)" "$("$dest$cli" status --help)" \
	"$("$dest$cli" export clickhouse --help)"

# --- the Debian package ----------------------------------------------------

pkgsrc=$tmp/pkg/meshmon
# copy_tree: the source tree as git sees it (tracked and new files, not the
# ignored build directories), or a plain copy when it is no git checkout.
copy_tree() {
	mkdir -p "$pkgsrc"
	if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
		(cd "$src" && git ls-files -z --cached --others --exclude-standard |
			while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
			xargs -0 cp -a --parents -t "$pkgsrc")
	else
		(cd "$src" && tar --exclude='./build*' --exclude='./obj-*' -cf - .) | tar -C "$pkgsrc" -xf -
	fi
}
build_deb() {
	copy_tree || die "cannot copy the source tree"
	(cd "$pkgsrc" && DEB_BUILD_OPTIONS="parallel=2 nocheck" dpkg-buildpackage -us -uc -b) \
		>"$tmp/pkg/build.log" 2>&1 || { tail -n 40 "$tmp/pkg/build.log"; return 1; }
}
check "dpkg-buildpackage -us -uc -b in a copy of the tree" build_deb

version=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version 2>/dev/null)
arch=$(dpkg --print-architecture)
deb=$tmp/pkg/meshmon_${version}_$arch.deb

deb_info() {
	local info
	info=$(dpkg -I "$deb") || die "dpkg -I $deb failed"
	grep -qx ' Package: meshmon' <<<"$info" || die "no Package: meshmon in: $info"
	grep -qx " Version: $version" <<<"$info" || die "no Version: $version in: $info"
	grep -qx " Architecture: $arch" <<<"$info" || die "no Architecture: $arch in: $info"
	tr -s ' \n' '  ' <<<"$info" | grep -q 'neither enables nor starts' ||
		die "the description does not say that it enables nothing"
}
check "dpkg -I shows meshmon $version $arch" deb_info

debunitdir=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null)
debunitdir=${debunitdir:-/usr/lib/systemd/system}
debsysusersdir=$(pkg-config --variable=sysusersdir systemd 2>/dev/null)
debsysusersdir=${debsysusersdir:-/usr/lib/sysusers.d}
dpkg -c "$deb" >"$tmp/pkg/contents" 2>&1 || true
in_deb() { grep -qE " \\.$1\$" "$tmp/pkg/contents" || die "not in the package: $1 ($(head -n 3 "$tmp/pkg/contents"))"; }
for f in /usr/sbin/meshmon-agent /usr/bin/meshmon "$debunitdir/meshmon-agent.service" \
	"$debunitdir/meshmon-export-clickhouse.service" /etc/default/meshmon-export-clickhouse \
	"$debsysusersdir/meshmon.conf" /etc/default/meshmon-agent \
	/usr/share/man/man8/meshmon.8.gz /usr/share/man/man8/meshmon-agent.8.gz \
	/usr/share/doc/meshmon/README.Debian; do
	check "dpkg -c lists $f" in_deb "$f"
done

ctl=$tmp/pkg/control
dpkg-deb -e "$deb" "$ctl" >/dev/null 2>&1 || mkdir -p "$ctl"
deb_group() {
	grep -q 'systemd-sysusers .*meshmon.conf' "$ctl/postinst" 2>/dev/null ||
		die "postinst does not run systemd-sysusers meshmon.conf"
}
check "postinst creates the group (systemd-sysusers meshmon.conf)" deb_group
# dh_installsystemd --no-enable --no-start: no start, and enable only when
# the admin had enabled it before (an upgrade), never on a first install.
deb_enables_nothing() {
	[ -f "$ctl/postinst" ] || die "no postinst"
	! grep -q 'deb-systemd-invoke' "$ctl/postinst" || die "postinst starts the service"
	! grep -Eq 'systemctl (enable|start)' "$ctl/postinst" || die "postinst runs systemctl enable/start"
	grep -B2 "deb-systemd-helper enable 'meshmon-agent.service'" "$ctl/postinst" | grep -q 'was-enabled' ||
		die "postinst enables the unit unconditionally"
}
check "postinst enables and starts nothing" deb_enables_nothing
deb_conffile() { grep -qx /etc/default/meshmon-agent "$ctl/conffiles" 2>/dev/null || die "not a conffile"; }
check "/etc/default/meshmon-agent is a conffile" deb_conffile

x=$tmp/pkg/root
dpkg-deb -x "$deb" "$x" >/dev/null 2>&1 || mkdir -p "$x"
check "unpacked /usr/sbin/meshmon-agent --help" run_help "$x/usr/sbin/meshmon-agent" --help
check "unpacked /usr/bin/meshmon --help" run_help "$x/usr/bin/meshmon" --help
check "unpacked /usr/sbin/meshmon-agent --version" run_version "$x/usr/sbin/meshmon-agent" meshmon-agent
check "systemd-analyze verify the package's unit" verify_unit "$x" \
	"$debunitdir/meshmon-agent.service" "$x/usr/share/man"

echo "test_install: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
