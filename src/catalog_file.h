/*
 * The catalog as a file (docs/catalog.md): tax categories, zones, tax
 * rates, products with their variants, prices and stock, shipping and
 * payment methods, promotions and their coupons. A file (JSON; CSV for
 * products and variants alone) is read and checked whole before the
 * database is touched, then imported in one transaction, each row found
 * by its code and written only when it differs, so a second import
 * changes nothing. Export writes the rows back in the one canonical form
 * that the writer here gives any parsed file, so export, import and
 * export again give the same bytes.
 */
#ifndef CHECKOUTD_CATALOG_FILE_H
#define CHECKOUTD_CATALOG_FILE_H

#include <stddef.h>

#include "db.h"
#include "err.h"
#include "str.h"

/* A parsed, checked catalog file, every default filled in. */
struct catalog_file;

/* What an import did, in rows named by the file. */
struct catalog_counts {
	long inserted;
	long updated;
	long unchanged;
};

/*
 * Parses text[0..len) as a catalog file, JSON or (csv set) CSV of
 * products and variants, and checks every field. On success *out is the
 * caller's (catalog_file_free). ERR_VALIDATION_FAILED with why set to
 * "path: message" (JSON: "products[3].variants[0].price: must be an
 * integer") or "line N: column: message" (CSV, and JSON syntax errors);
 * ERR_NOMEM.
 */
enum err catalog_file_parse(const char *text, size_t len, int csv,
			    struct catalog_file **out, char *why,
			    size_t whylen);
/* Releases a parsed file (NULL is fine). */
void catalog_file_free(struct catalog_file *cf);

/*
 * Appends cf in the canonical form (docs/catalog.md): the sections and
 * each row's keys in a fixed order, rows in the file's order, two-space
 * indent, a newline at the end. ERR_NOMEM.
 */
enum err catalog_file_write(const struct catalog_file *cf, struct buf *out);

/*
 * Appends cf's products and variants as CSV, the shape the CSV reader
 * takes (docs/catalog.md): the full header, then a line per variant in
 * the file's order, its product's columns repeated, null as an empty
 * cell. A product without variants has no line: *left_out counts them.
 * The other sections are not in it. ERR_NOMEM.
 */
enum err catalog_file_write_csv(const struct catalog_file *cf, struct buf *out,
				size_t *left_out);

/*
 * Imports cf in one transaction (db_tx): all of it or, on any error,
 * nothing. *n gets the counts. ERR_VALIDATION_FAILED with why naming the
 * path or line (an unknown reference, a stock adjustment below zero, a
 * uuid that is not the row's); the database's errors otherwise (why then
 * names the row).
 */
enum err catalog_file_import(struct db *db, const struct catalog_file *cf,
			     struct catalog_counts *n, char *why,
			     size_t whylen);
/* The same inside the caller's db_tx (the demo store loads its accounts
 * in the same transaction). */
enum err catalog_file_apply(struct db *db, const struct catalog_file *cf,
			    struct catalog_counts *n, char *why, size_t whylen);

/*
 * Reads the database's catalog into *out (the caller's: catalog_file_free)
 * in the canonical order: each list by id, so an export imported into an
 * empty database gives each top-level row its id again.
 */
enum err catalog_file_export(struct db *db, struct catalog_file **out);

#endif
