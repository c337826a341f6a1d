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
# shellcheck source=bench/lib.sh
. bench/lib.sh
bench_dirs bench/syscalls.sh "$@"
command -v perf >/dev/null || { echo "bench/syscalls.sh: no perf" >&2; exit 2; }

out=$(mktemp)
remove_out() { rm -f "$out"; }
bench_on_exit=remove_out
bench_begin
for d in "$@"; do
	bench_use "$d" "$clients"
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
