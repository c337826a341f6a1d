#!/usr/bin/env bash
# A shared host on this machine, for the test of the shared-hosting bundle
# (t/e2e/test_hosting.c): a throwaway Apache 2.4 (Debian's apache2 with
# mod_fcgid, mod_cgid and mod_rewrite) on a free loopback port, its
# ServerRoot in DIR/apache, running programs as www-data and serving two
# users' directories, /~fcgid/ (DIR/fcgid/public_html) and /~cgi/
# (DIR/cgi/public_html), with AllowOverride and nothing else set up for
# checkoutd: all the rest comes from the bundle's .htaccess.
#
# Each user has a database of its own on the stack's MariaDB, made empty
# as a host's control panel makes it (hosting_fcgid, hosting_cgi, each
# with a user of that name and a random password): the guide's migration
# and demo blocks fill it as on a fresh install, and nothing the stack's
# other suites left behind reaches the guide's cron jobs.
#
# Each user installs the bundle by following docs/deploy-shared-hosting.md:
# its ```sh blocks in order, each in its own bash (set -eo pipefail) as
# www-data (the account a shared host runs a user's programs as) with HOME
# its home and SITE its URL, except the blocks marked "not run by the
# test"; at its ```ini block (the configuration) this script writes into
# the user's checkoutd.conf every key of STACK_CONF but [server],
# [shutdown], security.secret and admin.token (the guide's own block made
# those two) and database.name, user and password (the user's own
# database), after checking that each key the guide names exists; the
# commands of its ```crontab block run once each. The CGI user runs the
# guide's `cp htaccess-fcgid .htaccess` as `cp htaccess-cgi .htaccess`,
# as the guide says for plain CGI.
#
#   t/shared-hosting.sh up DIR TARBALL GUIDE STACK_CONF
#       start Apache, install both users; DIR/hosting.env gets PORT,
#       FCGID_URL, CGI_URL, FCGID_SITE, CGI_SITE (the directories) and
#       FCGID_DB, CGI_DB (the databases)
#   t/shared-hosting.sh down DIR
#       stop Apache by its PID and wait for the programs it started
#
# www-data must reach MariaDB's socket (database.socket of STACK_CONF):
# every directory above it gets o+x.
set -uo pipefail

die() { echo "shared-hosting: $*" >&2; exit 1; }

# The processes whose program lives under DIR (mod_fcgid's checkoutd).
ours() {
	local p exe
	for p in /proc/[0-9]*; do
		exe=$(readlink "$p/exe" 2>/dev/null) || continue
		case $exe in "$dir"/*) echo "${p#/proc/}" ;; esac
	done
}

# down: stop Apache (its PID in $apache_pidfile, by default
# DIR/apache/run/apache.pid) and wait for the programs it started.
down() {
	local pid i pidfile=${apache_pidfile:-$dir/apache/run/apache.pid}
	if [ -s "$pidfile" ]; then
		pid=$(cat "$pidfile")
		if grep -qa apache2 "/proc/$pid/cmdline" 2>/dev/null; then
			kill -TERM "$pid"
			for ((i = 0; i < 100; i++)); do
				kill -0 "$pid" 2>/dev/null || break
				sleep 0.1
			done
		fi
		rm -f "$pidfile"
	fi
	# Apache ends mod_fcgid's processes itself; any left are ours.
	for ((i = 0; i < 50; i++)); do
		[ -z "$(ours)" ] && return 0
		sleep 0.1
	done
	for pid in $(ours); do
		echo "shared-hosting: process $pid outlived Apache" >&2
		kill -KILL "$pid" 2>/dev/null
	done
	return 1
}

apache_conf() {
	local m=/usr/lib/apache2/modules mod
	cat <<EOF
ServerRoot $dir/apache
ServerName 127.0.0.1
Listen 127.0.0.1:$port
PidFile $dir/apache/run/apache.pid
DefaultRuntimeDir $dir/apache/run
ErrorLog $dir/apache/logs/error.log
LogLevel warn
User www-data
Group www-data
EOF
	for mod in mpm_event authz_core authz_host alias mime rewrite cgid fcgid; do
		echo "LoadModule ${mod}_module $m/mod_$mod.so"
	done
	cat <<EOF
CustomLog $dir/apache/logs/access.log "%h %t \\"%r\\" %>s"
ScriptSock $dir/apache/run/cgid.sock
FcgidIPCDir $dir/apache/run/fcgid
FcgidProcessTableFile $dir/apache/run/fcgid_shm
TypesConfig /etc/mime.types
DocumentRoot $dir/apache/htdocs
<Directory />
	AllowOverride None
	Require all denied
</Directory>
<Directory $dir/apache/htdocs>
	Require all granted
</Directory>
# The users' directories: what a host allows in .htaccess, no more.
Alias /~fcgid $dir/fcgid/public_html
Alias /~cgi $dir/cgi/public_html
<Directory $dir/*/public_html>
	Options None
	AllowOverride FileInfo AuthConfig Options=ExecCGI,SymLinksIfOwnerMatch
	Require all granted
</Directory>
EOF
}

# The guide's blocks, in order, into DIR/guide/NN.sh (run), NN.ini (the
# configuration) and NN.crontab; a block after a line starting with
# "<!-- not run by the test" is left out.
split_guide() {
	rm -rf "$dir/guide"
	mkdir -p "$dir/guide"
	awk -v d="$dir/guide" '
		/^<!-- not run by the test/ { skip = 1; next }
		/^```(sh|ini|crontab)[ \t]*$/ {
			kind = substr($0, 4); sub(/[ \t]*$/, "", kind)
			inside = 1
			if (skip) { out = "/dev/null"; skip = 0; next }
			out = sprintf("%s/%02d.%s", d, ++k, kind); next
		}
		/^```[ \t]*$/ && inside { inside = 0; close(out); next }
		inside { print > out }
	' "$guide"
	chmod -R a+rX "$dir/guide"
}

# as_user HOME SITE COMMAND...: run as www-data in a login-like
# environment.
as_user() {
	local home=$1 site=$2
	shift 2
	(cd "$home" && setpriv --reuid=www-data --regid=www-data --init-groups \
		env -i HOME="$home" SITE="$site" PATH=/usr/bin:/bin LANG=C.UTF-8 "$@")
}

# user_db NAME: an empty database NAME and a user NAME for it on the
# stack's MariaDB (root through its socket); its password on stdout.
user_db() {
	local name=$1 pass
	pass=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
	mariadb --no-defaults -uroot --socket="$sock" <<SQL || return 1
DROP DATABASE IF EXISTS $name;
CREATE DATABASE $name CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
CREATE OR REPLACE USER '$name'@'localhost' IDENTIFIED BY '$pass';
GRANT ALL ON $name.* TO '$name'@'localhost';
SQL
	echo "$pass"
}

# configure INI CONF DB PASS: the stack's keys into the user's
# configuration, with the user's own database DB (user DB, password PASS).
configure() {
	local ini=$1 conf=$2 db=$3 pass=$4
	# Every key the guide names is one of the template's.
	awk '
		FNR == NR {
			if ($0 ~ /^\[/) sec = $0
			else if ($0 ~ /^[a-z_0-9]+ =/) known[sec " " $1] = 1
			next
		}
		/^\[/ { sec = $0; next }
		/^[a-z_0-9]+ =/ && !((sec " " $1) in known) {
			print "the guide names " sec " " $1 ", which checkoutd.conf does not have"
			bad = 1
		}
		END { exit bad }
	' "$conf" "$ini" || return 1
	awk -v db="$db" -v pass="$pass" '
		BEGIN {
			own["[database] name"] = "name = " db
			own["[database] user"] = "user = " db
			own["[database] password"] = "password = " pass
		}
		FNR == NR {
			if ($0 ~ /^\[/) sec = $0
			else if ($0 ~ /^[a-z_0-9]+ =/ && sec != "[server]" &&
			    sec != "[shutdown]" &&
			    !(sec == "[security]" && $1 == "secret") &&
			    !(sec == "[admin]" && $1 == "token"))
				val[sec " " $1] = $0
			next
		}
		/^\[/ { sec = $0 }
		/^[a-z_0-9]+ =/ && ((sec " " $1) in own) { print own[sec " " $1]; next }
		/^[a-z_0-9]+ =/ && ((sec " " $1) in val) { print val[sec " " $1]; next }
		{ print }
	' "$stack_conf" "$conf" >"$conf.new" && cat "$conf.new" >"$conf" &&
		rm -f "$conf.new"
}

# install MODE: one user follows the guide.
install_user() {
	local mode=$1 home=$dir/$1 site=http://127.0.0.1:$port/~$1/checkout b
	local conf=$home/public_html/checkout/checkoutd.conf line cmd n=0
	local db=hosting_$1 pass
	pass=$(user_db "$db") || { echo "$mode: making the database $db failed"; return 1; }
	mkdir -p "$home/public_html"
	cp "$tarball" "$home/"
	chown -R www-data:www-data "$home"
	for b in "$dir"/guide/*; do
		echo "--- $mode: $(basename "$b")"
		case $b in
		*.sh)
			if [ "$mode" = cgi ]; then
				sed 's/^cp htaccess-fcgid \.htaccess$/cp htaccess-cgi .htaccess/' \
					"$b" >"$dir/guide/cgi.sh"
				chmod a+r "$dir/guide/cgi.sh"
				b=$dir/guide/cgi.sh
			fi
			as_user "$home" "$site" bash -eo pipefail "$b" || return 1
			;;
		*.ini) configure "$b" "$conf" "$db" "$pass" || return 1 ;;
		*.crontab)
			while read -r line; do
				case $line in '' | '#'*) continue ;; esac
				cmd=$(echo "$line" | cut -d' ' -f6-)
				echo "cron: $cmd"
				as_user "$home" "$site" sh -c "$cmd" || return 1
				n=$((n + 1))
			done <"$b"
			[ "$n" -gt 0 ] || { echo "no crontab line"; return 1; }
			;;
		esac
	done
	if [ "$mode" = cgi ] && ! grep -q '^cp htaccess-fcgid \.htaccess$' "$dir"/guide/*.sh; then
		echo "the guide has no block with 'cp htaccess-fcgid .htaccess'"
		return 1
	fi
}

up() {
	local i d
	tarball=$1 guide=$2 stack_conf=$3
	[ -f "$tarball" ] || die "no bundle $tarball"
	[ -f "$guide" ] || die "no guide $guide"
	command -v apache2 >/dev/null && [ -f /usr/lib/apache2/modules/mod_fcgid.so ] ||
		die "apache2 or mod_fcgid is missing (apt-get install apache2 libapache2-mod-fcgid)"
	mkdir -p "$dir/apache/run" "$dir/apache/logs" "$dir/apache/htdocs"
	chmod 0755 "$dir" "$dir/apache"
	sock=$(sed -n '/^\[database\]/,/^\[/ s/^socket = *//p' "$stack_conf")
	d=$(dirname "$sock")
	while [ -n "$sock" ] && [ "$d" != / ]; do
		chmod o+x "$d"
		d=$(dirname "$d")
	done
	port=$(python3 "$(dirname "$0")/free-port.py")
	apache_conf >"$dir/apache/httpd.conf"
	apache2 -t -f "$dir/apache/httpd.conf" >"$dir/apache/logs/configtest.log" 2>&1 ||
		die "apache2 -t: $(cat "$dir/apache/logs/configtest.log")"
	apache2 -f "$dir/apache/httpd.conf" -k start ||
		die "apache2 did not start (see $dir/apache/logs/error.log)"
	for ((i = 0; i < 100; i++)); do
		curl -s -o /dev/null "http://127.0.0.1:$port/" && break
		sleep 0.1
	done
	split_guide
	for m in fcgid cgi; do
		install_user "$m" || die "$m: the guide's steps failed (above)"
	done
	{
		echo "PORT=$port"
		echo "FCGID_URL=http://127.0.0.1:$port/~fcgid/checkout"
		echo "CGI_URL=http://127.0.0.1:$port/~cgi/checkout"
		echo "FCGID_SITE=$dir/fcgid/public_html/checkout"
		echo "CGI_SITE=$dir/cgi/public_html/checkout"
		echo "FCGID_DB=hosting_fcgid"
		echo "CGI_DB=hosting_cgi"
	} >"$dir/hosting.env"
}

# Sourced (t/deploy-apache.sh, with dir set): the functions, nothing run.
[ "${BASH_SOURCE[0]}" = "$0" ] || return 0
cmd=${1:-}
[ $# -ge 2 ] || die "usage: $0 up DIR TARBALL GUIDE STACK_CONF | down DIR"
mkdir -p "$2"
dir=$(cd "$2" && pwd)
case $cmd in
up)
	[ $# -eq 5 ] || die "usage: $0 up DIR TARBALL GUIDE STACK_CONF"
	up "$3" "$4" "$5"
	;;
down) down ;;
*) die "unknown command $cmd" ;;
esac
