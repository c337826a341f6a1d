#!/bin/sh
# What `make install` puts on a host, checked from a configured build
# directory (default build/test): it installs into a temporary DESTDIR and
# checks that
#   - every file is there (binaries, configuration, example, manual pages,
#     nginx site, the storefront, the back office's pages, Apache snippets,
#     systemd units and timers, crontab, logrotate) and no @name@
#     placeholder is left in them;
#   - the installed binaries run and read the installed configuration;
#   - man renders each page without a warning;
#   - systemd-analyze verify accepts each unit, against the DESTDIR copy
#     (--root: its ExecStart binaries and its man: links), and each
#     service's exposure (systemd-analyze security) stays at most 3.0;
#   - nginx -t accepts the installed site file, apache2 -t each snippet;
#   - installing again keeps an edited checkoutd.conf, and uninstalling
#     removes everything else.
# One line per check, "ok - what" or "not ok - what" (t/run-tests counts
# them); exits 1 when one failed.
#
#   t/install-check.sh [BUILD_DIR]
build=${1:-build/test}
[ -f "$build/Makefile" ] || { echo "not ok - $build is not a configured build"; exit 1; }
build=$(cd "$build" && pwd)
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/dest
# shellcheck source=t/checklib.sh
. "$(dirname "$0")/checklib.sh"
check_out=$tmp/out

# The installation directories the build was configured with.
vars='sbindir=$(sbindir) sysconfdir=$(sysconfdir) pkgdatadir=$(pkgdatadir)'
vars="$vars"' mandir=$(mandir) unitdir=$(systemdsystemunitdir)'
dirs=$(printf 'print-dirs:\n\t@echo "%s"\n' "$vars" |
	make -s -C "$build" -f Makefile -f - print-dirs) || {
	notok "reading the installation directories of $build"
	exit 1
}
eval "$dirs"

check "make install DESTDIR=… ($build)" \
	make -C "$build" -s install DESTDIR="$dest"

for f in "$sbindir/checkoutd" "$sbindir/checkoutctl" \
	"$sysconfdir/checkoutd.conf" "$sysconfdir/logrotate.d/checkoutd" \
	"$pkgdatadir/checkoutd.conf.example" \
	"$pkgdatadir/nginx/checkoutd.conf" \
	"$pkgdatadir/www/index.html" "$pkgdatadir/www/assets/app.js" \
	"$pkgdatadir/www/assets/api.js" "$pkgdatadir/www/assets/style.css" \
	"$pkgdatadir/www/admin/index.html" "$pkgdatadir/www/admin/admin.js" \
	"$pkgdatadir/www/admin/admin.css" \
	"$pkgdatadir/apache/checkoutd-fcgid.conf" \
	"$pkgdatadir/apache/checkoutd-cgi.conf" \
	"$pkgdatadir/cron/checkoutd" \
	"$mandir/man8/checkoutd.8" "$mandir/man8/checkoutctl.8" \
	"$mandir/man5/checkoutd.conf.5" \
	"$unitdir/checkoutd.service" \
	"$unitdir/checkoutd-reconcile.service" "$unitdir/checkoutd-reconcile.timer" \
	"$unitdir/checkoutd-deliver.service" "$unitdir/checkoutd-deliver.timer" \
	"$unitdir/checkoutd-expire.service" "$unitdir/checkoutd-expire.timer"; do
	if [ -s "$dest$f" ]; then
		ok "installed: $f"
	else
		notok "installed: $f"
	fi
done

placeholders() {
	! grep -rn '@[a-zA-Z_]*@' "$dest$sysconfdir" "$dest$pkgdatadir" \
		"$dest$mandir" "$dest$unitdir"
}
check "no @placeholder@ left in the installed files" placeholders

version() {
	"$dest$sbindir/checkoutd" --version | grep -q '^checkoutd [0-9]'
}
check "the installed checkoutd runs (--version)" version
check "the installed checkoutd.conf loads (checkoutd --print-config)" \
	"$dest$sbindir/checkoutd" --config "$dest$sysconfdir/checkoutd.conf" \
	--print-config
check "the installed checkoutctl reads it (checkoutctl config)" \
	"$dest$sbindir/checkoutctl" --config "$dest$sysconfdir/checkoutd.conf" \
	config

# man -l renders the page; groff's warnings go to stderr, which must stay
# empty, and the page must have its NAME.
render() {
	MANWIDTH=80 man --warnings -l "$1" >"$tmp/page" 2>"$tmp/warn" || return 1
	if [ -s "$tmp/warn" ]; then
		cat "$tmp/warn"
		return 1
	fi
	grep -q '^NAME' "$tmp/page"
}
if command -v man >/dev/null; then
	for m in man8/checkoutd.8 man8/checkoutctl.8 man5/checkoutd.conf.5; do
		check "man --warnings -l renders $m without a warning" \
			render "$dest$mandir/$m"
	done
else
	notok "man is missing (apt-get install man-db)"
fi

# systemd-analyze verify against a root made of the DESTDIR and the host's
# own units (it needs sysinit.target and the like there): the units'
# ExecStart binaries are looked up in that root, and their Documentation=
# man: pages through MANPATH in the DESTDIR. It prints a unit's problems
# (an unknown key, say) on stderr and may still exit 0: both must be clean.
verify() {
	( cd "$tmp/root" &&
		MANPATH=$tmp/root$mandir systemd-analyze verify --root="$tmp/root" \
			"${unitdir#/}/$1" ) >"$tmp/verify" 2>&1
	v=$?
	cat "$tmp/verify"
	[ "$v" = 0 ] && [ ! -s "$tmp/verify" ]
}
exposure() {
	( cd "$tmp/root" &&
		systemd-analyze security --offline=yes --threshold=30 \
			--root="$tmp/root" "${unitdir#/}/$1" ) >"$tmp/sec" 2>&1
	v=$?
	grep 'Overall exposure' "$tmp/sec"
	[ "$v" = 0 ]
}
if command -v systemd-analyze >/dev/null && [ -d /usr/lib/systemd/system ]; then
	mkdir -p "$tmp/root/usr/lib/systemd"
	cp -a "$dest/." "$tmp/root/"
	cp -a /usr/lib/systemd/system "$tmp/root/usr/lib/systemd/"
	# ExecReload's /bin/kill, from the host (merged /usr: /bin is usr/bin).
	mkdir -p "$tmp/root/usr/bin"
	cp /usr/bin/kill "$tmp/root/usr/bin/"
	[ -e "$tmp/root/bin" ] || ln -s usr/bin "$tmp/root/bin"
	for u in checkoutd.service checkoutd-reconcile.service \
		checkoutd-reconcile.timer checkoutd-deliver.service \
		checkoutd-deliver.timer checkoutd-expire.service \
		checkoutd-expire.timer; do
		check "systemd-analyze verify $u" verify "$u"
	done
	for u in checkoutd.service checkoutd-reconcile.service \
		checkoutd-deliver.service checkoutd-expire.service; do
		check "systemd-analyze security $u: exposure at most 3.0" \
			exposure "$u"
	done
else
	notok "systemd-analyze is missing (apt-get install systemd)"
fi

# nginx -t on a main file that includes the installed site in its http
# block, as /etc/nginx/nginx.conf includes sites-enabled/.
nginx_t() {
	cat >"$tmp/nginx.conf" <<EOF
pid $tmp/nginx.pid;
error_log $tmp/nginx-error.log;
events {}
http {
	access_log off;
	include $dest$pkgdatadir/nginx/checkoutd.conf;
}
EOF
	nginx -t -p "$tmp" -e "$tmp/nginx-error.log" -c "$tmp/nginx.conf"
}
if command -v nginx >/dev/null; then
	check "nginx -t accepts the installed site file" nginx_t
else
	notok "nginx is missing"
fi

# apache2 -t on a server whose one virtual host includes each installed
# Apache snippet, with the modules it needs.
apache_t() {
	m=/usr/lib/apache2/modules
	cat >"$tmp/apache-$1.conf" <<EOF
ServerRoot $tmp
ServerName 127.0.0.1
PidFile $tmp/apache.pid
ErrorLog $tmp/apache-error.log
Listen 127.0.0.1:8080
LoadModule mpm_event_module $m/mod_mpm_event.so
LoadModule authz_core_module $m/mod_authz_core.so
LoadModule authz_host_module $m/mod_authz_host.so
LoadModule alias_module $m/mod_alias.so
LoadModule env_module $m/mod_env.so
LoadModule cgid_module $m/mod_cgid.so
LoadModule fcgid_module $m/mod_fcgid.so
<VirtualHost 127.0.0.1:8080>
	Include $dest$pkgdatadir/apache/checkoutd-$1.conf
</VirtualHost>
EOF
	apache2 -t -f "$tmp/apache-$1.conf"
}
if command -v apache2 >/dev/null && [ -f /usr/lib/apache2/modules/mod_fcgid.so ]; then
	check "apache2 -t accepts the installed mod_fcgid snippet" apache_t fcgid
	check "apache2 -t accepts the installed plain CGI snippet" apache_t cgi
else
	notok "apache2 or mod_fcgid is missing (apt-get install apache2 libapache2-mod-fcgid)"
fi

# An administrator's edit survives a second make install (and the new
# example is still installed beside it); make uninstall keeps it too and
# removes everything else.
conf=$dest$sysconfdir/checkoutd.conf
printf '# edited by the administrator\n' >>"$conf"
check "a second make install" make -C "$build" -s install DESTDIR="$dest"
check "a second make install keeps the edited checkoutd.conf" \
	grep -q '^# edited by the administrator$' "$conf"
example_same() {
	[ -s "$dest$pkgdatadir/checkoutd.conf.example" ] &&
		! grep -q 'edited by the administrator' \
			"$dest$pkgdatadir/checkoutd.conf.example"
}
check "the example is installed again, unedited, beside it" example_same
uninstall() {
	make -C "$build" -s uninstall DESTDIR="$dest" || return 1
	left=$(find "$dest" -type f)
	[ "$left" = "$conf" ] || {
		echo "left after make uninstall:"
		echo "$left"
		return 1
	}
}
check "make uninstall removes all but the edited checkoutd.conf" uninstall

exit $rc
