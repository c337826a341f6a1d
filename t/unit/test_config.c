/* Configuration: defaults, the file, environment overrides, refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

static char path[] = "/tmp/checkoutd-test-config-XXXXXX";

static void
write_conf(const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int
setup(void **state)
{
	int fd = mkstemp(path);

	(void)state;
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(path);
	config_free();
	return 0;
}

static void
test_defaults(void **state)
{
	char err[256];

	(void)state;
	assert_int_equal(config_load(NULL, err, sizeof(err)), 0);
	assert_int_equal(config_int("server.workers"), 16);
	assert_int_equal(config_int("shutdown.grace"), 15);
	assert_int_equal(config_int("server.max_body"), 65536);
	assert_string_equal(config_str("cors.origins"), "");
}

static void
test_file_then_env(void **state)
{
	char err[256];

	(void)state;
	write_conf("# comment\n[server]\nworkers = 4\n\n[cors]\n"
		   "origins = https://shop.example\n"
		   "[database]\npassword = hunter2\n");
	assert_int_equal(config_load(path, err, sizeof(err)), 0);
	assert_int_equal(config_int("server.workers"), 4);
	assert_string_equal(config_str("cors.origins"), "https://shop.example");
	setenv("CHECKOUTD_SERVER_WORKERS", "8", 1);
	setenv("CHECKOUTD_SHUTDOWN_GRACE", "1", 1);
	assert_int_equal(config_load(path, err, sizeof(err)), 0);
	assert_int_equal(config_int("server.workers"), 8);
	assert_int_equal(config_int("shutdown.grace"), 1);
	assert_int_equal(config_set("server.workers", "2"), 0);
	assert_int_equal(config_int("server.workers"), 2);
	assert_int_equal(config_set("server.workers", "two"), -1);
	assert_int_equal(config_set("no.such", "1"), -1);
	setenv("CHECKOUTD_SERVER_WORKERS", "many", 1);
	assert_int_equal(config_load(path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "CHECKOUTD_SERVER_WORKERS"));
	unsetenv("CHECKOUTD_SERVER_WORKERS");
	unsetenv("CHECKOUTD_SHUTDOWN_GRACE");
}

/* Seed 003's CHECKOUT_SERVICE_URL overrides the file like any CHECKOUTD_
 * variable; the CHECKOUTD_ name wins when both are set. */
static void
test_env_alias(void **state)
{
	char err[256];

	(void)state;
	write_conf("[seed003]\ncheckout_service_url = http://file.example\n");
	assert_int_equal(config_load(path, err, sizeof(err)), 0);
	assert_string_equal(config_str("seed003.checkout_service_url"),
			    "http://file.example");
	setenv("CHECKOUT_SERVICE_URL", "http://alias.example", 1);
	assert_int_equal(config_load(path, err, sizeof(err)), 0);
	assert_string_equal(config_str("seed003.checkout_service_url"),
			    "http://alias.example");
	setenv("CHECKOUTD_SEED003_CHECKOUT_SERVICE_URL", "http://own.example",
	       1);
	assert_int_equal(config_load(path, err, sizeof(err)), 0);
	assert_string_equal(config_str("seed003.checkout_service_url"),
			    "http://own.example");
	unsetenv("CHECKOUTD_SEED003_CHECKOUT_SERVICE_URL");
	unsetenv("CHECKOUT_SERVICE_URL");
}

static void
test_refusals(void **state)
{
	char err[256];

	(void)state;
	write_conf("[server]\nwokers = 4\n");
	assert_int_equal(config_load(path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown key server.wokers"));
	write_conf("[server]\nworkers = lots\n");
	assert_int_equal(config_load(path, err, sizeof(err)), -1);
	write_conf("workers = 4\n");
	assert_int_equal(config_load(path, err, sizeof(err)), -1);
	write_conf("[server\n");
	assert_int_equal(config_load(path, err, sizeof(err)), -1);
	assert_int_equal(config_load("/nonexistent/x.conf", err, sizeof(err)),
			 -1);
}

static void
test_env_name(void **state)
{
	char env[64];

	(void)state;
	assert_int_equal(
	    config_env_name("database.connect_timeout", env, sizeof(env)), 0);
	assert_string_equal(env, "CHECKOUTD_DATABASE_CONNECT_TIMEOUT");
}

/* config_dump never prints a secret. */
static void
test_dump_masks_secrets(void **state)
{
	char err[256], out[4096];
	FILE *f;
	size_t n;

	(void)state;
	write_conf("[database]\npassword = hunter2\n[security]\n"
		   "secret = s3cr3t\n");
	assert_int_equal(config_load(path, err, sizeof(err)), 0);
	f = tmpfile();
	config_dump(f);
	rewind(f);
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	fclose(f);
	assert_null(strstr(out, "hunter2"));
	assert_null(strstr(out, "s3cr3t"));
	assert_non_null(strstr(out, "password = (secret)"));
	assert_non_null(strstr(out, "[database]\n"));
}

static char noted[8][64];
static int applied[8], nnoted;

static void
note(const char *key, int was_applied)
{
	assert_true(nnoted < 8);
	snprintf(noted[nnoted], sizeof(noted[0]), "%s", key);
	applied[nnoted++] = was_applied;
}

/* SIGHUP's reload: a reloadable key takes its new value, another keeps
 * its old one and is reported, a flag's value stays; a file that does not
 * load changes nothing. */
static void
test_reload(void **state)
{
	char err[256];
	const char *before;

	(void)state;
	write_conf("[admin]\ntoken = one\n[server]\nworkers = 4\n"
		   "[cart]\nttl = 60\n");
	assert_int_equal(config_load(path, err, sizeof(err)), 0);
	assert_int_equal(config_set("server.pid_file", "/run/x.pid"), 0);
	before = config_str("admin.token");
	write_conf("[admin]\ntoken = two\n[server]\nworkers = 8\n"
		   "[cart]\nttl = 60\n");
	nnoted = 0;
	assert_int_equal(config_reload(path, note, err, sizeof(err)), 0);
	assert_string_equal(config_str("admin.token"), "two");
	/* The value a worker may still hold stays readable until exit. */
	assert_string_equal(before, "one");
	assert_int_equal(config_int("server.workers"), 4);
	assert_string_equal(config_str("server.pid_file"), "/run/x.pid");
	assert_int_equal(nnoted, 2);
	assert_string_equal(noted[0], "server.workers");
	assert_int_equal(applied[0], 0);
	assert_string_equal(noted[1], "admin.token");
	assert_int_equal(applied[1], 1);

	write_conf("[admin]\ntoken = three\n[cart]\nttl = soon\n");
	nnoted = 0;
	assert_int_equal(config_reload(path, note, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cart.ttl must be an integer"));
	assert_string_equal(config_str("admin.token"), "two");
	assert_int_equal(nnoted, 0);
}

/* Whether the comment lines just above the line after at (a newline)
 * hold word. */
static int
comment_says(const char *text, const char *at, const char *word)
{
	const char *start = at, *p;
	char block[2048];

	for (;;) {
		for (p = start; p > text && p[-1] != '\n'; p--)
			;
		if (p == start || *p != '#')
			break;
		start = p > text ? p - 1 : p;
	}
	if ((size_t)(at - start) >= sizeof(block))
		return 0;
	memcpy(block, start, (size_t)(at - start));
	block[at - start] = '\0';
	return strstr(block, word) != NULL;
}

/* Every key is documented in the example file, and it loads cleanly;
 * "(reloadable)" in its comment exactly for the keys SIGHUP reloads. */
static void
test_example_documents_every_key(void **state)
{
	char example[512], text[65536], err[256];
	size_t i, n;
	FILE *f;

	(void)state;
	snprintf(example, sizeof(example), "%s/conf/checkoutd.conf.example",
		 SRCDIR);
	f = fopen(example, "r");
	assert_non_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	for (i = 0; i < config_count(); i++) {
		const char *name = config_name(i), *dot = strchr(name, '.');
		char section[64], key[96];

		snprintf(section, sizeof(section), "[%.*s]", (int)(dot - name),
			 name);
		const char *at = NULL;

		snprintf(key, sizeof(key), "\n%s =", dot + 1);
		if (strstr(text, section) == NULL ||
		    (at = strstr(strstr(text, section), key)) == NULL)
			fail_msg("%s is not documented in %s", name, example);
		/* Its comment says "(reloadable)" exactly when it is. */
		if (config_reloadable(i) !=
		    comment_says(text, at, "(reloadable)"))
			fail_msg("%s: \"(reloadable)\" in %s must match "
				 "config.c's table",
				 name, example);
	}
	assert_int_equal(config_load(example, err, sizeof(err)), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_file_then_env),
	    cmocka_unit_test(test_env_alias),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_env_name),
	    cmocka_unit_test(test_dump_masks_secrets),
	    cmocka_unit_test(test_reload),
	    cmocka_unit_test(test_example_documents_every_key),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
