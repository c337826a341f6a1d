#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "str.h"

enum cfg_type { CFG_STR, CFG_INT };

struct cfg_key {
	const char *name; /* "section.key" */
	enum cfg_type type;
	const char *def;
	int secret;
	/* Read where it is used, so SIGHUP's config_reload may change it
	 * while the service runs (docs/operating.md lists these). */
	int reload;
};

/* Every key; documented in conf/checkoutd.conf.example (a test checks). */
static const struct cfg_key keys[] = {
    {"server.listen", CFG_STR, "", 0, 0},
    {"server.workers", CFG_INT, "16", 0, 0},
    {"server.socket_mode", CFG_STR, "0660", 0, 0},
    {"server.socket_group", CFG_STR, "", 0, 0},
    {"server.client_timeout", CFG_INT, "10", 0, 0},
    {"server.pid_file", CFG_STR, "", 0, 0},
    {"server.max_body", CFG_INT, "65536", 0, 0},
    {"shutdown.grace", CFG_INT, "15", 0, 0},
    {"database.socket", CFG_STR, "", 0, 0},
    {"database.host", CFG_STR, "127.0.0.1", 0, 0},
    {"database.port", CFG_INT, "3306", 0, 0},
    {"database.hosts", CFG_STR, "", 0, 0},
    {"database.retry_after", CFG_INT, "5", 0, 0},
    {"database.user", CFG_STR, "checkoutd", 0, 0},
    {"database.password", CFG_STR, "", 1, 0},
    {"database.name", CFG_STR, "checkoutd", 0, 0},
    {"database.connect_timeout", CFG_INT, "2", 0, 0},
    {"database.read_timeout", CFG_INT, "10", 0, 0},
    {"database.write_timeout", CFG_INT, "10", 0, 0},
    {"database.tx_retries", CFG_INT, "6", 0, 0},
    {"cors.origins", CFG_STR, "", 0, 0},
    {"store.currency", CFG_STR, "EUR", 0, 0},
    {"cart.ttl", CFG_INT, "10800", 0, 1},
    {"checkout.default_tax_zone", CFG_STR, "", 0, 0},
    {"checkout.rules_ttl", CFG_INT, "5", 0, 1},
    {"checkout.default_shipping_method", CFG_STR, "", 0, 0},
    {"checkout.default_payment_method", CFG_STR, "", 0, 0},
    {"security.secret", CFG_STR, "", 1, 0},
    {"outbound.connect_timeout", CFG_INT, "2", 0, 0},
    {"outbound.max_concurrent", CFG_INT, "0", 0, 0},
    {"payment.stripe_url", CFG_STR, "https://api.stripe.com", 0, 0},
    {"payment.stripe_secret_key", CFG_STR, "", 1, 0},
    {"payment.timeout", CFG_INT, "10", 0, 1},
    {"payment.max_declines", CFG_INT, "5", 0, 1},
    {"payment.lockout", CFG_INT, "900", 0, 1},
    {"payment.action_ttl", CFG_INT, "3600", 0, 1},
    {"payment.return_url", CFG_STR, "", 0, 1},
    {"webhook.stripe_secret", CFG_STR, "", 1, 1},
    {"webhook.stripe_secret_previous", CFG_STR, "", 1, 1},
    {"webhook.tolerance", CFG_INT, "300", 0, 1},
    {"carrier.url", CFG_STR, "", 0, 0},
    {"carrier.token", CFG_STR, "", 1, 0},
    {"carrier.timeout", CFG_INT, "3", 0, 1},
    {"carrier.quote_ttl", CFG_INT, "900", 0, 1},
    {"carrier.origin_name", CFG_STR, "", 0, 0},
    {"carrier.origin_street", CFG_STR, "", 0, 0},
    {"carrier.origin_city", CFG_STR, "", 0, 0},
    {"carrier.origin_zip", CFG_STR, "", 0, 0},
    {"carrier.origin_country", CFG_STR, "", 0, 0},
    {"order.unpaid_ttl", CFG_INT, "432000", 0, 1},
    {"seed003.checkout_service_url", CFG_STR, "", 0, 0},
    {"seed003.timeout", CFG_INT, "3", 0, 0},
    {"seed003.shipping_method", CFG_STR, "", 0, 0},
    {"admin.token", CFG_STR, "", 1, 1},
    {"outbox.url", CFG_STR, "", 0, 0},
    {"outbox.secret", CFG_STR, "", 1, 0},
    {"outbox.secret_previous", CFG_STR, "", 1, 0},
    {"outbox.backoff", CFG_STR, "60,300,1800,7200,21600,86400", 0, 1},
    {"outbox.timeout", CFG_INT, "5", 0, 0},
    {"outbox.poll", CFG_INT, "1", 0, 0},
    {"log.file", CFG_STR, "", 0, 1},
    {"log.format", CFG_STR, "text", 0, 1},
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

/* Other environment variables that set a key: the names the seeds'
 * documents give (SPEC 4). The CHECKOUTD_* name wins over an alias; both
 * win over the file. */
static const struct {
	const char *key, *env;
} aliases[] = {
    {"seed003.checkout_service_url", "CHECKOUT_SERVICE_URL"},
};

/* The alias of key i, or NULL. */
static const char *
alias_of(size_t i)
{
	size_t k;

	for (k = 0; k < sizeof(aliases) / sizeof(aliases[0]); k++)
		if (strcmp(aliases[k].key, keys[i].name) == 0)
			return aliases[k].env;
	return NULL;
}

/* The values in force. Written by config_load (one thread, at startup)
 * and by config_reload (the main thread) with an atomic store; read by
 * every thread with an atomic load. A value a reload replaces is kept on
 * `retired` until config_free: a worker may still be reading it. */
static char *values[NKEYS];
/* Set by config_set (command-line flags): a reload leaves them. */
static unsigned char pinned[NKEYS];

struct retired {
	struct retired *next;
	char *value;
};
static struct retired *retired;

static int
key_index(const char *name)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int
check_type(size_t i, const char *value)
{
	int64_t v;

	if (keys[i].type == CFG_INT && parse_i64(value, &v) != 0)
		return -1;
	return 0;
}

/* Sets vals[i] to a copy of value (a table being built, not yet read by
 * any other thread). */
static int
set_value(char **vals, size_t i, const char *value)
{
	char *copy = strdup(value);

	if (copy == NULL)
		return -1;
	free(vals[i]);
	vals[i] = copy;
	return 0;
}

static void
free_values(char **vals)
{
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		free(vals[i]);
		vals[i] = NULL;
	}
}

int
config_set(const char *key, const char *value)
{
	int i = key_index(key);

	if (i < 0 || check_type((size_t)i, value) != 0 ||
	    set_value(values, (size_t)i, value) != 0)
		return -1;
	pinned[i] = 1;
	return 0;
}

int
config_env_name(const char *key, char *out, size_t outlen)
{
	size_t n = strlen("CHECKOUTD_"), i;

	if (n + strlen(key) + 1 > outlen)
		return -1;
	memcpy(out, "CHECKOUTD_", n);
	for (i = 0; key[i] != '\0'; i++) {
		char c = key[i];

		out[n++] = c == '.' ? '_' : (char)toupper((unsigned char)c);
	}
	out[n] = '\0';
	return 0;
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
			 e[-1] == '\n'))
		*--e = '\0';
	return s;
}

static int
read_file(char **vals, const char *path, char *err, size_t errlen)
{
	char line[1024], section[64] = "", name[160];
	unsigned lineno = 0;
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *s = trim(line), *eq, *k, *v;
		int i;

		lineno++;
		if (*s == '\0' || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *close = strchr(s, ']');

			if (close == NULL || close[1] != '\0' ||
			    (size_t)(close - s) >= sizeof(section)) {
				snprintf(err, errlen, "%s:%u: bad section",
					 path, lineno);
				goto fail;
			}
			*close = '\0';
			snprintf(section, sizeof(section), "%s", s + 1);
			continue;
		}
		eq = strchr(s, '=');
		if (eq == NULL || section[0] == '\0') {
			snprintf(err, errlen, "%s:%u: expected key = value",
				 path, lineno);
			goto fail;
		}
		*eq = '\0';
		k = trim(s);
		v = trim(eq + 1);
		snprintf(name, sizeof(name), "%s.%s", section, k);
		i = key_index(name);
		if (i < 0) {
			snprintf(err, errlen, "%s:%u: unknown key %s", path,
				 lineno, name);
			goto fail;
		}
		if (check_type((size_t)i, v) != 0) {
			snprintf(err, errlen, "%s:%u: %s must be an integer",
				 path, lineno, name);
			goto fail;
		}
		if (set_value(vals, (size_t)i, v) != 0) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
	}
	fclose(f);
	return 0;
fail:
	fclose(f);
	return -1;
}

/* Fills vals with the defaults, then path's values (NULL: none), then
 * the environment's. */
static int
load_into(char **vals, const char *path, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (set_value(vals, i, keys[i].def) != 0)
			goto nomem;
	if (path != NULL && read_file(vals, path, err, errlen) != 0)
		return -1;
	for (i = 0; i < NKEYS; i++) {
		char env[128];
		const char *v;

		if (config_env_name(keys[i].name, env, sizeof(env)) != 0)
			continue;
		v = getenv(env);
		if (v == NULL && alias_of(i) != NULL) {
			snprintf(env, sizeof(env), "%s", alias_of(i));
			v = getenv(env);
		}
		if (v == NULL)
			continue;
		if (check_type(i, v) != 0) {
			snprintf(err, errlen, "%s must be an integer", env);
			return -1;
		}
		if (set_value(vals, i, v) != 0)
			goto nomem;
	}
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -1;
}

int
config_load(const char *path, char *err, size_t errlen)
{
	memset(pinned, 0, sizeof(pinned));
	return load_into(values, path, err, errlen);
}

int
config_reload(const char *path, config_note_fn *note, char *err, size_t errlen)
{
	char *fresh[NKEYS] = {0};
	size_t i;
	int rc = load_into(fresh, path, err, errlen);

	for (i = 0; rc == 0 && i < NKEYS; i++) {
		const char *now = config_str(keys[i].name);
		struct retired *r;

		if (pinned[i] || strcmp(now, fresh[i]) == 0)
			continue;
		if (!keys[i].reload) {
			note(keys[i].name, 0);
			continue;
		}
		r = malloc(sizeof(*r));
		if (r == NULL) {
			snprintf(err, errlen, "out of memory");
			rc = -1;
			break;
		}
		r->value = values[i];
		r->next = retired;
		retired = r;
		__atomic_store_n(&values[i], fresh[i], __ATOMIC_RELEASE);
		fresh[i] = NULL;
		note(keys[i].name, 1);
	}
	free_values(fresh);
	return rc;
}

/* The search order is config.h's. */
const char *
config_find(const char *flag)
{
	static const char def[] = SYSCONFDIR "/checkoutd.conf";
	static char beside[PATH_MAX];
	const char *env = getenv("CHECKOUTD_CONFIG");
	ssize_t n;
	char *slash;

	if (flag != NULL)
		return flag;
	if (env != NULL && *env != '\0')
		return env;
	n = readlink("/proc/self/exe", beside, sizeof(beside) - 1);
	if (n > 0) {
		beside[n] = '\0';
		slash = strrchr(beside, '/');
		if (slash != NULL &&
		    (size_t)(slash - beside) + sizeof("/checkoutd.conf") <=
			sizeof(beside)) {
			memcpy(slash, "/checkoutd.conf",
			       sizeof("/checkoutd.conf"));
			if (access(beside, R_OK) == 0)
				return beside;
		}
	}
	return access(def, R_OK) == 0 ? def : NULL;
}

const char *
config_str(const char *key)
{
	int i = key_index(key);

	const char *v;

	if (i < 0)
		return "";
	v = __atomic_load_n(&values[i], __ATOMIC_ACQUIRE);
	return v != NULL ? v : keys[i].def;
}

long long
config_int(const char *key)
{
	int64_t v = 0;

	if (parse_i64(config_str(key), &v) != 0)
		return 0;
	return v;
}

void
config_dump(FILE *f)
{
	const char *prev = "";
	size_t prevlen = 0, i;

	for (i = 0; i < NKEYS; i++) {
		const char *dot = strchr(keys[i].name, '.');
		size_t slen = (size_t)(dot - keys[i].name);
		const char *v = config_str(keys[i].name);

		if (prevlen != slen || strncmp(prev, keys[i].name, slen) != 0)
			fprintf(f, "[%.*s]\n", (int)slen, keys[i].name);
		prev = keys[i].name;
		prevlen = slen;
		fprintf(f, "%s = %s\n", dot + 1,
			keys[i].secret && *v != '\0' ? "(secret)" : v);
	}
}

size_t
config_count(void)
{
	return NKEYS;
}

const char *
config_name(size_t i)
{
	return i < NKEYS ? keys[i].name : NULL;
}

int
config_reloadable(size_t i)
{
	return i < NKEYS && keys[i].reload;
}

void
config_free(void)
{
	free_values(values);
	while (retired != NULL) {
		struct retired *r = retired;

		retired = r->next;
		free(r->value);
		free(r);
	}
}
