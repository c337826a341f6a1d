/*
 * Configuration: an INI file whose every key `section.key` is overridden by
 * the environment variable CHECKOUTD_SECTION_KEY, then by command-line
 * flags. Every key the service knows is in one table (config.c) with its
 * default; an unknown key in the file is an error, so typos do not pass
 * silently. Loaded at startup; afterwards only config_reload (SIGHUP)
 * changes values, and only of the keys marked reloadable in config.c's
 * table (docs/operating.md lists them). Reading is thread-safe.
 */
#ifndef CHECKOUTD_CONFIG_H
#define CHECKOUTD_CONFIG_H

#include <stddef.h>
#include <stdio.h>

/*
 * Resets to defaults, reads path (NULL: no file) and applies environment
 * overrides. Returns 0, or -1 with a message in err.
 */
int config_load(const char *path, char *err, size_t errlen);
/*
 * The configuration file to read: flag (--config) when given, else
 * $CHECKOUTD_CONFIG, else checkoutd.conf beside the running binary
 * (shared hosting, where neither can be set under mod_fcgid), else
 * SYSCONFDIR/checkoutd.conf; NULL when none of the last two is readable.
 * The result stays valid until exit.
 */
const char *config_find(const char *flag);
/* What config_reload found changed: key took its new value (applied 1),
 * or it needs a restart to change (applied 0). */
typedef void config_note_fn(const char *key, int applied);
/*
 * Reads path and the environment again (SIGHUP, main thread only) and
 * applies the changed values of reloadable keys; note is called for each
 * key whose value changed, applied or not. Keys set by config_set stay.
 * Returns 0, or -1 with a message in err (a file that does not load
 * changes nothing).
 */
int config_reload(const char *path, config_note_fn *note, char *err,
		  size_t errlen);
/* Sets key to value (command-line flags). Returns -1 for an unknown key. */
int config_set(const char *key, const char *value);
/* The value of key ("section.key"); never NULL for a known key. */
const char *config_str(const char *key);
/* The value of an integer key. */
long long config_int(const char *key);
/* Writes every key and value, secrets masked, as INI to f. */
void config_dump(FILE *f);
/* Number of known keys, and the name of the i-th (for tests and docs). */
size_t config_count(void);
const char *config_name(size_t i);
/* Whether the i-th key may change on SIGHUP (config_reload). */
int config_reloadable(size_t i);
/* Environment variable name of key into out; -1 when it does not fit. */
int config_env_name(const char *key, char *out, size_t outlen);
/* Frees what config_load allocated. */
void config_free(void);

#endif
