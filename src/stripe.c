#include "stripe.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>

#include "config.h"
#include "log.h"
#include "outbound.h"
#include "pool.h"
#include "str.h"

static void
copy(char *out, size_t len, struct json_object *o, const char *key)
{
	const char *s = json_object_get_string(json_object_object_get(o, key));

	snprintf(out, len, "%s",
		 json_object_is_type(json_object_object_get(o, key),
				     json_type_string)
		     ? s
		     : "");
}

/* Reads an intent object into p, its next_action kept in pool. */
static int
read_intent(struct pool *pool, struct json_object *o, struct pi *p)
{
	struct json_object *next = json_object_object_get(o, "next_action");
	struct json_object *last;

	copy(p->id, sizeof(p->id), o, "id");
	copy(p->status, sizeof(p->status), o, "status");
	if (p->id[0] == '\0' || p->status[0] == '\0')
		return -1;
	if (json_object_is_type(next, json_type_object))
		p->next_action = pool_keep(pool, json_object_get(next));
	/* After a failed attempt the intent carries the decline. */
	last = json_object_object_get(o, "last_payment_error");
	if (json_object_is_type(last, json_type_object) &&
	    p->decline[0] == '\0') {
		copy(p->decline, sizeof(p->decline), last, "decline_code");
		if (p->decline[0] == '\0')
			copy(p->decline, sizeof(p->decline), last, "code");
		copy(p->message, sizeof(p->message), last, "message");
	}
	return 0;
}

/* Turns an answer into p: an intent (200), or a decline carrying one. */
static enum err
answer(struct pool *pool, const char *what, const struct outbound_resp *r,
       struct pi *p)
{
	struct json_object *o = json_tokener_parse(r->body.data), *err, *pi;
	enum err e = ERR_PROVIDER_ERROR;

	if (r->status == 200 && read_intent(pool, o, p) == 0) {
		e = ERR_OK;
	} else if (r->status == 402 &&
		   (err = json_object_object_get(o, "error")) != NULL) {
		p->declined = 1;
		copy(p->decline, sizeof(p->decline), err, "decline_code");
		if (p->decline[0] == '\0')
			copy(p->decline, sizeof(p->decline), err, "code");
		copy(p->message, sizeof(p->message), err, "message");
		pi = json_object_object_get(err, "payment_intent");
		if (pi != NULL)
			read_intent(pool, pi, p);
		e = ERR_OK;
	} else if (r->status >= 400 && r->status < 500 &&
		   (err = json_object_object_get(o, "error")) != NULL &&
		   (pi = json_object_object_get(err, "payment_intent")) !=
		       NULL &&
		   read_intent(pool, pi, p) == 0) {
		/* E.g. cancelling an intent that succeeded meanwhile: the
		 * intent's state is the answer. */
		e = ERR_OK;
	} else {
		err = json_object_object_get(o, "error");
		log_warn(
		    "stripe %s: HTTP %ld %s %s", what, r->status,
		    json_object_get_string(json_object_object_get(err, "type")),
		    json_object_get_string(
			json_object_object_get(err, "code")));
	}
	json_object_put(o);
	return e;
}

/* POST or GET {base}/v1/path with the key; body form-encoded or NULL. */
static enum err
call(void *curl, struct pool *pool, const char *method, const char *path,
     const char *key, const char *body, const char *what, struct pi *p)
{
	struct outbound_resp r = {0};
	struct buf auth = {0}, idem = {0}, url = {0};
	const char *h[4] = {NULL};
	size_t n = 0;
	enum err e;

	buf_printf(&url, "%s%s", config_str("payment.stripe_url"), path);
	buf_printf(&auth, "Authorization: Bearer %s",
		   config_str("payment.stripe_secret_key"));
	h[n++] = auth.data;
	if (key != NULL) {
		buf_printf(&idem, "Idempotency-Key: %s", key);
		h[n++] = idem.data;
	}
	if (body != NULL)
		h[n++] = "Content-Type: application/x-www-form-urlencoded";
	if (url.failed || auth.failed || idem.failed)
		e = ERR_NOMEM;
	else
		e = outbound_send(curl, method, url.data, h, body,
				  config_int("payment.timeout"), &r);
	if (e == ERR_OK && p != NULL)
		e = answer(pool, what, &r, p);
	else if (e == ERR_OK && r.status != 200)
		e = ERR_PROVIDER_ERROR;
	buf_free(&r.body);
	buf_free(&url);
	buf_free(&auth);
	buf_free(&idem);
	return e;
}

enum err
stripe_create(void *curl, struct pool *pool, const char *payment_uuid,
	      const char *order_uuid, int64_t amount, const char *currency,
	      struct pi *p)
{
	struct buf b = {0};
	char key[64], amt[24], cur[4];
	size_t i;
	enum err e;

	for (i = 0; i < 3 && currency[i] != '\0'; i++)
		cur[i] = (char)tolower((unsigned char)currency[i]);
	cur[i] = '\0';
	snprintf(amt, sizeof(amt), "%lld", (long long)amount);
	snprintf(key, sizeof(key), "%s-create", payment_uuid);
	form_add(&b, "amount", amt);
	form_add(&b, "currency", cur);
	form_add(&b, "payment_method_types[]", "card");
	form_add(&b, "metadata[order_uuid]", order_uuid);
	form_add(&b, "metadata[payment_uuid]", payment_uuid);
	e = b.failed ? ERR_NOMEM
		     : call(curl, pool, "POST", "/v1/payment_intents", key,
			    b.data, "create", p);
	buf_free(&b);
	return e;
}

enum err
stripe_confirm(void *curl, struct pool *pool, const char *pi_id,
	       const char *key, const struct card *c, struct pi *p)
{
	struct buf b = {0}, path = {0};
	char m[8], y[8];
	enum err e;

	if (c->token != NULL) {
		form_add(&b, "payment_method", c->token);
	} else {
		snprintf(m, sizeof(m), "%lld", (long long)c->exp_month);
		snprintf(y, sizeof(y), "%lld", (long long)c->exp_year);
		form_add(&b, "payment_method_data[type]", "card");
		form_add(&b, "payment_method_data[card][number]", c->number);
		form_add(&b, "payment_method_data[card][exp_month]", m);
		form_add(&b, "payment_method_data[card][exp_year]", y);
		form_add(&b, "payment_method_data[card][cvc]", c->cvc);
		if (c->name != NULL)
			form_add(&b,
				 "payment_method_data[billing_details][name]",
				 c->name);
	}
	/* Where the bank page of 3-D Secure sends the buyer back (with it,
	 * Stripe answers next_action redirect_to_url). */
	if (config_str("payment.return_url")[0] != '\0')
		form_add(&b, "return_url", config_str("payment.return_url"));
	buf_printf(&path, "/v1/payment_intents/%s/confirm", pi_id);
	e = b.failed || path.failed ? ERR_NOMEM
				    : call(curl, pool, "POST", path.data, key,
					   b.data, "confirm", p);
	/* The body held the card number: wipe it before it is freed. */
	if (b.data != NULL)
		memset(b.data, 0, b.cap);
	buf_free(&b);
	buf_free(&path);
	return e;
}

enum err
stripe_retrieve(void *curl, struct pool *pool, const char *pi_id, struct pi *p)
{
	struct buf path = {0};
	enum err e;

	buf_printf(&path, "/v1/payment_intents/%s", pi_id);
	e = path.failed
		? ERR_NOMEM
		: call(curl, pool, "GET", path.data, NULL, NULL, "retrieve", p);
	buf_free(&path);
	return e;
}

enum err
stripe_cancel(void *curl, struct pool *pool, const char *pi_id, const char *key,
	      struct pi *p)
{
	struct buf path = {0};
	enum err e;

	buf_printf(&path, "/v1/payment_intents/%s/cancel", pi_id);
	e = path.failed
		? ERR_NOMEM
		: call(curl, pool, "POST", path.data, key, "", "cancel", p);
	buf_free(&path);
	return e;
}

enum err
stripe_refund(void *curl, const char *pi_id, int64_t amount, const char *key,
	      char *ref, size_t reflen)
{
	struct pool pool = {0}; /* Scratch: a refund's intent is read here. */
	struct pi p = {0};
	struct buf b = {0};
	char amt[24];
	enum err e;

	snprintf(amt, sizeof(amt), "%lld", (long long)amount);
	form_add(&b, "payment_intent", pi_id);
	form_add(&b, "amount", amt);
	/* A refund object has an id and a status, as an intent does. */
	e = b.failed ? ERR_NOMEM
		     : call(curl, &pool, "POST", "/v1/refunds", key, b.data,
			    "refund", &p);
	if (e == ERR_OK && (p.declined || strcmp(p.status, "failed") == 0 ||
			    strcmp(p.status, "canceled") == 0))
		e = ERR_PROVIDER_ERROR;
	if (e == ERR_OK)
		snprintf(ref, reflen, "%s", p.id);
	pool_free(&pool);
	buf_free(&b);
	return e;
}

void
signature_v1(const char *secret, long long t, const char *body, size_t len,
	     char hex[65])
{
	unsigned char mac[32];
	unsigned int maclen = 0;
	struct buf in = {0};
	size_t i;

	hex[0] = '\0';
	buf_printf(&in, "%lld.", t);
	buf_append(&in, body, len);
	if (in.failed ||
	    HMAC(EVP_sha256(), secret, (int)strlen(secret),
		 (const unsigned char *)in.data, in.len, mac,
		 &maclen) == NULL ||
	    maclen != 32) {
		buf_free(&in);
		return;
	}
	buf_free(&in);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
}

int
signature_ok(const char *header, const char *body, size_t len,
	     const char *secret, const char *previous, long long now,
	     long long tolerance)
{
	/* 1024 bytes hold at most 15 "v1=<64 hex>" parts. */
	const char *v1[16];
	char want[2][65], *copy, *save = NULL, *part;
	long long t = -1;
	int ok = 0, nsecrets = 0, nv1 = 0, has_t = 0, i, k;

	if (header == NULL || strlen(header) > 1024)
		return 0;
	copy = strdup(header);
	if (copy == NULL)
		return 0;
	for (part = strtok_r(copy, ",", &save); part != NULL;
	     part = strtok_r(NULL, ",", &save)) {
		while (*part == ' ')
			part++;
		if (strncmp(part, "t=", 2) == 0 && !has_t) {
			char *end;

			t = strtoll(part + 2, &end, 10);
			has_t = *end == '\0' && end != part + 2;
		} else if (strncmp(part, "v1=", 3) == 0 &&
			   strlen(part + 3) == 64 && nv1 < 16) {
			v1[nv1++] = part + 3;
		}
	}
	/* The timestamp is part of what is signed. */
	if (has_t && t >= 0 && llabs(now - t) <= tolerance) {
		if (secret != NULL && secret[0] != '\0')
			signature_v1(secret, t, body, len, want[nsecrets++]);
		if (previous != NULL && previous[0] != '\0')
			signature_v1(previous, t, body, len, want[nsecrets++]);
		for (k = 0; k < nv1; k++)
			for (i = 0; i < nsecrets; i++)
				if (ct_compare(v1[k], want[i], 64) == 0)
					ok = 1;
	}
	free(copy);
	return ok;
}
