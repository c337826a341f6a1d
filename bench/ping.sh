#!/usr/bin/env bash
# Ping benchmark through the real nginx of the ./run stack (var/):
#   (a) nginx answering `return 200` itself, on a server of its own in the
#       same nginx process;
#   (b) checkoutd's GET /api/checkouts/health/ping over FastCGI.
# Prints requests/s and p50/p99 latency of each and the ratio b/a.
# Usage: bench/ping.sh [seconds] [connections]   (defaults 8, 32)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-8}
conns=${2:-32}

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
./run >/dev/null
. var/stack.env
port2=$(python3 t/free-port.py)
cat >var/nginx/extra/bench-static.conf <<CONF
server {
	listen 127.0.0.1:$port2;
	access_log off;
	location / { return 200 "pong"; }
}
CONF
kill -HUP "$(cat var/run/nginx.pid)"
trap 'rm -f var/nginx/extra/bench-static.conf; kill -HUP "$(cat var/run/nginx.pid)"' EXIT
for _ in $(seq 50); do curl -fs -o /dev/null "http://127.0.0.1:$port2/" && break; sleep 0.1; done

# Runs wrk and prints "rate p50 p99" (latencies in ms).
measure() {
	wrk -t2 -c"$conns" -d"${secs}s" --latency "$1" | awk '
		function ms(v) {
			if (v ~ /us$/) return v / 1000
			if (v ~ /ms$/) return v + 0
			if (v ~ /s$/) return v * 1000
			return v
		}
		/^ +50%/ { p50 = ms($2) }
		/^ +99%/ { p99 = ms($2) }
		/^Requests\/sec:/ { rate = $2 }
		/Non-2xx/ { bad = $NF }
		END { printf "%s %s %s %s\n", rate, p50, p99, bad + 0 }'
}

echo "wrk -t2 -c$conns -d${secs}s, loopback, $(nproc) cores, checkoutd workers: $WORKERS"
read -r ra a50 a99 abad < <(measure "http://127.0.0.1:$port2/")
read -r rb b50 b99 bbad < <(measure "http://127.0.0.1:$PORT/api/checkouts/health/ping")
printf '%-28s %10s %9s %9s %8s\n' "" "req/s" "p50 ms" "p99 ms" "non-2xx"
printf '%-28s %10.0f %9.3f %9.3f %8d\n' "(a) nginx return 200" "$ra" "$a50" "$a99" "$abad"
printf '%-28s %10.0f %9.3f %9.3f %8d\n' "(b) checkoutd ping" "$rb" "$b50" "$b99" "$bbad"
awk -v a="$ra" -v b="$rb" 'BEGIN { printf "ratio b/a: %.2f\n", b / a }'
