-- =============================================================================
-- BEDS lab schema, part 3: stored procedures and functions.
--
-- The write (and named-read) contract BEDS calls by name. Conventions:
--   * parameters are prefixed p_, locals v_;
--   * each procedure returns the affected row as ONE result set selected from
--     the matching v_* view (sp_cus_orders returns a customer's orders);
--   * errors are raised with SIGNAL using these SQLSTATEs (MySQL errno 1644):
--       45404  row not found            ('customer not found', ...)
--       45409  conflicting references   ('customer has orders', ...)
--       45000  business rule violated   ('insufficient stock', ...)
--     Constraint violations keep MariaDB's natural errors (e.g. 1062
--     duplicate key, 4025 CHECK constraint failed).
--   * string parameters declare utf8mb4 / utf8mb4_unicode_ci explicitly so
--     they match the table columns whatever the schema's default charset is;
--   * routines run as SQL SECURITY DEFINER: the BEDS account needs EXECUTE
--     on these routines only.
--   * sp_ord_create / sp_ord_cancel run their own transaction: do not call
--     them inside an open transaction (START TRANSACTION commits it).
--
-- Schema-agnostic and idempotent (DROP ... IF EXISTS + CREATE). Needs
-- 001_tables and 002_views. Uses DELIMITER so that
--   mariadb beds_lab < lab/sql/003_procedures.sql
-- works as well as the BEDS loader (lab/db.ts).
-- =============================================================================

DELIMITER $$

-- -----------------------------------------------------------------------------
-- Customers
-- -----------------------------------------------------------------------------

-- sp_cus_create: insert a customer; returns the new v_customers row.
-- A duplicate email surfaces as the natural duplicate-key error 1062.
DROP PROCEDURE IF EXISTS sp_cus_create$$
CREATE PROCEDURE sp_cus_create(
  IN p_email VARCHAR(254) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci,
  IN p_name  VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci
)
  MODIFIES SQL DATA
  COMMENT 'Create a customer; returns the v_customers row (1062 on duplicate email)'
BEGIN
  INSERT INTO customers (email, name) VALUES (p_email, p_name);
  SELECT id, email, name, status, created_at
    FROM v_customers
   WHERE id = LAST_INSERT_ID();
END$$

-- sp_cus_update: change email / name / status; NULL leaves a column unchanged.
DROP PROCEDURE IF EXISTS sp_cus_update$$
CREATE PROCEDURE sp_cus_update(
  IN p_id     INT UNSIGNED,
  IN p_email  VARCHAR(254) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci,
  IN p_name   VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci,
  IN p_status VARCHAR(16)  CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci
)
  MODIFIES SQL DATA
  COMMENT 'Update a customer (NULL = unchanged); returns the v_customers row'
BEGIN
  IF NOT EXISTS (SELECT 1 FROM customers WHERE id = p_id) THEN
    SIGNAL SQLSTATE '45404' SET MESSAGE_TEXT = 'customer not found';
  END IF;
  IF p_status IS NOT NULL AND p_status NOT IN ('active', 'suspended') THEN
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'invalid customer status';
  END IF;

  UPDATE customers
     SET email  = COALESCE(p_email, email),
         name   = COALESCE(p_name, name),
         status = COALESCE(p_status, status)
   WHERE id = p_id;

  SELECT id, email, name, status, created_at
    FROM v_customers
   WHERE id = p_id;
END$$

-- sp_cus_delete: delete a customer without orders; returns the row as it was.
-- The FK from orders remains the backstop if an order races in.
DROP PROCEDURE IF EXISTS sp_cus_delete$$
CREATE PROCEDURE sp_cus_delete(
  IN p_id INT UNSIGNED
)
  MODIFIES SQL DATA
  COMMENT 'Delete a customer without orders; returns the deleted v_customers row'
BEGIN
  IF NOT EXISTS (SELECT 1 FROM customers WHERE id = p_id) THEN
    SIGNAL SQLSTATE '45404' SET MESSAGE_TEXT = 'customer not found';
  END IF;
  IF EXISTS (SELECT 1 FROM orders WHERE customer_id = p_id) THEN
    SIGNAL SQLSTATE '45409' SET MESSAGE_TEXT = 'customer has orders';
  END IF;

  SELECT id, email, name, status, created_at
    FROM v_customers
   WHERE id = p_id;
  DELETE FROM customers WHERE id = p_id;
END$$

-- sp_cus_orders: all orders of one customer, oldest first (read-style call).
-- An unknown customer simply has no orders: the result set is empty.
DROP PROCEDURE IF EXISTS sp_cus_orders$$
CREATE PROCEDURE sp_cus_orders(
  IN p_customer_id INT UNSIGNED
)
  READS SQL DATA
  COMMENT 'List a customer''s orders from v_orders, oldest first'
BEGIN
  SELECT id, customer_id, customer_name, status, total, item_count, created_at
    FROM v_orders
   WHERE customer_id = p_customer_id
   ORDER BY created_at, id;
END$$

-- fn_cus_order_total: value of a customer's placed (not cancelled) orders.
DROP FUNCTION IF EXISTS fn_cus_order_total$$
CREATE FUNCTION fn_cus_order_total(
  p_customer_id INT UNSIGNED
)
  RETURNS DECIMAL(12,2)
  NOT DETERMINISTIC
  READS SQL DATA
  COMMENT 'Sum of totals of a customer''s placed orders; 0 when none'
BEGIN
  RETURN (SELECT COALESCE(SUM(o.total), 0)
            FROM orders AS o
           WHERE o.customer_id = p_customer_id
             AND o.status = 'placed');
END$$

-- -----------------------------------------------------------------------------
-- Products
-- -----------------------------------------------------------------------------

-- sp_prd_create: insert a product (NULL stock = 0); returns the v_products row.
-- Duplicate SKU -> 1062; negative price or stock -> CHECK error 4025.
DROP PROCEDURE IF EXISTS sp_prd_create$$
CREATE PROCEDURE sp_prd_create(
  IN p_sku   VARCHAR(32)  CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci,
  IN p_name  VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci,
  IN p_price DECIMAL(10,2),
  IN p_stock INT
)
  MODIFIES SQL DATA
  COMMENT 'Create a product; returns the v_products row (1062 on duplicate sku)'
BEGIN
  INSERT INTO products (sku, name, price, stock)
  VALUES (p_sku, p_name, p_price, COALESCE(p_stock, 0));
  SELECT id, sku, name, price, stock
    FROM v_products
   WHERE id = LAST_INSERT_ID();
END$$

-- sp_prd_update: change name / price / stock; NULL leaves a column unchanged.
DROP PROCEDURE IF EXISTS sp_prd_update$$
CREATE PROCEDURE sp_prd_update(
  IN p_id    INT UNSIGNED,
  IN p_name  VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci,
  IN p_price DECIMAL(10,2),
  IN p_stock INT
)
  MODIFIES SQL DATA
  COMMENT 'Update a product (NULL = unchanged); returns the v_products row'
BEGIN
  IF NOT EXISTS (SELECT 1 FROM products WHERE id = p_id) THEN
    SIGNAL SQLSTATE '45404' SET MESSAGE_TEXT = 'product not found';
  END IF;

  UPDATE products
     SET name  = COALESCE(p_name, name),
         price = COALESCE(p_price, price),
         stock = COALESCE(p_stock, stock)
   WHERE id = p_id;

  SELECT id, sku, name, price, stock
    FROM v_products
   WHERE id = p_id;
END$$

-- sp_prd_delete: delete a product never ordered; returns the row as it was.
DROP PROCEDURE IF EXISTS sp_prd_delete$$
CREATE PROCEDURE sp_prd_delete(
  IN p_id INT UNSIGNED
)
  MODIFIES SQL DATA
  COMMENT 'Delete an unreferenced product; returns the deleted v_products row'
BEGIN
  IF NOT EXISTS (SELECT 1 FROM products WHERE id = p_id) THEN
    SIGNAL SQLSTATE '45404' SET MESSAGE_TEXT = 'product not found';
  END IF;
  IF EXISTS (SELECT 1 FROM order_items WHERE product_id = p_id) THEN
    SIGNAL SQLSTATE '45409' SET MESSAGE_TEXT = 'product has order items';
  END IF;

  SELECT id, sku, name, price, stock
    FROM v_products
   WHERE id = p_id;
  DELETE FROM products WHERE id = p_id;
END$$

-- -----------------------------------------------------------------------------
-- Orders
-- -----------------------------------------------------------------------------

-- sp_ord_create: place a one-line order atomically. Takes a shared lock on the
-- customer and an exclusive lock on the product row, checks the business
-- rules, inserts order + item, decrements stock; returns the v_orders row.
-- Any error rolls the transaction back and is re-raised unchanged.
DROP PROCEDURE IF EXISTS sp_ord_create$$
CREATE PROCEDURE sp_ord_create(
  IN p_customer_id INT UNSIGNED,
  IN p_product_id  INT UNSIGNED,
  IN p_qty         INT
)
  MODIFIES SQL DATA
  COMMENT 'Place a one-line order in its own transaction; returns the v_orders row'
BEGIN
  DECLARE v_customer_status VARCHAR(16) DEFAULT NULL;
  DECLARE v_price           DECIMAL(10,2) DEFAULT NULL;
  DECLARE v_stock           INT DEFAULT NULL;
  DECLARE v_order_id        INT UNSIGNED DEFAULT NULL;

  DECLARE EXIT HANDLER FOR SQLEXCEPTION
  BEGIN
    ROLLBACK;
    RESIGNAL;
  END;

  IF p_qty IS NULL OR p_qty <= 0 THEN
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'quantity must be positive';
  END IF;

  START TRANSACTION;

  -- No row leaves the variable NULL (with a harmless 'no data' warning).
  SELECT status INTO v_customer_status
    FROM customers
   WHERE id = p_customer_id
     LOCK IN SHARE MODE;
  IF v_customer_status IS NULL THEN
    SIGNAL SQLSTATE '45404' SET MESSAGE_TEXT = 'customer not found';
  END IF;
  IF v_customer_status <> 'active' THEN
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'customer is not active';
  END IF;

  SELECT price, stock INTO v_price, v_stock
    FROM products
   WHERE id = p_product_id
     FOR UPDATE;
  IF v_price IS NULL THEN
    SIGNAL SQLSTATE '45404' SET MESSAGE_TEXT = 'product not found';
  END IF;
  IF v_stock < p_qty THEN
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'insufficient stock';
  END IF;

  INSERT INTO orders (customer_id, status, total, created_at)
  VALUES (p_customer_id, 'placed', v_price * p_qty, CURRENT_TIMESTAMP(3));
  SET v_order_id = LAST_INSERT_ID();

  INSERT INTO order_items (order_id, product_id, qty, price)
  VALUES (v_order_id, p_product_id, p_qty, v_price);

  UPDATE products
     SET stock = stock - p_qty
   WHERE id = p_product_id;

  COMMIT;

  SELECT id, customer_id, customer_name, status, total, item_count, created_at
    FROM v_orders
   WHERE id = v_order_id;
END$$

-- sp_ord_cancel: cancel a placed order and put its units back in stock, in
-- one transaction; returns the v_orders row.
DROP PROCEDURE IF EXISTS sp_ord_cancel$$
CREATE PROCEDURE sp_ord_cancel(
  IN p_id INT UNSIGNED
)
  MODIFIES SQL DATA
  COMMENT 'Cancel an order and restore stock in its own transaction; returns the v_orders row'
BEGIN
  DECLARE v_status VARCHAR(16) DEFAULT NULL;

  DECLARE EXIT HANDLER FOR SQLEXCEPTION
  BEGIN
    ROLLBACK;
    RESIGNAL;
  END;

  START TRANSACTION;

  SELECT status INTO v_status
    FROM orders
   WHERE id = p_id
     FOR UPDATE;
  IF v_status IS NULL THEN
    SIGNAL SQLSTATE '45404' SET MESSAGE_TEXT = 'order not found';
  END IF;
  IF v_status = 'cancelled' THEN
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'order already cancelled';
  END IF;

  UPDATE products AS p
    JOIN order_items AS oi ON oi.product_id = p.id
     SET p.stock = p.stock + oi.qty
   WHERE oi.order_id = p_id;

  UPDATE orders
     SET status = 'cancelled'
   WHERE id = p_id;

  COMMIT;

  SELECT id, customer_id, customer_name, status, total, item_count, created_at
    FROM v_orders
   WHERE id = p_id;
END$$

DELIMITER ;
