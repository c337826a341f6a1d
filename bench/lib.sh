# Sourced by bench/ab.sh and bench/syscalls.sh: the ./run stack (var/)
# running each DIR's checkoutd in turn.
#
#   bench_dirs NAME DIR...  exits 2 unless each DIR holds a checkoutd and a
#                           checkoutctl
#   bench_begin             starts the stack, builds checkout-bench, turns
#                           the carrier methods off; on exit they are on
#                           again and the stack runs build/release (after
#                           $bench_on_exit, when set)
#   bench_use DIR CLIENTS   runs DIR's checkoutd on the stack (the events
#                           left undelivered marked delivered first, so that
#                           a deliverer does not spend the run on a backlog),
#                           sets pid and port, and warms it up for 2 s with
#                           CLIENTS clients (the first requests prepare the
#                           statements)
# shellcheck shell=bash
sock=$PWD/var/run/mysql.sock
bench_on_exit=

q() { mariadb --no-defaults -uroot --socket="$sock" -N -e "$1"; }

bench_dirs() {
	local name=$1 d
	shift
	for d in "$@"; do
		if [ ! -x "$d/checkoutd" ] || [ ! -x "$d/checkoutctl" ]; then
			echo "$name: $d has no checkoutd and checkoutctl" >&2
			exit 2
		fi
	done
}

bench_restore() {
	[ -z "$bench_on_exit" ] || $bench_on_exit
	q "UPDATE checkoutd.shipping_methods SET enabled = 1 WHERE calculator = 'carrier'" || true
	t/stack.sh checkoutd-stop var >/dev/null 2>&1 || true
	sed -i "s|^BIN=.*|BIN=$PWD/build/release|" var/stack.env
	t/stack.sh up var >/dev/null 2>&1 || true
}

bench_begin() {
	./run >/dev/null
	(cd build/release && make -s bench/checkout-bench >/dev/null)
	trap bench_restore EXIT
	q "UPDATE checkoutd.shipping_methods SET enabled = 0 WHERE calculator = 'carrier'"
}

bench_use() {
	t/stack.sh checkoutd-stop var >/dev/null 2>&1
	q "UPDATE checkoutd.outbox_events SET delivered_at = UTC_TIMESTAMP() WHERE delivered_at IS NULL"
	sed -i "s|^BIN=.*|BIN=$(cd "$1" && pwd)|" var/stack.env
	t/stack.sh up var >/dev/null
	pid=$(cat var/run/checkoutd.pid)
	# shellcheck disable=SC1091
	port=$(. var/stack.env && echo "$PORT")
	build/release/bench/checkout-bench "http://127.0.0.1:$port" 2 "$2" "$sock" "$pid" >/dev/null 2>&1 || true
}
