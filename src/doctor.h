/*
 * checkoutctl doctor: what keeps a deployed checkoutd from working, each
 * finding on one line with its fix. The configuration file found, the
 * secrets a configured feature needs, the database (reachable, the
 * password, the migrations), the socket (can nginx's user connect?) and
 * the providers' URLs (do they answer?). Every guide says to run it
 * first.
 */
#ifndef CHECKOUTD_DOCTOR_H
#define CHECKOUTD_DOCTOR_H

#include <stdio.h>

#include "db.h"

struct doctor {
	FILE *out;
	int failed; /* Findings that are problems. */
};

/* Runs every check with config_path (the file loaded, or NULL) on db;
 * returns 0 when none failed, else 1. */
int doctor_run(struct doctor *d, const char *config_path, struct db *db);

#endif
