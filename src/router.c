#include "router.h"

#include <stdio.h>
#include <string.h>

const char *const method_names[M__MAX] = {
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "OTHER",
};

enum method
method_parse(const char *s)
{
	int i;

	if (s == NULL)
		return M_OTHER;
	for (i = 0; i < M_OTHER; i++)
		if (strcmp(s, method_names[i]) == 0)
			return (enum method)i;
	return M_OTHER;
}

/* Matches one pattern; fills captures into m when it matches. */
static int
match_pattern(const char *pat, const char *path, struct route_match *m)
{
	size_t np = 0;

	while (*pat != '\0' && *path != '\0') {
		if (*pat == '{') {
			const char *close = strchr(pat, '}');
			size_t nlen, vlen = strcspn(path, "/");

			if (close == NULL || vlen == 0 ||
			    vlen >= ROUTE_PARAM_LEN || np >= ROUTE_MAX_PARAMS)
				return 0;
			nlen = (size_t)(close - pat - 1);
			if (nlen >= sizeof(m->params[0].name))
				return 0;
			memcpy(m->params[np].name, pat + 1, nlen);
			m->params[np].name[nlen] = '\0';
			memcpy(m->params[np].value, path, vlen);
			m->params[np].value[vlen] = '\0';
			np++;
			pat = close + 1;
			path += vlen;
			continue;
		}
		if (*pat != *path)
			return 0;
		pat++;
		path++;
	}
	if (*pat != '\0' || *path != '\0')
		return 0;
	m->nparams = np;
	return 1;
}

enum route_result
router_match(const struct route *table, size_t n, enum method method,
	     const char *path, struct route_match *m)
{
	struct route_match tmp;
	/* HEAD is answered by the GET handler, without the body. */
	enum method want = method == M_HEAD ? M_GET : method;
	size_t i;

	memset(m, 0, sizeof(*m));
	for (i = 0; i < n; i++) {
		if (!match_pattern(table[i].pattern, path, &tmp))
			continue;
		m->allow |= 1u << table[i].method;
		if (table[i].method == M_GET)
			m->allow |= 1u << M_HEAD;
		if (table[i].method == want && m->route == NULL) {
			unsigned allow = m->allow;

			*m = tmp;
			m->route = &table[i];
			m->allow = allow;
		}
	}
	if (m->route != NULL)
		return ROUTE_FOUND;
	if (m->allow != 0) {
		m->allow |= 1u << M_OPTIONS;
		return ROUTE_METHOD_NOT_ALLOWED;
	}
	return ROUTE_NOT_FOUND;
}

void
router_allow_header(unsigned mask, char *out, size_t outlen)
{
	size_t len = 0;
	int i;

	out[0] = '\0';
	for (i = 0; i < M_OTHER; i++) {
		int w;

		if (!(mask & (1u << i)))
			continue;
		w = snprintf(out + len, outlen - len, "%s%s", len ? ", " : "",
			     method_names[i]);
		if (w < 0 || (size_t)w >= outlen - len)
			return;
		len += (size_t)w;
	}
}
