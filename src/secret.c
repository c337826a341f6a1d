#include "secret.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>
#include <sys/random.h>

#include "config.h"
#include "log.h"

static unsigned char secret[64];
static size_t secret_len;

/* The configuration's other secrets, from which an unset security.secret
 * is derived. */
static const char *const derived_from[] = {
    "database.password",     "admin.token",   "payment.stripe_secret_key",
    "webhook.stripe_secret", "outbox.secret", "carrier.token",
};

void
secret_init(void)
{
	const char *s = config_str("security.secret");
	unsigned char in[1024];
	size_t n = 0, i, len;
	unsigned int out = 32;

	secret_len = strlen(s);
	if (secret_len > sizeof(secret))
		secret_len = sizeof(secret);
	memcpy(secret, s, secret_len);
	if (secret_len > 0)
		return;
	/*
	 * Unset: every process that reads the same configuration must make
	 * the same secret (each CGI process, each host, each restart), and
	 * one that is in no table: an HMAC of the configuration's other
	 * secrets, each ended by NUL.
	 */
	for (i = 0; i < sizeof(derived_from) / sizeof(derived_from[0]); i++) {
		s = config_str(derived_from[i]);
		len = strlen(s) + 1;
		if (len == 1 || n + len > sizeof(in))
			continue;
		memcpy(in + n, s, len);
		n += len;
	}
	if (n > 0) {
		static const char label[] = "checkoutd idempotency secret";

		log_warn("security.secret is empty: using one derived from "
			 "the configuration's other secrets; set it");
		HMAC(EVP_sha256(), label, (int)strlen(label), in, n, secret,
		     &out);
		secret_len = out;
		memset(in, 0, sizeof(in));
		return;
	}
	log_warn("security.secret is empty and no other secret is set: "
		 "idempotency records will not match across processes or "
		 "restarts; set it");
	secret_len = 32;
	if (getrandom(secret, secret_len, 0) != (ssize_t)secret_len)
		memset(secret, 0x5a, secret_len);
}

void
secret_hmac(const void *p, size_t n, unsigned char out[32])
{
	unsigned int len = 32;

	HMAC(EVP_sha256(), secret, (int)secret_len, p, n, out, &len);
}
