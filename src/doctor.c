#include "doctor.h"

#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "config.h"
#include "db.h"
#include "migrate.h"
#include "outbound.h"

/* Prints one finding; counts the failures. */
static void
say(struct doctor *d, int ok, const char *what, const char *text,
    const char *fix)
{
	fprintf(d->out, "%-4s %s: %s%s%s\n", ok ? "ok" : "FAIL", what, text,
		fix != NULL ? "; fix: " : "", fix != NULL ? fix : "");
	d->failed += !ok;
}

static void
check_config(struct doctor *d, const char *path)
{
	if (path != NULL) {
		say(d, 1, "configuration", path, NULL);
		return;
	}
	say(d, 0, "configuration",
	    "no file found (looked for $CHECKOUTD_CONFIG, checkoutd.conf "
	    "beside the binary, " SYSCONFDIR "/checkoutd.conf): defaults and "
	    "CHECKOUTD_* only",
	    "copy checkoutd.conf.example to " SYSCONFDIR
	    "/checkoutd.conf and fill it in, or pass --config FILE");
}

/* The fix for a failed connect, by the client's error number. */
static const char *
connect_fix(unsigned errnum)
{
	switch (errnum) {
	case 1045: /* ER_ACCESS_DENIED_ERROR */
		return "set database.user and database.password (or "
		       "CHECKOUTD_DATABASE_PASSWORD) to an account that can "
		       "log in: CREATE USER ... IDENTIFIED BY ...";
	case 1044: /* ER_DBACCESS_DENIED_ERROR */
		return "GRANT ALL ON <database.name>.* TO the user";
	case 1049: /* ER_BAD_DB_ERROR */
		return "CREATE DATABASE <database.name> CHARACTER SET utf8mb4 "
		       "COLLATE utf8mb4_bin, then checkoutctl migrate";
	default:
		return "start MariaDB, or correct database.socket / "
		       "database.host and database.port";
	}
}

static int
check_database(struct doctor *d, struct db *db)
{
	char text[512];
	size_t pending = 0;

	if (db_connect(db) != ERR_OK) {
		snprintf(
		    text, sizeof(text), "cannot connect as %s to %s: %s",
		    config_str("database.user"), config_str("database.name"),
		    db->connect_error[0] ? db->connect_error : "no answer");
		say(d, 0, "database", text, connect_fix(db->connect_errno));
		return -1;
	}
	snprintf(text, sizeof(text), "connected as %s to %s",
		 config_str("database.user"), config_str("database.name"));
	say(d, 1, "database", text, NULL);
	if (migrate_pending(db, &pending) != ERR_OK) {
		say(d, 0, "migrations", "cannot read schema_migrations",
		    "checkoutctl migrate");
		return -1;
	}
	snprintf(text, sizeof(text), "%zu of %zu pending", pending,
		 nmigrations);
	say(d, pending == 0, "migrations", text,
	    pending ? "checkoutctl migrate" : NULL);
	return 0;
}

/* The user nginx's workers run as: its `user` directive, else Debian's
 * default www-data. */
static void
nginx_user(char *out, size_t len)
{
	char line[256], name[64];
	FILE *f = fopen("/etc/nginx/nginx.conf", "r");

	snprintf(out, len, "www-data");
	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, " user %63[^; \t\n]", name) == 1) {
			snprintf(out, len, "%s", name);
			break;
		}
	if (f != NULL)
		fclose(f);
}

/* Whether user (uid, gids[0..n)) gets mode bit (r 4, w 2, x 1) on st. */
static int
allowed(const struct stat *st, uid_t uid, const gid_t *gids, int n, int bit)
{
	int i;

	if (uid == 0)
		return 1;
	if (st->st_uid == uid)
		return (st->st_mode >> 6 & bit) != 0;
	for (i = 0; i < n; i++)
		if (st->st_gid == gids[i])
			return (st->st_mode >> 3 & bit) != 0;
	return (st->st_mode & bit) != 0;
}

/* Whether nginx's user may connect to the unix socket path: write on the
 * socket, search on every directory above it. */
static void
check_socket(struct doctor *d)
{
	const char *listen = config_str("server.listen");
	char user[64], text[1024], dir[512], *slash;
	gid_t gids[64];
	int n = 64;
	struct passwd *pw;
	struct group *gr;
	struct stat st;

	if (strncmp(listen, "unix:", 5) != 0) {
		say(d, 1, "socket",
		    *listen ? "a TCP address: nginx needs no permission"
			    : "none (inherited from spawn-fcgi or mod_fcgid, "
			      "or CGI)",
		    NULL);
		return;
	}
	listen += 5;
	if (stat(listen, &st) != 0 || !S_ISSOCK(st.st_mode)) {
		snprintf(text, sizeof(text), "%s does not exist", listen);
		say(d, 0, "socket", text,
		    "start checkoutd (systemctl start checkoutd), or make "
		    "server.listen the socket nginx's fastcgi_pass names");
		return;
	}
	nginx_user(user, sizeof(user));
	pw = getpwnam(user);
	if (pw == NULL) {
		snprintf(text, sizeof(text),
			 "%s: nginx's user %s does not exist here", listen,
			 user);
		say(d, 1, "socket", text, NULL);
		return;
	}
	if (getgrouplist(user, pw->pw_gid, gids, &n) < 0)
		n = 0;
	gr = getgrgid(st.st_gid);
	snprintf(text, sizeof(text), "%s (mode %04o, group %s): ", listen,
		 (unsigned)(st.st_mode & 07777),
		 gr != NULL ? gr->gr_name : "?");
	if (!allowed(&st, pw->pw_uid, gids, n, 2)) {
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
			 "nginx's user %s cannot connect (clients get 503 "
			 "busy)",
			 user);
		say(d, 0, "socket", text,
		    "server.socket_group = a group of nginx's user (www-data) "
		    "and server.socket_mode = 0660, then restart checkoutd");
		return;
	}
	snprintf(dir, sizeof(dir), "%s", listen);
	while ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (stat(dir, &st) == 0 &&
		    !allowed(&st, pw->pw_uid, gids, n, 1)) {
			snprintf(text + strlen(text),
				 sizeof(text) - strlen(text),
				 "nginx's user %s cannot enter %s", user, dir);
			say(d, 0, "socket", text,
			    "chmod o+x (or the group's x) on that directory, "
			    "or put the socket under /run/checkoutd/");
			return;
		}
	}
	snprintf(text + strlen(text), sizeof(text) - strlen(text),
		 "nginx's user %s can connect", user);
	say(d, 1, "socket", text, NULL);
}

/* Each configured provider URL answers HTTP (any status). */
static void
check_providers(struct doctor *d)
{
	static const char *const keys[] = {"payment.stripe_url", "carrier.url",
					   "outbox.url",
					   "seed003.checkout_service_url"};
	struct outbound_resp r = {0};
	CURL *curl = curl_easy_init();
	char text[600];
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *url = config_str(keys[i]);
		enum err e;

		if (*url == '\0')
			continue;
		e = outbound_send(curl, "GET", url, NULL, NULL, 5, &r);
		if (e == ERR_OK)
			snprintf(text, sizeof(text), "%s answers (HTTP %ld)",
				 url, r.status);
		else
			snprintf(text, sizeof(text), "%s: %s", url,
				 e == ERR_PROVIDER_TIMEOUT ? "no answer in 5 s"
							   : "unreachable");
		say(d, e == ERR_OK, keys[i], text,
		    e == ERR_OK ? NULL
				: "check the URL, DNS and the firewall's "
				  "outbound rules");
	}
	buf_free(&r.body);
	curl_easy_cleanup(curl);
}

/* Secrets whose absence breaks something, and what it breaks. */
static void
check_secrets(struct doctor *d)
{
	static const struct {
		const char *key, *when, *breaks;
	} secrets[] = {
	    {"payment.stripe_secret_key", "payment.stripe_url",
	     "card payments are refused"},
	    {"webhook.stripe_secret", "payment.stripe_url",
	     "the provider's webhooks are refused (401)"},
	    {"admin.token", NULL, "the admin API answers 401 to everyone"},
	    {"outbox.secret", "outbox.url", "events cannot be signed"},
	    {"carrier.token", "carrier.url", "carrier quotes are refused"},
	};
	char text[256], fix[256];
	size_t i;

	for (i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
		int set = *config_str(secrets[i].key) != '\0';

		if (secrets[i].when != NULL &&
		    *config_str(secrets[i].when) == '\0')
			continue;
		if (set)
			snprintf(text, sizeof(text), "set");
		else
			snprintf(text, sizeof(text), "empty: %s",
				 secrets[i].breaks);
		snprintf(fix, sizeof(fix),
			 "set %s in the configuration file (mode 0640) or "
			 "its environment variable",
			 secrets[i].key);
		say(d, set, secrets[i].key, text, set ? NULL : fix);
	}
}

int
doctor_run(struct doctor *d, const char *config_path, struct db *db)
{
	check_config(d, config_path);
	check_secrets(d);
	check_database(d, db);
	check_socket(d);
	check_providers(d);
	fprintf(d->out, "%d problem%s found\n", d->failed,
		d->failed == 1 ? "" : "s");
	return d->failed == 0 ? 0 : 1;
}
