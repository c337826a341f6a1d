#!/usr/bin/env bash
# docs/deploy-apache.md, run as far as this machine allows (the guide's
# "What the tests run of this guide" says what is changed and what is
# not run), on the throwaway root R of t/deploy-nginx.sh (sourced: its
# root mapping, MariaDB, prelude, payment sandbox and walk): first
# docs/deploy-nginx.md's ```sh blocks up to its service step (build,
# install, account, database and secrets, migrate, demo), the sandbox's
# keys in R/etc/checkoutd.conf, then docs/deploy-apache.md's ```sh blocks
# in order against R/etc/apache2, a copy of Debian's /etc/apache2 whose
# run, log and lock paths point into R and which listens nowhere of its
# own. Its a2enmod and a2ensite are Debian's (APACHE_CONFDIR), its
# apache2ctl is Debian's on a copy of R/etc/apache2 in which the checkoutd
# snippets the site includes have R's paths. At each
# "<!-- the test: apache -->" the test (re)starts that Apache, then walks a checkout through it: under mod_fcgid after the
# first, as plain CGI after the second. A block after a line starting
# with "<!-- not run by the test" is left out. One line per check, "ok -
# …" or "not ok - …" (t/run-tests counts them); exits 1 when one failed.
# Everything it started is stopped by PID (Apache by t/shared-hosting.sh's
# down). Run it under the stack lock (flock /tmp/checkoutd-stack.lock).
#
#   t/deploy-apache.sh [BUILD_DIR]      (default build/test; for make dist)
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
# Apache's down (its split_guide is replaced by deploy-nginx.sh's next).
# shellcheck source=t/shared-hosting.sh
. "$top/t/shared-hosting.sh"
# shellcheck source=t/deploy-nginx.sh
. "$top/t/deploy-nginx.sh"
dir=$work
apache_pidfile=$root/run/apache2/apache2.pid

cleanup_apache() {
	down >/dev/null 2>&1
	cleanup
}
trap cleanup_apache EXIT

# R/etc/apache2: Debian's, as installed here, with what it writes (run,
# lock, log and mod_fcgid's directories) in R, no Listen of its own and no
# default site; mod_fcgid and mod_cgid not yet enabled (the guide does).
seed_apache() {
	local a=$root/etc/apache2 d
	[ -f /etc/apache2/apache2.conf ] && [ -f /usr/lib/apache2/modules/mod_fcgid.so ] || {
		echo "apache2 or mod_fcgid is missing (apt-get install apache2 libapache2-mod-fcgid)"
		return 1
	}
	cp -a /etc/apache2 "$a" || return 1
	rm -f "$a"/sites-enabled/* "$a"/mods-enabled/fcgid.* "$a"/mods-enabled/cgid.*
	sed -i -e "s#^export APACHE_PID_FILE=.*#export APACHE_PID_FILE=$root/run/apache2/apache2.pid#" \
		-e "s#^export APACHE_RUN_DIR=.*#export APACHE_RUN_DIR=$root/run/apache2#" \
		-e "s#^export APACHE_LOCK_DIR=.*#export APACHE_LOCK_DIR=$root/var/lock/apache2#" \
		-e "s#^export APACHE_LOG_DIR=.*#export APACHE_LOG_DIR=$root/var/log/apache2#" \
		"$a/envvars"
	grep -q "^export APACHE_RUN_DIR=$root/" "$a/envvars" || { echo "envvars: no APACHE_RUN_DIR"; return 1; }
	printf '# Listen: the sites add theirs (the test: no port 80)\n' >"$a/ports.conf"
	# mod_fcgid's compiled-in places are /var/lib/apache2/fcgid/{sock,shm}.
	printf 'FcgidIPCDir %s\nFcgidProcessTableFile %s\n' \
		"$root/var/lib/apache2/fcgid/sock" "$root/var/lib/apache2/fcgid/shm" \
		>>"$a/mods-available/fcgid.conf"
	for d in run/apache2/socks var/lock/apache2 var/log/apache2 var/lib/apache2/fcgid; do
		mkdir -p "$root/$d"
	done
	chown www-data:www-data "$root/var/lib/apache2/fcgid"
}

# What the guide's blocks run besides t/deploy-nginx.sh's prelude:
# a2enmod and a2ensite on R/etc/apache2, apache2ctl on its R-mapped copy.
apache_prelude() {
	prelude
	echo "port=$port"
	declare -f map
	cat <<EOF
export APACHE_CONFDIR=\$root/etc/apache2
a2enmod() { [ "\$APACHE_CONFDIR" = "\$root/etc/apache2" ] && command a2enmod "\$@"; }
a2ensite() { [ "\$APACHE_CONFDIR" = "\$root/etc/apache2" ] && command a2ensite "\$@"; }
apache2ctl() {
	local f s=$work/apache-snippets
	rm -rf "$work/apache2" "\$s" && mkdir -p "\$s" &&
		cp -a "\$root/etc/apache2" "$work/apache2" || return 1
	for f in "\$root"/usr/local/share/checkoutd/apache/*.conf; do
		map "\$f" >"\$s/\${f##*/}" || return 1
	done
	grep -rlF "\$root/usr/local/share/checkoutd/apache/" "$work/apache2" |
		xargs -r sed -i "s#\$root/usr/local/share/checkoutd/apache/#\$s/#g"
	APACHE_CONFDIR=$work/apache2 command apache2ctl "\$@"
}
EOF
}

# The test's part at "<!-- the test: apache -->", for the guide's
# systemctl restart apache2: stop Apache when it runs (and the programs it
# started), start it, wait until it answers on the guide's port.
start_apache() {
	local i
	down || return 1
	bash -c ". '$work/prelude.sh' && apache2ctl start" || return 1
	for ((i = 0; i < 100; i++)); do
		curl -s -o /dev/null "http://127.0.0.1:$port/checkouts/health/ping" && break
		sleep 0.1
	done
	[ -s "$apache_pidfile" ] && echo "apache2: pid $(cat "$apache_pidfile"), port $port"
}

# The modules the running Apache has loaded (one of fcgid_module,
# cgid_module).
has_module() {
	bash -c ". '$work/prelude.sh' && apache2ctl -M" 2>&1 | grep -w "$1"
}

# The machine's own Apache configuration, to show it unchanged at the end.
etc_apache() { (cd /etc/apache2 && find . -printf '%p %l %m\n' -type f -exec md5sum {} + | sort); }
etc_apache >"$work/etc-apache2.before"
check "a throwaway root $root" seed_root || exit 1
check "R/etc/apache2: Debian's, listening nowhere, its paths in R" seed_apache || exit 1
check "MariaDB of the test's own (socket R/run/mysqld/mysqld.sock)" db_up || exit 1
check "make dist ($build)" tarball || exit 1
apache_prelude >"$work/prelude.sh"
split_guide
mv "$work/guide" "$work/guide-nginx"
# docs/deploy-nginx.md up to its service step.
for b in "$work"/guide-nginx/*; do
	case $b in *.sh) ;; *) break ;; esac
	run_block "$b" || exit 1
done
check "the payment sandbox's and an events receiver's keys in R/etc/checkoutd.conf" \
	providers || exit 1
guide=$top/docs/deploy-apache.md
split_guide
modes=(fcgid cgid)
k=0
for b in "$work"/guide/*; do
	block=$(basename "$b")
	case $block in
	*.sh)
		run_block "$b" || break
		;;
	*.apache)
		m=${modes[$k]:-}
		k=$((k + 1))
		[ -n "$m" ] || { notok "a third <!-- the test: apache --> in the guide"; break; }
		check "Apache (R/etc/apache2) restarted, ${m}_module loaded" \
			eval 'start_apache && has_module "${m}_module"' || break
		check "a checkout through Apache ($m): cart, address, shipping, card payment" walk
		;;
	*) notok "unknown action $block in the guide" ;;
	esac
done
[ "$k" = 2 ] || notok "the guide has ${k} of its two <!-- the test: apache --> steps"
check "checkoutd's first line under Apache names R/etc/checkoutd.conf" \
	grep -q "configuration $root/etc/checkoutd.conf" "$root/var/log/apache2/error.log"
check "Apache stopped, no checkoutd left (t/shared-hosting.sh down)" down
check "the machine's /etc/apache2 unchanged" \
	eval 'etc_apache | diff "$work/etc-apache2.before" -'
exit "$rc"
