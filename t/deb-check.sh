#!/usr/bin/env bash
# The Debian package (debian/), checked from a copy of the source tree (the
# tree itself stays clean):
#   - dpkg-buildpackage -us -uc -b builds it (with its unit tests) and its
#     version is configure.ac's;
#   - lintian reports no error (its warnings are shown);
#   - the .deb holds what make install puts (under /usr, /etc and
#     /lib/systemd/system), the configuration as a conffile of mode 0640,
#     the account in sysusers.d; its postinst enables and starts nothing
#     and names the three steps that remain;
#   - its binaries, unpacked with dpkg -x, serve the walk: a throwaway
#     stack (t/stack.sh) runs the unpacked checkoutd and checkoutctl, and
#     the end-to-end suites test_purchase (the whole walk, then paying),
#     test_admin and test_seed002 (from BUILD_DIR, built by make check
#     TESTS=) pass against it. Not test_checkout: its races assert that
#     concurrent finalizes overlapped in time, which a loaded machine
#     does not always give a second stack (seen once: 3 buyers in a row).
# One line per check, "ok - what" or "not ok - what" (t/run-tests counts
# them); exits 1 when one failed. Needs root for the build tools (installed
# on demand: debhelper, lintian) and for the stack; run it under the
# stack lock (flock /tmp/checkoutd-stack.lock).
#
#   t/deb-check.sh [BUILD_DIR]
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
top=$(pwd)
build=${1:-build/test}
[ -x "$build/t/e2e/test_purchase" ] || {
	echo "not ok - $build has no end-to-end suites (make check TESTS=)"
	exit 1
}
build=$(cd "$build" && pwd)
tmp=$(mktemp -d) || exit 1
stack=
cleanup() {
	[ -z "$stack" ] || t/stack.sh down "$stack" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# shellcheck source=t/checklib.sh
. t/checklib.sh
check_out=$tmp/out

# The tools: debhelper and lintian, installed when missing (as ./run
# installs the build's own packages).
tools() {
	local missing=() p
	for p in debhelper lintian dpkg-dev fakeroot; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q '^install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" = 0 ] || {
		echo "missing (install as root): ${missing[*]}"
		return 1
	}
	export DEBIAN_FRONTEND=noninteractive
	apt-get -o Acquire::Retries=3 update -qq &&
		apt-get -o Acquire::Retries=3 install -y -qq \
			--no-install-recommends "${missing[@]}"
}
check "the packaging tools (debhelper, lintian)" tools || exit 1

# The tree as it is (edits not yet committed included), without what git
# ignores (build/, var/, node_modules/): from a checkout, the files git
# knows or would; from a release tarball, all of it.
copy() {
	mkdir -p "$tmp/src"
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git ls-files -z --cached --others --exclude-standard |
			tar --null -T - -cf - | tar -xf - -C "$tmp/src"
	else
		tar --exclude=./build --exclude=./var --exclude=./node_modules \
			-cf - . | tar -xf - -C "$tmp/src"
	fi
}
check "a copy of the source tree" copy || exit 1

version=$(sed -n 's/^AC_INIT(\[checkoutd\], \[\([^]]*\)\].*/\1/p' configure.ac)
changelog_version() {
	v=$(dpkg-parsechangelog -l debian/changelog -S Version) || return 1
	echo "debian/changelog: $v, configure.ac: $version"
	[ "$v" = "$version" ]
}
check "debian/changelog's version is configure.ac's ($version)" changelog_version

arch=$(dpkg --print-architecture)
deb=$tmp/checkoutd_${version}_$arch.deb
buildpackage() {
	(cd "$tmp/src" && DEB_BUILD_OPTIONS="parallel=$(nproc)" \
		dpkg-buildpackage -us -uc -b) >"$tmp/build.log" 2>&1
	local r=$?
	[ "$r" = 0 ] || tail -n 40 "$tmp/build.log"
	grep -E '^# (TOTAL|PASS|FAIL):' "$tmp/build.log"
	[ "$r" = 0 ] && [ -s "$deb" ]
}
check "dpkg-buildpackage -us -uc -b builds $(basename "$deb")" buildpackage ||
	exit 1

# lintian on the binary upload (the .deb, its .buildinfo and .changes):
# "E:" lines are errors; the rest is shown.
lint() {
	lintian --fail-on error --display-info \
		"$tmp/checkoutd_${version}_$arch.changes" >"$tmp/lintian" 2>&1
	local r=$?
	grep -v 'running with root privileges' "$tmp/lintian"
	[ "$r" = 0 ] && ! grep -q '^E: ' "$tmp/lintian"
}
if lint >"$tmp/out" 2>&1; then
	ok "lintian: no error"
	sed 's/^/    /' "$tmp/out"
else
	notok "lintian: no error"
	sed 's/^/    /' "$tmp/out"
fi

root=$tmp/root
check "dpkg -x unpacks it" dpkg -x "$deb" "$root" || exit 1
dpkg-deb -e "$deb" "$tmp/control"

files() {
	local f r=0
	for f in usr/sbin/checkoutd usr/sbin/checkoutctl etc/checkoutd.conf \
		etc/logrotate.d/checkoutd usr/lib/sysusers.d/checkoutd.conf \
		usr/share/checkoutd/checkoutd.conf.example \
		usr/share/checkoutd/nginx/checkoutd.conf \
		usr/share/checkoutd/www/index.html \
		usr/share/checkoutd/www/assets/app.js \
		usr/share/checkoutd/apache/checkoutd-fcgid.conf \
		usr/share/checkoutd/apache/checkoutd-cgi.conf \
		usr/share/checkoutd/cron/checkoutd \
		usr/share/man/man8/checkoutd.8.gz usr/share/man/man8/checkoutctl.8.gz \
		usr/share/man/man5/checkoutd.conf.5.gz \
		usr/share/doc/checkoutd/README.Debian usr/share/doc/checkoutd/copyright \
		lib/systemd/system/checkoutd.service \
		lib/systemd/system/checkoutd-reconcile.service \
		lib/systemd/system/checkoutd-reconcile.timer \
		lib/systemd/system/checkoutd-deliver.service \
		lib/systemd/system/checkoutd-deliver.timer \
		lib/systemd/system/checkoutd-expire.service \
		lib/systemd/system/checkoutd-expire.timer; do
		[ -s "$root/$f" ] || {
			echo "missing: /$f"
			r=1
		}
	done
	# The units and the crontab name the package's paths.
	grep -q '^ExecStart=/usr/sbin/checkoutd --config /etc/checkoutd.conf ' \
		"$root/lib/systemd/system/checkoutd.service" || {
		echo "checkoutd.service does not start /usr/sbin/checkoutd with /etc/checkoutd.conf"
		r=1
	}
	! grep -rn '@[a-zA-Z_]*@' "$root/etc" "$root/lib" "$root/usr/share/checkoutd" ||
		r=1
	return "$r"
}
check "the .deb holds what make install puts, at the package's paths" files

conffile() {
	local mode
	mode=$(stat -c %a "$root/etc/checkoutd.conf")
	echo "mode $mode; conffiles:"
	cat "$tmp/control/conffiles"
	[ "$mode" = 640 ] && grep -qx /etc/checkoutd.conf "$tmp/control/conffiles" &&
		grep -q 'dpkg-statoverride --update --add root checkoutd 0640' \
			"$tmp/control/postinst"
}
check "/etc/checkoutd.conf: a conffile, 0640, group checkoutd (postinst)" conffile

account() {
	grep -q '^u checkoutd ' "$root/usr/lib/sysusers.d/checkoutd.conf" &&
		grep -q 'systemd-sysusers .* checkoutd.conf' "$tmp/control/postinst"
}
check "the account checkoutd (sysusers.d, made by the postinst)" account

# dh_installsystemd --no-enable --no-start: every "enable" is for a unit an
# administrator had enabled before (debian-installed, was-enabled), and
# nothing is started or restarted.
nothing_started() {
	local installed enables
	installed=$(grep -c 'deb-systemd-helper debian-installed' "$tmp/control/postinst")
	enables=$(grep -c 'deb-systemd-helper enable' "$tmp/control/postinst")
	echo "debian-installed guards: $installed, enables: $enables"
	[ "$installed" = "$enables" ] &&
		! cat "$tmp/control/postinst" "$tmp/control/prerm" 2>/dev/null |
			grep -E '^[[:space:]]*(deb-systemd-invoke|systemctl)[[:space:]]' |
			grep -v 'systemctl --system daemon-reload'
}
check "the postinst enables and starts nothing" nothing_started

three_steps() {
	grep -q 'checkoutctl --config /etc/checkoutd.conf migrate' "$1" &&
		grep -q 'systemctl enable --now checkoutd.service' "$1" &&
		grep -qi 'database' "$1"
}
check "the postinst names the three steps that remain" three_steps \
	"$tmp/control/postinst"
check "README.Debian names the three steps that remain" three_steps \
	"$root/usr/share/doc/checkoutd/README.Debian"

# The unpacked binaries on a throwaway stack, with the settings of
# t/run-tests' e2e (see there why each).
bin=$root/usr/sbin
check "the unpacked checkoutd runs (--version: $version)" \
	sh -c '"$1" --version | grep -qx "checkoutd $2"' - "$bin/checkoutd" "$version"
stack=$tmp/stack
port=$(python3 t/free-port.py)
if ! BIN=$bin PORT=$port WORKERS=12 GRACE=5 CHECKOUTD_CHECKOUT_RULES_TTL=1 \
	CHECKOUTD_SERVER_CLIENT_TIMEOUT=3 \
	CHECKOUTD_DATABASE_READ_TIMEOUT=2 CHECKOUTD_DATABASE_WRITE_TIMEOUT=2 \
	CHECKOUTD_PAYMENT_TIMEOUT=5 CHECKOUTD_OUTBOUND_MAX_CONCURRENT=8 \
	CHECKOUTD_OUTBOX_BACKOFF=1 CHECKOUTD_CARRIER_TIMEOUT=1 CHECKOUTD_SEED003_TIMEOUT=1 \
	t/stack.sh up "$stack" >"$tmp/out" 2>&1; then
	notok "a stack with the unpacked checkoutd and checkoutctl"
	cat "$tmp/out"
	tail -n 20 "$stack"/log/*.log "$stack"/log/*.err 2>/dev/null
	exit 1
fi
ok "a stack with the unpacked checkoutd and checkoutctl (migrate, demo)"
same_binary() {
	local exe
	exe=$(readlink "/proc/$(cat "$stack/run/checkoutd.pid")/exe")
	echo "the stack's checkoutd: $exe"
	[ "$exe" = "$bin/checkoutd" ]
}
check "the stack runs the unpacked checkoutd" same_binary

# shellcheck disable=SC1091
. "$stack/stack.env"
STRIPE_URL=http://127.0.0.1:$STRIPE_PORT
RECEIVER_URL=http://127.0.0.1:$RECEIVER_PORT
SHIPPO_URL=http://127.0.0.1:$SHIPPO_PORT
SESSION_URL=http://127.0.0.1:$SESSION_PORT
CHECKOUTD_URL=http://127.0.0.1:$port
export STRIPE_URL WEBHOOK_SECRET RECEIVER_URL ADMIN_TOKEN SHIPPO_URL \
	SESSION_URL CHECKOUTD_URL STACK_DIR=$stack STACK_SH=$top/t/stack.sh \
	CHECKOUTD_BIN=$bin/checkoutd STACK_GRACE=5
# The walk: the checkout (the README's, form and JSON), the card purchase
# (sandbox), and the admin's pass (refunds, checkoutctl mark-paid, expire).
for suite in test_purchase test_admin test_seed002; do
	if "$build/t/e2e/$suite" >"$tmp/$suite.out" 2>&1; then
		ok "$suite on the package's binaries ($(sed -n \
			's/^\[  PASSED  \] \([0-9]*\) test(s)\.$/\1 test(s)/p' \
			"$tmp/$suite.out" | tail -n 1) passed)"
	else
		notok "$suite on the package's binaries"
		grep -E '^\[  (FAILED|ERROR) |^\[ +LINE +\]' "$tmp/$suite.out" | head -n 20
	fi
done

exit $rc
