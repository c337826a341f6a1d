#!/usr/bin/env bash
# docs/deploy-nginx.md, run as far as a machine without systemd as PID 1
# allows (the guide's "What the tests run of this guide" says what is
# changed and what is not run): its ```sh blocks in order, as root,
# against a throwaway root directory R, with a MariaDB of its own; at the
# guide's "<!-- the test: service -->" it starts checkoutd as R's
# checkoutd.service says (ExecStart as its User, Group and
# SupplementaryGroups, Environment, UMask, RuntimeDirectory and
# LogsDirectory made as systemd makes them) and runs each timer's service
# once; at "<!-- the test: nginx -->" it starts an nginx whose main file
# includes R's sites-enabled; then it walks a checkout through that nginx.
# A block after a line starting with "<!-- not run by the test" is left
# out. One line per check, "ok - …" or "not ok - …" (t/run-tests counts
# them); exits 1 when one failed. Everything it started is stopped by PID.
#
#   t/deploy-nginx.sh [BUILD_DIR]      (default build/test; for make dist)
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-build/test}" && pwd) || exit 1
guide=$top/docs/deploy-nginx.md
# The nginx workers (www-data) must reach R/run/checkoutd: not under a
# mode 0700 mktemp directory.
work=$(mktemp -d /tmp/checkoutd-deploy.XXXXXX) || exit 1
chmod 0755 "$work"
root=$work/root
# shellcheck source=t/checklib.sh
. "$top/t/checklib.sh"
check_out=$work/out
check_tail=40

# stop PIDFILE NAME: SIGTERM to the process in PIDFILE when it runs NAME,
# SIGKILL after 15 s.
stop() {
	local pid i
	[ -s "$1" ] || return 0
	pid=$(cat "$1")
	grep -qa -- "$2" "/proc/$pid/cmdline" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 150; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
}

cleanup() {
	stop "$root/run/nginx.pid" nginx
	stop "$work/checkoutd.pid" checkoutd
	stop "$work/fake-stripe.pid" fake-stripe
	stop "$work/fake-receiver.pid" fake-receiver
	stop "$work/mariadb.pid" mariadbd
	rm -rf "$work"
}
trap cleanup EXIT

# The root mapping: what a path of the guide, the unit or the site file
# is in R; and the site's port.
port=$(python3 "$top/t/free-port.py")
map() {
	sed -e "s#/etc/#$root/etc/#g" -e "s#/usr/local/#$root/usr/local/#g" \
		-e "s#/run/#$root/run/#g" -e "s#/var/log/#$root/var/log/#g" \
		-e "s#127\.0\.0\.1:8080#127.0.0.1:$port#g" \
		-e "s#^make install\$#make install DESTDIR=$root#" "$@"
}

# R, as a fresh Debian host would have it for this guide.
seed_root() {
	mkdir -p "$root/etc/nginx/sites-available" "$root/etc/nginx/sites-enabled" \
		"$root/run/mysqld" "$root/var/log/nginx" "$work/nginx-sites" \
		"$work/nginx-tmp"
	chmod 0755 "$root" "$root/run" "$root/run/mysqld"
	# The accounts as this machine has them (so that a new one's number
	# is free here too), without their secrets: shadow files start empty.
	cp -p /etc/passwd /etc/group /etc/login.defs "$root/etc/"
	install -m 0640 /dev/null "$root/etc/shadow"
	install -m 0640 /dev/null "$root/etc/gshadow"
	cp /etc/nginx/fastcgi_params "$root/etc/nginx/"
	chown www-data "$work/nginx-tmp"
	cat >"$root/etc/nginx/nginx.conf" <<EOF
# Debian's shape: workers as www-data, the sites enabled included (here
# R's, through the root mapping: $work/nginx-sites).
user www-data;
worker_processes 1;
pid $root/run/nginx.pid;
error_log $root/var/log/nginx/error.log;
events { worker_connections 64; }
http {
	access_log $root/var/log/nginx/access.log;
	client_body_temp_path $work/nginx-tmp/body;
	fastcgi_temp_path $work/nginx-tmp/fastcgi;
	proxy_temp_path $work/nginx-tmp/proxy;
	uwsgi_temp_path $work/nginx-tmp/uwsgi;
	scgi_temp_path $work/nginx-tmp/scgi;
	include $work/nginx-sites/*;
}
EOF
}

# The commands of the guide that act on the host's accounts, database and
# nginx, pointed at R (sourced before each block).
prelude() {
	cat <<EOF
root=$root
PATH=$root/usr/local/sbin:$root/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export MAKEFLAGS=-j2
id() { grep -q "^\$1:" "\$root/etc/passwd"; }
useradd() { command useradd --prefix "\$root" "\$@"; }
chgrp() {
	command chgrp "\$(awk -F: -v g="\$1" '\$1 == g { print \$3 }' "\$root/etc/group")" "\${@:2}"
}
mysql() { mariadb --no-defaults -uroot --socket="\$root/run/mysqld/mysqld.sock" "\$@"; }
nginx() {
	local f
	rm -f "$work"/nginx-sites/*
	for f in "\$root"/etc/nginx/sites-enabled/*; do
		[ -e "\$f" ] || continue
		sed -e "s#/etc/#\$root/etc/#g" -e "s#/run/#\$root/run/#g" \\
			-e "s#127\\.0\\.0\\.1:8080#127.0.0.1:$port#g" "\$f" \\
			>"$work/nginx-sites/\$(basename "\$f")"
	done
	command nginx -c "\$root/etc/nginx/nginx.conf" "\$@"
}
EOF
}

db_up() {
	local i
	mariadb-install-db --no-defaults --datadir="$work/db" \
		--auth-root-authentication-method=normal --skip-test-db \
		--user=root >"$work/mariadb-install.log" 2>&1 || return 1
	setsid mariadbd --no-defaults --datadir="$work/db" --user=root \
		--socket="$root/run/mysqld/mysqld.sock" --skip-networking \
		--pid-file="$work/mariadb.pid" --log-error="$work/mariadb.err" \
		</dev/null >/dev/null 2>&1 &
	for ((i = 0; i < 300; i++)); do
		mariadb-admin --no-defaults -uroot \
			--socket="$root/run/mysqld/mysqld.sock" ping >/dev/null 2>&1 &&
			return 0
		sleep 0.1
	done
	return 1
}

# The guide's blocks into $work/guide/NN.sh, and NN.ACTION for each
# "<!-- the test: ACTION -->".
split_guide() {
	mkdir -p "$work/guide"
	awk -v d="$work/guide" '
		/^<!-- not run by the test/ { skip = 1; next }
		/^<!-- the test: [a-z]+ -->/ {
			a = $0; sub(/^<!-- the test: /, "", a); sub(/ -->.*/, "", a)
			printf "" > sprintf("%s/%02d.%s", d, ++k, a); next
		}
		/^```sh[ \t]*$/ {
			inside = 1
			if (skip) { out = "/dev/null"; skip = 0; next }
			out = sprintf("%s/%02d.sh", d, ++k); next
		}
		/^```[ \t]*$/ && inside { inside = 0; close(out); next }
		inside { print > out }
	' "$guide"
}

# key_in FILE SECTION NAME: a unit's or the configuration's value.
unit_key() { sed -n "s/^$2=//p" "$1"; }
set_key() {
	sed -i "/^\[$2\]/,/^\[/ s|^$3 =.*|$3 = $4|" "$1"
}

# run_unit UNIT [background]: the unit's ExecStart the way systemd runs
# it (as far as this machine can): User, Group, SupplementaryGroups,
# Environment, UMask, RuntimeDirectory(+Mode) and LogsDirectory. In the
# background, the PID goes to $work/checkoutd.pid.
run_unit() {
	local unit=$1 bg=${2:-} user group uid gid groups="" g d envs=() cmd mode
	local ids=()
	user=$(unit_key "$unit" User)
	group=$(unit_key "$unit" Group)
	uid=$(awk -F: -v u="$user" '$1 == u { print $3 }' "$root/etc/passwd")
	gid=$(awk -F: -v g="$group" '$1 == g { print $3 }' "$root/etc/group")
	[ -n "$uid" ] && [ -n "$gid" ] || { echo "no account $user:$group in R"; return 1; }
	for g in $(unit_key "$unit" SupplementaryGroups); do
		groups=$groups${groups:+,}$(awk -F: -v g="$g" '$1 == g { print $3 }' "$root/etc/group")
	done
	# systemd's default RuntimeDirectoryMode is 0755.
	mode=$(unit_key "$unit" RuntimeDirectoryMode)
	for d in $(unit_key "$unit" RuntimeDirectory); do
		mkdir -p "$root/run/$d"
		chown "$uid:$gid" "$root/run/$d"
		chmod "${mode:-0755}" "$root/run/$d"
	done
	for d in $(unit_key "$unit" LogsDirectory); do
		mkdir -p "$root/var/log/$d"
		chown "$uid:$gid" "$root/var/log/$d"
	done
	while IFS= read -r g; do envs+=("$g"); done < <(unit_key "$unit" Environment)
	cmd=$(unit_key "$unit" ExecStart | map)
	[ -n "$cmd" ] || { echo "no ExecStart in $unit"; return 1; }
	echo "$(basename "$unit"): $cmd (uid $uid, gid $gid, groups ${groups:-none})"
	ids=(--reuid="$uid" --regid="$gid")
	if [ -n "$groups" ]; then ids+=(--groups="$groups"); else ids+=(--clear-groups); fi
	mode=$(unit_key "$unit" UMask)
	# shellcheck disable=SC2086 # ExecStart is split on spaces, as systemd does here
	if [ -n "$bg" ]; then
		(umask "${mode:-0022}" && exec setsid setpriv "${ids[@]}" \
			env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "${envs[@]}" $cmd) \
			</dev/null >>"$work/checkoutd.journal" 2>&1 &
		echo $! >"$work/checkoutd.pid"
	else
		(umask "${mode:-0022}" && exec setpriv "${ids[@]}" \
			env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "${envs[@]}" $cmd) </dev/null
	fi
}

# The test's part at "<!-- the test: service -->".
start_service() {
	local units=$root/usr/local/lib/systemd/system i t
	run_unit "$units/checkoutd.service" background || return 1
	for ((i = 0; i < 100; i++)); do
		[ -S "$root/run/checkoutd/checkoutd.sock" ] && break
		sleep 0.1
	done
	[ -S "$root/run/checkoutd/checkoutd.sock" ] ||
		{ echo "no socket; checkoutd's output:"; cat "$work/checkoutd.journal"; return 1; }
	# Each timer (its schedule is systemd's) starts its service.
	for t in reconcile deliver expire; do
		grep -q "^OnCalendar=" "$units/checkoutd-$t.timer" ||
			{ echo "checkoutd-$t.timer has no OnCalendar"; return 1; }
		run_unit "$units/checkoutd-$t.service" || return 1
	done
}

# step METHOD PATH [FORM]: one request of the walk through the nginx
# (with the cart token $t once there is one); the body on stdout, and on
# stderr with the status when it is 400 or more.
step() {
	local code
	code=$(curl -sS -o "$work/body" -w '%{http_code}' -X "$1" ${t:+-H "$t"} \
		${3:+-d "$3"} "http://127.0.0.1:$port$2") || return 1
	if [ "$code" -ge 400 ]; then
		echo "$1 $2: $code $(cat "$work/body")" >&2
		return 1
	fi
	cat "$work/body"
}

# A checkout through the nginx: the demo store's sofa, an address, the
# flexible rate, a card at the payment sandbox.
walk() {
	local r id o t=""
	r=$(step POST /api/carts) || return 1
	id=$(jq -r .id <<<"$r")
	t="X-Cart-Token: $(jq -r .token <<<"$r")"
	step POST "/api/carts/$id/items" 'variant=sofa&quantity=3' >/dev/null &&
		step PUT "/api/checkouts/$id" 'shippingAddress[firstName]=John&shippingAddress[lastName]=Doe&shippingAddress[street]=Test&shippingAddress[city]=Berlin&shippingAddress[postcode]=10115&shippingAddress[country]=DE&email=john@example.com' >/dev/null &&
		step PUT "/api/checkouts/$id" 'shipments[0][method]=flexible_eu' >/dev/null &&
		step PUT "/api/checkouts/$id" 'payments[0][method]=stripe' >/dev/null &&
		o=$(step PUT "/api/checkouts/$id") || return 1
	[ "$(jq -r .payment_state <<<"$o")" = awaiting_payment ] || { echo "$o"; return 1; }
	o=$(step PUT "/api/checkouts/$id" \
		'number=4242424242424242&expiryMonth=12&expiryYear=2030&securityCode=123') ||
		return 1
	[ "$(jq -r .payment_state <<<"$o")" = paid ] || { echo "$o"; return 1; }
	echo "order $(jq -r .number <<<"$o"): paid"
}

tarball() {
	make -s -C "$build" dist >/dev/null &&
		cp "$build/checkoutd-$(sed -n 's/^VERSION = //p' "$build/Makefile").tar.gz" "$work/"
}

# The payment sandbox and an events receiver on free ports, and their
# keys in R's configuration (the guide leaves those to the reader).
providers() {
	local sp rp conf=$root/etc/checkoutd.conf i secret
	sp=$(python3 "$top/t/free-port.py")
	rp=$(python3 "$top/t/free-port.py")
	secret=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
	setsid python3 "$top/t/fake-stripe.py" --port "$sp" --key sk_test_deploy \
		</dev/null >>"$work/fake-stripe.log" 2>&1 &
	echo $! >"$work/fake-stripe.pid"
	setsid python3 "$top/t/fake-receiver.py" --port "$rp" --secret "$secret" \
		</dev/null >>"$work/fake-receiver.log" 2>&1 &
	echo $! >"$work/fake-receiver.pid"
	for ((i = 0; i < 100; i++)); do
		curl -fsS -o /dev/null "http://127.0.0.1:$sp/_calls" 2>/dev/null &&
			curl -fsS -o /dev/null "http://127.0.0.1:$rp/_deliveries" 2>/dev/null &&
			break
		sleep 0.1
	done
	set_key "$conf" payment stripe_url "http://127.0.0.1:$sp"
	set_key "$conf" payment stripe_secret_key sk_test_deploy
	set_key "$conf" webhook stripe_secret "whsec_$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
	set_key "$conf" outbox url "http://127.0.0.1:$rp/events"
	set_key "$conf" outbox secret "$secret"
}

# run_block FILE: one of the guide's blocks, mapped to R, after the
# prelude ($work/prelude.sh), as one check.
run_block() {
	map "$1" >"$work/run.sh"
	check "docs/$(basename "$guide") block $(basename "$1"): $(head -n 1 "$1")" \
		bash -eo pipefail -c "cd '$work' && . '$work/prelude.sh' && . '$work/run.sh'"
}

# Sourced (t/deploy-apache.sh): the functions above, and nothing run.
[ "${BASH_SOURCE[0]}" = "$0" ] || return 0
check "a throwaway root $root" seed_root || exit 1
check "MariaDB of the test's own (socket R/run/mysqld/mysqld.sock)" db_up || exit 1
check "make dist ($build)" tarball || exit 1
split_guide
prelude >"$work/prelude.sh"
for b in "$work"/guide/*; do
	block=$(basename "$b")
	case $block in
	*.sh)
		run_block "$b" || break
		;;
	*.service)
		check "the payment sandbox's and an events receiver's keys in R/etc/checkoutd.conf" providers &&
			check "checkoutd.service's ExecStart as its user; each timer's service once" \
				start_service || break
		;;
	*.nginx)
		check "nginx with R's sites-enabled" \
			bash -c ". '$work/prelude.sh' && nginx" || break
		;;
	*) notok "unknown action $block in the guide" ;;
	esac
done
if [ "$rc" = 0 ]; then
	check "a checkout through nginx: cart, address, shipping, card payment" walk
	check "the storefront's page at / from R's www (step 7's root line)" \
		bash -c "curl -fsS 'http://127.0.0.1:$port/' | grep -qi '<html'"
	check "checkoutd's first line names R/etc/checkoutd.conf" \
		grep -q "configuration $root/etc/checkoutd.conf" "$work/checkoutd.journal"
fi
exit "$rc"
