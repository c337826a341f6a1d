#!/usr/bin/env bash
# The cluster smoke test: t/cluster.sh in a temporary directory on free
# ports with the checkoutd of BUILD, through its faults. One line per check,
# "ok N - what (time)" or "not ok N - what", as t/install-check.sh; the
# test command counts them.
#
#   t/cluster-check.sh build/test
#
# up; the full walk with a card purchase through the cluster's nginx,
# served by all three checkoutd; a write on node 1 read on node 3; node 2
# killed (the walk goes on) and started again, rejoining by IST with the
# writes it missed; node 3 cut off (its writes refused with 1047, the API
# still answers through nginx: 503 at most from the cut node's checkoutd)
# and healed, with the writes it missed; down,
# every process gone.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
[ $# = 1 ] || { echo "usage: t/cluster-check.sh BUILD" >&2; exit 2; }
bin=$(cd "$1" && pwd)

# shellcheck source=t/checklib.sh
. t/checklib.sh
check_tail=15
check_prefix='# '
check_number=1
check_time=1

dir=$(mktemp -d)
check_out=$dir/check.out
cleanup() {
	t/cluster.sh down "$dir" >/dev/null 2>&1
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'echo "interrupted"; exit 130' INT TERM

cluster() { t/cluster.sh "$1" "$dir" "${@:2}"; }
# SQL on node $1 as root, reads waiting for the cluster (a read sees every
# write committed anywhere before it).
sql() {
	local s=$dir/node$1/mysql.sock
	shift
	mariadb --no-defaults --socket="$s" -uroot -N -B \
		--init-command='SET SESSION wsrep_sync_wait = 1' "$@"
}

# The demo walk of ./run through nginx, each request with an X-Request-Id
# "smoke-$1-K", ending with a card purchase: succeeds when the order is
# paid.
walk() {
	local u=http://127.0.0.1:$PORT tag=$1 k=0 r id tok
	req() {
		k=$((k + 1))
		curl -fsS -H "X-Request-Id: smoke-$tag-$k" "$@"
	}
	r=$(req -X POST "$u/api/carts") || return 1
	id=$(jq -r .id <<<"$r")
	tok=$(jq -r .token <<<"$r")
	req -H "X-Cart-Token: $tok" -d 'variant=sofa&quantity=3' "$u/api/carts/$id/items" >/dev/null &&
		req -H "X-Cart-Token: $tok" -X PUT -d 'shippingAddress[firstName]=John&shippingAddress[lastName]=Doe&shippingAddress[street]=Test&shippingAddress[city]=Berlin&shippingAddress[postcode]=10115&shippingAddress[country]=DE&email=john@example.com' "$u/api/checkouts/$id" >/dev/null &&
		req -H "X-Cart-Token: $tok" "$u/api/checkouts/$id" >/dev/null &&
		req -H "X-Cart-Token: $tok" -X PUT -d 'shipments[0][method]=flexible_eu' "$u/api/checkouts/$id" >/dev/null &&
		req -H "X-Cart-Token: $tok" -X PUT -d 'payments[0][method]=stripe' "$u/api/checkouts/$id" >/dev/null &&
		r=$(req -H "X-Cart-Token: $tok" -X PUT "$u/api/checkouts/$id") || return 1
	[ "$(jq -r .checkout_state <<<"$r")" = completed ] || { echo "not placed: $r"; return 1; }
	r=$(req -H "X-Cart-Token: $tok" -X PUT \
		-d 'number=4242424242424242&expiryMonth=12&expiryYear=2030&securityCode=123' \
		"$u/api/checkouts/$id") || return 1
	[ "$(jq -r .payment_state <<<"$r")" = paid ] || { echo "not paid: $r"; return 1; }
	jq -r .number <<<"$r" >"$dir/number-$tag"
}

# Whether each of the three checkoutd served requests of walk $1.
served_by_all() {
	local i c
	for i in 1 2 3; do
		c=$(grep -c "access smoke-$1-" "$dir/log/checkoutd-$i.log")
		echo "checkoutd-$i served $c"
		[ "$c" -gt 0 ] || return 1
	done
}

# Whether node $2 has order number $1 (written through another node).
has_order() {
	[ "$(sql "$2" -e "SELECT COUNT(*) FROM checkoutd.orders WHERE number = '$1'")" = 1 ]
}

# Whether the smoke table on node $1 holds the values $2 (sorted, spaces).
holds() {
	local got
	got=$(sql "$1" -e 'SELECT v FROM smoke.t ORDER BY v' | tr '\n' ' ' | sed 's/ $//')
	[ "$got" = "$2" ] || { echo "node $1 holds '$got', not '$2'"; return 1; }
}

# Whether a write on node $1 is refused with 1047 (not in the primary
# component).
write_refused() {
	local out
	out=$(mariadb --no-defaults --socket="$dir/node$1/mysql.sock" -uroot \
		-e 'INSERT INTO smoke.t (v) VALUES (99)' 2>&1)
	echo "$out"
	grep -q 'ERROR 1047' <<<"$out"
}

# 12 GETs of the product list through nginx (round robin: about 4 per
# checkoutd) with node 3 cut off: checkoutd-1 and -2 answer 200 each time;
# checkoutd-3, whose first host is the cut node, 200 (through another
# node) or 503 database_unavailable, as the issue allows, never anything
# else. Prints the codes per checkoutd.
cut_answers() {
	local i c codes rc=0
	for ((i = 1; i <= 12; i++)); do
		curl -s -o /dev/null -H "X-Request-Id: smoke-cut-$i" "http://127.0.0.1:$PORT/api/products"
		sleep 0.2
	done
	for i in 1 2 3; do
		codes=$(grep -h ' access smoke-cut-' "$dir/log/checkoutd-$i.log" |
			awk '{print $(NF-1)}' | tr '\n' ' ')
		echo "checkoutd-$i: ${codes:-no request}"
		for c in $codes; do
			[ "$c" = 200 ] || { [ "$i" = 3 ] && [ "$c" = 503 ]; } || rc=1
		done
	done
	# What the three said about their databases, and their answers other
	# than 200, in time order.
	[ "$rc" = 0 ] || (cd "$dir/log" && grep -E ' (error|info) database| access .* [45][0-9][0-9] ' \
		checkoutd-*.log | sort -t: -k2 | tail -n 16)
	return "$rc"
}

# Whether the three nodes are Synced in a primary component of 3.
all_synced() {
	[ "$(cluster status | grep -c 'Synced, Primary, cluster size 3')" = 3 ]
}

# A row written on node 1 and read on node 3.
one_to_three() {
	sql 1 -e 'INSERT INTO smoke.t (v) VALUES (1)' && holds 3 1
}

# start-node 2, whose report says it rejoined by IST.
rejoins_by_ist() {
	local out
	out=$(cluster start-node 2) || return 1
	echo "$out"
	grep -q 'rejoined by IST' <<<"$out"
}

# Whether node 2 has what was written while it was down: a row and walk 2's
# order.
caught_up() {
	holds 2 '1 2' && has_order "$(cat "$dir/number-2")" 2
}

# Whether nothing the cluster started still runs.
all_stopped() {
	! cluster status | grep running
}

t0=$(date +%s)
if ! BIN=$bin FREE_PORTS=1 GRACE=5 check "up: three nodes Synced, three checkoutd, nginx" cluster up; then
	tail -n 20 "$dir"/log/*.log "$dir"/node*/mariadbd.err 2>/dev/null | sed 's/^/# /'
	echo "# $failed of $n failed"
	exit 1
fi
# shellcheck disable=SC1091
. "$dir/stack.env"
check "every node Synced in a primary component of 3" all_synced
check "the walk with a card purchase through nginx" walk 1
check "the walk's requests served by all three checkoutd" served_by_all 1
check "the order placed through the cluster is on node 3" has_order "$(cat "$dir/number-1" 2>/dev/null)" 3
sql 1 -e 'CREATE DATABASE smoke; CREATE TABLE smoke.t (id INT AUTO_INCREMENT PRIMARY KEY, v INT NOT NULL)'
check "a write on node 1 read on node 3" one_to_three
check "kill-node 2 (SIGKILL)" cluster kill-node 2
sql 1 -e 'INSERT INTO smoke.t (v) VALUES (2)'
check "the walk with node 2 down" walk 2
check "start-node 2: rejoins by IST" rejoins_by_ist
check "node 2 has the write and the order it missed" caught_up
check "cut-node 3: non-Primary, the others a primary component of 2" cluster cut-node 3
check "a write on the cut node refused (1047)" write_refused 3
sql 1 -e 'INSERT INTO smoke.t (v) VALUES (3)'
out=$(cut_answers)
rc=$?
if [ "$rc" = 0 ]; then
	ok "the API through nginx with node 3 cut off: checkoutd-1 and -2 200, checkoutd-3 200 or 503 ($(grep -h '^checkoutd-3' <<<"$out"))"
else
	not_ok "the API through nginx with node 3 cut off: checkoutd-1 and -2 200, checkoutd-3 200 or 503"
	printf '%s\n' "$out" | sed 's/^/# /'
fi
check "heal-node 3: Synced again, cluster size 3" cluster heal-node 3
check "node 3 has the write it missed" holds 3 '1 2 3'
check "down" cluster down
check "nothing left running" all_stopped
echo "# $failed of $n failed, $(($(date +%s) - t0)) s in all"
[ "$failed" = 0 ]
