#!/usr/bin/env bash
# A private checkoutd stack in one directory: MariaDB (data under DIR/db),
# checkoutd and nginx, each started detached with its PID in DIR/run and
# its output in DIR/log. Used by ./run (DIR = var) and by the tests (a
# temporary DIR). Every part is started only when it is not running, and
# stopped by its PID, never by name.
#
#   t/stack.sh up DIR        start what is not running; print nothing else
#   t/stack.sh down DIR      stop everything this DIR started
#   t/stack.sh db-stop DIR   stop only MariaDB (tests of a lost database)
#   t/stack.sh checkoutd-stop DIR   stop only checkoutd (SIGTERM)
#   t/stack.sh status DIR    one line per part
#
# On first `up`, these settings are saved in DIR/stack.env: PORT (nginx,
# default 8080), BIN (directory with checkoutd and checkoutctl), WORKERS,
# GRACE (shutdown.grace), STRIPE_PORT (the payment sandbox, a free port),
# WEBHOOK_SECRET, RECEIVER_PORT and OUTBOX_SECRET (the events' receiver),
# ADMIN_TOKEN, SHIPPO_PORT (the carrier sandbox), SESSION_PORT (seed 003's
# upstream checkout service). checkoutd also takes CHECKOUTD_* overrides from the
# environment of an `up`; they are kept in DIR/checkoutd.env for later ones.
# MARIADB_OPTS (environment) adds options to the mariadbd command line,
# e.g. --performance-schema=ON for profiling.
#
# Sourced (by t/cluster.sh), it only defines its functions: setup_dir,
# write_conf NAME, fakes_up, checkoutd_up NAME, nginx_up NAME..., wait_ping,
# stop_all and status_of then serve a stack of several checkoutd processes
# and databases.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

die() { echo "stack: $*" >&2; exit 1; }

# When process $1 started, in seconds since the epoch (empty: unknown).
# Its stat's 22nd field (the 20th after the command's closing paren) is
# its start in clock ticks after boot.
proc_start() {
	local ticks btime
	ticks=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20)
	btime=$(sed -n 's/^btime //p' /proc/stat)
	[ -n "$ticks" ] && [ -n "$btime" ] || return 0
	echo $((btime + ticks / $(getconf CLK_TCK)))
}

# Whether the process in pid file $1 runs a program named $2, and is the
# one the file was written for: PIDs are reused once their numbers wrap
# (pid_max is 32768 on Debian), and a process that started after its pid
# file was written is somebody else's (another stack's fake of the same
# name, seen killed by a stale file's `down`).
alive() {
	local pid start
	[ -s "$1" ] || return 1
	pid=$(cat "$1")
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
	grep -qa -- "$2" "/proc/$pid/cmdline" 2>/dev/null || return 1
	start=$(proc_start "$pid")
	[ -z "$start" ] || [ "$start" -le $(($(stat -c %Y "$1") + 2)) ]
}

# Stops the process in pid file $1 (program $2) and waits up to $3 seconds.
stop_pid() {
	local pidf=$1 name=$2 wait=${3:-30} pid i
	alive "$pidf" "$name" || { rm -f "$pidf"; return 0; }
	pid=$(cat "$pidf")
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < wait * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || { rm -f "$pidf"; return 0; }
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	rm -f "$pidf"
}

# The sandbox providers, as NAME:PROGRAM (pid file DIR/run/NAME.pid).
fakes=(fake-stripe:fake-stripe fake-receiver:fake-receiver fake-shippo:fake-shippo
	fake-checkout-service:fake-checkout-service)

# stop_all WAIT NAME:PROGRAM...: stop_pid for each, all signalled first (a
# fake takes about 2 s to go: not one after the other).
stop_all() {
	local wait=$1 p
	shift
	for p in "$@"; do
		if alive "$dir/run/${p%%:*}.pid" "${p#*:}"; then
			kill -TERM "$(cat "$dir/run/${p%%:*}.pid")" 2>/dev/null || true
		fi
	done
	for p in "$@"; do
		stop_pid "$dir/run/${p%%:*}.pid" "${p#*:}" "$wait"
	done
}

# status_of NAME:PROGRAM...: one line each, running (its PID) or stopped.
status_of() {
	local p
	for p in "$@"; do
		if alive "$dir/run/${p%%:*}.pid" "${p#*:}"; then
			echo "${p%%:*}: running (pid $(cat "$dir/run/${p%%:*}.pid"))"
		else
			echo "${p%%:*}: stopped"
		fi
	done
}

# setup_dir DIR: the directory and its settings (DIR/stack.env, loaded).
# DEFAULT_PORT and DEFAULT_WORKERS, when set, replace the defaults of PORT
# (8080) and WORKERS (16) of a new DIR.
setup_dir() {
	dir=$1
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	mkdir -p "$dir/run" "$dir/log" "$dir/nginx"
	if [ ! -f "$dir/stack.env" ]; then
		{
			echo "PORT=${PORT:-${DEFAULT_PORT:-8080}}"
			echo "BIN=${BIN:-$top/build/release}"
			echo "WORKERS=${WORKERS:-${DEFAULT_WORKERS:-16}}"
			echo "GRACE=${GRACE:-15}"
			echo "DBPASS=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
			echo "SECRET=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
		} >"$dir/stack.env"
	fi
	# Settings added since the file was written.
	grep -q '^STRIPE_PORT=' "$dir/stack.env" ||
		echo "STRIPE_PORT=$(python3 "$top/t/free-port.py")" >>"$dir/stack.env"
	grep -q '^RECEIVER_PORT=' "$dir/stack.env" ||
		echo "RECEIVER_PORT=$(python3 "$top/t/free-port.py")" >>"$dir/stack.env"
	grep -q '^OUTBOX_SECRET=' "$dir/stack.env" ||
		echo "OUTBOX_SECRET=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')" >>"$dir/stack.env"
	grep -q '^SHIPPO_PORT=' "$dir/stack.env" ||
		echo "SHIPPO_PORT=$(python3 "$top/t/free-port.py")" >>"$dir/stack.env"
	grep -q '^SESSION_PORT=' "$dir/stack.env" ||
		echo "SESSION_PORT=$(python3 "$top/t/free-port.py")" >>"$dir/stack.env"
	grep -q '^ADMIN_TOKEN=' "$dir/stack.env" ||
		echo "ADMIN_TOKEN=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')" >>"$dir/stack.env"
	grep -q '^WEBHOOK_SECRET=' "$dir/stack.env" ||
		echo "WEBHOOK_SECRET=whsec_$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')" >>"$dir/stack.env"
	# Settings given in the environment replace the saved ones.
	local k v
	for k in PORT BIN WORKERS GRACE; do
		v=${!k:-}
		if [ -n "$v" ] && ! grep -qx "$k=$v" "$dir/stack.env"; then
			sed -i "/^$k=/d" "$dir/stack.env"
			echo "$k=$v" >>"$dir/stack.env"
		fi
	done
	# shellcheck disable=SC1091
	. "$dir/stack.env"
	# nginx's workers (not root) must reach the FastCGI socket, and a
	# mktemp -d directory (mode 0700) is closed to them: the socket lives
	# in a directory of its own under /tmp, named after DIR.
	sockdir=/tmp/checkoutd-$(printf %s "$dir" | sha1sum | cut -c1-12)
	mkdir -p "$sockdir"
	chmod 0755 "$sockdir"
	dbsock=$dir/run/mysql.sock
	conf=$dir/checkoutd.conf
}

mysql_root() { mariadb --no-defaults --socket="$dbsock" -uroot "$@"; }

db_up() {
	local i
	if alive "$dir/run/mariadb.pid" mariadbd; then return 0; fi
	if [ ! -d "$dir/db/mysql" ]; then
		mariadb-install-db --no-defaults --datadir="$dir/db" \
			--auth-root-authentication-method=normal \
			--skip-test-db --user=root >"$dir/log/mariadb-install.log" 2>&1 ||
			die "mariadb-install-db failed (see $dir/log/mariadb-install.log)"
	fi
	setsid mariadbd --no-defaults --datadir="$dir/db" --socket="$dbsock" \
		--skip-networking --user=root --pid-file="$dir/run/mariadb.pid" \
		--log-error="$dir/log/mariadb.err" ${MARIADB_OPTS:-} \
		</dev/null >/dev/null 2>&1 &
	for ((i = 0; i < 300; i++)); do
		if mariadb-admin --no-defaults --socket="$dbsock" -uroot ping >/dev/null 2>&1; then
			break
		fi
		sleep 0.1
	done
	mariadb-admin --no-defaults --socket="$dbsock" -uroot ping >/dev/null 2>&1 ||
		die "MariaDB did not start (see $dir/log/mariadb.err)"
	mysql_root <<SQL
CREATE DATABASE IF NOT EXISTS checkoutd CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
CREATE USER IF NOT EXISTS 'checkoutd'@'localhost' IDENTIFIED BY '$DBPASS';
GRANT ALL ON checkoutd.* TO 'checkoutd'@'localhost';
SQL
}

# write_conf NAME LINE...: the configuration DIR/NAME.conf of a checkoutd
# named NAME (socket $sockdir/NAME.sock, pid file DIR/run/NAME.pid); the
# LINEs say where its database is ("socket = ...", or "host = ..." and
# "port = ...").
write_conf() {
	local name=$1 f=$dir/$1.conf
	shift
	{
		cat <<CONF
# Written by t/stack.sh for the private stack in $dir.
[server]
listen = unix:$sockdir/$name.sock
workers = $WORKERS
# nginx's workers run as www-data (nginx.conf): the socket is theirs and
# root's, nobody else's.
socket_mode = 0660
socket_group = www-data
pid_file = $dir/run/$name.pid
[shutdown]
grace = $GRACE
[database]
CONF
		printf '%s\n' "$@"
		cat <<CONF
user = checkoutd
password = $DBPASS
name = checkoutd
[security]
secret = $SECRET
[checkout]
default_tax_zone = EU
default_shipping_method = flat_eu
default_payment_method = offline
# The payment sandbox: t/fake-stripe.py, started beside checkoutd.
[payment]
stripe_url = http://127.0.0.1:$STRIPE_PORT
stripe_secret_key = sk_test_sandbox
# The storefront at / (www/), where the sandbox's bank page of 3-D Secure
# sends the buyer back.
return_url = http://127.0.0.1:$PORT/
[webhook]
stripe_secret = $WEBHOOK_SECRET
# Events go to t/fake-receiver.py, which records them (log/receiver.jsonl).
[outbox]
url = http://127.0.0.1:$RECEIVER_PORT/events
secret = $OUTBOX_SECRET
[admin]
token = $ADMIN_TOKEN
# Carrier rates from t/fake-shippo.py.
[carrier]
url = http://127.0.0.1:$SHIPPO_PORT
token = shippo_test_sandbox
origin_name = Demo Store
origin_street = Hauptstrasse 1
origin_city = Berlin
origin_zip = 10115
origin_country = DE
# Seed 003's upstream: t/fake-checkout-service.py.
[seed003]
checkout_service_url = http://127.0.0.1:$SESSION_PORT
CONF
	} >"$f"
	chmod 0600 "$f"
}

# The sandbox providers: a Stripe-compatible fake that sends its webhooks
# to this stack's checkoutd, a receiver for checkoutd's own events, a
# Shippo-compatible carrier, and seed 003's upstream checkout service.
fakes_up() {
	local i
	if ! alive "$dir/run/fake-receiver.pid" fake-receiver; then
		setsid python3 "$top/t/fake-receiver.py" --port "$RECEIVER_PORT" \
			--secret "$OUTBOX_SECRET" --record "$dir/log/receiver.jsonl" \
			</dev/null >>"$dir/log/fake-receiver.log" 2>&1 &
		echo $! >"$dir/run/fake-receiver.pid"
	fi
	if ! alive "$dir/run/fake-shippo.pid" fake-shippo; then
		setsid python3 "$top/t/fake-shippo.py" --port "$SHIPPO_PORT" \
			</dev/null >>"$dir/log/fake-shippo.log" 2>&1 &
		echo $! >"$dir/run/fake-shippo.pid"
	fi
	if ! alive "$dir/run/fake-checkout-service.pid" fake-checkout-service; then
		setsid python3 "$top/t/fake-checkout-service.py" --port "$SESSION_PORT" \
			</dev/null >>"$dir/log/fake-checkout-service.log" 2>&1 &
		echo $! >"$dir/run/fake-checkout-service.pid"
	fi
	if ! alive "$dir/run/fake-stripe.pid" fake-stripe; then
		setsid python3 "$top/t/fake-stripe.py" --port "$STRIPE_PORT" \
			--record "$dir/log/fake-stripe.jsonl" \
			--allow-origin "http://127.0.0.1:$PORT" \
			--allow-origin "http://localhost:$PORT" \
			--webhook-url "http://127.0.0.1:$PORT/api/webhooks/stripe" \
			--webhook-secret "$WEBHOOK_SECRET" \
			</dev/null >>"$dir/log/fake-stripe.log" 2>&1 &
		echo $! >"$dir/run/fake-stripe.pid"
	fi
	for ((i = 0; i < 100; i++)); do
		if curl -fsS -o /dev/null "http://127.0.0.1:$STRIPE_PORT/_calls" 2>/dev/null &&
			curl -fsS -o /dev/null "http://127.0.0.1:$RECEIVER_PORT/_deliveries" 2>/dev/null &&
			curl -fsS -o /dev/null "http://127.0.0.1:$SHIPPO_PORT/_calls" 2>/dev/null &&
			curl -fsS -o /dev/null "http://127.0.0.1:$SESSION_PORT/_calls" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	die "the fakes did not start (see $dir/log/fake-*.log)"
}

# CHECKOUTD_* settings given to an `up` are kept in DIR/checkoutd.env, so
# a later `up` (a restart by a test) starts checkoutd with them too.
save_overrides() {
	local k
	touch "$dir/checkoutd.env"
	for k in $(compgen -e | grep -E '^CHECKOUTD_[A-Z0-9_]+$' |
		grep -vE '^CHECKOUTD_(URL|BIN|CONFIG)$' || true); do
		sed -i "/^$k=/d" "$dir/checkoutd.env"
		printf '%s=%q\n' "$k" "${!k}" >>"$dir/checkoutd.env"
	done
}

# checkoutd_up [NAME]: starts the checkoutd of DIR/NAME.conf (default
# checkoutd), its output in DIR/log/NAME.log, unless it runs.
checkoutd_up() {
	local name=${1:-checkoutd} i
	save_overrides
	if alive "$dir/run/$name.pid" checkoutd; then return 0; fi
	[ -x "$BIN/checkoutd" ] || die "no checkoutd in $BIN: build first"
	rm -f "$dir/run/$name.exit"
	# The wrapper records the exit status (the shutdown test reads it).
	(
		set -a
		# shellcheck disable=SC1091
		. "$dir/checkoutd.env"
		set +a
		exec setsid sh -c '"$1" --config "$2"; echo $? >"$3"' checkoutd-wrapper \
			"$BIN/checkoutd" "$dir/$name.conf" "$dir/run/$name.exit" \
			</dev/null >>"$dir/log/$name.log" 2>&1
	) &
	for ((i = 0; i < 100; i++)); do
		[ -S "$sockdir/$name.sock" ] && alive "$dir/run/$name.pid" checkoutd && return 0
		sleep 0.1
	done
	die "$name did not start (see $dir/log/$name.log)"
}

# nginx_up [NAME...]: starts nginx on $PORT (or reloads it when its site
# changed) with the checkoutd processes NAME (default checkoutd) as its
# upstream's servers.
nginx_up() {
	local n old servers=
	[ $# -gt 0 ] || set -- checkoutd
	for n in "$@"; do
		servers+="\\1server unix:$sockdir/$n.sock;\\n"
	done
	old=$(cat "$dir/nginx/site.conf" 2>/dev/null || true)
	mkdir -p "$dir/nginx/extra" "$sockdir/nginx-tmp"
	# The storefront's files, copied at each up from this tree's www/
	# to where nginx's workers (www-data) can read them: the tree may be
	# a clone in a directory only root may enter (mktemp -d).
	rm -rf "$sockdir/www"
	cp -R "$top/www" "$sockdir/www"
	chmod -R a+rX "$sockdir/www"
	# The shipped site config, with this stack's port and sockets, the
	# storefront from that copy, with the payment sandbox's script and
	# publishable key.
	sed -e "s|listen 127.0.0.1:8080;|listen 127.0.0.1:$PORT;|" \
		-e "s|^\(\s*\)server unix:/run/checkoutd/checkoutd.sock;\$|${servers%\\n}|" \
		-e "s|root /usr/share/checkoutd/www;|root $sockdir/www;|" \
		-e "s|https://js.stripe.com/v3/|http://127.0.0.1:$STRIPE_PORT/v3/|" \
		-e "s|pk_test_replace_me|pk_test_sandbox|" \
		"$top/nginx/checkoutd.conf" >"$dir/nginx/site.conf"
	if alive "$dir/run/nginx.pid" nginx; then
		# Running: reload only when its site config changed (PORT).
		[ "$old" = "$(cat "$dir/nginx/site.conf")" ] ||
			kill -HUP "$(cat "$dir/run/nginx.pid")"
		return 0
	fi
	cat >"$dir/nginx/nginx.conf" <<NGINX
# Written by t/stack.sh: a private nginx around the shipped site config.
user www-data www-data;
worker_processes 2;
pid $dir/run/nginx.pid;
error_log $dir/log/nginx-error.log warn;
events { worker_connections 1024; }
http {
	access_log $dir/log/nginx-access.log;
	# Temp files are written by the workers (not root): they live beside
	# the socket, where the workers can reach, not under DIR.
	client_body_temp_path $sockdir/nginx-tmp/body;
	fastcgi_temp_path $sockdir/nginx-tmp/fastcgi;
	proxy_temp_path $sockdir/nginx-tmp/proxy;
	uwsgi_temp_path $sockdir/nginx-tmp/uwsgi;
	scgi_temp_path $sockdir/nginx-tmp/scgi;
	include $dir/nginx/site.conf;
	# Extra servers (bench/ping.sh adds a static one to compare with).
	include $dir/nginx/extra/*.conf;
}
NGINX
	nginx -c "$dir/nginx/nginx.conf" -p "$dir/nginx" \
		</dev/null >>"$dir/log/nginx-error.log" 2>&1 ||
		die "nginx did not start (see $dir/log/nginx-error.log)"
	for ((n = 0; n < 50; n++)); do
		alive "$dir/run/nginx.pid" nginx && return 0
		sleep 0.1
	done
	die "nginx did not start (see $dir/log/nginx-error.log)"
}

# Waits until the ping answers through nginx.
wait_ping() {
	local i
	for ((i = 0; i < 100; i++)); do
		if curl -fsS -o /dev/null "http://127.0.0.1:$PORT/api/checkouts/health/ping" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	die "the stack does not answer on port $PORT"
}

# Sourced: the functions only.
[ "${BASH_SOURCE[0]}" = "$0" ] || return 0

cmd=${1:-}
[ $# -ge 2 ] || die "usage: t/stack.sh up|down|db-stop|status DIR"
setup_dir "$2"
case $cmd in
up)
	db_up
	write_conf checkoutd "socket = $dbsock"
	"$BIN/checkoutctl" --config "$conf" migrate >>"$dir/log/migrate.log" 2>&1 ||
		die "migration failed (see $dir/log/migrate.log)"
	# The demo store goes into an empty database only.
	"$BIN/checkoutctl" --config "$conf" demo >>"$dir/log/migrate.log" 2>&1 ||
		die "loading the demo store failed (see $dir/log/migrate.log)"
	fakes_up
	checkoutd_up
	nginx_up
	wait_ping
	;;
down)
	stop_all 10 nginx:nginx "${fakes[@]}"
	stop_pid "$dir/run/checkoutd.pid" checkoutd $((GRACE + 5))
	stop_pid "$dir/run/mariadb.pid" mariadbd 60
	rm -rf "$sockdir"
	;;
db-stop)
	stop_pid "$dir/run/mariadb.pid" mariadbd 60
	;;
checkoutd-stop)
	stop_pid "$dir/run/checkoutd.pid" checkoutd $((GRACE + 5))
	;;
status)
	status_of mariadb:mariadbd checkoutd:checkoutd nginx:nginx "${fakes[@]}"
	;;
*) die "unknown command $cmd" ;;
esac
