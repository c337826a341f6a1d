/*
 * Fuzz target: one whole request through the request layer (params, body
 * limits and decoding, routing, validation, problem answers), with the
 * database unreachable. Input: CGI params as NAME=value lines, an empty
 * line, then the body. What must hold for any input is fuzz_request's
 * list, with no 5xx but 503 database_unavailable. Built with libFuzzer by
 * t/fuzz/run.sh, and replayed over t/fuzz/corpus/request by `make check`
 * (replay.c).
 */
#include <stdlib.h>

#include "fuzz.h"

static struct request req;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* Nothing listens here: every database step answers 503 at once,
	 * and no provider is ever reached. */
	setenv("CHECKOUTD_DATABASE_SOCKET", "/nonexistent/checkoutd-fuzz.sock",
	       1);
	setenv("CHECKOUTD_PAYMENT_STRIPE_URL", "http://127.0.0.1:9", 1);
	setenv("CHECKOUTD_CARRIER_URL", "http://127.0.0.1:9", 1);
	setenv("CHECKOUTD_SEED003_CHECKOUT_SERVICE_URL", "http://127.0.0.1:9",
	       1);
	setenv("CHECKOUTD_CORS_ORIGINS", "https://shop.example", 1);
	setenv("CHECKOUTD_ADMIN_TOKEN", "fuzz-admin-token", 1);
	fuzz_init(NULL, &req);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_object_put(fuzz_request(&req, (const char *)data, size, 0));
	return 0;
}
