#include "routes.h"

#include "api/api.h"

const struct route routes[] = {
    {M_GET, "/api/checkouts/health/ping", api_ping},
    {M_GET, "/checkouts/health/ping", api_ping},
    {M_GET, "/api/health/ready", api_ready},
    {M_GET, "/metrics", api_metrics},
    {M_GET, "/api/products", api_products_list},
    {M_GET, "/api/products/{id}", api_product_get},
#ifdef ENABLE_TEST_ROUTES
    {M_GET, "/api/_test/sleep", api_test_sleep},
    {M_POST, "/api/_test/echo", api_test_echo},
    {M_GET, "/api/_test/items/{id}", api_test_echo},
    {M_PUT, "/api/_test/items/{id}", api_test_echo},
#endif
};
const size_t nroutes = sizeof(routes) / sizeof(routes[0]);
