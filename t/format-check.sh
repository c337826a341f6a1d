#!/bin/sh
# Fails when a C file differs from what .clang-format makes of it.
top=${top_srcdir:-.}
command -v clang-format >/dev/null 2>&1 || { echo "clang-format missing: skipped"; exit 77; }
rc=0
for f in "$top"/src/*.[ch] "$top"/src/api/*.[ch] "$top"/t/unit/*.c "$top"/t/e2e/*.[ch]; do
	[ -f "$f" ] || continue
	if ! clang-format --style=file:"$top/.clang-format" "$f" | cmp -s - "$f"; then
		echo "not formatted: $f (run: clang-format -i $f)"
		rc=1
	fi
done
exit $rc
