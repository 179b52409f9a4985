-- =============================================================================
-- BEDS lab schema, part 1: base tables.
--
-- Owned by the DBA. BEDS never touches these tables directly: it reads the
-- v_* views (002) and calls the sp_* / fn_* routines (003) by name.
--
-- Schema-agnostic (no USE, no schema qualifiers) and idempotent
-- (CREATE TABLE IF NOT EXISTS), so it can be loaded into any schema, e.g.
--   mariadb beds_lab < lab/sql/001_tables.sql
-- Changing an existing table needs an explicit ALTER migration, not an edit here.
-- =============================================================================

-- customers: people who place orders; email is the natural (unique) key.
CREATE TABLE IF NOT EXISTS customers (
  id         INT UNSIGNED NOT NULL AUTO_INCREMENT
             COMMENT 'Surrogate key',
  email      VARCHAR(254) NOT NULL
             COMMENT 'Contact address; unique across customers',
  name       VARCHAR(100) NOT NULL
             COMMENT 'Display name',
  status     ENUM('active','suspended') NOT NULL DEFAULT 'active'
             COMMENT 'Suspended customers cannot place orders',
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
             COMMENT 'Row creation time (server time zone)',
  PRIMARY KEY (id),
  UNIQUE KEY uq_customers_email (email)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Lab: customers who place orders';

-- products: sellable items with their current price and stock on hand.
CREATE TABLE IF NOT EXISTS products (
  id    INT UNSIGNED NOT NULL AUTO_INCREMENT
        COMMENT 'Surrogate key',
  sku   VARCHAR(32) NOT NULL
        COMMENT 'Stock keeping unit, e.g. PRD-0001; unique',
  name  VARCHAR(100) NOT NULL
        COMMENT 'Display name',
  price DECIMAL(10,2) NOT NULL
        COMMENT 'Current unit price',
  stock INT NOT NULL DEFAULT 0
        COMMENT 'Units on hand; maintained by sp_ord_create / sp_ord_cancel',
  PRIMARY KEY (id),
  UNIQUE KEY uq_products_sku (sku),
  CONSTRAINT ck_products_price CHECK (price >= 0),
  CONSTRAINT ck_products_stock CHECK (stock >= 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Lab: product catalogue and stock on hand';

-- orders: order headers; total is the sum of qty * price of its items.
CREATE TABLE IF NOT EXISTS orders (
  id          INT UNSIGNED NOT NULL AUTO_INCREMENT
              COMMENT 'Surrogate key',
  customer_id INT UNSIGNED NOT NULL
              COMMENT 'Ordering customer (customers.id)',
  status      ENUM('placed','cancelled') NOT NULL DEFAULT 'placed'
              COMMENT 'Cancelled orders have had their stock restored',
  total       DECIMAL(12,2) NOT NULL
              COMMENT 'Order value: SUM(order_items.qty * order_items.price)',
  created_at  DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
              COMMENT 'Time the order was placed',
  PRIMARY KEY (id),
  KEY ix_orders_customer (customer_id, status),
  CONSTRAINT fk_orders_customer FOREIGN KEY (customer_id)
    REFERENCES customers (id) ON UPDATE RESTRICT ON DELETE RESTRICT
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Lab: order headers';

-- order_items: order lines; price is the unit price captured at order time.
CREATE TABLE IF NOT EXISTS order_items (
  order_id   INT UNSIGNED NOT NULL
             COMMENT 'Owning order (orders.id)',
  product_id INT UNSIGNED NOT NULL
             COMMENT 'Ordered product (products.id)',
  qty        INT NOT NULL
             COMMENT 'Units ordered; positive',
  price      DECIMAL(10,2) NOT NULL
             COMMENT 'Unit price at the time of ordering',
  PRIMARY KEY (order_id, product_id),
  KEY ix_order_items_product (product_id),
  CONSTRAINT ck_order_items_qty CHECK (qty > 0),
  CONSTRAINT fk_order_items_order FOREIGN KEY (order_id)
    REFERENCES orders (id) ON UPDATE RESTRICT ON DELETE RESTRICT,
  CONSTRAINT fk_order_items_product FOREIGN KEY (product_id)
    REFERENCES products (id) ON UPDATE RESTRICT ON DELETE RESTRICT
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Lab: order lines';
