#!/usr/bin/env bash
# Fuzzes checkoutd with libFuzzer (clang, with AddressSanitizer +
# UndefinedBehaviorSanitizer), starting from the committed corpus
# (t/fuzz/corpus/TARGET). On demand, not part of ./run test, which replays
# the committed corpus instead. Targets:
#   request  one request through the request layer, database unreachable
#   body     the JSON and form decoders
#   walk     checkout steps on a fresh cart each, against the ./run stack's
#            database and sandbox providers (start it with ./run first)
#   t/fuzz/run.sh [seconds per target] [target...]   (defaults 60, request body)
# New inputs that reach new code go to build/fuzz/corpus/TARGET (copy the
# telling ones into t/fuzz/corpus/TARGET); a failure writes its input to
# build/fuzz/crash-* and ends the run.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-60}
shift || true
if [ $# -gt 0 ]; then targets=("$@"); else targets=(request body); fi
command -v clang >/dev/null || { echo "fuzz: clang is missing (apt-get install clang)" >&2; exit 1; }
./run build fuzz CC=clang \
	CFLAGS="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined"
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1
for t in "${targets[@]}"; do
	case $t in
	body) opts=(-max_len=8192 -timeout=10) ;;
	request) opts=(-max_len=8192 -timeout=10 -dict=t/fuzz/request.dict) ;;
	walk)
		[ -f var/checkoutd.conf ] || { echo "fuzz: walk needs the ./run stack (run ./run first)" >&2; exit 1; }
		export FUZZ_CONFIG=$PWD/var/checkoutd.conf
		# Walks are long from the start: no slow ramp of the length.
		opts=(-max_len=4096 -len_control=0 -timeout=30 -dict=t/fuzz/request.dict)
		;;
	*) echo "fuzz: no target $t (request, body, walk)" >&2; exit 2 ;;
	esac
	(cd build/fuzz && make -s "t/fuzz/fuzz_$t")
	mkdir -p "build/fuzz/corpus/$t"
	echo "fuzz: $t for $secs s"
	build/fuzz/t/fuzz/fuzz_"$t" -max_total_time="$secs" "${opts[@]}" \
		-artifact_prefix=build/fuzz/ -print_final_stats=1 \
		"build/fuzz/corpus/$t" "t/fuzz/corpus/$t"
done
