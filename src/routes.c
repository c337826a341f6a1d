#include "routes.h"

#include "api/api.h"

const struct route routes[] = {
    {M_GET, "/api/checkouts/health/ping", api_ping},
    {M_GET, "/checkouts/health/ping", api_ping},
    {M_GET, "/api/health/ready", api_ready},
    {M_GET, "/metrics", api_metrics},
    {M_GET, "/api/products", api_products_list},
    {M_GET, "/api/products/{id}", api_product_get},
    {M_POST, "/api/carts", api_cart_create},
    {M_GET, "/api/carts/{id}", api_cart_get},
    {M_POST, "/api/carts/{id}/items", api_cart_add_item},
    {M_PATCH, "/api/carts/{id}/items/{itemId}", api_cart_patch_item},
    {M_DELETE, "/api/carts/{id}/items/{itemId}", api_cart_delete_item},
    {M_POST, "/api/carts/{id}/coupon", api_cart_coupon},
    {M_DELETE, "/api/carts/{id}/coupon", api_cart_coupon},
    {M_GET, "/api/orders/{id}", api_cart_get},
    {M_PUT, "/api/checkouts/{id}", api_checkout_put},
    {M_GET, "/api/checkouts/{id}", api_checkout_get},
#ifdef ENABLE_TEST_ROUTES
    {M_GET, "/api/_test/sleep", api_test_sleep},
    {M_POST, "/api/_test/echo", api_test_echo},
    {M_GET, "/api/_test/items/{id}", api_test_echo},
    {M_PUT, "/api/_test/items/{id}", api_test_echo},
#endif
};
const size_t nroutes = sizeof(routes) / sizeof(routes[0]);
