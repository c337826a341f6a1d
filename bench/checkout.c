/*
 * Full-checkout benchmark: N clients each loop the whole walk (cart, 2
 * items, address, shipping options, shipping, payment options, payment,
 * finalize) against a running stack, on variants it cannot run out of.
 * Also measures the one-row INSERT commit ceiling of the same MariaDB.
 *
 * usage: checkout-bench URL SECONDS CLIENTS MYSQL_SOCKET CHECKOUTD_PID
 *        [NGINX_PID]
 */

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <json-c/json.h>
#include <mysql.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
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

/* A kind of error: the status (0: no answer) and the answer's problem
 * code, with how often it came. */
#define MAX_FAILURES 16
struct failure {
	long status;
	char code[40];
	long n;
};

struct client {
	int fd;		  /* Kept-alive connection to nginx, or -1. */
	char in[70000];	  /* The last answer as read: head and body. */
	const char *body; /* Its body, in in (NUL-terminated). */
	double *lat;	  /* Seconds per request. */
	size_t nlat, cap;
	long checkouts, requests, errors;
	struct failure failed[MAX_FAILURES]; /* The errors by kind. */
	size_t nfailed;
};

/*
 * The client speaks HTTP/1.1 over one kept-alive socket itself: on this
 * 2-core machine the load generator shares the CPU with what it measures,
 * and libcurl's easy interface cost about 120 us of CPU per request
 * (docs/performance.md). A request is one write; the answer is read by
 * its Content-Length (checkoutd and nginx's own error pages send one).
 */
static char host[128];
static struct sockaddr_in addr;

static int
connect_to(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Reads one answer into c->in, c->body pointing at its body; its status,
 * or -1. *closing: the answer said Connection: close (nginx ends a
 * connection after keepalive_requests answers). */
static long
read_answer(struct client *c, int *closing)
{
	char *buf = c->in;
	size_t have = 0, head, need;
	long status, clen = -1;
	char *end = NULL, *h;

	for (;;) {
		ssize_t k;

		if (end == NULL && have > 4) {
			buf[have] = '\0';
			end = strstr(buf, "\r\n\r\n");
		}
		if (end != NULL) {
			head = (size_t)(end - buf) + 4;
			if (clen < 0) {
				h = strcasestr(buf, "\r\ncontent-length:");
				if (h == NULL || h > end)
					return -1;
				clen = strtol(h + 17, NULL, 10);
				if (clen < 0 ||
				    head + (size_t)clen >= sizeof(c->in))
					return -1;
			}
			need = head + (size_t)clen;
			if (have >= need)
				break;
		}
		if (have + 1 >= sizeof(c->in))
			return -1;
		k = read(c->fd, buf + have, sizeof(c->in) - 1 - have);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		have += (size_t)k;
	}
	if (sscanf(buf, "HTTP/1.%*d %ld", &status) != 1)
		return -1;
	h = strcasestr(buf, "\r\nconnection: close\r\n");
	*closing = h != NULL && h < end;
	buf[need] = '\0';
	c->body = buf + head;
	return status;
}

/* Counts an error of status whose answer's body is body, by its status
 * and problem code. */
static void
failed(struct client *c, long status, const char *body)
{
	struct json_object *o = json_tokener_parse(body), *v;
	const char *code = "";
	size_t i;

	if (o != NULL && json_object_object_get_ex(o, "code", &v))
		code = json_object_get_string(v);
	for (i = 0; i < c->nfailed; i++)
		if (c->failed[i].status == status &&
		    strcmp(c->failed[i].code, code) == 0)
			break;
	if (i == c->nfailed && i < MAX_FAILURES) {
		c->failed[i].status = status;
		snprintf(c->failed[i].code, sizeof(c->failed[i].code), "%s",
			 code);
		c->nfailed++;
	}
	if (i < c->nfailed)
		c->failed[i].n++;
	json_object_put(o);
}

/* One request; 0 when the status is want. */
static int
req(struct client *c, const char *method, const char *path, const char *token,
    const char *form, long want)
{
	char r[2048], th[160] = "";
	long status = -1;
	double t0 = now();
	int n, closing = 0;

	if (token != NULL)
		snprintf(th, sizeof(th), "X-Cart-Token: %s\r\n", token);
	if (strcmp(method, "GET") == 0)
		n = snprintf(r, sizeof(r),
			     "GET %s HTTP/1.1\r\nHost: %s\r\n%s\r\n", path,
			     host, th);
	else if (form != NULL)
		n = snprintf(r, sizeof(r),
			     "%s %s HTTP/1.1\r\nHost: %s\r\n%sContent-Type: "
			     "application/x-www-form-urlencoded\r\n"
			     "Content-Length: %zu\r\n\r\n%s",
			     method, path, host, th, strlen(form), form);
	else /* An empty body without a Content-Type, as the seed's. */
		n = snprintf(r, sizeof(r),
			     "%s %s HTTP/1.1\r\nHost: %s\r\n%s"
			     "Content-Length: 0\r\n\r\n",
			     method, path, host, th);
	c->body = "";
	if (c->fd < 0)
		c->fd = connect_to();
	if (c->fd >= 0 && n > 0 && (size_t)n < sizeof(r) &&
	    write_all(c->fd, r, (size_t)n) == 0)
		status = read_answer(c, &closing);
	if ((status < 0 || closing) && c->fd >= 0) {
		close(c->fd); /* Reconnects for the next request. */
		c->fd = -1;
	}
	if (c->nlat == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 4096;
		c->lat = realloc(c->lat, c->cap * sizeof(*c->lat));
	}
	c->lat[c->nlat++] = now() - t0;
	c->requests++;
	if (status != want) {
		c->errors++;
		failed(c, status < 0 ? 0 : status, status < 0 ? "" : c->body);
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
		failed(c, 200, "{\"code\": \"not completed\"}");
		return;
	}
	c->checkouts++;
}

static void *
client_main(void *arg)
{
	struct client *c = arg;

	c->fd = -1;
	while (now() < deadline)
		walk(c);
	if (c->fd >= 0)
		close(c->fd);
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

/* From /proc/PID/stat: the CPU seconds (user + system) the process has
 * used so far and, when ppid is not NULL, its parent's pid; -1 when it
 * cannot be read. */
static double
proc_stat(const char *pid, long *ppid)
{
	char path[300], buf[1024], *p;
	unsigned long ut = 0, st = 0;
	size_t len;
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = '\0';
	/* Fields counted after the command's closing paren: 4 is the
	 * parent's pid, 14 and 15 the CPU times. */
	p = strrchr(buf, ')');
	if (p == NULL || (ppid != NULL && sscanf(p, ") %*c %ld", ppid) != 1))
		return -1;
	for (i = 2; p != NULL && i < 14; i++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p, " %lu %lu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double
cpu_seconds(long pid)
{
	char s[24];

	snprintf(s, sizeof(s), "%ld", pid);
	return proc_stat(s, NULL);
}

/* CPU seconds of process pid and its children (nginx's master and
 * workers), or -1. */
static double
tree_cpu_seconds(long pid)
{
	double sum = cpu_seconds(pid);
	struct dirent *d;
	DIR *proc;

	if (sum < 0 || (proc = opendir("/proc")) == NULL)
		return sum;
	while ((d = readdir(proc)) != NULL) {
		long ppid = 0;
		double cpu;

		if (d->d_name[0] < '0' || d->d_name[0] > '9')
			continue;
		cpu = proc_stat(d->d_name, &ppid);
		if (cpu >= 0 && ppid == pid)
			sum += cpu;
	}
	closedir(proc);
	return sum;
}

/* CPU seconds this process (all its clients) has used so far. */
static double
own_cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
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

/* Prints the clients' errors by status and problem code. */
static void
errors_by_kind(const struct client *c, int clients)
{
	struct failure all[MAX_FAILURES * 4];
	size_t n = 0, i, k;
	int j;

	for (j = 0; j < clients; j++) {
		for (k = 0; k < c[j].nfailed; k++) {
			const struct failure *f = &c[j].failed[k];

			for (i = 0; i < n; i++)
				if (all[i].status == f->status &&
				    strcmp(all[i].code, f->code) == 0)
					break;
			if (i == n && n == sizeof(all) / sizeof(*all))
				continue;
			if (i == n)
				all[n++] = (struct failure){f->status, "", 0};
			snprintf(all[i].code, sizeof(all[i].code), "%s",
				 f->code);
			all[i].n += f->n;
		}
	}
	printf("errors by kind:");
	for (i = 0; i < n; i++)
		printf("%s %ld x %ld%s%s", i ? "," : "", all[i].n,
		       all[i].status, *all[i].code ? " " : "", all[i].code);
	printf("\n");
}

int
main(int argc, char **argv)
{
	long db_pid, co_pid, ngx_pid;
	double db_cpu, co_cpu, my_cpu, ngx_cpu;
	struct client *c;
	pthread_t *t;
	double secs, t0, elapsed, *all;
	long checkouts = 0, requests = 0, errors = 0;
	size_t n = 0, k;
	int clients, i, port;

	if (argc != 6 && argc != 7) {
		fprintf(stderr,
			"usage: %s URL SECONDS CLIENTS MYSQL_SOCKET "
			"CHECKOUTD_PID [NGINX_PID]\n",
			argv[0]);
		return 2;
	}
	base = argv[1];
	secs = atof(argv[2]);
	clients = atoi(argv[3]);
	dbsock = argv[4];
	if (sscanf(base, "http://%127[^:/]:%d", host, &port) != 2 ||
	    inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
		fprintf(stderr, "%s: URL must be http://IPV4:PORT\n", argv[0]);
		return 2;
	}
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)port);
	mysql_library_init(0, NULL, NULL);
	c = calloc((size_t)clients, sizeof(*c));
	t = calloc((size_t)clients, sizeof(*t));
	db_pid = socket_peer(dbsock);
	co_pid = atol(argv[5]);
	ngx_pid = argc == 7 ? atol(argv[6]) : 0;
	ngx_cpu = ngx_pid > 0 ? tree_cpu_seconds(ngx_pid) : -1;
	db_cpu = cpu_seconds(db_pid);
	co_cpu = cpu_seconds(co_pid);
	my_cpu = own_cpu_seconds();
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
	my_cpu = own_cpu_seconds() - my_cpu;
	if (ngx_cpu >= 0)
		ngx_cpu = tree_cpu_seconds(ngx_pid) - ngx_cpu;
	all = malloc((n ? n : 1) * sizeof(*all));
	for (i = 0, n = 0; i < clients; i++) {
		for (k = 0; k < c[i].nlat; k++)
			all[n++] = c[i].lat[k];
		free(c[i].lat);
	}
	qsort(all, n, sizeof(*all), cmp);
	printf("clients %d, %.0f s: %.1f checkouts/s, %.0f requests/s, "
	       "p50 %.2f ms, p99 %.2f ms, max %.0f ms, errors %ld, checkoutd "
	       "VmHWM %ld KiB\n",
	       clients, elapsed, (double)checkouts / elapsed,
	       (double)requests / elapsed, n ? all[n / 2] * 1e3 : 0,
	       n ? all[(size_t)((double)n * 0.99)] * 1e3 : 0,
	       n ? all[n - 1] * 1e3 : 0, errors, vm_hwm_kb(argv[5]));
	/* CPU time per checkout moves far less between runs than the rate
	 * (docs/performance.md): the figure to compare two builds by. */
	if (checkouts > 0) {
		double per = 1e3 / (double)checkouts;

		printf("CPU per checkout: MariaDB %.2f ms, checkoutd %.2f ms, "
		       "this client %.2f ms",
		       db_cpu * per, co_cpu * per, my_cpu * per);
		if (ngx_cpu >= 0)
			printf(", nginx %.2f ms", ngx_cpu * per);
		printf("\n");
	}
	if (errors > 0)
		errors_by_kind(c, clients);
	printf("MariaDB one-row INSERT commit ceiling, %d connections: %.0f "
	       "commits/s\n",
	       clients, commit_ceiling(clients, 3.0));
	free(all);
	free(c);
	free(t);
	mysql_library_end();
	return errors != 0;
}
