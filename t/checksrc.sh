#!/bin/sh
# The written rules of the code's shape (STYLE.md, docs/architecture.md),
# checked in make check, as curl's checksrc does:
#   1. no sprintf, vsprintf, strcpy, strcat or gets anywhere in src/ or t/;
#   2. no SQL text and no call of the database layer (db_*) in a dialect
#      (src/api/): they belong to the core;
#   3. no core file includes the request layer's headers (http.h,
#      router.h, api/api.h): the core never sees a request;
#   4. no state name of a state machine (the order's, the checkout's, a
#      payment's, a shipment's, seed 000's agenda's) written as an SQL
#      string literal ('processing', or 'cart' and 'new' next to a state
#      column: state = 'cart', state IN ('new', ...)): code that writes or
#      compares a state binds its name from the machine's table (states.c,
#      checkout.c, paystate.c) as a parameter.
# Every rule holds for every file (the lists of files still breaking one,
# kept while issue "One core, thin dialects" brought them about, are
# gone).
# Usage: t/checksrc.sh [TOP]  (TOP: the source tree, default top_srcdir or .)
top=${1:-${top_srcdir:-.}}
rc=0

# The request layer: files that may include its headers.
request_layer="src/http.c src/main.c src/router.c src/routes.c src/server.c
src/metrics.c src/idem.c"

fail() {
	echo "checksrc: $*"
	rc=1
}

listed() {
	case " $(echo $2) " in
	*" $1 "*) return 0 ;;
	esac
	return 1
}

# Rule 1.
for f in "$top"/src/*.[ch] "$top"/src/api/*.[ch] "$top"/t/*.[ch] \
	"$top"/t/unit/*.c "$top"/t/e2e/*.[ch] "$top"/t/fuzz/*.[ch] \
	"$top"/bench/*.c; do
	[ -f "$f" ] || continue
	grep -nE '(^|[^_[:alnum:]])(v?sprintf|strcpy|strcat|gets)[[:space:]]*\(' "$f" |
		while IFS= read -r line; do
			echo "checksrc: ${f#"$top"/}:$line: banned function"
		done | grep . && rc=1
done

# check FILE REGEX MESSAGE: FILE matching the extended REGEX breaks a
# rule; each matching line is shown.
check() {
	rel=${1#"$top"/}
	grep -nE "$2" "$1" >/dev/null || return 0
	grep -nE "$2" "$1" | while IFS= read -r line; do
		echo "checksrc: $rel:$line"
	done
	fail "$rel: $3"
}

# Rule 2.
for f in "$top"/src/api/*.c; do
	check "$f" '(^|[^_[:alnum:]])db_[a-z_]+[[:space:]]*\(|sql_[a-z0-9_]+\[\]|"(SELECT|INSERT|UPDATE|DELETE|REPLACE) ' \
		"SQL or a db_ call in a dialect (move it to the core)"
done

# Rule 3.
for f in "$top"/src/*.c; do
	listed "${f#"$top"/}" "$request_layer" && continue
	check "$f" '^#include "(http|router|api/api)\.h"' \
		"a core file includes the request layer's headers"
done

# Rule 4: the names only a state machine has, of every machine: the
# order's (fulfilled, cancelled), its payment_state's and a payment's
# (awaiting_payment, paid, partially_refunded, refunded, processing,
# completed, failed), the checkout's (addressed, shipping_selected, ...),
# a shipment's (ready, shipped) and the agenda's (scheduled, done). 'cart'
# and 'new' are also other things: they break the rule where a state
# column (state, checkout_state, payment_state, ...) is compared with or
# set to them.
states="processing|awaiting_payment|paid|partially_refunded|payment_selected"
states="$states|shipping_selected|payment_skipped|shipping_skipped|addressed"
states="$states|fulfilled|refunded|cancelled|completed|failed|ready|shipped"
states="$states|scheduled|done"
for f in "$top"/src/*.c "$top"/src/api/*.c; do
	check "$f" "'($states)'" \
		"a state name as a string literal: bind it from its table"
done
shared="'(cart|new)'"
column="state[[:space:]]*(=|<>|!=)[[:space:]]*$shared"
column="$column|state[[:space:]]+(NOT[[:space:]]+)?IN[[:space:]]*\\([^)]*$shared"
column="$column|$shared[[:space:]]*(=|<>|!=)[[:space:]]*[[:alnum:]_.]*state"
for f in "$top"/src/*.c "$top"/src/api/*.c; do
	check "$f" "$column" \
		"a state name as a string literal: bind it from its table"
done
exit $rc
