#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "client.h"

#include <curl/curl.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "str.h"

#include <cmocka.h>

static size_t
collect(char *p, size_t size, size_t n, void *arg)
{
	buf_append(arg, p, size * n);
	return size * n;
}

/* Keeps only the last response's headers (after a 100 Continue). */
static size_t
collect_header(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;

	if (size * n >= 5 && strncmp(p, "HTTP/", 5) == 0)
		buf_reset(b);
	buf_append(b, p, size * n);
	return size * n;
}

/*
 * With E2E_RECORD set, every response is appended to that file as one JSON
 * line (method, path, status, content type, body), for t/openapi-check.mjs.
 */
static void
record(const char *method, const char *path, const struct resp *r)
{
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	const char *file = getenv("E2E_RECORD");
	struct json_object *o;
	FILE *f;

	if (file == NULL || *file == '\0')
		return;
	o = json_object_new_object();
	json_object_object_add(o, "method", json_object_new_string(method));
	json_object_object_add(o, "path", json_object_new_string(path));
	json_object_object_add(o, "status", json_object_new_int64(r->status));
	json_object_object_add(o, "ctype",
			       json_object_new_string(r->content_type));
	json_object_object_add(
	    o, "body",
	    json_object_new_string_len(r->body.data, (int)r->body.len));
	pthread_mutex_lock(&mu);
	f = fopen(file, "a");
	if (f != NULL) {
		fprintf(
		    f, "%s\n",
		    json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		fclose(f);
	}
	pthread_mutex_unlock(&mu);
	json_object_put(o);
}

/* The calling thread's server, when e2e_base named one. */
static _Thread_local const char *thread_base;

void
e2e_base(const char *base)
{
	thread_base = base;
}

int
e2e_request(const char *method, const char *path, const struct req_opts *o,
	    struct resp *r)
{
	static const struct req_opts none;
	const char *base = getenv("CHECKOUTD_URL");
	struct curl_slist *hl = NULL;
	char url[2048];
	CURL *c;
	CURLcode rc;
	char *ct = NULL;
	size_t i;

	if (o == NULL)
		o = &none;
	memset(r, 0, sizeof(*r));
	if (o->base != NULL)
		base = o->base;
	else if (thread_base != NULL)
		base = thread_base;
	snprintf(url, sizeof(url), "%s%s",
		 base ? base : "http://127.0.0.1:8080", path);
	c = curl_easy_init();
	if (c == NULL)
		return -1;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r->body);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &r->headers);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	if (o->interface != NULL)
		curl_easy_setopt(c, CURLOPT_INTERFACE, o->interface);
	/* Without these, curl adds its own Content-Type and Expect. */
	hl = curl_slist_append(hl, "Expect:");
	if (o->ctype != NULL) {
		char h[256];

		snprintf(h, sizeof(h), "Content-Type: %s", o->ctype);
		hl = curl_slist_append(hl, h);
	} else {
		hl = curl_slist_append(hl, "Content-Type:");
	}
	for (i = 0; i < 8 && o->headers[i] != NULL; i++)
		hl = curl_slist_append(hl, o->headers[i]);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	if (o->body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, o->body);
		curl_easy_setopt(
		    c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)(o->body_len ? o->body_len : strlen(o->body)));
	}
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
		curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
		if (ct != NULL)
			snprintf(r->content_type, sizeof(r->content_type), "%s",
				 ct);
	}
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	if (r->body.data == NULL)
		buf_append(&r->body, "", 0);
	if (rc == CURLE_OK && o->interface == NULL && o->base == NULL &&
	    thread_base == NULL)
		record(method, path, r);
	return rc == CURLE_OK ? 0 : -1;
}

const char *
resp_header(struct resp *r, const char *name)
{
	static _Thread_local char value[1024];
	size_t n = strlen(name);
	const char *p = r->headers.data;

	while (p != NULL && *p != '\0') {
		const char *eol = strstr(p, "\r\n");
		size_t len = eol ? (size_t)(eol - p) : strlen(p);

		if (len > n + 1 && ascii_ncasecmp(p, name, n) == 0 &&
		    p[n] == ':') {
			const char *v = p + n + 1;

			while (*v == ' ')
				v++;
			snprintf(value, sizeof(value), "%.*s",
				 (int)(len - (size_t)(v - p)), v);
			return value;
		}
		p = eol ? eol + 2 : NULL;
	}
	return NULL;
}

const char *
resp_json_str(struct resp *r, const char *key)
{
	static _Thread_local char value[1024];
	struct json_object *o = json_tokener_parse(r->body.data), *v;

	if (o == NULL)
		return NULL;
	v = json_object_object_get(o, key);
	if (v == NULL) {
		json_object_put(o);
		return NULL;
	}
	snprintf(value, sizeof(value), "%s", json_object_get_string(v));
	json_object_put(o);
	return value;
}

void
resp_free(struct resp *r)
{
	buf_free(&r->body);
	buf_free(&r->headers);
}

int
stack(const char *cmd, const char *env)
{
	char line[4096];
	int rc;

	snprintf(line, sizeof(line), "%s \"$STACK_SH\" %s \"$STACK_DIR\"",
		 env ? env : "", cmd);
	rc = system(line);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

int
stack_file(const char *rel, struct buf *out)
{
	char path[1024], chunk[4096];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", getenv("STACK_DIR"), rel);
	buf_reset(out);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(out, chunk, n);
	fclose(f);
	if (out->data == NULL)
		buf_append(out, "", 0);
	return 0;
}

long
stack_pid(const char *name)
{
	struct buf b = {0};
	char rel[64];
	long pid = -1;

	snprintf(rel, sizeof(rel), "run/%s.pid", name);
	if (stack_file(rel, &b) == 0)
		pid = strtol(b.data, NULL, 10);
	buf_free(&b);
	return pid > 0 ? pid : -1;
}

/* Cart helpers shared by the e2e suites. */

struct json_object *
parse(struct resp *r)
{
	struct json_object *o = json_tokener_parse(r->body.data);

	if (o == NULL)
		fail_msg("not JSON: %s", r->body.data);
	return o;
}

int64_t
num(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("no %s in %s", key, json_object_to_json_string(o));
	return json_object_get_int64(v);
}

int
test_build(void)
{
	struct resp r;
	long st;

	assert_int_equal(e2e_request("GET", "/api/_test/sleep?ms=0", NULL, &r),
			 0);
	st = r.status;
	resp_free(&r);
	return st != 404;
}

const char *
text(struct json_object *o, const char *key)
{
	return json_object_get_string(json_object_object_get(o, key));
}

void
new_cart(struct cart *c)
{
	new_cart_at(c, NULL);
}

void
new_cart_at(struct cart *c, const char *base)
{
	struct req_opts opts = {.base = base};
	struct json_object *o;
	struct resp r;

	assert_int_equal(e2e_request("POST", "/api/carts", &opts, &r), 0);
	assert_int_equal(r.status, 201);
	o = parse(&r);
	c->id = (long)num(o, "id");
	snprintf(c->token, sizeof(c->token), "%s", text(o, "token"));
	snprintf(c->path, sizeof(c->path), "/api/carts/%ld", c->id);
	snprintf(c->token_header, sizeof(c->token_header), "X-Cart-Token: %s",
		 c->token);
	json_object_put(o);
	resp_free(&r);
}

void
session_upstream(const char *method, const char *path, const char *body)
{
	struct req_opts o = {
	    .base = getenv("SESSION_URL"), .ctype = JSON, .body = body};
	struct resp r;

	assert_non_null(o.base);
	assert_int_equal(e2e_request(method, path, &o, &r), 0);
	assert_int_equal(r.status, 200);
	resp_free(&r);
}

double
e2e_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sends body to path with the cart's token; returns the parsed answer. */
struct json_object *
call(struct cart *c, const char *method, const char *path, const char *ctype,
     const char *body, long want)
{
	return call_with(c, method, path, ctype, body, want, NULL);
}

struct json_object *
call_with(struct cart *c, const char *method, const char *path,
	  const char *ctype, const char *body, long want, const char *header)
{
	struct req_opts o = {
	    .ctype = ctype, .body = body, .headers = {c->token_header, header}};
	struct json_object *j;
	struct resp r;

	assert_int_equal(e2e_request(method, path, &o, &r), 0);
	if (r.status != want)
		fail_msg("%s %s: %ld, want %ld: %s", method, path, r.status,
			 want, r.body.data);
	j = parse(&r);
	resp_free(&r);
	return j;
}

char *
sub(struct cart *c, const char *rest)
{
	static _Thread_local char p[128];

	snprintf(p, sizeof(p), "%s%s", c->path, rest);
	return p;
}

/*
 * The start and end (seconds of the day) of the last n lines of stack file
 * rel that hold needle, newest first: how many were found (at most n), -1
 * when the file cannot be read or a line parsed.
 */
static int
access_times(const char *rel, const char *needle, int n, double *start,
	     double *end)
{
	struct buf log = {0};
	const char *lines[64];
	const char *q;
	int found = 0, i;

	if (n > 64)
		return -1;
	/* A worker writes its log lines when it goes idle: wait until the
	 * log stops growing (slower under the sanitizers). */
	for (i = 0; i < 15; i++) {
		size_t before = log.len;

		usleep(200000);
		buf_free(&log);
		memset(&log, 0, sizeof(log));
		if (stack_file(rel, &log) != 0)
			return -1;
		if (i > 0 && log.len == before)
			break;
	}
	/* The last n lines holding needle, newest first. */
	for (q = log.data + log.len; q > log.data && found < n;) {
		const char *line = q - 1;

		while (line > log.data && line[-1] != '\n')
			line--;
		if (strstr(line, needle) != NULL &&
		    strstr(line, needle) < strchr(line, '\n'))
			lines[found++] = line;
		q = line;
	}
	for (i = 0; i < found; i++) {
		const char *p = strstr(lines[i], needle) + strlen(needle);
		int hh, mm;
		double ss, ms;

		/* The rest of the path (the needle may end inside it or at
		 * its end), then the status and the duration. */
		while (*p != '\0' && *p != ' ' && *p != '\n')
			p++;
		if (sscanf(lines[i], "%*10sT%d:%d:%lfZ", &hh, &mm, &ss) != 3 ||
		    sscanf(p, " %*d %lfms", &ms) != 1) {
			buf_free(&log);
			return -1;
		}
		end[i] = hh * 3600.0 + mm * 60.0 + ss;
		start[i] = end[i] - ms / 1000.0;
	}
	buf_free(&log);
	return found;
}

int
e2e_overlaps(const char *needle, int n)
{
	const char *log = "log/checkoutd.log";

	return e2e_overlaps_in(1, &log, &n, needle);
}

int
e2e_overlaps_in(int nlogs, const char *const *logs, const int *counts,
		const char *needle)
{
	double start[64], end[64];
	int found = 0, i, j, k, pairs = 0;

	for (k = 0; k < nlogs; k++) {
		if (counts[k] > 64 - found)
			return -1;
		i = access_times(logs[k], needle, counts[k], start + found,
				 end + found);
		if (i != counts[k])
			return -1;
		found += i;
	}
	for (i = 0; i < found; i++)
		for (j = i + 1; j < found; j++)
			pairs += (start[i] > start[j] ? start[i] : start[j]) <
				 (end[i] < end[j] ? end[i] : end[j]);
	return pairs;
}

const char *
first_error_field(struct json_object *o)
{
	return text(
	    json_object_array_get_idx(json_object_object_get(o, "errors"), 0),
	    "field");
}

int64_t
sql(const char *fmt, ...)
{
	char q[1024], cmd[1400], out[64] = "";
	va_list ap;
	FILE *p;

	va_start(ap, fmt);
	vsnprintf(q, sizeof(q), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd),
		 "mariadb --no-defaults -uroot -N "
		 "--socket=\"$STACK_DIR/run/mysql.sock\" checkoutd -e \"%s\"",
		 q);
	p = popen(cmd, "r");
	assert_non_null(p);
	if (fgets(out, sizeof(out), p) == NULL)
		out[0] = '\0';
	assert_int_equal(pclose(p), 0);
	return strtoll(out, NULL, 10);
}

char *
co(struct cart *c)
{
	static _Thread_local char p[64];

	snprintf(p, sizeof(p), "/api/checkouts/%ld", c->id);
	return p;
}

void
put(struct cart *c, const char *ctype, const char *body, long want)
{
	json_object_put(call(c, "PUT", co(c), ctype, body, want));
}

/* Stock of variant code: on_hold, and on_hand set to on_hold + left
 * (when left >= 0). */
int64_t
stock(const char *code, int left)
{
	if (left >= 0)
		sql("UPDATE variant_stock s JOIN product_variants v ON v.id = "
		    "s.variant_id SET s.on_hand = s.on_hold + %d WHERE v.code "
		    "= '%s'",
		    left, code);
	return sql("SELECT s.on_hold FROM variant_stock s JOIN "
		   "product_variants v ON v.id = s.variant_id WHERE v.code = "
		   "'%s'",
		   code);
}

void
ready_to_finalize(struct cart *c, const char *variant)
{
	ready_to_finalize_with(c, variant, 1, NULL);
}

void
ready_to_finalize_with(struct cart *c, const char *variant, int quantity,
		       const char *coupon)
{
	char item[128];

	snprintf(item, sizeof(item), "variant=%s&quantity=%d", variant,
		 quantity);
	new_cart(c);
	json_object_put(call(c, "POST", sub(c, "/items"), FORM, item, 201));
	if (coupon != NULL) {
		snprintf(item, sizeof(item), "code=%s", coupon);
		json_object_put(
		    call(c, "POST", sub(c, "/coupon"), FORM, item, 200));
	}
	put(c, FORM, ADDRESS_FORM, 200);
	put(c, FORM, "shipments[0][method]=flat_eu", 200);
	put(c, FORM, "payments[0][method]=offline", 200);
}

void *
buyer_finalize(void *arg)
{
	struct buyer *b = arg;
	struct req_opts o = {.headers = {b->c.token_header, b->key_header}};
	struct resp r;

	if (b->barrier != NULL)
		pthread_barrier_wait(b->barrier);
	b->status = 0;
	if (e2e_request("PUT", co(&b->c), &o, &r) == 0) {
		const char *code = resp_json_str(&r, "code");

		b->status = r.status;
		snprintf(b->code, sizeof(b->code), "%s", code ? code : "");
		if (b->keep && r.body.data != NULL)
			b->answer = json_tokener_parse(r.body.data);
	}
	resp_free(&r);
	return NULL;
}

long
post_json(const char *path, const char *header, const char *body,
	  struct json_object **out)
{
	struct req_opts o = {.ctype = JSON, .body = body, .headers = {header}};
	struct resp r;
	long status;

	assert_int_equal(e2e_request("POST", path, &o, &r), 0);
	status = r.status;
	assert_string_equal(r.content_type, "application/json");
	*out = parse(&r);
	resp_free(&r);
	return status;
}

struct json_object *
other_json(const char *env, const char *method, const char *path,
	   const char *body)
{
	struct req_opts o = {
	    .base = getenv(env), .ctype = body ? JSON : NULL, .body = body};
	struct resp r;
	struct json_object *j;

	assert_non_null(o.base);
	assert_int_equal(e2e_request(method, path, &o, &r), 0);
	j = parse(&r);
	resp_free(&r);
	return j;
}

struct resp
keyed_with(struct cart *c, const char *method, const char *path,
	   const char *key, const char *ctype, const char *body,
	   const char *extra)
{
	char kh[300];
	struct req_opts o = {.ctype = ctype, .body = body};
	struct resp r;
	int n = 0;

	snprintf(kh, sizeof(kh), "Idempotency-Key: %s", key);
	if (c != NULL)
		o.headers[n++] = c->token_header;
	o.headers[n++] = kh;
	o.headers[n] = extra;
	assert_int_equal(e2e_request(method, path, &o, &r), 0);
	return r;
}

struct resp
keyed(struct cart *c, const char *method, const char *path, const char *key,
      const char *ctype, const char *body)
{
	return keyed_with(c, method, path, key, ctype, body, NULL);
}

void
assert_key_replays(const char *path, const char *key, const char *body,
		   const char *other, struct json_object **answer)
{
	struct resp r[3];
	int i;

	for (i = 0; i < 3; i++)
		r[i] =
		    keyed(NULL, "POST", path, key, JSON, i < 2 ? body : other);
	if (r[1].status != r[0].status || r[1].body.len != r[0].body.len ||
	    memcmp(r[1].body.data, r[0].body.data, r[0].body.len) != 0)
		fail_msg("POST %s with key %s again: %ld %s, first %ld %s",
			 path, key, r[1].status, r[1].body.data, r[0].status,
			 r[0].body.data);
	if (r[2].status != 422 || strstr(r[2].body.data, "idempotency") == NULL)
		fail_msg("POST %s with key %s and another body: %ld %s", path,
			 key, r[2].status, r[2].body.data);
	*answer = parse(&r[0]);
	for (i = 0; i < 3; i++)
		resp_free(&r[i]);
}

void
assert_problem(struct resp *r, long status, const char *code)
{
	char want[96];

	if (r->status != status)
		fail_msg("status %ld, want %ld: %s", r->status, status,
			 r->body.data);
	assert_string_equal(r->content_type, PROBLEM);
	assert_string_equal(resp_json_str(r, "code"), code);
	snprintf(want, sizeof(want), "urn:checkoutd:problem:%s", code);
	assert_string_equal(resp_json_str(r, "type"), want);
	assert_int_equal(atol(resp_json_str(r, "status")), status);
}

struct json_object *
shipping_entry(struct json_object *view, const char *code)
{
	struct json_object *m = json_object_object_get(
	    json_object_array_get_idx(view, 0), "methods");
	size_t i;

	for (i = 0; i < json_object_array_length(m); i++)
		if (strcmp(text(json_object_array_get_idx(m, i), "code"),
			   code) == 0)
			return json_object_array_get_idx(m, i);
	return NULL;
}
