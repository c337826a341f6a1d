/*
 * The canonical API (seed 004, SPEC 2): decode, call the core, answer.
 */
#include "api/api.h"

#include "catalog.h"
#include "valid.h"

enum err
api_products_list(struct request *req)
{
	struct json_object *q, *out;
	struct verr v = {0};
	int64_t page, limit;
	enum err e;

	e = req_query(req, &q);
	if (e != ERR_OK)
		return e;
	valid_int(q, "page", "page", 1, 1000000, 1, &page, &v);
	valid_int(q, "limit", "limit", 1, 200, 50, &limit, &v);
	if (verr_answer(req, &v))
		return ERR_OK;
	e = catalog_list(req->db, page, limit, &out);
	if (e != ERR_OK)
		return e;
	res_json(req, 200, out);
	return ERR_OK;
}

enum err
api_product_get(struct request *req)
{
	struct json_object *out;
	enum err e;

	e = catalog_get(req->db, req_param(req, "id"), &out);
	if (e != ERR_OK)
		return e;
	res_json(req, 200, out);
	return ERR_OK;
}
