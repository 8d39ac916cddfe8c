/* SPDX-License-Identifier: MIT */
/*
 * Every HTTP handler, referenced from the route table in routes.c. Handlers stay thin: decode
 * and validate, call the module, reply. Tests: tests/integration/.
 */
#ifndef ICESHOP_HTTP_HANDLERS_H
#define ICESHOP_HTTP_HANDLERS_H

#include "http/request.h"

/* api_system.c: liveness, detailed health, Prometheus metrics */
int h_health(struct http_req *r, struct err *e);
int h_health_detailed(struct http_req *r, struct err *e);
int h_metrics(struct http_req *r, struct err *e);
int h_events(struct http_req *r, struct err *e);

/* api_alerts.c: the tenant's operator alerts */
int h_alerts_list(struct http_req *r, struct err *e);

/* api_accounts.c: login, who am I, API keys, users */
int h_login(struct http_req *r, struct err *e);
int h_me(struct http_req *r, struct err *e);
int h_keys_list(struct http_req *r, struct err *e);
int h_keys_create(struct http_req *r, struct err *e);
int h_keys_revoke(struct http_req *r, struct err *e);
int h_users_list(struct http_req *r, struct err *e);
int h_users_create(struct http_req *r, struct err *e);

/* api_integrations.c: per-tenant provider settings and secrets */
int h_integrations_list(struct http_req *r, struct err *e);
int h_integrations_get(struct http_req *r, struct err *e);
int h_integrations_put(struct http_req *r, struct err *e);
int h_integrations_delete(struct http_req *r, struct err *e);
int h_webhooks_inbound(struct http_req *r, struct err *e);

/* api_messages.c: email through the outbox */
int h_messages_email(struct http_req *r, struct err *e);

/* api_jobs.c: the durable job queue */
int h_jobs_list(struct http_req *r, struct err *e);
int h_jobs_get(struct http_req *r, struct err *e);
int h_jobs_create(struct http_req *r, struct err *e);
int h_jobs_retry(struct http_req *r, struct err *e);


/* api_flash.c: buyers, sellers, campaigns, flash windows, messages */
int h_buyers_register(struct http_req *r, struct err *e);
int h_buyers_signal(struct http_req *r, struct err *e);
int h_buyers_get(struct http_req *r, struct err *e);
int h_buyers_list(struct http_req *r, struct err *e);
int h_sellers_register(struct http_req *r, struct err *e);
int h_sellers_signal(struct http_req *r, struct err *e);
int h_sellers_get(struct http_req *r, struct err *e);
int h_sellers_statement(struct http_req *r, struct err *e);
int h_sellers_list(struct http_req *r, struct err *e);
int h_campaigns_scan(struct http_req *r, struct err *e);
int h_campaigns_generate(struct http_req *r, struct err *e);
int h_campaigns_config_get(struct http_req *r, struct err *e);
int h_campaigns_learning(struct http_req *r, struct err *e);
int h_intel_model(struct http_req *r, struct err *e);
int h_intel_segments(struct http_req *r, struct err *e);
int h_campaigns_decision_trace(struct http_req *r, struct err *e);

/* api_campaigns.c: the campaign planner and its decision log */
int h_campaigns_personal(struct http_req *r, struct err *e);
int h_campaigns_company(struct http_req *r, struct err *e);
int h_campaigns_near(struct http_req *r, struct err *e);
int h_campaigns_get(struct http_req *r, struct err *e);
int h_campaigns_list(struct http_req *r, struct err *e);
int h_campaigns_send(struct http_req *r, struct err *e);
int h_campaigns_send_get(struct http_req *r, struct err *e);
int h_campaigns_uplift(struct http_req *r, struct err *e);
int h_intel_config_get(struct http_req *r, struct err *e);
int h_intel_config_put(struct http_req *r, struct err *e);
int h_profiles_calculate(struct http_req *r, struct err *e);
int h_profiles_recompute(struct http_req *r, struct err *e);
int h_profiles_get(struct http_req *r, struct err *e);
int h_privacy_export(struct http_req *r, struct err *e);
int h_privacy_erase(struct http_req *r, struct err *e);
int h_campaigns_config_put(struct http_req *r, struct err *e);
int h_windows_active(struct http_req *r, struct err *e);
int h_windows_list(struct http_req *r, struct err *e);
int h_windows_get(struct http_req *r, struct err *e);
int h_windows_create(struct http_req *r, struct err *e);
int h_windows_precommit(struct http_req *r, struct err *e);
int h_windows_cancel(struct http_req *r, struct err *e);
int h_windows_join(struct http_req *r, struct err *e);
int h_windows_redeem(struct http_req *r, struct err *e);
int h_windows_approve(struct http_req *r, struct err *e);
int h_windows_reject(struct http_req *r, struct err *e);
int h_windows_seller_cancel(struct http_req *r, struct err *e);
int h_messages_list(struct http_req *r, struct err *e);

/* api_chat.c: the WhatsApp / VAPI channel */
int h_whatsapp_verify(struct http_req *r, struct err *e);
int h_whatsapp_webhook(struct http_req *r, struct err *e);
int h_whatsapp_test_notification(struct http_req *r, struct err *e);
int h_chat_understand(struct http_req *r, struct err *e);
int h_chat_events(struct http_req *r, struct err *e);

/* api_webhooks.c: outbound webhook endpoints and their deliveries */
int h_webhook_endpoints_create(struct http_req *r, struct err *e);
int h_webhook_endpoints_list(struct http_req *r, struct err *e);
int h_webhook_endpoints_get(struct http_req *r, struct err *e);
int h_webhook_endpoints_delete(struct http_req *r, struct err *e);
int h_webhook_deliveries_list(struct http_req *r, struct err *e);
int h_webhook_deliveries_retry(struct http_req *r, struct err *e);

/* api_commerce.c: commerce data (cities, customers, categories, products, orders, carts), import */
int h_cities_create(struct http_req *r, struct err *e);
int h_cities_list(struct http_req *r, struct err *e);
int h_cities_get(struct http_req *r, struct err *e);
int h_cities_climate_put(struct http_req *r, struct err *e);
int h_customers_create(struct http_req *r, struct err *e);
int h_customers_list(struct http_req *r, struct err *e);
int h_customers_get(struct http_req *r, struct err *e);
int h_categories_create(struct http_req *r, struct err *e);
int h_categories_list(struct http_req *r, struct err *e);
int h_categories_get(struct http_req *r, struct err *e);
int h_products_create(struct http_req *r, struct err *e);
int h_products_list(struct http_req *r, struct err *e);
int h_products_get(struct http_req *r, struct err *e);
int h_orders_create(struct http_req *r, struct err *e);
int h_orders_list(struct http_req *r, struct err *e);
int h_me_orders(struct http_req *r, struct err *e);
int h_orders_get(struct http_req *r, struct err *e);
int h_carts_create(struct http_req *r, struct err *e);
int h_carts_list(struct http_req *r, struct err *e);
int h_carts_get(struct http_req *r, struct err *e);
int h_import(struct http_req *r, struct err *e);

/* api_payments.c: payments of orders, refunds, iyzico's callback */
int h_payments_create(struct http_req *r, struct err *e);
int h_payments_list(struct http_req *r, struct err *e);
int h_payments_get(struct http_req *r, struct err *e);
int h_payments_refund(struct http_req *r, struct err *e);
int h_payments_iyzico_callback(struct http_req *r, struct err *e);
int h_orders_fulfil(struct http_req *r, struct err *e);
int h_orders_cancel(struct http_req *r, struct err *e);
int h_orders_history(struct http_req *r, struct err *e);

/* api_public.c: the signed-link pages' endpoints (the token is the credential) */
int h_public_window(struct http_req *r, struct err *e);
int h_public_window_qr(struct http_req *r, struct err *e);
int h_public_window_join(struct http_req *r, struct err *e);
int h_public_window_cancel(struct http_req *r, struct err *e);
int h_public_seller(struct http_req *r, struct err *e);
int h_public_seller_redeem(struct http_req *r, struct err *e);
int h_public_seller_approve(struct http_req *r, struct err *e);
int h_public_seller_reject(struct http_req *r, struct err *e);

/* api_certificates.c: purchase certificates, their verification page and signing keys */
int h_certificates_request(struct http_req *r, struct err *e);
int h_certificates_get(struct http_req *r, struct err *e);
int h_certificates_mine(struct http_req *r, struct err *e);
int h_certificates_download(struct http_req *r, struct err *e);
int h_certificates_revoke(struct http_req *r, struct err *e);
int h_verify_page(struct http_req *r, struct err *e);
int h_certificate_keys(struct http_req *r, struct err *e);
/* api_files.c: uploads (streamed), presigned uploads, metadata, downloads, the upload limit */
int h_files_upload(struct http_req *r, struct err *e);
int h_files_presign(struct http_req *r, struct err *e);
int h_files_upload_link(struct http_req *r, struct err *e);
int h_files_complete(struct http_req *r, struct err *e);
int h_files_list(struct http_req *r, struct err *e);
int h_files_get(struct http_req *r, struct err *e);
int h_files_delete(struct http_req *r, struct err *e);
int h_files_settings_get(struct http_req *r, struct err *e);
int h_files_settings_put(struct http_req *r, struct err *e);

/* api_recovery.c: abandoned-cart recovery agents, their integrations and the poller */
int h_agents_create(struct http_req *r, struct err *e);
int h_agents_list(struct http_req *r, struct err *e);
int h_agents_get(struct http_req *r, struct err *e);
int h_agents_update(struct http_req *r, struct err *e);
int h_agents_delete(struct http_req *r, struct err *e);
int h_agent_integrations_create(struct http_req *r, struct err *e);
int h_agent_integrations_list(struct http_req *r, struct err *e);
int h_agent_integrations_get(struct http_req *r, struct err *e);
int h_agent_integrations_update(struct http_req *r, struct err *e);
int h_agent_integrations_delete(struct http_req *r, struct err *e);
int h_agent_integrations_test(struct http_req *r, struct err *e);
int h_polling_start(struct http_req *r, struct err *e);
int h_polling_stop(struct http_req *r, struct err *e);
int h_polling_status(struct http_req *r, struct err *e);
int h_recovery_carts_list(struct http_req *r, struct err *e);
int h_polling_test_once(struct http_req *r, struct err *e);

#endif
