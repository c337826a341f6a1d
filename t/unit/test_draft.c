/* Seed 002's drafts: who a caller is (draft_caller_init). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "draft.h"

#define ABC_SHA256                                                             \
	"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static void
test_caller(void **state)
{
	static char long_id[257];
	static const struct {
		const char *user, *guest;
		enum err want;
		const char *key;
		int has_user, has_guest;
	} rows[] = {
	    /* A user id wins over a guest token. */
	    {"42", "abc", ERR_OK, "u:42", 1, 1},
	    {"42", NULL, ERR_OK, "u:42", 1, 0},
	    /* A guest token is kept only as its SHA-256. */
	    {NULL, "abc", ERR_OK, "g:" ABC_SHA256, 0, 1},
	    /* Empty is none. */
	    {"", "abc", ERR_OK, "g:" ABC_SHA256, 0, 1},
	    {"", "", ERR_UNAUTHENTICATED, "", 0, 0},
	    {NULL, NULL, ERR_UNAUTHENTICATED, "", 0, 0},
	    /* A user id past 255 bytes names nobody: the token is used. */
	    {long_id, "abc", ERR_OK, "g:" ABC_SHA256, 1, 1},
	    {long_id, NULL, ERR_UNAUTHENTICATED, "", 1, 0},
	    {NULL, long_id, ERR_UNAUTHENTICATED, "", 0, 1},
	};
	struct draft_caller c;
	size_t i;

	(void)state;
	memset(long_id, 'x', 256);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *user = rows[i].user, *guest = rows[i].guest;

		assert_int_equal(draft_caller_init(&c, user, guest),
				 rows[i].want);
		if (rows[i].want == ERR_OK)
			assert_string_equal(c.key, rows[i].key);
		assert_int_equal(c.user != NULL, rows[i].has_user);
		assert_int_equal(c.guest != NULL, rows[i].has_guest);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_caller),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
