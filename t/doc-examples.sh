#!/usr/bin/env bash
# Runs every ```sh block of the given Markdown files, in order, then all of
# them again, each in its own bash with `set -eo pipefail`, against a
# running stack: the blocks see U (the base URL) and CHECKOUTCTL (how to
# call checkoutctl). A block passes when it exits 0 (each one ends by
# checking the status it documents).
# Usage: t/doc-examples.sh URL "CHECKOUTCTL COMMAND" FILE.md...
set -uo pipefail
[ $# -ge 3 ] || { echo "usage: $0 URL CHECKOUTCTL FILE.md..." >&2; exit 2; }
export U=$1 CHECKOUTCTL=$2
shift 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
for f in "$@"; do
	# Each block into its own file, named after the document and its rank.
	awk -v dir="$tmp" -v base="$(basename "$f" .md)" -v start="$n" '
		/^```sh[ \t]*$/ { inside = 1; k++; out = sprintf("%s/%04d-%s-%02d.sh", dir, start + k, base, k); next }
		/^```[ \t]*$/ && inside { inside = 0; close(out); next }
		inside { print > out }
	' "$f"
	n=$((n + $(grep -c '^```sh' "$f")))
done
passed=0 failed=0
for round in 1 2; do
	for b in "$tmp"/*.sh; do
		[ -e "$b" ] || continue
		if out=$(bash -eo pipefail "$b" 2>&1); then
			passed=$((passed + 1))
		else
			failed=$((failed + 1))
			echo "FAILED (round $round): $(basename "$b" .sh)"
			sed 's/^/  | /' "$b"
			printf '%s\n' "$out" | tail -n 5 | sed 's/^/  > /'
		fi
	done
done
echo "doc examples: $passed passed, $failed failed"
[ "$failed" = 0 ]
