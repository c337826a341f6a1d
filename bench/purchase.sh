#!/usr/bin/env bash
# Purchase round trip against the ./run stack, through nginx, to the local
# payment sandbox (t/fake-stripe.py): N orders are placed first, then each
# is paid with 4242 4242 4242 4242, one after the other; prints p50, p99
# and the mean of the purchase requests (create + confirm at the fake, and
# checkoutd's three short transactions).
# Usage: bench/purchase.sh [N]   (default 200)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-200}
./run >/dev/null
. var/stack.env
u=http://127.0.0.1:$PORT
curl -fsS -X POST -H 'Content-Type: application/json' -d '{}' \
	"http://127.0.0.1:$STRIPE_PORT/_reset" >/dev/null
addr='shippingAddress[firstName]=A&shippingAddress[lastName]=B&shippingAddress[street]=S&shippingAddress[city]=Berlin&shippingAddress[postcode]=10115&shippingAddress[country]=DE&email=bench@example.com'
ids=() toks=()
for ((i = 0; i < n; i++)); do
	r=$(curl -fsS -X POST "$u/api/carts")
	id=$(printf '%s' "$r" | sed -n 's/^{"id":\([0-9]*\),.*/\1/p')
	tok=$(printf '%s' "$r" | sed -n 's/.*"token":"\([0-9a-f]*\)".*/\1/p')
	h="X-Cart-Token: $tok"
	curl -fsS -o /dev/null -H "$h" -d 'variant=tshirt-m&quantity=1' "$u/api/carts/$id/items"
	curl -fsS -o /dev/null -H "$h" -X PUT -d "$addr" "$u/api/checkouts/$id"
	curl -fsS -o /dev/null -H "$h" -X PUT -d 'shipments[0][method]=flat_eu' "$u/api/checkouts/$id"
	curl -fsS -o /dev/null -H "$h" -X PUT -d 'payments[0][method]=stripe' "$u/api/checkouts/$id"
	curl -fsS -o /dev/null -H "$h" -X PUT "$u/api/checkouts/$id"
	ids+=("$id") toks+=("$tok")
done
times=$(for ((i = 0; i < n; i++)); do
	curl -sS -o /dev/null -w '%{http_code} %{time_total}\n' \
		-H "X-Cart-Token: ${toks[$i]}" -X PUT \
		-d 'number=4242424242424242&expiryMonth=12&expiryYear=2030&securityCode=123' \
		"$u/api/checkouts/${ids[$i]}"
done)
bad=$(printf '%s\n' "$times" | awk '$1 != 200' | wc -l)
printf '%s\n' "$times" | awk '{print $2 * 1000}' | sort -n | awk -v n="$n" -v bad="$bad" '
	{ v[NR] = $1; s += $1 }
	END {
		p50 = v[int((NR + 1) * 0.50)]; p99 = v[int(NR * 0.99) > 0 ? int(NR * 0.99) : 1]
		printf "purchases %d: p50 %.2f ms, p99 %.2f ms, mean %.2f ms, not 200: %d\n", n, p50, p99, s / NR, bad
	}'
