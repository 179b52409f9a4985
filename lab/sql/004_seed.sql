-- =============================================================================
-- BEDS lab schema, part 4: seed data for the lab and the integration tests.
--
-- 20 customers (two suspended), 30 products, 10 orders (one cancelled) with
-- their items. Order totals equal SUM(qty * price) of their items; stock is
-- the stock on hand after these orders. Explicit ids + INSERT IGNORE make the
-- seed re-runnable: rows that already exist are left untouched.
--
-- Schema-agnostic. Needs 001_tables.
-- =============================================================================

-- The seed contains non-ASCII names; make sure the client sends UTF-8.
SET NAMES utf8mb4;

START TRANSACTION;

-- customers: ids 1..20; 17 (Lars Eriksson) and 19 (Tomás Novák) are suspended.
INSERT IGNORE INTO customers (id, email, name, status, created_at) VALUES
  (1, 'ana.garcia@example.com', 'Ana García', 'active', '2024-01-08 09:14:22.000'),
  (2, 'liam.oconnor@example.com', 'Liam O''Connor', 'active', '2024-01-15 11:02:45.000'),
  (3, 'sofia.rossi@example.com', 'Sofia Rossi', 'active', '2024-01-29 16:40:03.000'),
  (4, 'mateo.fernandez@example.com', 'Mateo Fernández', 'active', '2024-02-03 08:25:10.000'),
  (5, 'emma.schmidt@example.com', 'Emma Schmidt', 'active', '2024-02-17 13:55:37.000'),
  (6, 'noah.mueller@example.com', 'Noah Müller', 'active', '2024-03-01 10:10:10.000'),
  (7, 'chloe.dubois@example.com', 'Chloé Dubois', 'active', '2024-03-12 19:31:58.000'),
  (8, 'lucas.silva@example.com', 'Lucas Silva', 'active', '2024-03-26 07:48:12.000'),
  (9, 'mia.johansson@example.com', 'Mia Johansson', 'active', '2024-04-09 15:05:44.000'),
  (10, 'oliver.smith@example.com', 'Oliver Smith', 'active', '2024-04-22 12:20:31.000'),
  (11, 'aisha.khan@example.com', 'Aisha Khan', 'active', '2024-05-06 17:42:09.000'),
  (12, 'hiroshi.tanaka@example.com', 'Hiroshi Tanaka', 'active', '2024-05-20 06:58:27.000'),
  (13, 'zofia.nowak@example.com', 'Zofia Nowak', 'active', '2024-06-04 14:16:50.000'),
  (14, 'diego.martinez@example.com', 'Diego Martínez', 'active', '2024-06-18 09:37:15.000'),
  (15, 'freya.nielsen@example.com', 'Freya Nielsen', 'active', '2024-07-02 11:49:02.000'),
  (16, 'amara.okafor@example.com', 'Amara Okafor', 'active', '2024-07-16 18:03:36.000'),
  (17, 'lars.eriksson@example.com', 'Lars Eriksson', 'suspended', '2024-08-01 10:27:19.000'),
  (18, 'priya.patel@example.com', 'Priya Patel', 'active', '2024-08-14 13:12:48.000'),
  (19, 'tomas.novak@example.com', 'Tomás Novák', 'suspended', '2024-09-03 16:33:05.000'),
  (20, 'elena.popescu@example.com', 'Elena Popescu', 'active', '2024-09-19 08:45:57.000');

-- products: ids 1..30, sku PRD-0001..PRD-0030; PRD-0026 is out of stock.
INSERT IGNORE INTO products (id, sku, name, price, stock) VALUES
  (1, 'PRD-0001', 'USB-C charging cable, 1 m', 9.90, 250),
  (2, 'PRD-0002', 'USB-C charging cable, 2 m', 12.90, 180),
  (3, 'PRD-0003', 'Wireless mouse', 24.50, 120),
  (4, 'PRD-0004', 'Mechanical keyboard, US layout', 89.00, 45),
  (5, 'PRD-0005', '27-inch IPS monitor', 249.00, 20),
  (6, 'PRD-0006', 'Laptop stand, aluminium', 39.95, 60),
  (7, 'PRD-0007', 'Noise-cancelling headphones', 179.00, 25),
  (8, 'PRD-0008', 'Webcam, 1080p', 49.90, 70),
  (9, 'PRD-0009', 'HDMI cable, 2 m', 8.50, 300),
  (10, 'PRD-0010', 'USB hub, 4 ports', 19.99, 90),
  (11, 'PRD-0011', 'Portable SSD, 1 TB', 99.00, 40),
  (12, 'PRD-0012', 'Microfibre cleaning cloth', 3.20, 500),
  (13, 'PRD-0013', 'Desk lamp, LED', 34.00, 55),
  (14, 'PRD-0014', 'Ergonomic office chair', 329.00, 8),
  (15, 'PRD-0015', 'Standing desk converter', 199.00, 12),
  (16, 'PRD-0016', 'Notebook, A5 dotted', 6.75, 400),
  (17, 'PRD-0017', 'Gel pens, pack of 10', 7.40, 350),
  (18, 'PRD-0018', 'Whiteboard markers, pack of 4', 5.90, 220),
  (19, 'PRD-0019', 'Bluetooth speaker', 59.00, 35),
  (20, 'PRD-0020', 'Smartphone tripod', 22.00, 80),
  (21, 'PRD-0021', 'Power bank, 20000 mAh', 44.90, 65),
  (22, 'PRD-0022', 'Ethernet cable, 5 m', 11.00, 150),
  (23, 'PRD-0023', 'Wi-Fi router', 129.00, 18),
  (24, 'PRD-0024', 'Surge protector, 6 outlets', 27.50, 75),
  (25, 'PRD-0025', 'Mouse pad, XL', 14.90, 140),
  (26, 'PRD-0026', 'Document scanner', 189.00, 0),
  (27, 'PRD-0027', 'Label printer', 79.00, 15),
  (28, 'PRD-0028', 'Paper, A4, 500 sheets', 5.49, 600),
  (29, 'PRD-0029', 'Stapler, heavy duty', 18.25, 45),
  (30, 'PRD-0030', 'Drawing tablet', 69.00, 22);

-- orders: ids 1..10; order 7 was cancelled (its stock has been restored).
INSERT IGNORE INTO orders (id, customer_id, status, total, created_at) VALUES
  (1, 1, 'placed', 39.40, '2024-10-02 10:15:00.000'),
  (2, 2, 'placed', 515.00, '2024-10-05 14:32:10.000'),
  (3, 3, 'placed', 65.02, '2024-10-11 09:05:45.000'),
  (4, 4, 'placed', 89.00, '2024-10-19 18:47:21.000'),
  (5, 1, 'placed', 118.80, '2024-11-03 11:11:11.000'),
  (6, 7, 'placed', 179.00, '2024-11-14 16:20:05.000'),
  (7, 10, 'cancelled', 363.00, '2024-11-22 08:55:30.000'),
  (8, 12, 'placed', 115.50, '2024-12-01 13:40:12.000'),
  (9, 15, 'placed', 151.00, '2024-12-09 19:02:48.000'),
  (10, 18, 'placed', 91.00, '2025-01-07 07:30:00.000');

-- order_items: unit price as charged at order time.
INSERT IGNORE INTO order_items (order_id, product_id, qty, price) VALUES
  (1, 3, 1, 24.50),
  (1, 25, 1, 14.90),
  (2, 5, 2, 249.00),
  (2, 9, 2, 8.50),
  (3, 16, 5, 6.75),
  (3, 17, 2, 7.40),
  (3, 28, 3, 5.49),
  (4, 4, 1, 89.00),
  (5, 11, 1, 99.00),
  (5, 1, 2, 9.90),
  (6, 7, 1, 179.00),
  (7, 14, 1, 329.00),
  (7, 13, 1, 34.00),
  (8, 21, 2, 44.90),
  (8, 2, 1, 12.90),
  (8, 12, 4, 3.20),
  (9, 23, 1, 129.00),
  (9, 22, 2, 11.00),
  (10, 30, 1, 69.00),
  (10, 20, 1, 22.00);

COMMIT;
