#!/usr/bin/env bash
# The full-checkout walk (bench/checkout-bench, as bench/checkout.sh) at
# CLIENTS clients through the nginx of a three-node Galera cluster with a
# checkoutd per node (t/cluster.sh), then the same build against one plain
# node (a ./run-style stack: t/stack.sh, one MariaDB, one checkoutd), each
# in a temporary directory on free ports, one after the other (only one
# runs at a time); prints both and the ratio. On one machine the cluster's
# three nodes apply every write on the same cores: the figure is for
# docs/scaling.md, not a target. Carrier methods are off in both (as in
# bench/checkout.sh).
#
#   flock /tmp/checkoutd-stack.lock bench/cluster.sh [seconds] [clients]
#                                                    (defaults 20, 16)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
clients=${2:-16}
./run build release
(cd build/release && make -s bench/checkout-bench >/dev/null)
bin=$PWD/build/release
cdir=$(mktemp -d)
pdir=$(mktemp -d)
cleanup() {
	t/cluster.sh down "$cdir" >/dev/null 2>&1 || true
	t/stack.sh down "$pdir" >/dev/null 2>&1 || true
	rm -rf "$cdir" "$pdir"
}
trap cleanup EXIT

# setting DIR NAME: a setting of DIR's stack.env (not sourced here: its
# WORKERS and PORT would pass to the next stack).
setting() { sed -n "s/^$2=//p" "$1/stack.env"; }
durable() {
	mariadb --no-defaults -uroot --socket="$1" -N -e \
		"SELECT CONCAT('innodb_flush_log_at_trx_commit=', @@innodb_flush_log_at_trx_commit, ' innodb_doublewrite=', @@innodb_doublewrite, ' log_bin=', @@log_bin, ' sync_binlog=', @@sync_binlog)"
}
no_carrier() {
	mariadb --no-defaults -uroot --socket="$1" -N -e \
		"UPDATE checkoutd.shipping_methods SET enabled = 0 WHERE calculator = 'carrier' AND enabled = 1"
}
rate() { sed -n 's/^clients [0-9]*, [0-9]* s: \([0-9.]*\) checkouts\/s.*/\1/p' <<<"$1"; }

echo "== cluster: 3 Galera nodes, 3 checkoutd, nginx (t/cluster.sh)"
BIN=$bin FREE_PORTS=1 PORT=$(python3 t/free-port.py) GRACE=5 t/cluster.sh up "$cdir" >/dev/null
sock=$cdir/node1/mysql.sock
echo "MariaDB (each node): $(durable "$sock"), wsrep_sync_wait=1"
echo "$(setting "$cdir" WORKERS) workers per checkoutd, $(nproc) cores; CPU below: node 1 and checkoutd-1 only (one of three each)"
no_carrier "$sock"
cluster=$("$bin/bench/checkout-bench" "http://127.0.0.1:$(setting "$cdir" PORT)" "$secs" "$clients" \
	"$sock" "$(cat "$cdir/run/checkoutd-1.pid")" "$(cat "$cdir/run/nginx.pid")") ||
	cluster="$cluster (errors: see $cdir/log/)"
echo "$cluster"
t/cluster.sh down "$cdir" >/dev/null

echo "== one plain node: 1 MariaDB, 1 checkoutd, nginx (t/stack.sh)"
BIN=$bin PORT=$(python3 t/free-port.py) GRACE=5 t/stack.sh up "$pdir" >/dev/null
sock=$pdir/run/mysql.sock
echo "MariaDB: $(durable "$sock")"
echo "$(setting "$pdir" WORKERS) workers, $(nproc) cores"
no_carrier "$sock"
plain=$("$bin/bench/checkout-bench" "http://127.0.0.1:$(setting "$pdir" PORT)" "$secs" "$clients" \
	"$sock" "$(cat "$pdir/run/checkoutd.pid")" "$(cat "$pdir/run/nginx.pid")") ||
	plain="$plain (errors: see $pdir/log/)"
echo "$plain"
t/stack.sh down "$pdir" >/dev/null

c=$(rate "$cluster")
p=$(rate "$plain")
echo "== $clients clients: cluster ${c:-?} checkouts/s, one node ${p:-?} checkouts/s," \
	"cluster/one node = $(awk -v c="${c:-0}" -v p="${p:-0}" 'BEGIN { if (p > 0) printf "%.2f", c / p; else print "?" }')"
