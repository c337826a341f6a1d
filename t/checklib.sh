# shellcheck shell=dash disable=SC2034
# The check lines of t/install-check.sh, t/deb-check.sh,
# t/deploy-nginx.sh, t/cluster-check.sh and t/deploy-apache.sh, sourced by
# each (POSIX sh: install-check.sh runs under /bin/sh). One line per
# check, "ok - what" or "not ok - what"; t/run-tests counts the lines that
# start with "ok " and "not ok ".
#
# Set before calling check (after sourcing this file):
#   check_out     the file a check's output goes to (required by check);
#   check_tail    how many of its last lines a failed check shows (30);
#   check_prefix  the prefix of each of those lines ("    ");
#   check_number  1: the lines are numbered, "ok N - what" (TAP);
#   check_time    1: a passed check's line ends with its time, "(1.234 s)".
# Counters: n (lines), failed (not ok lines); rc is 1 once one failed.
n=0
failed=0
rc=0
check_tail=30
check_prefix='    '
check_number=0
check_time=0

# ok WHAT / notok WHAT (not_ok WHAT): one line.
ok() {
	n=$((n + 1))
	if [ "$check_number" = 1 ]; then
		echo "ok $n - $*"
	else
		echo "ok - $*"
	fi
}
notok() {
	n=$((n + 1))
	failed=$((failed + 1))
	rc=1
	if [ "$check_number" = 1 ]; then
		echo "not ok $n - $*"
	else
		echo "not ok - $*"
	fi
}
not_ok() { notok "$@"; }

# check WHAT COMMAND...: one check; the command's output (to $check_out)
# shown on failure. Returns 1 when it failed.
check() {
	local what t0 t
	what=$1
	shift
	t0=$(date +%s%N)
	if "$@" >"${check_out:?check_out is not set}" 2>&1; then
		if [ "$check_time" = 1 ]; then
			t=$((($(date +%s%N) - t0) / 1000000))
			ok "$what ($((t / 1000)).$(printf %03d $((t % 1000))) s)"
		else
			ok "$what"
		fi
	else
		notok "$what"
		tail -n "$check_tail" "$check_out" | sed "s/^/$check_prefix/"
		return 1
	fi
}
