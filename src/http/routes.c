/* SPDX-License-Identifier: MIT */
/*
 * THE route table. Each row: method, path pattern, handler, the least role that may call it
 * (ROLE_NONE = public), the largest body accepted (0 = none), flags. The router, auth, limits,
 * metrics and the API docs all read from here. Tests: tests/unit/http/test_routes.c.
 */
#include "http/routes.h"
#include "http/assets.h"
#include "http/handlers.h"

#define KB 1024
#define MB (1024 * KB)

const struct http_route http_routes[] = {
    /* observability */
    {"GET", "/health", h_health, ROLE_NONE, 0, 0},
    {"GET", "/health/detailed", h_health_detailed, ROLE_NONE, 0, 0},
    {"GET", "/metrics", h_metrics, ROLE_NONE, 0, 0},
    {"GET", "/api/events", h_events, ROLE_VIEWER, 0, HTTP_SSE},
    {"GET", "/api/alerts", h_alerts_list, ROLE_ADMIN, 0, 0},

    /* access */
    {"POST", "/api/auth/login", h_login, ROLE_NONE, 4 * KB, HTTP_BODY_JSON},
    {"GET", "/api/me", h_me, ROLE_VIEWER, 0, 0},
    {"GET", "/api/keys", h_keys_list, ROLE_ADMIN, 0, 0},
    {"POST", "/api/keys", h_keys_create, ROLE_ADMIN, 4 * KB, HTTP_BODY_JSON},
    {"DELETE", "/api/keys/{id}", h_keys_revoke, ROLE_ADMIN, 0, 0},
    {"GET", "/api/users", h_users_list, ROLE_ADMIN, 0, 0},
    {"POST", "/api/users", h_users_create, ROLE_ADMIN, 4 * KB, HTTP_BODY_JSON},

    /* provider settings and secrets */
    {"GET", "/api/integrations", h_integrations_list, ROLE_ADMIN, 0, 0},
    {"GET", "/api/integrations/{provider}", h_integrations_get, ROLE_ADMIN, 0, 0},
    {"PUT", "/api/integrations/{provider}", h_integrations_put, ROLE_ADMIN, 32 * KB,
     HTTP_BODY_JSON},
    {"DELETE", "/api/integrations/{provider}", h_integrations_delete, ROLE_ADMIN, 0, 0},
    {"POST", "/api/webhooks/{provider}", h_webhooks_inbound, ROLE_NONE, 256 * KB, 0},
    {"POST", "/api/webhooks/{provider}/{tenant}", h_webhooks_inbound, ROLE_NONE, 256 * KB, 0},
    /* the same intake under the short path providers are often set up with */
    {"POST", "/webhooks/{provider}", h_webhooks_inbound, ROLE_NONE, 256 * KB, 0},

    /* durable jobs */
    {"GET", "/api/jobs", h_jobs_list, ROLE_VIEWER, 0, 0},
    {"POST", "/api/jobs", h_jobs_create, ROLE_ADMIN, 64 * KB, HTTP_BODY_JSON},
    {"GET", "/api/jobs/{id}", h_jobs_get, ROLE_VIEWER, 0, 0},
    {"POST", "/api/jobs/{id}/retry", h_jobs_retry, ROLE_OPERATOR, 0, 0},

    /* outbound webhooks */
    {"GET", "/api/webhook-endpoints", h_webhook_endpoints_list, ROLE_ADMIN, 0, 0},
    {"POST", "/api/webhook-endpoints", h_webhook_endpoints_create, ROLE_ADMIN, 8 * KB,
     HTTP_BODY_JSON},
    {"GET", "/api/webhook-endpoints/{id}", h_webhook_endpoints_get, ROLE_ADMIN, 0, 0},
    {"DELETE", "/api/webhook-endpoints/{id}", h_webhook_endpoints_delete, ROLE_ADMIN, 0, 0},
    {"GET", "/api/webhook-deliveries", h_webhook_deliveries_list, ROLE_VIEWER, 0, 0},
    {"POST", "/api/webhook-deliveries/{id}/retry", h_webhook_deliveries_retry, ROLE_OPERATOR, 0, 0},

    /* abandoned-cart recovery: agents, their shop integrations, the poller */
    {"GET", "/api/agents", h_agents_list, ROLE_VIEWER, 0, 0},
    {"POST", "/api/agents", h_agents_create, ROLE_ADMIN, 8 * KB, HTTP_BODY_JSON},
    {"GET", "/api/agents/{id}", h_agents_get, ROLE_VIEWER, 0, 0},
    {"PUT", "/api/agents/{id}", h_agents_update, ROLE_ADMIN, 8 * KB, HTTP_BODY_JSON},
    {"DELETE", "/api/agents/{id}", h_agents_delete, ROLE_ADMIN, 0, 0},
    {"GET", "/api/agents/{id}/integrations", h_agent_integrations_list, ROLE_ADMIN, 0, 0},
    {"POST", "/api/agents/{id}/integrations", h_agent_integrations_create, ROLE_ADMIN, 8 * KB,
     HTTP_BODY_JSON},
    {"GET", "/api/agents/{id}/integrations/{integration_id}", h_agent_integrations_get, ROLE_ADMIN,
     0, 0},
    {"PUT", "/api/agents/{id}/integrations/{integration_id}", h_agent_integrations_update,
     ROLE_ADMIN, 8 * KB, HTTP_BODY_JSON},
    {"DELETE", "/api/agents/{id}/integrations/{integration_id}", h_agent_integrations_delete,
     ROLE_ADMIN, 0, 0},
    {"POST", "/api/agents/{id}/integrations/{integration_id}/test", h_agent_integrations_test,
     ROLE_ADMIN, 0, 0},
    {"POST", "/polling/start-abandoned-cart", h_polling_start, ROLE_OPERATOR, 0, 0},
    {"POST", "/polling/abandoned-cart/test-once", h_polling_test_once, ROLE_OPERATOR, 0, 0},
    {"GET", "/polling/status", h_polling_status, ROLE_OPERATOR, 0, 0},
    {"POST", "/polling/stop", h_polling_stop, ROLE_OPERATOR, 0, 0},
    {"POST", "/api/polling/start-abandoned-cart", h_polling_start, ROLE_OPERATOR, 0, 0},
    {"POST", "/api/polling/abandoned-cart/test-once", h_polling_test_once, ROLE_OPERATOR, 0, 0},
    {"GET", "/api/polling/status", h_polling_status, ROLE_OPERATOR, 0, 0},
    {"POST", "/api/polling/stop", h_polling_stop, ROLE_OPERATOR, 0, 0},
    {"GET", "/api/recovery/carts", h_recovery_carts_list, ROLE_VIEWER, 0, 0},

    /* flash windows: buyers and sellers */
    {"POST", "/api/buyers/register", h_buyers_register, ROLE_OPERATOR, 16 * KB, HTTP_BODY_JSON},
    {"POST", "/api/buyers/signal", h_buyers_signal, ROLE_OPERATOR, 16 * KB, HTTP_BODY_JSON},
    {"GET", "/api/buyers", h_buyers_list, ROLE_VIEWER, 0, 0},
    {"GET", "/api/buyers/{id}", h_buyers_get, ROLE_VIEWER, 0, 0},
    {"POST", "/api/sellers/register", h_sellers_register, ROLE_OPERATOR, 16 * KB, HTTP_BODY_JSON},
    {"POST", "/api/sellers/signal", h_sellers_signal, ROLE_OPERATOR, 16 * KB, HTTP_BODY_JSON},
    {"GET", "/api/sellers", h_sellers_list, ROLE_VIEWER, 0, 0},
    {"GET", "/api/sellers/{id}", h_sellers_get, ROLE_VIEWER, 0, 0},
    {"GET", "/api/sellers/{id}/statement", h_sellers_statement, ROLE_VIEWER, 0, 0},

    /* flash windows: the engine */
    {"POST", "/api/campaigns/scan", h_campaigns_scan, ROLE_OPERATOR, 64 * KB,
     HTTP_BODY_JSON | HTTP_BODY_OPTIONAL},
    {"POST", "/api/campaigns/generate", h_campaigns_generate, ROLE_OPERATOR, 64 * KB,
     HTTP_BODY_JSON | HTTP_BODY_OPTIONAL},
    {"GET", "/api/campaigns/config", h_campaigns_config_get, ROLE_VIEWER, 0, 0},
    {"GET", "/api/campaigns/learning", h_campaigns_learning, ROLE_VIEWER, 0, 0},
    {"GET", "/api/intel/model", h_intel_model, ROLE_VIEWER, 0, 0},
    {"GET", "/api/intel/segments", h_intel_segments, ROLE_VIEWER, 0, 0},
    {"GET", "/api/intel/config", h_intel_config_get, ROLE_VIEWER, 0, 0},
    {"PUT", "/api/intel/config", h_intel_config_put, ROLE_ADMIN, 4 * KB, HTTP_BODY_JSON},
    {"GET", "/api/campaigns/decision-trace/{id}", h_campaigns_decision_trace, ROLE_VIEWER, 0, 0},
    /* the campaign planner; {id} after every fixed /api/campaigns/<word> route above */
    {"POST", "/api/campaigns/generate/personal", h_campaigns_personal, ROLE_OPERATOR, 4 * KB,
     HTTP_BODY_JSON},
    {"POST", "/api/campaigns/generate/company", h_campaigns_company, ROLE_OPERATOR, 16 * KB,
     HTTP_BODY_JSON},
    {"GET", "/api/campaigns/near/{id}", h_campaigns_near, ROLE_VIEWER, 0, 0},
    {"GET", "/api/campaigns", h_campaigns_list, ROLE_VIEWER, 0, 0},
    {"POST", "/api/profiles/calculate/{id}", h_profiles_calculate, ROLE_OPERATOR, 0, 0},
    {"POST", "/api/profiles/recompute", h_profiles_recompute, ROLE_ADMIN, 4 * KB,
     HTTP_BODY_JSON | HTTP_BODY_OPTIONAL},
    {"GET", "/api/profiles/{id}", h_profiles_get, ROLE_VIEWER, 0, 0},
    {"GET", "/api/privacy/export", h_privacy_export, ROLE_ADMIN, 0, 0},
    {"POST", "/api/privacy/erase", h_privacy_erase, ROLE_ADMIN, 4 * KB, HTTP_BODY_JSON},
    {"PUT", "/api/campaigns/config", h_campaigns_config_put, ROLE_ADMIN, 16 * KB, HTTP_BODY_JSON},
    {"GET", "/api/campaigns/{id}", h_campaigns_get, ROLE_VIEWER, 0, 0},
    {"POST", "/api/campaigns/{id}/send", h_campaigns_send, ROLE_OPERATOR, 8 * KB,
     HTTP_BODY_JSON | HTTP_BODY_OPTIONAL},
    {"GET", "/api/campaigns/{id}/send", h_campaigns_send_get, ROLE_VIEWER, 0, 0},
    {"GET", "/api/campaigns/{id}/uplift", h_campaigns_uplift, ROLE_VIEWER, 0, 0},

    /* flash windows: windows and their actions */
    {"GET", "/api/flash-windows/active", h_windows_active, ROLE_VIEWER, 0, 0},
    {"GET", "/api/flash-windows", h_windows_list, ROLE_VIEWER, 0, 0},
    {"POST", "/api/flash-windows/create", h_windows_create, ROLE_OPERATOR, 64 * KB, HTTP_BODY_JSON},
    {"GET", "/api/flash-windows/{id}", h_windows_get, ROLE_VIEWER, 0, 0},
    {"POST", "/api/flash-windows/{id}/precommit", h_windows_precommit, ROLE_OPERATOR, 4 * KB,
     HTTP_BODY_JSON},
    {"POST", "/api/flash-windows/{id}/cancel", h_windows_cancel, ROLE_OPERATOR, 4 * KB,
     HTTP_BODY_JSON},
    {"POST", "/api/flash-windows/{id}/join", h_windows_join, ROLE_OPERATOR, 4 * KB, HTTP_BODY_JSON},
    {"POST", "/api/flash-windows/{id}/redeem", h_windows_redeem, ROLE_OPERATOR, 4 * KB,
     HTTP_BODY_JSON},
    {"POST", "/api/flash-windows/{id}/approve", h_windows_approve, ROLE_OPERATOR, 0, 0},
    {"POST", "/api/flash-windows/{id}/reject", h_windows_reject, ROLE_OPERATOR, 0, 0},
    {"POST", "/api/flash-windows/{id}/seller-cancel", h_windows_seller_cancel, ROLE_OPERATOR,
     4 * KB, HTTP_BODY_JSON | HTTP_BODY_OPTIONAL},

    /* the WhatsApp channel (webhooks verify their own signatures) */
    {"GET", "/api/whatsapp/webhook", h_whatsapp_verify, ROLE_NONE, 0, 0},
    {"POST", "/api/whatsapp/webhook", h_whatsapp_webhook, ROLE_NONE, 256 * KB, 0},
    {"POST", "/api/whatsapp/test-notification", h_whatsapp_test_notification, ROLE_OPERATOR, 8 * KB,
     HTTP_BODY_JSON},
    {"POST", "/api/chat/understand", h_chat_understand, ROLE_VIEWER, 8 * KB, HTTP_BODY_JSON},
    {"GET", "/api/chat/events", h_chat_events, ROLE_VIEWER, 0, 0},

    /* the signed-link pages' data: the token in the path is the credential */
    {"GET", "/api/public/w/{token}", h_public_window, ROLE_NONE, 0, 0},
    {"GET", "/api/public/w/{token}/qr.svg", h_public_window_qr, ROLE_NONE, 0, 0},
    {"POST", "/api/public/w/{token}/join", h_public_window_join, ROLE_NONE, 0, 0},
    {"POST", "/api/public/w/{token}/cancel", h_public_window_cancel, ROLE_NONE, 0, 0},
    {"GET", "/api/public/s/{token}", h_public_seller, ROLE_NONE, 0, 0},
    {"POST", "/api/public/s/{token}/redeem", h_public_seller_redeem, ROLE_NONE, 1 * KB,
     HTTP_BODY_JSON},
    {"POST", "/api/public/s/{token}/approve", h_public_seller_approve, ROLE_NONE, 0, 0},
    {"POST", "/api/public/s/{token}/reject", h_public_seller_reject, ROLE_NONE, 0, 0},

    /* web pages (served by the binary) and their scripts */
    {"GET", "/", h_page_root, ROLE_NONE, 0, 0},
    {"GET", "/admin", h_page_admin, ROLE_NONE, 0, 0},
    {"GET", "/docs", h_page_docs, ROLE_NONE, 0, 0},
    {"GET", "/openapi.json", h_page_openapi, ROLE_NONE, 0, 0},
    {"GET", "/w/{token}", h_page_window, ROLE_NONE, 0, 0},
    {"GET", "/s/{token}", h_page_seller, ROLE_NONE, 0, 0},
    {"GET", "/assets/{name}", h_asset, ROLE_NONE, 0, 0},
    {"GET", "/vendor/leaflet/{name}", h_vendor_leaflet, ROLE_NONE, 0, 0},
    {"GET", "/vendor/leaflet/images/{name}", h_vendor_leaflet_image, ROLE_NONE, 0, 0},
    {"GET", "/vendor/chartjs/{name}", h_vendor_chartjs, ROLE_NONE, 0, 0},

    /* files: the body of an upload streams to storage, never held in memory */
    {"POST", "/api/files/upload", h_files_upload, ROLE_OPERATOR, 1024 * 1024 * KB + 64 * KB,
     HTTP_BODY_STREAM},
    {"POST", "/api/files/presign-upload", h_files_presign, ROLE_OPERATOR, 4 * KB, HTTP_BODY_JSON},
    {"PUT", "/api/files/uploads/{token}", h_files_upload_link, ROLE_NONE, 1024 * 1024 * KB,
     HTTP_BODY_STREAM},
    {"GET", "/api/files/settings", h_files_settings_get, ROLE_VIEWER, 0, 0},
    {"PUT", "/api/files/settings", h_files_settings_put, ROLE_ADMIN, 1 * KB, HTTP_BODY_JSON},
    {"GET", "/api/files", h_files_list, ROLE_VIEWER, 0, 0},
    {"GET", "/api/files/{id}", h_files_get, ROLE_VIEWER, 0, 0},
    {"DELETE", "/api/files/{id}", h_files_delete, ROLE_OPERATOR, 0, 0},
    {"POST", "/api/files/{id}/complete", h_files_complete, ROLE_OPERATOR, 0, 0},
    /* commerce data: cities and climate, customers, categories, products, orders, carts */
    {"POST", "/api/cities", h_cities_create, ROLE_OPERATOR, 8 * KB, HTTP_BODY_JSON},
    {"GET", "/api/cities", h_cities_list, ROLE_VIEWER, 0, 0},
    {"GET", "/api/cities/{id}", h_cities_get, ROLE_VIEWER, 0, 0},
    {"PUT", "/api/cities/{id}/climate", h_cities_climate_put, ROLE_OPERATOR, 16 * KB,
     HTTP_BODY_JSON},
    {"POST", "/api/customers", h_customers_create, ROLE_OPERATOR, 8 * KB, HTTP_BODY_JSON},
    {"GET", "/api/customers", h_customers_list, ROLE_VIEWER, 0, 0},
    {"GET", "/api/customers/{id}", h_customers_get, ROLE_VIEWER, 0, 0},
    {"POST", "/api/categories", h_categories_create, ROLE_OPERATOR, 4 * KB, HTTP_BODY_JSON},
    {"GET", "/api/categories", h_categories_list, ROLE_VIEWER, 0, 0},
    {"GET", "/api/categories/{id}", h_categories_get, ROLE_VIEWER, 0, 0},
    {"POST", "/api/products", h_products_create, ROLE_OPERATOR, 8 * KB, HTTP_BODY_JSON},
    {"GET", "/api/products", h_products_list, ROLE_VIEWER, 0, 0},
    {"GET", "/api/products/{id}", h_products_get, ROLE_VIEWER, 0, 0},
    {"POST", "/api/orders", h_orders_create, ROLE_OPERATOR, 256 * KB, HTTP_BODY_JSON},
    {"GET", "/api/orders", h_orders_list, ROLE_VIEWER, 0, 0},
    {"GET", "/api/orders/{id}", h_orders_get, ROLE_VIEWER, 0, 0},
    {"POST", "/api/carts", h_carts_create, ROLE_OPERATOR, 256 * KB, HTTP_BODY_JSON},
    {"GET", "/api/carts", h_carts_list, ROLE_VIEWER, 0, 0},
    {"GET", "/api/carts/{id}", h_carts_get, ROLE_VIEWER, 0, 0},
    /* bulk import, streamed line by line (NDJSON or CSV) */
    {"POST", "/api/import/{kind}", h_import, ROLE_OPERATOR, 100 * MB, HTTP_BODY_STREAM},

    /* purchase certificates: queued for a paid order, drawn and signed by a job */
    {"POST", "/api/certificates/{id}", h_certificates_request, ROLE_OPERATOR, 4 * KB,
     HTTP_BODY_JSON | HTTP_BODY_OPTIONAL},
    {"GET", "/api/certificates/{id}", h_certificates_get, ROLE_VIEWER, 0, 0},
    {"GET", "/api/certificates/{id}/download", h_certificates_download, ROLE_VIEWER, 0, 0},
    {"POST", "/api/certificates/{id}/revoke", h_certificates_revoke, ROLE_ADMIN, 4 * KB,
     HTTP_BODY_JSON | HTTP_BODY_OPTIONAL},
    {"GET", "/api/me/certificates", h_certificates_mine, ROLE_VIEWER, 0, 0},
    {"GET", "/api/me/orders", h_me_orders, ROLE_VIEWER, 0, 0},
    {"GET", "/verify/{id}", h_verify_page, ROLE_NONE, 0, 0},
    {"GET", "/.well-known/iceshop-certificate-keys", h_certificate_keys, ROLE_NONE, 0, 0},
    /* payments of orders (Idempotency-Key on both POSTs), fulfilling and cancelling by hand,
     * refunds, iyzico's buyer callback */
    {"POST", "/api/orders/{id}/payments", h_payments_create, ROLE_OPERATOR, 4 * KB, HTTP_BODY_JSON},
    {"GET", "/api/orders/{id}/payments", h_payments_list, ROLE_VIEWER, 0, 0},
    {"POST", "/api/orders/{id}/fulfil", h_orders_fulfil, ROLE_OPERATOR, 0, 0},
    {"POST", "/api/orders/{id}/cancel", h_orders_cancel, ROLE_OPERATOR, 0, 0},
    {"GET", "/api/orders/{id}/history", h_orders_history, ROLE_VIEWER, 0, 0},
    {"GET", "/api/payments/{id}", h_payments_get, ROLE_VIEWER, 0, 0},
    {"POST", "/api/payments/{id}/refunds", h_payments_refund, ROLE_ADMIN, 4 * KB, HTTP_BODY_JSON},
    {"POST", "/api/public/iyzico/callback/{tenant}/{id}", h_payments_iyzico_callback, ROLE_NONE,
     8 * KB, 0},

    /* the notification outbox */
    {"GET", "/api/messages", h_messages_list, ROLE_VIEWER, 0, 0},
    {"POST", "/api/messages/email", h_messages_email, ROLE_OPERATOR, 8 * 1024 * KB, HTTP_BODY_JSON},
};

const size_t http_routes_count = sizeof(http_routes) / sizeof(http_routes[0]);
