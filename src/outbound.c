#include "outbound.h"

#include <stdatomic.h>
#include <string.h>

#include <curl/curl.h>

#include "config.h"
#include "log.h"
#include "metrics.h"

static atomic_int in_flight;

static size_t
collect(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;

	/* A body over 1 MiB is not an answer we use. */
	if (b->len + size * n > (1u << 20))
		return 0;
	return buf_append(b, p, size * n) == 0 ? size * n : 0;
}

enum err
outbound_send(void *handle, const char *method, const char *url,
	      const char *const *headers, const char *body, long timeout,
	      struct outbound_resp *r)
{
	CURL *curl = handle;
	struct curl_slist *h = NULL, *t;
	CURLcode rc;
	size_t i;

	r->status = 0;
	buf_reset(&r->body);
	if (curl == NULL) {
		log_error("outbound %s %s: no HTTP handle", method, url);
		return ERR_INTERNAL;
	}
	curl_easy_reset(curl); /* Keeps the connection cache. */
	for (i = 0; headers != NULL && headers[i] != NULL; i++) {
		t = curl_slist_append(h, headers[i]);
		if (t == NULL) {
			curl_slist_free_all(h);
			return ERR_NOMEM;
		}
		h = t;
	}
	/* No "Expect: 100-continue" round trip. */
	t = curl_slist_append(h, "Expect:");
	if (t == NULL) {
		curl_slist_free_all(h);
		return ERR_NOMEM;
	}
	h = t;
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	if (body != NULL) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE,
				 (long)strlen(body));
	} else if (strcmp(method, "GET") == 0) {
		curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
	}
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT,
			 (long)config_int("outbound.connect_timeout"));
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, timeout);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "checkoutd/" PACKAGE_VERSION);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r->body);
	rc = curl_easy_perform(curl);
	curl_slist_free_all(h);
	/* The handle must not keep pointers into this call's memory. */
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, NULL);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, NULL);
	if (rc == CURLE_OPERATION_TIMEDOUT) {
		log_warn("outbound %s %s: timed out after %ld s", method, url,
			 timeout);
		metrics_inc(MET_OUTBOUND_TIMEOUTS);
		return ERR_PROVIDER_TIMEOUT;
	}
	if (rc != CURLE_OK) {
		log_warn("outbound %s %s: %s", method, url,
			 curl_easy_strerror(rc));
		metrics_inc(MET_OUTBOUND_ERRORS);
		return ERR_PROVIDER_ERROR;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r->status);
	if (r->body.failed)
		return ERR_NOMEM;
	buf_append(&r->body, "", 1); /* NUL-terminate for the parsers. */
	r->body.len--;
	return ERR_OK;
}

int
outbound_enter(void)
{
	int max = (int)config_int("outbound.max_concurrent");

	if (max <= 0)
		max = (int)config_int("server.workers") / 2;
	if (max < 1)
		max = 1;
	if (atomic_fetch_add(&in_flight, 1) >= max) {
		atomic_fetch_sub(&in_flight, 1);
		metrics_inc(MET_OUTBOUND_BUSY);
		return -1;
	}
	return 0;
}

void
outbound_leave(void)
{
	atomic_fetch_sub(&in_flight, 1);
}

int
form_add(struct buf *b, const char *name, const char *value)
{
	char *v = curl_easy_escape(NULL, value, 0);
	int rc;

	if (v == NULL)
		return -1;
	rc = buf_printf(b, "%s%s=%s", b->len > 0 ? "&" : "", name, v);
	curl_free(v);
	return rc;
}
