#!/usr/bin/env bash
# Counts what checkoutd binaries ask of the kernel per checkout: each DIR
# in turn runs on the ./run stack (var/), as in bench/ab.sh, and perf
# counts its threads' syscalls (the syscalls:sys_enter_* tracepoints;
# recvfrom's EAGAIN returns apart), context switches and page faults
# during a full-checkout walk (build/release/bench/checkout-bench).
# Counts do not move with the machine's speed as times do
# (docs/performance.md, round 17); the tracepoints slow checkoutd down,
# so the times this prints are not comparable with bench/ab.sh's.
#
#   bench/syscalls.sh [seconds] [clients] DIR...
#
# Each DIR holds a checkoutd and a checkoutctl, as for bench/ab.sh. Needs
# perf (linux-perf) and root, or perf_event_paranoid at -1. Carrier methods
# are off while it runs; at the end the stack runs build/release again.
set -euo pipefail
cd "$(dirname "$0")/.."
num='^[0-9]+$'
secs=10 clients=16
[[ ${1:-} =~ $num ]] && { secs=$1; shift; }
[[ ${1:-} =~ $num ]] && { clients=$1; shift; }
if [ $# -lt 1 ]; then
	echo "usage: bench/syscalls.sh [seconds] [clients] DIR..." >&2
	exit 2
fi
for d in "$@"; do
	[ -x "$d/checkoutd" ] && [ -x "$d/checkoutctl" ] ||
		{ echo "bench/syscalls.sh: $d has no checkoutd and checkoutctl" >&2; exit 2; }
done
command -v perf >/dev/null || { echo "bench/syscalls.sh: no perf" >&2; exit 2; }

./run >/dev/null
(cd build/release && make -s bench/checkout-bench >/dev/null)
sock=$PWD/var/run/mysql.sock
out=$(mktemp)
q() { mariadb --no-defaults -uroot --socket="$sock" -N -e "$1"; }
restore() {
	rm -f "$out"
	q "UPDATE checkoutd.shipping_methods SET enabled = 1 WHERE calculator = 'carrier'" || true
	t/stack.sh checkoutd-stop var >/dev/null 2>&1 || true
	sed -i "s|^BIN=.*|BIN=$PWD/build/release|" var/stack.env
	t/stack.sh up var >/dev/null 2>&1 || true
}
trap restore EXIT
q "UPDATE checkoutd.shipping_methods SET enabled = 0 WHERE calculator = 'carrier'"
for d in "$@"; do
	t/stack.sh checkoutd-stop var >/dev/null 2>&1
	q "UPDATE checkoutd.outbox_events SET delivered_at = UTC_TIMESTAMP() WHERE delivered_at IS NULL"
	sed -i "s|^BIN=.*|BIN=$(cd "$d" && pwd)|" var/stack.env
	t/stack.sh up var >/dev/null
	pid=$(cat var/run/checkoutd.pid)
	# shellcheck disable=SC1091
	port=$(. var/stack.env && echo "$PORT")
	# A short warm-up: the first requests prepare the statements.
	build/release/bench/checkout-bench "http://127.0.0.1:$port" 2 "$clients" "$sock" "$pid" >/dev/null 2>&1 || true
	perf stat -x, -o "$out" -p "$pid" \
		-e 'raw_syscalls:sys_enter,syscalls:sys_enter_*,context-switches,page-faults' \
		-e syscalls:sys_exit_recvfrom --filter 'ret == -11' -- sleep "$secs" &
	perf_pid=$!
	res=$(build/release/bench/checkout-bench "http://127.0.0.1:$port" "$secs" "$clients" "$sock" "$pid" 2>&1 || true)
	wait "$perf_pid" || true
	line=$(printf '%s\n' "$res" | grep '^clients' || true)
	n=$(printf '%s\n' "$line" | awk '{ for (i = 1; i <= NF; i++) if ($(i + 1) == "checkouts/s,") r = $i; sub(",", "", $3); printf "%d", r * $3 + 0.5 }')
	echo "$d: $line"
	echo "  per checkout:"
	if [ "${n:-0}" -le 0 ]; then
		echo "  no checkout"
		continue
	fi
	# The EAGAIN-filtered recvfrom exit is the only sys_exit event.
	awk -F, -v n="$n" '$1 ~ /^[0-9]+$/ && $1 > 0 {
		name = $3
		sub(/^syscalls:sys_enter_/, "", name)
		sub(/^raw_syscalls:sys_enter$/, "all syscalls", name)
		sub(/^syscalls:sys_exit_recvfrom$/, "recvfrom EAGAIN", name)
		printf "%10.2f  %s\n", $1 / n, name
	}' "$out" | sort -g -r
done
