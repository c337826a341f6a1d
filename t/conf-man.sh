#!/bin/sh
# checkoutd.conf(5) lists exactly the keys of src/config.c's table, with
# the same ones marked secret: the manual is made from
# conf/checkoutd.conf.example (man/conf2man.awk), which test_config checks
# against the table, and this closes the loop from the table to the page.
# Runs in the build directory (make check), where the page is made.
top=${top_srcdir:-.}
page=${1:-man/checkoutd.conf.5}
[ -f "$page" ] || { echo "$page: not built"; exit 1; }
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# The table keys[] = { {"server.listen", CFG_STR, "", 0, 0}, ... }; (an
# entry may be wrapped over lines)  ->  "server.listen 0" per key.
awk '/^static const struct cfg_key keys\[\] = \{/ { on = 1; next }
on && /^\};/ { exit }
on { printf "%s ", $0 }' "$top/src/config.c" |
	tr -s ' \t' ' ' | sed 's/}, *{/}\n{/g' |
	sed -n 's/^ *{"\([a-z0-9_]*\.[a-z0-9_]*\)", *CFG_[A-Z]*, *"[^"]*", *\([01]\), *[01]}.*$/\1 \2/p' |
	sort >"$tmp/table"
# .SS "[server]", then \fBlisten\fR = (tags, .TQ for a shared description)
# and the description, which starts "Secret." for a secret.
awk '
/^\.SS "\[/ { s = $0; gsub(/^\.SS "\[|\]"$/, "", s); next }
/^\.TP$/ { flush(); next }
/^\\fB[a-z0-9_]+\\fR =/ {
	k = $0; sub(/^\\fB/, "", k); sub(/\\fR.*/, "", k)
	keys[++n] = s "." k; intag = 1; next
}
/^\.TQ$/ { next }
intag { secret = ($0 ~ /^Secret\./); intag = 0 }
function flush(  i) { for (i = 1; i <= n; i++) print keys[i], secret + 0; n = 0; secret = 0 }
END { flush() }
' "$page" | sort >"$tmp/page"
if [ ! -s "$tmp/table" ]; then
	echo "no keys read from $top/src/config.c"
	exit 1
fi
if ! cmp -s "$tmp/table" "$tmp/page"; then
	echo "$page and src/config.c disagree (< the table, > the page; 1: secret):"
	diff "$tmp/table" "$tmp/page"
	exit 1
fi
echo "$(wc -l <"$tmp/table") keys in $page, as in src/config.c"
