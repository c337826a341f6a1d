#!/usr/bin/env bash
# A three-node MariaDB Galera cluster on loopback in one directory, with one
# checkoutd per node and one nginx in front of the three: what ./run cluster
# starts (DIR = var/cluster) and the cluster smoke test uses (a temporary
# DIR). The stack's own pieces (settings, checkoutd's configuration, the
# fakes, checkoutd, nginx, stopping by PID) come from t/stack.sh, sourced.
#
#   t/cluster.sh up DIR            start what is not running
#   t/cluster.sh down DIR          stop everything (nodes last, 3 2 1)
#   t/cluster.sh status DIR        each node's wsrep state, each checkoutd's
#                                  database, nginx and the fakes
#   t/cluster.sh kill-node DIR N   SIGKILL node N's mariadbd
#   t/cluster.sh start-node DIR N  start node N again: its position recovered
#                                  (--wsrep-recover) so that it rejoins by
#                                  incremental transfer (IST), checked in its log
#   t/cluster.sh cut-node DIR N    cut node N off the others (gmcast.isolate)
#   t/cluster.sh heal-node DIR N   and let it back
#
# Node N (1-3) lives in DIR/nodeN (owned by mysql, which mariadbd runs as:
# rsync state transfer needs it): data/, mysql.sock, mariadbd.err; its
# PID is in DIR/run/nodeN.pid. checkoutd-N (DIR/checkoutd-N.conf, its log
# DIR/log/checkoutd-N.log) talks to node N. DIR/stack.env holds t/stack.sh's
# settings (PORT defaults to 8090 here, WORKERS to 8) and the nodes' ports,
# NODEn_{DB,GCOMM,IST,SST,HTTP}_PORT: MariaDB on 127.0.0.1:3311-3313, Galera's
# group communication on 4571-4573, IST on 4581-4583, rsync state transfer
# on 4591-4593, and nginx serving checkoutd-N alone on 8091-8093 (besides
# the three on PORT); with FREE_PORTS=1 in the environment of the first
# `up`, free ports instead (the tests).
set -euo pipefail

# shellcheck source=t/stack.sh
. "$(dirname "$0")/stack.sh"

nodes=(1 2 3)
provider=/usr/lib/galera/libgalera_smm.so
# A node that stops answering is suspected after 2 s and dropped from the
# group after 3 s, so the others carry on within seconds of a kill or a
# cut (Galera's defaults take 15 s); not less, because the two cores here
# are shared and a busy node must not be dropped for being slow.
evs="evs.keepalive_period=PT0.5S;evs.inactive_check_period=PT0.5S"
evs+=";evs.suspect_timeout=PT2S;evs.inactive_timeout=PT3S;evs.install_timeout=PT3S"

# cluster_dir DIR: t/stack.sh's settings with the cluster's defaults, the
# nodes' ports, and DIR open to mysql (mariadbd runs as mysql).
cluster_dir() {
	local n k p used=" "
	DEFAULT_PORT=8090 DEFAULT_WORKERS=8 setup_dir "$1"
	for n in "${nodes[@]}"; do
		for k in DB GCOMM IST SST HTTP; do
			if ! grep -q "^NODE${n}_${k}_PORT=" "$dir/stack.env"; then
				case $k in
				DB) p=$((3310 + n)) ;;
				GCOMM) p=$((4570 + n)) ;;
				IST) p=$((4580 + n)) ;;
				SST) p=$((4590 + n)) ;;
				HTTP) p=$((8090 + n)) ;;
				esac
				if [ -n "${FREE_PORTS:-}" ]; then
					p=$(python3 "$top/t/free-port.py")
					while [[ $used == *" $p "* ]]; do
						p=$(python3 "$top/t/free-port.py")
					done
				fi
				echo "NODE${n}_${k}_PORT=$p" >>"$dir/stack.env"
			fi
			used+="$(sed -n "s/^NODE${n}_${k}_PORT=//p" "$dir/stack.env") "
		done
	done
	# shellcheck disable=SC1091
	. "$dir/stack.env"
	chmod 0600 "$dir/stack.env"
	# mysql may pass through DIR, not list or read it.
	chgrp mysql "$dir"
	chmod 0710 "$dir"
	runuser -u mysql -- test -x "$dir" ||
		die "mysql cannot reach $dir: a directory above it is closed to it"
}

port() { local v="NODE$1_$2_PORT"; echo "${!v}"; }

# The root client of node $1 (its socket); reads never wait for the
# cluster (wsrep_sync_wait=0), so that they answer on a cut-off node too.
node_sql() {
	local n=$1
	shift
	mariadb --no-defaults --socket="$dir/node$n/mysql.sock" -uroot -N -B \
		--init-command='SET SESSION wsrep_sync_wait = 0' "$@"
}

# A status variable of node $1, empty when it does not answer.
node_status() {
	node_sql "$1" -e "SHOW GLOBAL STATUS LIKE '$2'" 2>/dev/null | cut -f2 || true
}

node_alive() { alive "$dir/run/node$1.pid" mariadbd; }

# The mariadbd arguments of node $1, in the array args.
node_args() {
	local n=$1 nd=$dir/node$1 peers='' i
	for i in "${nodes[@]}"; do
		peers+="${peers:+,}127.0.0.1:$(port "$i" GCOMM)"
	done
	# MARIADB_OPTS: words, as in t/stack.sh.
	# shellcheck disable=SC2206
	args=(--no-defaults --user=mysql --datadir="$nd/data"
		--socket="$nd/mysql.sock" --pid-file="$nd/mariadbd.pid"
		--log-error="$nd/mariadbd.err"
		--bind-address=127.0.0.1 --port="$(port "$n" DB)" --skip-name-resolve
		--innodb-buffer-pool-size=64M
		--binlog-format=ROW --innodb-autoinc-lock-mode=2
		--log-bin-trust-function-creators=ON
		--wsrep-on=ON --wsrep-provider="$provider"
		--wsrep-cluster-name=checkoutd --wsrep-node-name="node$n"
		--wsrep-cluster-address="gcomm://$peers"
		--wsrep-node-incoming-address="127.0.0.1:$(port "$n" DB)"
		--wsrep-sst-method=rsync
		--wsrep-sst-receive-address="127.0.0.1:$(port "$n" SST)"
		--wsrep-provider-options="gmcast.listen_addr=tcp://127.0.0.1:$(port "$n" GCOMM);ist.recv_addr=127.0.0.1:$(port "$n" IST);gcache.size=64M;$evs"
		--wsrep-sync-wait=1
		${MARIADB_OPTS:-})
}

grastate() { sed -n "s/^$2: *//p" "$dir/node$1/data/grastate.dat" 2>/dev/null; }

# Node $1's last committed position (uuid:seqno) after a crash, recovered
# from InnoDB by mariadbd --wsrep-recover; empty when the node stopped
# cleanly (grastate.dat has it) or has no data yet.
recovered_position() {
	local n=$1 nd=$dir/node$1 pos
	[ -f "$nd/data/ibdata1" ] && [ "$(grastate "$n" seqno)" = -1 ] || return 0
	node_args "$n"
	rm -f "$nd/recover.log"
	runuser -u mysql -- touch "$nd/recover.log"
	mariadbd "${args[@]}" --log-error="$nd/recover.log" --wsrep-recover \
		</dev/null >/dev/null 2>&1 || true
	pos=$(sed -n 's/.*WSREP: Recovered position: *\([0-9a-f-]*:-\{0,1\}[0-9]*\).*/\1/p' \
		"$nd/recover.log" | tail -n 1)
	[ -n "$pos" ] || die "node $n: no recovered position (see $nd/recover.log)"
	echo "$pos"
}

# node_start N new|join: starts node N unless it runs, bootstrapping a new
# primary component (new) or joining the others (join), and waits until it
# is Synced. A node without data joins by full transfer (rsync); one that
# has data by IST from its position (recovered after a crash).
node_start() {
	local n=$1 nd=$dir/node$1 extra=() pos i state pid
	node_alive "$n" && return 0
	mkdir -p "$nd/data"
	chown -R mysql:mysql "$nd"
	chmod 0750 "$nd"
	if [ "$2" = new ] && [ ! -d "$nd/data/mysql" ]; then
		mariadb-install-db --no-defaults --datadir="$nd/data" --user=mysql \
			--auth-root-authentication-method=normal --skip-test-db \
			>"$dir/log/node$n-install.log" 2>&1 ||
			die "mariadb-install-db failed (see $dir/log/node$n-install.log)"
	fi
	pos=$(recovered_position "$n")
	[ -z "$pos" ] || extra+=(--wsrep-start-position="$pos")
	[ "$2" != new ] || extra+=(--wsrep-new-cluster)
	node_args "$n"
	# The log grows across starts: where this start's lines begin.
	stat -c %s "$nd/mariadbd.err" 2>/dev/null >"$dir/run/node$n.logstart" ||
		echo 0 >"$dir/run/node$n.logstart"
	# exec: $! is mariadbd itself (setsid does not fork here: the
	# subshell does not lead a process group).
	(exec setsid mariadbd "${args[@]}" "${extra[@]}" </dev/null >/dev/null 2>&1) &
	pid=$!
	echo "$pid" >"$dir/run/node$n.pid"
	for ((i = 0; i < 1800; i++)); do
		# Between the fork and its exec the child's command line is
		# still this script's: not mariadbd yet, not gone either.
		if ! node_alive "$n" &&
			grep -qa -- cluster.sh "/proc/$pid/cmdline" 2>/dev/null; then
			sleep 0.1
			continue
		fi
		if ! node_alive "$n"; then
			# Its own words, since a test's directory is gone after.
			tail -n 25 "$nd/mariadbd.err" >&2
			die "node $n stopped while starting (see $nd/mariadbd.err)"
		fi
		state=$(node_status "$n" wsrep_local_state_comment)
		[ "$state" = Synced ] && return 0
		sleep 0.1
	done
	die "node $n is not Synced after 180 s (see $nd/mariadbd.err)"
}

# The node to bootstrap when none runs: node 1 the first time; else the
# one Galera marked safe (the last to stop cleanly); after a crash of all,
# the one with the highest recovered position, marked safe.
bootstrap_node() {
	local n best='' bestseq=-2 pos seq
	[ -f "$dir/node1/data/grastate.dat" ] || { echo 1; return; }
	for n in "${nodes[@]}"; do
		if [ "$(grastate "$n" safe_to_bootstrap)" = 1 ]; then
			echo "$n"
			return
		fi
	done
	for n in "${nodes[@]}"; do
		pos=$(recovered_position "$n")
		seq=${pos##*:}
		[ -n "$pos" ] || seq=$(grastate "$n" seqno)
		if [ -n "$seq" ] && [ "$seq" -gt "$bestseq" ]; then
			best=$n
			bestseq=$seq
		fi
	done
	[ -n "$best" ] || die "no node has data to bootstrap from"
	sed -i 's/^safe_to_bootstrap: 0/safe_to_bootstrap: 1/' \
		"$dir/node$best/data/grastate.dat"
	echo "$best"
}

# checkoutd_conf N: checkoutd-N's configuration: the three nodes, node N
# first (database.hosts: it fails over to the others).
checkoutd_conf() {
	local i hosts
	hosts="127.0.0.1:$(port "$1" DB)"
	for i in "${nodes[@]}"; do
		[ "$i" = "$1" ] || hosts+=", 127.0.0.1:$(port "$i" DB)"
	done
	write_conf "checkoutd-$1" "hosts = $hosts"
}

# nginx's servers of one checkoutd each, on NODEn_HTTP_PORT (in nginx's
# extra/, beside the upstream of the three on PORT): a client that must
# reach checkoutd-N itself (the acceptance suite spreads its buyers so).
# nginx reloads when they changed.
nodes_http() {
	local i f=$dir/nginx/extra/nodes.conf old
	mkdir -p "$dir/nginx/extra"
	old=$(cat "$f" 2>/dev/null || true)
	for i in "${nodes[@]}"; do
		cat <<NGINX
server {
	listen 127.0.0.1:$(port "$i" HTTP);
	include /etc/nginx/fastcgi_params;
	fastcgi_param HTTP_X_REQUEST_ID \$checkoutd_request_id;
	location / {
		fastcgi_pass unix:$sockdir/checkoutd-$i.sock;
	}
}
NGINX
	done >"$f"
	if [ "$old" != "$(cat "$f")" ] && alive "$dir/run/nginx.pid" nginx; then
		kill -HUP "$(cat "$dir/run/nginx.pid")"
	fi
}

# What checkoutd $1's ready endpoint says of its database, asked on its
# FastCGI socket (not through nginx, which picks a checkoutd itself):
# "127.0.0.1:3311 Synced", or the status and problem code.
ready_database() {
	local out
	out=$(env -i REQUEST_METHOD=GET DOCUMENT_URI=/api/health/ready \
		REQUEST_URI=/api/health/ready REMOTE_ADDR=127.0.0.1 SERVER_PROTOCOL=HTTP/1.1 \
		cgi-fcgi -bind -connect "$sockdir/$1.sock" 2>/dev/null) || { echo "no answer"; return; }
	printf '%s\n' "$out" | sed -n 's/^Status: \([0-9]*\).*/\1/p' | tr '\n' ' '
	printf '%s\n' "$out" | sed '1,/^\r\{0,1\}$/d' |
		jq -r '[.database.host // .code, .database.wsrep_local_state_comment // empty] | join(" ")' 2>/dev/null ||
		echo "?"
}

# The nodes the process $1 has connections to: "node1 (2), node3 (1)".
connected_nodes() {
	local n c out=''
	for n in "${nodes[@]}"; do
		c=$(ss -Htnp state established "( dport = :$(port "$n" DB) )" | grep -c "pid=$1," || true)
		[ "$c" = 0 ] || out+="${out:+, }node$n ($c)"
	done
	echo "${out:-none yet}"
}

# The lines of node $1's log written since its last start.
node_log_since_start() {
	local from
	from=$(cat "$dir/run/node$1.logstart" 2>/dev/null || echo 0)
	tail -c +"$((from + 1))" "$dir/node$1/mariadbd.err"
}

# Waits up to $2 tenths of a second for command $3... to succeed; says $1
# otherwise.
wait_for() {
	local what=$1 tenths=$2 i
	shift 2
	for ((i = 0; i < tenths; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	die "$what"
}

# Whether every running node but $1 is Synced in a primary component of
# $2 nodes.
others_see() {
	local n
	for n in "${nodes[@]}"; do
		[ "$n" != "$1" ] && node_alive "$n" || continue
		[ "$(node_status "$n" wsrep_cluster_size)" = "$2" ] &&
			[ "$(node_status "$n" wsrep_cluster_status)" = Primary ] || return 1
	done
}

running_nodes() {
	local n c=0
	for n in "${nodes[@]}"; do
		if node_alive "$n"; then c=$((c + 1)); fi
	done
	echo "$c"
}

cut_off() { [ "$(node_status "$1" wsrep_cluster_status)" = non-Primary ]; }

synced_in() {
	[ "$(node_status "$1" wsrep_local_state_comment)" = Synced ] &&
		[ "$(node_status "$1" wsrep_cluster_status)" = Primary ]
}

need_node() {
	[[ ${1:-} =~ ^[123]$ ]] || die "usage: t/cluster.sh $cmd DIR N (N = 1, 2 or 3)"
}

cmd=${1:-}
[ $# -ge 2 ] || die "usage: t/cluster.sh up|down|status|kill-node|start-node|cut-node|heal-node DIR [N]"
cluster_dir "$2"
case $cmd in
up)
	n=0
	for i in "${nodes[@]}"; do
		if node_alive "$i"; then n=$i; fi
	done
	if [ "$n" = 0 ]; then
		n=$(bootstrap_node)
		node_start "$n" new
	fi
	for i in "${nodes[@]}"; do
		node_start "$i" join
	done
	# Users and grants replicate: once, on any node in the primary
	# component (node 1 may be cut off).
	for i in "${nodes[@]}"; do
		if synced_in "$i"; then break; fi
	done
	node_sql "$i" <<SQL
CREATE DATABASE IF NOT EXISTS checkoutd CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
CREATE USER IF NOT EXISTS 'checkoutd'@'127.0.0.1' IDENTIFIED BY '$DBPASS';
GRANT ALL ON checkoutd.* TO 'checkoutd'@'127.0.0.1';
SQL
	for i in "${nodes[@]}"; do
		checkoutd_conf "$i"
	done
	"$BIN/checkoutctl" --config "$dir/checkoutd-1.conf" migrate >>"$dir/log/migrate.log" 2>&1 ||
		die "migration failed (see $dir/log/migrate.log)"
	"$BIN/checkoutctl" --config "$dir/checkoutd-1.conf" demo >>"$dir/log/migrate.log" 2>&1 ||
		die "loading the demo store failed (see $dir/log/migrate.log)"
	fakes_up
	for i in "${nodes[@]}"; do
		checkoutd_up "checkoutd-$i"
	done
	nodes_http
	nginx_up checkoutd-1 checkoutd-2 checkoutd-3
	wait_ping
	;;
down)
	stop_all 10 nginx:nginx "${fakes[@]}"
	stop_all $((GRACE + 5)) checkoutd-3:checkoutd checkoutd-2:checkoutd checkoutd-1:checkoutd
	# Node 1 last: it is then the one safe to bootstrap the next `up`.
	for i in 3 2 1; do
		stop_pid "$dir/run/node$i.pid" mariadbd 60
	done
	rm -rf "$sockdir"
	;;
status)
	for i in "${nodes[@]}"; do
		if node_alive "$i"; then
			echo "node$i: running (pid $(cat "$dir/run/node$i.pid")), 127.0.0.1:$(port "$i" DB)," \
				"$(node_status "$i" wsrep_local_state_comment)," \
				"$(node_status "$i" wsrep_cluster_status), cluster size" \
				"$(node_status "$i" wsrep_cluster_size), connections from checkoutd" \
				"$(node_sql "$i" -e "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = 'checkoutd'" 2>/dev/null || echo '?')"
		else
			echo "node$i: stopped"
		fi
	done
	for i in "${nodes[@]}"; do
		if alive "$dir/run/checkoutd-$i.pid" checkoutd; then
			pid=$(cat "$dir/run/checkoutd-$i.pid")
			echo "checkoutd-$i: running (pid $pid)," \
				"$(sed -n '/^\[database\]/,/^\[/{/^\(host\|hosts\|port\|socket\) = /p}' \
					"$dir/checkoutd-$i.conf" | tr '\n' ' ' | sed 's/ $//')"
			echo "  ready: $(ready_database "checkoutd-$i"); connections to $(connected_nodes "$pid")"
		else
			echo "checkoutd-$i: stopped"
		fi
	done
	status_of nginx:nginx "${fakes[@]}"
	;;
kill-node)
	need_node "${3:-}"
	node_alive "$3" || die "node $3 is not running"
	pid=$(cat "$dir/run/node$3.pid")
	kill -KILL "$pid"
	wait_for "node $3 (pid $pid) did not die" 100 eval "! kill -0 $pid 2>/dev/null"
	rm -f "$dir/run/node$3.pid"
	echo "node $3 killed (pid $pid)"
	;;
start-node)
	need_node "${3:-}"
	node_alive "$3" && die "node $3 is running"
	[ "$(running_nodes)" -gt 0 ] || die "no node runs: ./run cluster starts them all"
	# Not before the others have dropped the killed instance from their
	# component (about 3 s after a kill): a new instance at the same
	# address while the old one is still a member has to wait for its
	# eviction, in the middle of its own state transfer.
	wait_for "the running nodes still count node $3 after 30 s" 300 \
		others_see "$3" "$(running_nodes)"
	node_start "$3" join
	# By IST, not a full copy: the joiner received the writes it missed
	# from a donor's gcache. The rsync script runs either way; its log
	# line says which transfer it made.
	log=$(node_log_since_start "$3")
	if grep -q 'rsync SST completed on joiner' <<<"$log"; then
		die "node $3 rejoined by full state transfer (SST), not IST (see $dir/node$3/mariadbd.err)"
	fi
	ist=$(grep -o 'Receiving IST: [0-9]* writesets, seqnos [0-9-]*' <<<"$log" | tail -n 1 || true)
	echo "node $3 rejoined by IST (${ist:-no writes missed}), Synced"
	;;
cut-node)
	need_node "${3:-}"
	node_alive "$3" || die "node $3 is not running"
	node_sql "$3" -e "SET GLOBAL wsrep_provider_options = 'gmcast.isolate=1'"
	others=$(($(running_nodes) - 1))
	wait_for "node $3 still in the primary component after 30 s" 300 cut_off "$3"
	wait_for "the other nodes do not see $others node(s) after 30 s" 300 others_see "$3" "$others"
	echo "node $3 cut off: non-Primary; the others form a primary component of $others"
	;;
heal-node)
	need_node "${3:-}"
	node_alive "$3" || die "node $3 is not running"
	node_sql "$3" -e "SET GLOBAL wsrep_provider_options = 'gmcast.isolate=0'"
	all=$(running_nodes)
	wait_for "node $3 not Synced in the primary component after 60 s" 600 synced_in "$3"
	wait_for "the nodes do not see $all nodes after 60 s" 600 others_see "$3" "$all"
	echo "node $3 healed: Synced, cluster size $all"
	;;
*) die "unknown command $cmd" ;;
esac
