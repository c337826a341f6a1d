/*
 * What the request-level fuzz targets share: one request from text (CGI
 * params as NAME=value lines, an empty line, the body) through
 * http_handle, and the checks every answer must pass.
 */
#ifndef CHECKOUTD_FUZZ_H
#define CHECKOUTD_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "http.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Logs to /dev/null, loads the configuration (path, or NULL for the
 * defaults and CHECKOUTD_* variables) and the libraries; req gets a
 * database handle (connected on first use) and a curl handle. */
void fuzz_init(const char *config_path, struct request *req);

/*
 * Runs the request in text (size bytes) on req and checks the answer: a
 * status from 200 to 599, never 500 (bad input gets a 4xx; a bug gets a
 * 500), another 5xx only when dependency_5xx is set, a JSON body that
 * parses, and the totals of SPEC 1 in every snapshot in it (total =
 * items_total + adjustments_total, never below 0; items' totals, tax and
 * promotion totals as the sums of their adjustments). Aborts (the fuzzer's
 * crash) when one fails. Returns the answer's JSON body, parsed (the
 * caller puts it), or NULL when it has none. FUZZ_VERBOSE in the environment
 * prints each answer's start.
 */
struct json_object *fuzz_request(struct request *req, const char *text,
				 size_t size, int dependency_5xx);

#endif
