#!/bin/sh
# The shared-hosting bundle's programs ask only for libraries a shared
# host has: the C library (libc, libm, libpthread, libdl, librt, the
# dynamic loader), libcurl, OpenSSL's libssl/libcrypto and the
# MariaDB/MySQL client library. libfcgi and json-c are linked in (hosts
# do not have them). Checked twice: the libraries each program names
# itself (readelf's NEEDED) against that list, and everything ldd loads
# for it: found, and neither libfcgi nor json-c among them (not even
# through another library). Prints what each program needs; exits 1 when
# one asks for something else.
#
#   shared-hosting/check-libs.sh PROGRAM...
allowed='^(libc|libm|libpthread|libdl|librt|ld-linux[-a-z0-9_]*|libcurl(-gnutls)?|libssl|libcrypto|libmariadb|libmysqlclient)\.so(\.[0-9]+)*$'
rc=0
for p in "$@"; do
	needed=$(readelf -d "$p" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p') || {
		echo "$p: readelf failed" >&2
		exit 1
	}
	echo "$(basename "$p") needs: $(echo $needed)"
	for lib in $needed; do
		if ! echo "$lib" | grep -Eq "$allowed"; then
			echo "$p: needs $lib, which a shared host may not have" >&2
			rc=1
		fi
	done
	loads=$(ldd "$p") || {
		echo "$p: ldd failed" >&2
		exit 1
	}
	if echo "$loads" | grep -E 'not found|libfcgi|libjson-c' >&2; then
		echo "$p: ldd shows the above" >&2
		rc=1
	fi
done
exit $rc
