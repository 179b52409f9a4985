-- =============================================================================
-- BEDS lab schema, part 2: read views.
--
-- The views are the read contract BEDS exposes; the tables behind them may
-- change as long as these column lists stay stable. They run with the
-- default SQL SECURITY DEFINER, so the BEDS account needs SELECT on the views
-- only, never on the tables. Every view is MERGE-able (no GROUP BY / DISTINCT),
-- so a WHERE on a key column uses the underlying index.
--
-- Schema-agnostic and idempotent (CREATE OR REPLACE VIEW). Needs 001_tables.
-- MariaDB views carry no COMMENT clause; the comments below document them.
-- =============================================================================

-- v_customers: one row per customer.
CREATE OR REPLACE VIEW v_customers AS
SELECT c.id,
       c.email,
       c.name,
       c.status,
       c.created_at
  FROM customers AS c;

-- v_products: one row per product, with current price and stock on hand.
CREATE OR REPLACE VIEW v_products AS
SELECT p.id,
       p.sku,
       p.name,
       p.price,
       p.stock
  FROM products AS p;

-- v_orders: one row per order header with the customer's name and the number
-- of order lines (item_count counts lines, not units).
CREATE OR REPLACE VIEW v_orders AS
SELECT o.id,
       o.customer_id,
       c.name AS customer_name,
       o.status,
       o.total,
       (SELECT COUNT(*)
          FROM order_items AS oi
         WHERE oi.order_id = o.id) AS item_count,
       o.created_at
  FROM orders AS o
  JOIN customers AS c ON c.id = o.customer_id;

-- v_order_items: one row per order line, with the product's SKU.
CREATE OR REPLACE VIEW v_order_items AS
SELECT oi.order_id,
       oi.product_id,
       p.sku,
       oi.qty,
       oi.price
  FROM order_items AS oi
  JOIN products AS p ON p.id = oi.product_id;
