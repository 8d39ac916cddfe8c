-- Customer profiles (customer intelligence): the seed's five profile tables plus RFM and model
-- predictions, written by batches. Every profile row belongs to one batch; readers follow
-- profile_current (one row per tenant) to the last finished batch, so a batch being written is
-- never seen half done, and the previous one is deleted only after the switch.
-- Long jobs report how far they are in jobs.progress_done / progress_total.
ALTER TABLE jobs ADD COLUMN progress_done INTEGER NULL;
ALTER TABLE jobs ADD COLUMN progress_total INTEGER NULL;

CREATE TABLE profile_batch (
    batch_id     INTEGER PRIMARY KEY,
    tenant_id    INTEGER NOT NULL REFERENCES tenants (id),
    as_of        TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    job_id       INTEGER NULL,
    currency     TEXT NOT NULL DEFAULT '',
    resume_after INTEGER NOT NULL DEFAULT 0, -- the last customer_id written
    processed    INTEGER NOT NULL DEFAULT 0,
    total        INTEGER NOT NULL DEFAULT 0,
    model        TEXT NULL, -- the fitted model as JSON, or why not
    created_at   TEXT NOT NULL,
    finished_at  TEXT NULL
);
CREATE INDEX profile_batch_tenant_idx ON profile_batch (tenant_id, batch_id);

CREATE TABLE profile_current (
    tenant_id INTEGER PRIMARY KEY REFERENCES tenants (id),
    batch_id  INTEGER NOT NULL REFERENCES profile_batch (batch_id)
);

CREATE TABLE customer_budget_profile (
    batch_id                 INTEGER NOT NULL REFERENCES profile_batch (batch_id),
    tenant_id                INTEGER NOT NULL REFERENCES tenants (id),
    customer_id              INTEGER NOT NULL REFERENCES customer (customer_id),
    spend_last_30            INTEGER NOT NULL,
    spend_last_90            INTEGER NOT NULL,
    orders_last_90           INTEGER NOT NULL,
    avg_order_value          INTEGER NOT NULL,
    predicted_monthly_budget INTEGER NOT NULL,
    budget_tier              TEXT NOT NULL,
    price_sensitivity_score  REAL NULL, -- NULL: unknown (no spend to judge by)
    discounted_share         REAL NOT NULL,
    campaign_share           REAL NOT NULL,
    promo_order_share        REAL NOT NULL,
    updated_at               TEXT NOT NULL,
    PRIMARY KEY (batch_id, customer_id)
);

CREATE TABLE customer_loyalty_profile (
    batch_id              INTEGER NOT NULL REFERENCES profile_batch (batch_id),
    tenant_id             INTEGER NOT NULL REFERENCES tenants (id),
    customer_id           INTEGER NOT NULL REFERENCES customer (customer_id),
    loyalty_tier          TEXT NOT NULL,
    loyalty_score         REAL NOT NULL,
    lifetime_orders       INTEGER NOT NULL,
    lifetime_spent        INTEGER NOT NULL,
    last_order_at         TEXT NULL,
    days_since_last_order INTEGER NULL,
    reward_multiplier     REAL NOT NULL,
    updated_at            TEXT NOT NULL,
    PRIMARY KEY (batch_id, customer_id)
);

CREATE TABLE customer_category_affinity (
    batch_id          INTEGER NOT NULL REFERENCES profile_batch (batch_id),
    tenant_id         INTEGER NOT NULL REFERENCES tenants (id),
    customer_id       INTEGER NOT NULL REFERENCES customer (customer_id),
    category_id       INTEGER NOT NULL REFERENCES category (category_id),
    affinity_score    REAL NOT NULL,
    orders_count      INTEGER NOT NULL,
    spend_total       INTEGER NOT NULL,
    last_purchased_at TEXT NULL,
    updated_at        TEXT NOT NULL,
    PRIMARY KEY (batch_id, customer_id, category_id)
);

CREATE TABLE customer_replenishment_profile (
    batch_id                   INTEGER NOT NULL REFERENCES profile_batch (batch_id),
    tenant_id                  INTEGER NOT NULL REFERENCES tenants (id),
    customer_id                INTEGER NOT NULL REFERENCES customer (customer_id),
    product_id                 INTEGER NOT NULL REFERENCES product (product_id),
    purchases                  INTEGER NOT NULL,
    replenishment_cycle_days   INTEGER NOT NULL,
    gap_cv                     REAL NOT NULL,
    is_recurring               INTEGER NOT NULL,
    last_purchased_at          TEXT NOT NULL,
    previous_purchased_at      TEXT NOT NULL,
    current_cycle_start        TEXT NOT NULL,
    current_cycle_end          TEXT NOT NULL,
    purchased_in_current_cycle INTEGER NOT NULL,
    next_expected_purchase_at  TEXT NOT NULL,
    confidence_score           REAL NOT NULL,
    updated_at                 TEXT NOT NULL,
    PRIMARY KEY (batch_id, customer_id, product_id)
);

CREATE TABLE customer_variety_profile (
    batch_id            INTEGER NOT NULL REFERENCES profile_batch (batch_id),
    tenant_id           INTEGER NOT NULL REFERENCES tenants (id),
    customer_id         INTEGER NOT NULL REFERENCES customer (customer_id),
    variety_index       REAL NOT NULL,
    repeat_ratio        REAL NOT NULL,
    unique_sku_last_90  INTEGER NOT NULL,
    total_items_last_90 INTEGER NOT NULL,
    explorer_type       TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    PRIMARY KEY (batch_id, customer_id)
);

-- RFM scores and the BG/NBD + Gamma-Gamma predictions; the predictions are NULL with `reason`
-- when the tenant's model is not fitted or the customer has no purchase to predict from.
CREATE TABLE customer_prediction (
    batch_id                    INTEGER NOT NULL REFERENCES profile_batch (batch_id),
    tenant_id                   INTEGER NOT NULL REFERENCES tenants (id),
    customer_id                 INTEGER NOT NULL REFERENCES customer (customer_id),
    recency_score               INTEGER NULL,
    frequency_score             INTEGER NULL,
    monetary_score              INTEGER NULL,
    rfm_segment                 TEXT NULL,
    p_alive                     REAL NULL,
    churn_probability           REAL NULL,
    expected_purchases_90       REAL NULL,
    expected_order_value        REAL NULL, -- major units
    predicted_clv               REAL NULL, -- major units, next 365 days
    expected_date_of_next_order TEXT NULL,
    reason                      TEXT NULL,
    updated_at                  TEXT NOT NULL,
    PRIMARY KEY (batch_id, customer_id)
);
CREATE INDEX customer_prediction_segment_idx ON customer_prediction (batch_id, rfm_segment);
