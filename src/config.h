/*
 * Configuration: an INI file whose every key `section.key` is overridden by
 * the environment variable CHECKOUTD_SECTION_KEY, then by command-line
 * flags. Every key the service knows is in one table (config.c) with its
 * default; an unknown key in the file is an error, so typos do not pass
 * silently. Loaded once at startup, read-only afterwards (thread-safe).
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
/* Environment variable name of key into out; -1 when it does not fit. */
int config_env_name(const char *key, char *out, size_t outlen);
/* Frees what config_load allocated. */
void config_free(void);

#endif
