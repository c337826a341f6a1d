#!/usr/bin/env bash
# Compares checkoutd binaries on one stack: the ./run stack (var/) runs
# each in turn, round after round, and the full-checkout walk
# (build/release/bench/checkout-bench) measures each at the same client
# count. The machine's speed moves by ±10 % from run to run; alternating
# on one stack is what makes two builds comparable, and the CPU time
# MariaDB and checkoutd spend per checkout (printed after each run) moves
# less than the rate does. Every second round runs the DIRs in reverse
# order; the means per DIR come last.
#
#   bench/ab.sh [rounds] [seconds] [clients] DIR_A DIR_B [DIR...]
#
# Each DIR holds a checkoutd and a checkoutctl (copy them out of
# build/release before and after a change). Before each run the events
# left undelivered are marked delivered, so that a deliverer does not spend
# the run on an earlier backlog. Carrier methods are off while it runs, as
# in bench/checkout.sh; at the end the stack runs build/release again.
set -euo pipefail
cd "$(dirname "$0")/.."
num='^[0-9]+$'
rounds=3 secs=10 clients=16
[[ ${1:-} =~ $num ]] && { rounds=$1; shift; }
[[ ${1:-} =~ $num ]] && { secs=$1; shift; }
[[ ${1:-} =~ $num ]] && { clients=$1; shift; }
if [ $# -lt 2 ]; then
	echo "usage: bench/ab.sh [rounds] [seconds] [clients] DIR_A DIR_B [DIR...]" >&2
	exit 2
fi
# shellcheck source=bench/lib.sh
. bench/lib.sh
bench_dirs bench/ab.sh "$@"
bench_begin
# Odd rounds run the DIRs in the order given, even rounds in reverse: the
# machine's speed drifts within minutes, and a fixed order would hand one
# binary the same share of the drift every round.
declare -A rate cpu_db cpu_co
for ((r = 1; r <= rounds; r++)); do
	order=("$@")
	if ((r % 2 == 0)); then
		order=()
		for ((i = $#; i >= 1; i--)); do order+=("${!i}"); done
	fi
	for d in "${order[@]}"; do
		bench_use "$d" "$clients"
		out=$(build/release/bench/checkout-bench "http://127.0.0.1:$port" "$secs" "$clients" "$sock" "$pid" "$(cat var/run/nginx.pid)" 2>&1 || true)
		line=$(printf '%s\n' "$out" | grep '^clients' || true)
		cpu=$(printf '%s\n' "$out" | sed -n 's/^CPU per checkout: //p')
		echo "round $r  $d: $line; CPU per checkout: $cpu"
		rate[$d]+=" $(printf '%s\n' "$line" | sed -n 's/.*: \([0-9.]*\) checkouts\/s.*/\1/p')"
		cpu_db[$d]+=" $(printf '%s\n' "$cpu" | sed -n 's/^MariaDB \([0-9.]*\) ms.*/\1/p')"
		cpu_co[$d]+=" $(printf '%s\n' "$cpu" | sed -n 's/.*checkoutd \([0-9.]*\) ms.*/\1/p')"
	done
done
mean() { awk '{ s = 0; for (i = 1; i <= NF; i++) s += $i; if (NF) printf "%.2f", s / NF; else printf "-" }' <<<"$1"; }
for d in "$@"; do
	echo "mean of $rounds: $d: $(mean "${rate[$d]}") checkouts/s, CPU per checkout MariaDB $(mean "${cpu_db[$d]}") ms, checkoutd $(mean "${cpu_co[$d]}") ms"
done
