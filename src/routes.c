#include "routes.h"

#include "api/api.h"

const struct route routes[] = {
    {M_GET, "/api/checkouts/health/ping", api_ping, ROUTE_ANY_SCHEMA},
    {M_GET, "/checkouts/health/ping", api_ping, ROUTE_ANY_SCHEMA},
    {M_GET, "/api/health/ready", api_ready, ROUTE_ANY_SCHEMA},
    {M_GET, "/metrics", api_metrics, ROUTE_ANY_SCHEMA},
    {M_GET, "/api/openapi.yaml", api_openapi, ROUTE_ANY_SCHEMA},
    {M_GET, "/api/products", api_products_list, 0},
    {M_GET, "/api/products/{id}", api_product_get, 0},
    {M_POST, "/api/carts", api_cart_create, 0},
    {M_GET, "/api/carts/{id}", api_cart_get, 0},
    {M_POST, "/api/carts/{id}/items", api_cart_add_item, 0},
    {M_PATCH, "/api/carts/{id}/items/{itemId}", api_cart_patch_item, 0},
    {M_DELETE, "/api/carts/{id}/items/{itemId}", api_cart_delete_item, 0},
    {M_POST, "/api/carts/{id}/coupon", api_cart_coupon, 0},
    {M_DELETE, "/api/carts/{id}/coupon", api_cart_coupon, 0},
    {M_GET, "/api/orders/{id}", api_cart_get, 0},
    {M_PUT, "/api/checkouts/{id}", api_checkout_put, 0},
    {M_GET, "/api/checkouts/{id}", api_checkout_get, 0},
    {M_POST, "/api/webhooks/stripe", api_webhook_stripe,
     ROUTE_RAW_BODY | ROUTE_WEBHOOK},
    {M_POST, "/checkouts", api_seed000_checkout, ROUTE_RAW_BODY},
    {M_POST, "/api/checkouts", api_seed001_checkout, ROUTE_RAW_BODY},
    {M_POST, "/api/v1/orders/checkout", api_seed003_import, ROUTE_RAW_BODY},
    {M_POST, "/cart/add", api_seed002_cart_add, ROUTE_RAW_BODY},
    {M_POST, "/orders/checkout", api_seed002_checkout, ROUTE_RAW_BODY},
    {M_GET, "/api/admin/orders", api_admin_orders, 0},
    {M_GET, "/api/admin/orders/{id}", api_admin_order, 0},
    {M_GET, "/api/admin/orders/{id}/events", api_admin_order_events, 0},
    {M_POST, "/api/admin/orders/{id}/mark-paid", api_admin_mark_paid, 0},
    {M_POST, "/api/admin/orders/{id}/cancel", api_admin_cancel, 0},
    {M_POST, "/api/admin/orders/{id}/refund", api_admin_refund, 0},
    {M_POST, "/api/admin/orders/{id}/ship", api_admin_ship, 0},
#ifdef ENABLE_TEST_ROUTES
    {M_GET, "/api/_test/sleep", api_test_sleep, 0},
    {M_POST, "/api/_test/echo", api_test_echo, 0},
    {M_GET, "/api/_test/items/{id}", api_test_echo, 0},
    {M_PUT, "/api/_test/items/{id}", api_test_echo, 0},
#endif
};
const size_t nroutes = sizeof(routes) / sizeof(routes[0]);
