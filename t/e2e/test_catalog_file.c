/*
 * End-to-end: `checkoutctl catalog import` and `export` (docs/catalog.md)
 * against the stack's MariaDB, in databases of their own (the stack's root
 * user over its socket), so the service's store is not touched: the demo
 * file into an empty database and back out byte for byte; a second import
 * changes no row; a file with a bad row changes nothing and names it; a
 * changed price updates; CSV; export, import elsewhere, export again;
 * the CSV export imported back changes no row.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "client.h"

#define DB  "catalogtest"
#define DB2 "catalogtest2"

#define CTL(db)                                                                \
	"CHECKOUTD_DATABASE_SOCKET=\"$STACK_DIR/run/mysql.sock\" "             \
	"CHECKOUTD_DATABASE_USER=root CHECKOUTD_DATABASE_PASSWORD= "           \
	"CHECKOUTD_DATABASE_NAME=" db " \"$(dirname \"$CHECKOUTD_BIN\")/"      \
	"checkoutctl\" "
#define SQL                                                                    \
	"mariadb --no-defaults -uroot --socket=\"$STACK_DIR/run/mysql.sock\" " \
	"-N "

/* Every table a catalog import writes, and the pricing rules' version. */
#define CHECKSUM                                                               \
	SQL "-e 'CHECKSUM TABLE tax_categories, zones, zone_countries, "       \
	    "tax_rates, products, product_variants, variant_stock, "           \
	    "shipping_methods, payment_methods, promotions, "                  \
	    "promotion_coupons, rules_version' "

/* Runs cmd (through sh, its stderr with its stdout) into out; returns its
 * exit status. */
static int
run(const char *cmd, struct buf *out)
{
	char chunk[4096], full[4096];
	size_t n;
	FILE *p;
	int rc;

	buf_reset(out);
	snprintf(full, sizeof(full), "(%s) 2>&1", cmd);
	p = popen(full, "r");
	assert_non_null(p);
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		buf_append(out, chunk, n);
	rc = pclose(p);
	if (out->data == NULL)
		buf_puts(out, "");
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void
must(const char *cmd)
{
	struct buf out = {0};

	if (run(cmd, &out) != 0)
		fail_msg("%s: %s", cmd, out.data);
	buf_free(&out);
}

/* Writes text to $STACK_DIR/name. */
static void
put_file(const char *name, const char *text)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", getenv("STACK_DIR"), name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static const char *
srcdir(void)
{
	const char *top = getenv("top_srcdir");

	return top != NULL && top[0] != '\0' ? top : ".";
}

/* A migrated database with the demo's accounts and providers (the
 * catalog's products name them) and no catalog. */
static void
empty_database(const char *db)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd),
		 SQL "-e 'DROP DATABASE IF EXISTS %s; CREATE DATABASE %s'", db,
		 db);
	must(cmd);
	snprintf(cmd, sizeof(cmd),
		 "CHECKOUTD_DATABASE_SOCKET=\"$STACK_DIR/run/mysql.sock\" "
		 "CHECKOUTD_DATABASE_USER=root CHECKOUTD_DATABASE_PASSWORD= "
		 "CHECKOUTD_DATABASE_NAME=%s \"$(dirname "
		 "\"$CHECKOUTD_BIN\")/checkoutctl\" migrate >/dev/null",
		 db);
	must(cmd);
	snprintf(cmd, sizeof(cmd), SQL "%s < '%s/conf/demo-accounts.sql'", db,
		 srcdir());
	must(cmd);
}

static void
checksum(struct buf *out)
{
	assert_int_equal(run(CHECKSUM DB, out), 0);
}

static int
setup(void **state)
{
	char cmd[1024];
	struct buf out = {0};

	(void)state;
	empty_database(DB);
	snprintf(cmd, sizeof(cmd),
		 CTL(DB) "catalog import '%s/conf/demo-store.json'", srcdir());
	if (run(cmd, &out) != 0)
		fail_msg("%s", out.data);
	/* 2 + 2 + 3 + 9 products + 69 variants + 5 + 2 + 2 + 1 coupon. */
	if (strstr(out.data, "catalog imported: 95 inserted, 0 updated, 0 "
			     "unchanged") == NULL)
		fail_msg("%s", out.data);
	buf_free(&out);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	must(SQL "-e 'DROP DATABASE IF EXISTS " DB
		 "; DROP DATABASE IF EXISTS " DB2 "'");
	return 0;
}

/* The demo file went into an empty database with the ids the demo
 * store's tests rely on, and comes back out byte for byte. */
static void
test_demo_file_imports_and_exports_the_same_bytes(void **state)
{
	char cmd[1024];
	struct buf out = {0};

	(void)state;
	assert_int_equal(
	    run(SQL DB " -e 'SELECT v.id, p.id, v.price, s.on_hand FROM "
		       "product_variants v JOIN products p ON p.id = "
		       "v.product_id JOIN variant_stock s ON s.variant_id = "
		       "v.id WHERE v.code IN (\"lamp\", \"seat-a60\") ORDER BY "
		       "v.id'",
		&out),
	    0);
	assert_string_equal(out.data, "4\t3\t8900\t1\n69\t9\t5000\t1\n");
	assert_int_equal(run(SQL DB " -e 'SELECT p.id, v.id FROM products p "
				    "JOIN providers v ON v.id = "
				    "p.provider_id ORDER BY p.id; SELECT id "
				    "FROM shipping_methods WHERE code = "
				    "\"carrier_eu\"'",
			     &out),
			 0);
	assert_string_equal(out.data, "7\t1\n8\t2\n5\n");
	snprintf(cmd, sizeof(cmd),
		 CTL(DB) "catalog export > \"$STACK_DIR/export.json\" && cmp "
			 "\"$STACK_DIR/export.json\" '%s/conf/demo-store.json'",
		 srcdir());
	if (run(cmd, &out) != 0)
		fail_msg("%s", out.data);
	buf_free(&out);
}

/* A second import of the same file writes nothing: every catalog table
 * (and the pricing rules' version, which any write would move) keeps its
 * checksum. */
static void
test_second_import_changes_no_row(void **state)
{
	struct buf before = {0}, after = {0}, out = {0};
	char cmd[1024];

	(void)state;
	checksum(&before);
	snprintf(cmd, sizeof(cmd),
		 CTL(DB) "catalog import '%s/conf/demo-store.json'", srcdir());
	assert_int_equal(run(cmd, &out), 0);
	if (strstr(out.data, "catalog imported: 0 inserted, 0 updated, 95 "
			     "unchanged") == NULL)
		fail_msg("%s", out.data);
	checksum(&after);
	assert_string_equal(before.data, after.data);
	buf_free(&before);
	buf_free(&after);
	buf_free(&out);
}

/* A file whose second product refers to a tax category nobody has: the
 * first product's new price, written before the error was met, is rolled
 * back with everything else; the message names the row and field. The
 * same for a CSV file's bad line, refused before the database is asked. */
static void
test_bad_row_changes_nothing_and_names_it(void **state)
{
	struct buf before = {0}, after = {0}, out = {0};

	(void)state;
	checksum(&before);
	put_file(
	    "bad.json",
	    "{\"products\": [\n"
	    "  {\"code\": \"tshirt\", \"name\": \"T-Shirt\", \"variants\": "
	    "[{\"code\": \"tshirt-m\", \"name\": \"T-Shirt M\", \"price\": "
	    "1, \"taxCategory\": \"standard\"}]},\n"
	    "  {\"code\": \"new\", \"name\": \"New\", \"variants\": "
	    "[{\"code\": \"new\", \"name\": \"New\", \"price\": 1, "
	    "\"taxCategory\": \"reduced\"}]}\n"
	    "]}\n");
	assert_int_equal(
	    run(CTL(DB) "catalog import \"$STACK_DIR/bad.json\"", &out), 2);
	if (strstr(out.data, "bad.json: products[1].variants[0].taxCategory: "
			     "no tax category \"reduced\"") == NULL)
		fail_msg("%s", out.data);
	checksum(&after);
	assert_string_equal(before.data, after.data);
	/* A stock adjustment below zero, met in the database. */
	put_file("below.json", "{\"products\": [{\"code\": \"lamp\", \"name\": "
			       "\"Lamp (last one)\", \"variants\": [{\"code\": "
			       "\"lamp\", \"name\": \"Lamp\", \"price\": "
			       "8900, \"taxCategory\": \"standard\", "
			       "\"stockAdjust\": -2}]}]}\n");
	assert_int_equal(
	    run(CTL(DB) "catalog import \"$STACK_DIR/below.json\"", &out), 2);
	if (strstr(out.data, "products[0].variants[0].stockAdjust: would "
			     "leave fewer than 0 units on hand") == NULL)
		fail_msg("%s", out.data);
	put_file("bad.csv", "product,productName,code,name,price\n"
			    "tshirt,T-Shirt,tshirt-m,T-Shirt M,1\n"
			    "mug,Mug,mug,Mug,8.00\n");
	assert_int_equal(
	    run(CTL(DB) "catalog import \"$STACK_DIR/bad.csv\"", &out), 2);
	if (strstr(out.data, "bad.csv: line 3: price: must be an integer") ==
	    NULL)
		fail_msg("%s", out.data);
	checksum(&after);
	assert_string_equal(before.data, after.data);
	buf_free(&before);
	buf_free(&after);
	buf_free(&out);
}

/* A changed price updates the variant (and only it); stock is set or
 * adjusted; CSV adds products; the result exports, imports into another
 * empty database and exports again to the same bytes. */
static void
test_changes_update_and_round_trip(void **state)
{
	struct buf out = {0}, first = {0}, second = {0};

	(void)state;
	put_file(
	    "price.json",
	    "{\"products\": [{\"code\": \"tshirt\", \"name\": \"T-Shirt\", "
	    "\"variants\": [{\"code\": \"tshirt-m\", \"name\": \"T-Shirt "
	    "M\", \"price\": 2199, \"taxCategory\": \"standard\", "
	    "\"weightG\": 200, \"position\": 1, \"stockAdjust\": -5}]}]}\n");
	assert_int_equal(
	    run(CTL(DB) "catalog import \"$STACK_DIR/price.json\"", &out), 0);
	if (strstr(out.data, "0 inserted, 1 updated, 1 unchanged") == NULL)
		fail_msg("%s", out.data);
	put_file("shop.csv",
		 "product,productName,code,name,price,taxCategory,stock,"
		 "needsShipping\n"
		 "mug,Mug,mug-blue,\"Mug, blue\",800,standard,12,true\n"
		 "mug,Mug,mug-red,\"Mug, red\",850,,3,true\n"
		 "lamp,Lamp (last one),lamp,Lamp,8900,standard,7,true\n");
	assert_int_equal(
	    run(CTL(DB) "catalog import \"$STACK_DIR/shop.csv\"", &out), 0);
	/* The lamp's row moved: its stock (1 -> 7) and its weight and
	 * position (absent in the CSV: their defaults, 0). */
	if (strstr(out.data, "3 inserted, 1 updated, 1 unchanged") == NULL)
		fail_msg("%s", out.data);
	assert_int_equal(
	    run(SQL DB
		" -e 'SELECT v.code, v.price, COALESCE(c.code, \"-\"), "
		"s.on_hand FROM product_variants v LEFT JOIN "
		"tax_categories c ON c.id = v.tax_category_id JOIN "
		"variant_stock s ON s.variant_id = v.id WHERE v.code IN "
		"(\"tshirt-m\", \"tshirt-l\", \"mug-blue\", \"mug-red\", "
		"\"lamp\") ORDER BY v.id'",
		&out),
	    0);
	assert_string_equal(out.data, "tshirt-m\t2199\tstandard\t999995\n"
				      "tshirt-l\t1999\tstandard\t1000000\n"
				      "lamp\t8900\tstandard\t7\n"
				      "mug-blue\t800\tstandard\t12\n"
				      "mug-red\t850\t-\t3\n");
	/* Export, import into another empty database, export again. */
	assert_int_equal(run(CTL(DB) "catalog export", &first), 0);
	assert_non_null(strstr(first.data, "\"price\": 2199,"));
	put_file("first.json", first.data);
	empty_database(DB2);
	assert_int_equal(
	    run(CTL(DB2) "catalog import \"$STACK_DIR/first.json\"", &out), 0);
	assert_int_equal(run(CTL(DB2) "catalog export", &second), 0);
	assert_string_equal(first.data, second.data);
	buf_free(&out);
	buf_free(&first);
	buf_free(&second);
}

/* catalog export --csv: a product without variants left out and said
 * on stderr; the CSV imported back into the same database changes no
 * row (CHECKSUM TABLE) and exports again to the same bytes. */
static void
test_csv_export_imports_back_changing_nothing(void **state)
{
	struct buf before = {0}, after = {0}, out = {0}, first = {0},
		   second = {0};

	(void)state;
	put_file("extra.json",
		 "{\"products\": [{\"code\": \"soon\", \"name\": \"Coming "
		 "soon\", \"enabled\": false}, {\"code\": \"print\", "
		 "\"name\": \"Print \\\"Harbour, dawn\\\"\", \"variants\": "
		 "[{\"code\": \"print-a3\", \"name\": \"Print A3\", "
		 "\"price\": 3500, \"stock\": 4, \"tracked\": false}]}]}\n");
	assert_int_equal(
	    run(CTL(DB) "catalog import \"$STACK_DIR/extra.json\"", &out), 0);
	assert_int_equal(run(CTL(DB) "catalog export --csv 2>\"$STACK_DIR/"
				     "csv.err\" >\"$STACK_DIR/export.csv\" "
				     "&& cat \"$STACK_DIR/csv.err\"",
			     &out),
			 0);
	if (strstr(out.data, "catalog export: 1 product(s) without variants "
			     "left out") == NULL)
		fail_msg("stderr: %s", out.data);
	assert_int_equal(
	    run("head -n 1 \"$STACK_DIR/export.csv\"; grep "
		"'^print,' \"$STACK_DIR/export.csv\" | cut -d, "
		"-f3-4; grep -c '^soon,' \"$STACK_DIR/export.csv\"",
		&out),
	    1);
	assert_string_equal(
	    out.data,
	    "product,productUuid,productName,productEnabled,productProvider,"
	    "code,uuid,name,price,taxCategory,tracked,stock,stockAdjust,"
	    "needsShipping,weightG,enabled,position\n"
	    "\"Print \"\"Harbour, dawn\"\"\"\n"
	    "0\n");
	checksum(&before);
	assert_int_equal(
	    run(CTL(DB) "catalog import \"$STACK_DIR/export.csv\"", &out), 0);
	if (strstr(out.data, "catalog imported: 0 inserted, 0 updated, ") ==
	    NULL)
		fail_msg("%s", out.data);
	checksum(&after);
	assert_string_equal(before.data, after.data);
	assert_int_equal(run("cat \"$STACK_DIR/export.csv\"", &first), 0);
	assert_int_equal(
	    run(CTL(DB) "catalog export --csv 2>/dev/null", &second), 0);
	assert_string_equal(first.data, second.data);
	buf_free(&before);
	buf_free(&after);
	buf_free(&out);
	buf_free(&first);
	buf_free(&second);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_demo_file_imports_and_exports_the_same_bytes),
	    cmocka_unit_test(test_second_import_changes_no_row),
	    cmocka_unit_test(test_bad_row_changes_nothing_and_names_it),
	    cmocka_unit_test(test_changes_update_and_round_trip),
	    cmocka_unit_test(test_csv_export_imports_back_changing_nothing),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
