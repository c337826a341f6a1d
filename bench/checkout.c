/*
 * Full-checkout benchmark: N clients each loop the whole walk (cart, 2
 * items, address, shipping options, shipping, payment options, payment,
 * finalize) against a running stack, on variants it cannot run out of.
 * Also measures the one-row INSERT commit ceiling of the same MariaDB.
 *
 * usage: checkout-bench URL SECONDS CLIENTS MYSQL_SOCKET CHECKOUTD_PID
 */

#include <curl/curl.h>
#include <json-c/json.h>
#include <mysql.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static const char *base;
static const char *dbsock;
static double deadline;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct client {
	CURL *h;
	char body[65536];
	size_t len;
	double *lat; /* Seconds per request. */
	size_t nlat, cap;
	long checkouts, requests, errors;
};

static size_t
collect(char *p, size_t size, size_t n, void *arg)
{
	struct client *c = arg;
	size_t k = size * n;

	if (c->len + k < sizeof(c->body)) {
		memcpy(c->body + c->len, p, k);
		c->len += k;
		c->body[c->len] = '\0';
	}
	return k;
}

/* One request; 0 when the status is want. */
static int
req(struct client *c, const char *method, const char *path, const char *token,
    const char *form, long want)
{
	struct curl_slist *hl = NULL;
	char url[512], th[160];
	long status = 0;
	double t0 = now();
	CURLcode rc;

	snprintf(url, sizeof(url), "%s%s", base, path);
	c->len = 0;
	c->body[0] = '\0';
	curl_easy_setopt(c->h, CURLOPT_URL, url);
	curl_easy_setopt(c->h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c->h, CURLOPT_HTTPGET, 0L);
	if (form != NULL) {
		curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, form);
	} else if (strcmp(method, "GET") == 0) {
		curl_easy_setopt(c->h, CURLOPT_HTTPGET, 1L);
		curl_easy_setopt(c->h, CURLOPT_CUSTOMREQUEST, NULL);
	} else {
		curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, "");
	}
	hl = curl_slist_append(hl, "Expect:");
	if (form == NULL)
		hl = curl_slist_append(hl, "Content-Type:");
	if (token != NULL) {
		snprintf(th, sizeof(th), "X-Cart-Token: %s", token);
		hl = curl_slist_append(hl, th);
	}
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, hl);
	rc = curl_easy_perform(c->h);
	curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(hl);
	if (c->nlat == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 4096;
		c->lat = realloc(c->lat, c->cap * sizeof(*c->lat));
	}
	c->lat[c->nlat++] = now() - t0;
	c->requests++;
	if (rc != CURLE_OK || status != want) {
		c->errors++;
		return -1;
	}
	return 0;
}

static void
walk(struct client *c)
{
	struct json_object *o;
	char path[96], token[80];
	long id;

	if (req(c, "POST", "/api/carts", NULL, NULL, 201) != 0)
		return;
	o = json_tokener_parse(c->body);
	id = (long)json_object_get_int64(json_object_object_get(o, "id"));
	snprintf(token, sizeof(token), "%s",
		 json_object_get_string(json_object_object_get(o, "token")));
	json_object_put(o);
	snprintf(path, sizeof(path), "/api/carts/%ld/items", id);
	if (req(c, "POST", path, token, "variant=tshirt-m&quantity=1", 201) ||
	    req(c, "POST", path, token, "variant=tshirt-l&quantity=1", 201))
		return;
	snprintf(path, sizeof(path), "/api/checkouts/%ld", id);
	if (req(c, "PUT", path, token,
		"shippingAddress[firstName]=Bench&shippingAddress[lastName]="
		"Mark"
		"&shippingAddress[street]=Main+1&shippingAddress[city]=Berlin&"
		"shippingAddress[postcode]=10115&shippingAddress[country]=DE&"
		"email=bench%40example.com",
		200) ||
	    req(c, "GET", path, token, NULL, 200) ||
	    req(c, "PUT", path, token, "shipments[0][method]=flat_eu", 200) ||
	    req(c, "GET", path, token, NULL, 200) ||
	    req(c, "PUT", path, token, "payments[0][method]=offline", 200) ||
	    req(c, "PUT", path, token, NULL, 200))
		return;
	if (strstr(c->body, "\"checkout_state\":\"completed\"") == NULL) {
		c->errors++;
		return;
	}
	c->checkouts++;
}

static void *
client_main(void *arg)
{
	struct client *c = arg;

	c->h = curl_easy_init();
	curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c->h, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->h, CURLOPT_TIMEOUT, 30L);
	while (now() < deadline)
		walk(c);
	curl_easy_cleanup(c->h);
	return NULL;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* One-row autocommit INSERTs from n connections for secs: commits/s. */
struct ins {
	long commits;
};

static double ins_deadline;

static void *
insert_main(void *arg)
{
	struct ins *in = arg;
	MYSQL *m = mysql_init(NULL);
	MYSQL_STMT *st;

	if (!mysql_real_connect(m, NULL, "root", "", "checkoutd_bench", 0,
				dbsock, 0))
		return NULL;
	st = mysql_stmt_init(m);
	if (mysql_stmt_prepare(st, "INSERT INTO t (v) VALUES (1)", 28) == 0)
		while (now() < ins_deadline && mysql_stmt_execute(st) == 0)
			in->commits++;
	mysql_stmt_close(st);
	mysql_close(m);
	mysql_thread_end();
	return NULL;
}

static double
commit_ceiling(int n, double secs)
{
	MYSQL *m = mysql_init(NULL);
	pthread_t *t = calloc((size_t)n, sizeof(*t));
	struct ins *in = calloc((size_t)n, sizeof(*in));
	long total = 0;
	double t0;
	int i;

	if (!mysql_real_connect(m, NULL, "root", "", NULL, 0, dbsock, 0) ||
	    mysql_query(m, "CREATE DATABASE IF NOT EXISTS checkoutd_bench") ||
	    mysql_query(m, "CREATE TABLE IF NOT EXISTS checkoutd_bench.t (id "
			   "BIGINT AUTO_INCREMENT PRIMARY KEY, v INT) "
			   "ENGINE=InnoDB")) {
		fprintf(stderr, "commit ceiling: %s\n", mysql_error(m));
		return 0;
	}
	t0 = now();
	ins_deadline = t0 + secs;
	for (i = 0; i < n; i++)
		pthread_create(&t[i], NULL, insert_main, &in[i]);
	for (i = 0; i < n; i++) {
		pthread_join(t[i], NULL);
		total += in[i].commits;
	}
	mysql_query(m, "DROP DATABASE checkoutd_bench");
	mysql_close(m);
	free(t);
	free(in);
	return (double)total / (now() - t0);
}

static long
vm_hwm_kb(const char *pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/status", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmHWM:", 6) == 0)
			kb = strtol(line + 6, NULL, 10);
	fclose(f);
	return kb;
}

/* CPU seconds (user + system) process pid has used so far, or -1. */
static double
cpu_seconds(long pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut = 0, st = 0;
	size_t len;
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = '\0';
	/* Fields 14 and 15, counted after the command's closing paren. */
	p = strrchr(buf, ')');
	for (i = 2; p != NULL && i < 14; i++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p, " %lu %lu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* The pid of the process serving the unix socket path (MariaDB), or 0. */
static long
socket_peer(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	struct ucred cr;
	socklen_t len = sizeof(cr);
	long pid = 0;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == 0)
		pid = cr.pid;
	if (fd >= 0)
		close(fd);
	return pid;
}

int
main(int argc, char **argv)
{
	long db_pid, co_pid;
	double db_cpu, co_cpu;
	struct client *c;
	pthread_t *t;
	double secs, t0, elapsed, *all;
	long checkouts = 0, requests = 0, errors = 0;
	size_t n = 0, k;
	int clients, i;

	if (argc != 6) {
		fprintf(stderr,
			"usage: %s URL SECONDS CLIENTS MYSQL_SOCKET "
			"CHECKOUTD_PID\n",
			argv[0]);
		return 2;
	}
	base = argv[1];
	secs = atof(argv[2]);
	clients = atoi(argv[3]);
	dbsock = argv[4];
	curl_global_init(CURL_GLOBAL_ALL);
	mysql_library_init(0, NULL, NULL);
	c = calloc((size_t)clients, sizeof(*c));
	t = calloc((size_t)clients, sizeof(*t));
	db_pid = socket_peer(dbsock);
	co_pid = atol(argv[5]);
	db_cpu = cpu_seconds(db_pid);
	co_cpu = cpu_seconds(co_pid);
	t0 = now();
	deadline = t0 + secs;
	for (i = 0; i < clients; i++)
		pthread_create(&t[i], NULL, client_main, &c[i]);
	for (i = 0; i < clients; i++) {
		pthread_join(t[i], NULL);
		checkouts += c[i].checkouts;
		requests += c[i].requests;
		errors += c[i].errors;
		n += c[i].nlat;
	}
	elapsed = now() - t0;
	db_cpu = cpu_seconds(db_pid) - db_cpu;
	co_cpu = cpu_seconds(co_pid) - co_cpu;
	all = malloc((n ? n : 1) * sizeof(*all));
	for (i = 0, n = 0; i < clients; i++) {
		for (k = 0; k < c[i].nlat; k++)
			all[n++] = c[i].lat[k];
		free(c[i].lat);
	}
	qsort(all, n, sizeof(*all), cmp);
	printf(
	    "clients %d, %.0f s: %.1f checkouts/s, %.0f requests/s, "
	    "p50 %.2f ms, p99 %.2f ms, errors %ld, checkoutd VmHWM %ld KiB\n",
	    clients, elapsed, (double)checkouts / elapsed,
	    (double)requests / elapsed, n ? all[n / 2] * 1e3 : 0,
	    n ? all[(size_t)((double)n * 0.99)] * 1e3 : 0, errors,
	    vm_hwm_kb(argv[5]));
	/* CPU time per checkout moves far less between runs than the rate
	 * (docs/performance.md): the figure to compare two builds by. */
	if (checkouts > 0)
		printf("CPU per checkout: MariaDB %.2f ms, checkoutd %.2f ms\n",
		       db_cpu * 1e3 / (double)checkouts,
		       co_cpu * 1e3 / (double)checkouts);
	printf("MariaDB one-row INSERT commit ceiling, %d connections: %.0f "
	       "commits/s\n",
	       clients, commit_ceiling(clients, 3.0));
	free(all);
	free(c);
	free(t);
	mysql_library_end();
	return errors != 0;
}
