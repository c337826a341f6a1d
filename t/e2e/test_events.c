/*
 * Outbound events end to end (SPEC 2.10): checkoutd's deliverer POSTs the
 * outbox to t/fake-receiver.py, signed, in order per order, retrying with
 * outbox.backoff (1 s in the test stack, t/run-tests).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"

#define VISA_FORM                                                              \
	"number=4242424242424242&expiryMonth=12&expiryYear=2030&"              \
	"securityCode=123"

static struct json_object *
receiver(const char *method, const char *path, const char *body)
{
	return other_json("RECEIVER_URL", method, path, body);
}

/* The deliveries of order id, in arrival order (the caller puts). */
static struct json_object *
deliveries_of(long id)
{
	struct json_object *all = receiver("GET", "/_deliveries", NULL);
	struct json_object *list = json_object_object_get(all, "deliveries");
	struct json_object *mine = json_object_new_array();
	size_t i;

	for (i = 0; i < json_object_array_length(list); i++) {
		struct json_object *d = json_object_array_get_idx(list, i);
		struct json_object *oid = json_object_object_get(d, "order_id");

		if (json_object_get_int64(oid) == id)
			json_object_array_add(mine, json_object_get(d));
	}
	json_object_put(all);
	return mine;
}

/* Waits until order id has n accepted (200) deliveries. */
static struct json_object *
wait_delivered(long id, int n, int seconds)
{
	struct json_object *d = NULL;
	int i, ok;
	size_t j;

	for (i = 0; i < seconds * 10; i++) {
		json_object_put(d);
		d = deliveries_of(id);
		for (ok = 0, j = 0; j < json_object_array_length(d); j++)
			if (num(json_object_array_get_idx(d, j), "status") ==
			    200)
				ok++;
		if (ok >= n)
			return d;
		usleep(100 * 1000);
	}
	fail_msg("order %ld: fewer than %d events delivered in %d s", id, n,
		 seconds);
	return d;
}

/* The deliverer records an answer just after the receiver sent it: waits
 * until no event of order id is left undelivered. */
static void
all_recorded(long id)
{
	int i;

	for (i = 0; i < 20 && sql("SELECT COUNT(*) FROM outbox_events WHERE "
				  "order_id = %ld AND delivered_at IS NULL",
				  id) > 0;
	     i++)
		usleep(100 * 1000);
}

static void
paid_order(struct cart *c)
{
	new_cart(c);
	json_object_put(call(c, "POST", sub(c, "/items"), FORM,
			     "variant=tshirt-l&quantity=2", 201));
	put(c, FORM, ADDRESS_FORM, 200);
	put(c, FORM, "shipments[0][method]=flat_eu", 200);
	put(c, FORM, "payments[0][method]=stripe", 200);
	put(c, NULL, NULL, 200);
	put(c, FORM, VISA_FORM, 200);
}

static const char *
at(struct json_object *list, size_t i, const char *key)
{
	return text(json_object_array_get_idx(list, i), key);
}

static void
test_completed_then_paid_signed(void **state)
{
	struct cart c;
	struct json_object *d, *body, *obj;
	size_t i;

	(void)state;
	json_object_put(receiver("POST", "/_reset", "{}"));
	paid_order(&c);
	d = wait_delivered(c.id, 2, 10);
	assert_int_equal(json_object_array_length(d), 2);
	assert_string_equal(at(d, 0, "type"), "order.completed");
	assert_string_equal(at(d, 1, "type"), "order.paid");
	for (i = 0; i < 2; i++) {
		struct json_object *e = json_object_array_get_idx(d, i);

		assert_true(json_object_get_boolean(
		    json_object_object_get(e, "signature_ok")));
		body = json_tokener_parse(text(e, "body"));
		assert_non_null(body);
		/* The envelope of SPEC 2.10, its id the header's. */
		assert_string_equal(text(body, "id"), text(e, "event_id"));
		assert_int_equal(strncmp(text(body, "id"), "evt_", 4), 0);
		assert_true(num(body, "created") > 0);
		obj = json_object_object_get(
		    json_object_object_get(body, "data"), "object");
		assert_int_equal(num(obj, "id"), c.id);
		assert_null(json_object_object_get(obj, "token"));
		json_object_put(body);
	}
	/* The ids are the outbox rows' uuids. */
	all_recorded(c.id);
	assert_int_equal(sql("SELECT COUNT(*) FROM outbox_events WHERE "
			     "order_id = %ld AND delivered_at IS NOT NULL AND "
			     "CONCAT('evt_', uuid) IN ('%s', '%s')",
			     c.id, at(d, 0, "event_id"), at(d, 1, "event_id")),
			 2);
	json_object_put(d);
}

/* The receiver fails the first three attempts: the event comes later,
 * with the same id; the order's next event waits behind it. */
static void
test_receiver_down_then_delivered(void **state)
{
	struct cart c;
	struct json_object *d;
	size_t i, n;
	int completed_ok_at = -1, paid_first_at = -1;

	(void)state;
	json_object_put(receiver("POST", "/_reset", "{}"));
	json_object_put(receiver("POST", "/_control", "{\"fail\": 3}"));
	paid_order(&c);
	d = wait_delivered(c.id, 2, 20);
	n = json_object_array_length(d);
	assert_int_equal(n, 5);
	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(d, i);

		if (strcmp(text(e, "type"), "order.completed") == 0) {
			/* Every attempt of it carries one id. */
			assert_string_equal(text(e, "event_id"),
					    at(d, 0, "event_id"));
			if (num(e, "status") == 200)
				completed_ok_at = (int)i;
			else
				assert_int_equal(num(e, "status"), 500);
		} else if (paid_first_at < 0) {
			paid_first_at = (int)i;
		}
	}
	assert_int_equal(completed_ok_at, 3);
	assert_int_equal(paid_first_at, 4);
	json_object_put(d);
	all_recorded(c.id);
	assert_int_equal(sql("SELECT COUNT(*) FROM outbox_events WHERE "
			     "order_id = %ld AND delivered_at IS NULL",
			     c.id),
			 0);
	assert_int_equal(sql("SELECT attempts FROM outbox_events WHERE "
			     "order_id = %ld AND type = 'order.completed'",
			     c.id),
			 4);
}

/* checkoutctl deliver (cron, CGI mode) beside the running deliverer:
 * nothing is due twice, and it exits 0. */
static void
test_checkoutctl_deliver(void **state)
{
	char cmd[512];

	(void)state;
	snprintf(cmd, sizeof(cmd),
		 "\"$(dirname \"$CHECKOUTD_BIN\")/checkoutctl\" --config "
		 "\"$STACK_DIR/checkoutd.conf\" deliver >/dev/null");
	assert_int_equal(system(cmd), 0);
}

/*
 * Deliverers racing for the same events: 120 due at once (no order, so
 * none waits for another's), taken by checkoutd's own deliverer and
 * three checkoutctl deliver beside it. Each event reaches the receiver
 * once: a claim is a conditional UPDATE of the rows still free, with a
 * tag of its own, trusted after its COMMIT, and an event's outcome is
 * recorded only under that tag.
 */
static void
test_deliverers_share_without_doubles(void **state)
{
	struct json_object *all, *list;
	char cmd[1024];
	size_t i, n;
	int seen = 0, doubles = 0;
	char *counted;

	(void)state;
	json_object_put(receiver("POST", "/_reset", "{}"));
	sql("INSERT INTO outbox_events (uuid, order_id, type, payload, "
	    "next_attempt_at) SELECT CONCAT('race0000-0000-4000-8000-', "
	    "LPAD(seq, 12, '0')), NULL, 'test.race', '{}', UTC_TIMESTAMP() + "
	    "INTERVAL 1 HOUR FROM seq_1_to_120");
	sql("UPDATE outbox_events SET next_attempt_at = UTC_TIMESTAMP() "
	    "WHERE type = 'test.race'");
	snprintf(cmd, sizeof(cmd),
		 "ctl=\"$(dirname \"$CHECKOUTD_BIN\")/checkoutctl\"; "
		 "conf=\"$STACK_DIR/checkoutd.conf\"; "
		 "for i in 1 2 3; do \"$ctl\" --config \"$conf\" deliver "
		 ">/dev/null & done; wait");
	assert_int_equal(system(cmd), 0);
	for (i = 0; i < 20 && sql("SELECT COUNT(*) FROM outbox_events WHERE "
				  "type = 'test.race' AND delivered_at IS "
				  "NULL") > 0;
	     i++)
		sleep(1);
	assert_int_equal(sql("SELECT COUNT(*) FROM outbox_events WHERE type "
			     "= 'test.race' AND delivered_at IS NULL"),
			 0);
	all = receiver("GET", "/_deliveries", NULL);
	list = json_object_object_get(all, "deliveries");
	n = json_object_array_length(list);
	counted = calloc(121, 1);
	assert_non_null(counted);
	for (i = 0; i < n; i++) {
		struct json_object *d = json_object_array_get_idx(list, i);
		const char *id = text(d, "event_id");
		long k;

		if (strncmp(id, "evt_race0000-", 13) != 0)
			continue;
		k = strtol(id + strlen(id) - 12, NULL, 10);
		assert_true(k >= 1 && k <= 120);
		seen += !counted[k];
		doubles += counted[k];
		counted[k] = 1;
	}
	print_message("120 events, %d delivered, %d twice\n", seen, doubles);
	assert_int_equal(seen, 120);
	assert_int_equal(doubles, 0);
	free(counted);
	json_object_put(all);
	sql("DELETE FROM outbox_events WHERE type = 'test.race'");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_completed_then_paid_signed),
	    cmocka_unit_test(test_receiver_down_then_delivered),
	    cmocka_unit_test(test_checkoutctl_deliver),
	    cmocka_unit_test(test_deliverers_share_without_doubles),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
