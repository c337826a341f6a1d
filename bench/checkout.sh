#!/usr/bin/env bash
# Full-checkout benchmark against the ./run stack (var/), through nginx.
# Refuses to run unless MariaDB has its durable defaults. For each client
# count it prints completed checkouts/s, requests/s, p50/p99 per request,
# errors (must be 0) and checkoutd's peak resident memory, then the same
# MariaDB's one-row INSERT commit ceiling. Carrier methods are switched off
# for the run (and back on at the end).
# Usage: bench/checkout.sh [seconds] [client counts...]   (defaults 10, 1 4 16)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
shift || true
if [ $# -gt 0 ]; then counts=("$@"); else counts=(1 4 16); fi

./run >/dev/null
. var/stack.env
sock=$PWD/var/run/mysql.sock
q() { mariadb --no-defaults -uroot --socket="$sock" -N -e "$1"; }
flush=$(q "SELECT @@innodb_flush_log_at_trx_commit")
logbin=$(q "SELECT @@log_bin")
syncbin=$(q "SELECT @@sync_binlog")
doublewrite=$(q "SELECT @@innodb_doublewrite")
echo "MariaDB: innodb_flush_log_at_trx_commit=$flush innodb_doublewrite=$doublewrite log_bin=$logbin sync_binlog=$syncbin"
if [ "$flush" != 1 ] || [ "$doublewrite" != 1 ] || [ "$logbin" != 0 ] || [ "$syncbin" != 0 ]; then
	echo "bench: MariaDB does not run with its durable defaults; refusing" >&2
	exit 1
fi
(cd build/release && make -s bench/checkout-bench >/dev/null)
# The walk measures checkoutd and MariaDB: carrier methods (which would ask
# the sandbox carrier, a Python process, on every shipping GET) are off
# while it runs, and back on after.
q "UPDATE checkoutd.shipping_methods SET enabled = 0 WHERE calculator = 'carrier' AND enabled = 1"
trap 'q "UPDATE checkoutd.shipping_methods SET enabled = 1 WHERE calculator = '"'"'carrier'"'"'"' EXIT
pid=$(cat var/run/checkoutd.pid)
echo "checkoutd pid $pid, $WORKERS workers, $(nproc) cores"
for n in "${counts[@]}"; do
	build/release/bench/checkout-bench "http://127.0.0.1:$PORT" "$secs" "$n" "$sock" "$pid" \
		"$(cat var/run/nginx.pid)" ||
		echo "bench: errors at $n clients (see var/log/checkoutd.log)"
done
