#include "err.h"

struct err_info {
	const char *code;
	int status;
	const char *title;
};

/* Indexed by enum err; keep in the order of the enum. */
static const struct err_info errs[ERR__MAX] = {
    [ERR_OK] = {"ok", 200, "OK"},
    [ERR_MALFORMED_BODY] = {"malformed_body", 400, "Malformed body"},
    [ERR_UNAUTHENTICATED] = {"unauthenticated", 401, "Authentication required"},
    [ERR_CARD_DECLINED] = {"card_declined", 402, "Card declined"},
    [ERR_NOT_FOUND] = {"not_found", 404, "Not found"},
    [ERR_METHOD_NOT_ALLOWED] = {"method_not_allowed", 405,
				"Method not allowed"},
    [ERR_INVALID_TRANSITION] = {"invalid_transition", 409,
				"Invalid transition"},
    [ERR_OUT_OF_STOCK] = {"out_of_stock", 409, "Out of stock"},
    [ERR_TOTAL_CHANGED] = {"total_changed", 409, "Total changed"},
    [ERR_PAYMENT_IN_PROGRESS] = {"payment_in_progress", 409,
				 "Payment in progress"},
    [ERR_IDEMPOTENCY_KEY_IN_USE] = {"idempotency_key_in_use", 409,
				    "Idempotency key in use"},
    [ERR_PAYLOAD_TOO_LARGE] = {"payload_too_large", 413, "Payload too large"},
    [ERR_UNSUPPORTED_MEDIA_TYPE] = {"unsupported_media_type", 415,
				    "Unsupported media type"},
    [ERR_VALIDATION_FAILED] = {"validation_failed", 422, "Validation failed"},
    [ERR_IDEMPOTENCY_KEY_REUSED] = {"idempotency_key_reused", 422,
				    "Idempotency key reused"},
    [ERR_TOO_MANY_ATTEMPTS] = {"too_many_attempts", 429, "Too many attempts"},
    [ERR_INTERNAL] = {"internal_error", 500, "Internal error"},
    [ERR_PROVIDER_ERROR] = {"provider_error", 502, "Provider error"},
    [ERR_DATABASE_UNAVAILABLE] = {"database_unavailable", 503,
				  "Database unavailable"},
    [ERR_BUSY] = {"busy", 503, "Busy"},
    [ERR_MIGRATIONS_PENDING] = {"migrations_pending", 503,
				"Migrations pending"},
    [ERR_PROVIDER_TIMEOUT] = {"provider_timeout", 504, "Provider timeout"},
    /* A retry that ran out is reported as the database failing. */
    [ERR_DB_RETRY] = {"database_unavailable", 503, "Database unavailable"},
    /* Reaches a client only when a fresh quote expired at once. */
    [ERR_QUOTE_EXPIRED] = {"provider_error", 502, "Provider error"},
    /* Reaches a client only when the counters moved under every run. */
    [ERR_TX_AGAIN] = {"busy", 503, "Busy"},
    [ERR_UNKNOWN_ITEM] = {"not_found", 404, "Not found"},
    [ERR_PRICE_MISMATCH] = {"validation_failed", 422, "Validation failed"},
    [ERR_ALREADY_IN_CART] = {"validation_failed", 422, "Validation failed"},
    [ERR_MIXED_SELLERS] = {"validation_failed", 422, "Validation failed"},
    /* As the canonical API answers for another customer's cart. */
    [ERR_NOT_OWNER] = {"not_found", 404, "Not found"},
    [ERR_NO_ITEMS] = {"validation_failed", 422, "Validation failed"},
    [ERR_NOMEM] = {"internal_error", 500, "Internal error"},
};

const char *
err_code(enum err e)
{
	return (e >= 0 && e < ERR__MAX) ? errs[e].code : "internal_error";
}

int
err_status(enum err e)
{
	return (e >= 0 && e < ERR__MAX) ? errs[e].status : 500;
}

const char *
err_title(enum err e)
{
	return (e >= 0 && e < ERR__MAX) ? errs[e].title : "Internal error";
}
