-- =============================================================================
-- BEDS lab schema, part 5: the log store on MariaDB (template "mst",
-- templates/logstore/mst_logger_rec.toml), used when the config says
-- [logstore] store = "mariadb".
--
-- One row per node event: IPL records, requests (sampled; errors always),
-- retries, dead letters and status changes. `event` holds the compound event
-- id; a child's id extends its parent's (`<parent>.<suffix>`), so a chain is
-- ONE range scan of uq_ms_logs_event:
--   event = root OR (event >= CONCAT(root, '.') AND event < CONCAT(root, '/'))
-- which is why the id columns are ascii_bin (byte order, no case folding).
--
-- BEDS writes with sp_mst_log_rows (one JSON array per batch, INSERT IGNORE
-- so a retried batch cannot duplicate; sp_mst_log_batch takes the same
-- records by name) and reads with sp_mst_tail and
-- sp_mst_chain. The observer (utilities/log_dumper) reads v_ms_logs with a
-- read-only account: GRANT SELECT ON <schema>.v_ms_logs TO 'beds_observer'@...
--
-- Schema-agnostic and idempotent. Uses DELIMITER for the routines.
-- =============================================================================

CREATE TABLE IF NOT EXISTS ms_logs (
  id       BIGINT UNSIGNED NOT NULL AUTO_INCREMENT
           COMMENT 'Insertion order; the paging cursor',
  event    VARCHAR(600) CHARACTER SET ascii COLLATE ascii_bin NOT NULL
           COMMENT 'Compound event id',
  parent   VARCHAR(600) CHARACTER SET ascii COLLATE ascii_bin NULL
           COMMENT 'Id of the event this one extends',
  kind     VARCHAR(8) CHARACTER SET ascii NOT NULL
           COMMENT 'ipl | request | status',
  level    VARCHAR(8) CHARACTER SET ascii NOT NULL
           COMMENT 'info | warn | error',
  at       DATETIME(3) NOT NULL
           COMMENT 'When it happened (UTC)',
  node     VARCHAR(128) NOT NULL
           COMMENT 'Node instance id',
  broker   VARCHAR(64) NULL,
  template VARCHAR(32) NULL,
  op       VARCHAR(16) NULL,
  code     VARCHAR(32) NULL
           COMMENT 'Wire error code; NULL on success',
  action   VARCHAR(32) NULL
           COMMENT 'request: reply | retry | dead_letter; status: its type; ipl: ok | failed',
  attempt  SMALLINT UNSIGNED NULL,
  ms       DOUBLE NULL
           COMMENT 'Duration in milliseconds',
  nrows    INT NULL
           COMMENT 'Rows read or written',
  message  VARCHAR(1000) NULL,
  doc      MEDIUMTEXT NOT NULL
           COMMENT 'What no column holds, as JSON: user, call, reason, status details, IPL steps',
  PRIMARY KEY (id),
  UNIQUE KEY uq_ms_logs_event (event),
  KEY ix_ms_logs_at (at),
  KEY ix_ms_logs_node_at (node, at),
  KEY ix_ms_logs_kind_at (kind, at),
  CONSTRAINT ck_ms_logs_doc CHECK (JSON_VALID(doc))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='BEDS log store (msLogs)';

-- v_ms_logs: the read contract of the log store (the observer's only grant).
CREATE OR REPLACE VIEW v_ms_logs AS
SELECT l.id, l.event, l.parent, l.kind, l.level, l.at, l.node, l.broker, l.template,
       l.op, l.code, l.action, l.attempt, l.ms, l.nrows, l.message, l.doc
  FROM ms_logs AS l;

DELIMITER $$

-- sp_mst_log: record one event (the per-event form of the template's create).
DROP PROCEDURE IF EXISTS sp_mst_log$$
CREATE PROCEDURE sp_mst_log(
  IN p_event    VARCHAR(600) CHARACTER SET ascii COLLATE ascii_bin,
  IN p_parent   VARCHAR(600) CHARACTER SET ascii COLLATE ascii_bin,
  IN p_kind     VARCHAR(8) CHARACTER SET ascii,
  IN p_level    VARCHAR(8) CHARACTER SET ascii,
  IN p_at       DATETIME(3),
  IN p_node     VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci,
  IN p_broker   VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci,
  IN p_template VARCHAR(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci,
  IN p_op       VARCHAR(16) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci,
  IN p_code     VARCHAR(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci,
  IN p_action   VARCHAR(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci,
  IN p_attempt  SMALLINT UNSIGNED,
  IN p_ms       DOUBLE,
  IN p_rows     INT,
  IN p_message  TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci,
  IN p_doc      MEDIUMTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci
)
  MODIFIES SQL DATA
  COMMENT 'Record one log event (a repeated event id is ignored)'
BEGIN
  INSERT IGNORE INTO ms_logs (event, parent, kind, level, at, node, broker, template, op, code,
                              action, attempt, ms, nrows, message, doc)
  VALUES (p_event, p_parent, p_kind, p_level, p_at, LEFT(p_node, 128), p_broker, p_template, p_op,
          p_code, p_action, p_attempt, p_ms, p_rows, LEFT(p_message, 1000), p_doc);
END$$

-- sp_mst_log_batch: record a JSON array of events in one statement. Each
-- element has the columns above by name ("rows" for nrows) and "doc", what
-- no column holds, as a JSON string.
DROP PROCEDURE IF EXISTS sp_mst_log_batch$$
CREATE PROCEDURE sp_mst_log_batch(
  IN p_events LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci
)
  MODIFIES SQL DATA
  COMMENT 'Record a JSON array of log events (repeated event ids are ignored)'
BEGIN
  INSERT IGNORE INTO ms_logs (event, parent, kind, level, at, node, broker, template, op, code,
                              action, attempt, ms, nrows, message, doc)
  SELECT j.event, j.parent, j.kind, j.level, j.at, LEFT(j.node, 128), LEFT(j.broker, 64),
         LEFT(j.template, 32), LEFT(j.op, 16), LEFT(j.code, 32), LEFT(j.action, 32), j.attempt,
         j.ms, j.nrows, LEFT(j.message, 1000), j.doc
    FROM JSON_TABLE(p_events, '$[*]' COLUMNS (
           event    VARCHAR(600) PATH '$.event',
           parent   VARCHAR(600) PATH '$.parent',
           kind     VARCHAR(8)   PATH '$.kind',
           level    VARCHAR(8)   PATH '$.level',
           at       DATETIME(3)  PATH '$.at',
           node     TEXT         PATH '$.node',
           broker   TEXT         PATH '$.broker',
           template TEXT         PATH '$.template',
           op       TEXT         PATH '$.op',
           code     TEXT         PATH '$.code',
           action   TEXT         PATH '$.action',
           attempt  INT          PATH '$.attempt',
           ms       DOUBLE       PATH '$.ms',
           nrows    INT          PATH '$.rows',
           message  TEXT         PATH '$.message',
           doc      MEDIUMTEXT   PATH '$.doc'
         )) AS j;
END$$

-- sp_mst_log_rows: record a JSON array of events, each an array of its 16
-- values in column order (what BEDS sends):
--   [event, parent, kind, level, at, node, broker, template, op, code,
--    action, attempt, ms, rows, message, doc]
-- Finding each value by its position costs the server about a quarter less
-- CPU per record than finding it by name (sp_mst_log_batch). A repeated event
-- id is skipped (ON DUPLICATE KEY), not ignored with every other error as
-- INSERT IGNORE would: a record that is not such an array (an object, too
-- few values) leaves a required column NULL, which strict mode refuses, so
-- the whole call fails and nothing is stored in part. The routine is created
-- in strict mode whatever the session's, since it keeps the mode it was
-- created with.
DROP PROCEDURE IF EXISTS sp_mst_log_rows$$
SET @beds_sql_mode = @@SESSION.sql_mode$$
SET SESSION sql_mode = CONCAT(@@SESSION.sql_mode, IF(@@SESSION.sql_mode = '', '', ','), 'STRICT_ALL_TABLES')$$
CREATE PROCEDURE sp_mst_log_rows(
  IN p_rows LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci
)
  MODIFIES SQL DATA
  COMMENT 'Record a JSON array of log events as arrays of their values (repeated event ids are ignored)'
BEGIN
  IF LEFT(LTRIM(p_rows), 1) <> '[' THEN
    SIGNAL SQLSTATE '45000'
      SET MESSAGE_TEXT = 'p_rows must be a JSON array of records, each an array of 16 values';
  END IF;
  INSERT INTO ms_logs (event, parent, kind, level, at, node, broker, template, op, code,
                       action, attempt, ms, nrows, message, doc)
  SELECT j.event, j.parent, j.kind, j.level, j.at, LEFT(j.node, 128), LEFT(j.broker, 64),
         LEFT(j.template, 32), LEFT(j.op, 16), LEFT(j.code, 32), LEFT(j.action, 32), j.attempt,
         j.ms, j.nrows, LEFT(j.message, 1000), j.doc
    FROM JSON_TABLE(p_rows, '$[*]' COLUMNS (
           event    VARCHAR(600) PATH '$[0]',
           parent   VARCHAR(600) PATH '$[1]',
           kind     VARCHAR(8)   PATH '$[2]',
           level    VARCHAR(8)   PATH '$[3]',
           at       DATETIME(3)  PATH '$[4]',
           node     TEXT         PATH '$[5]',
           broker   TEXT         PATH '$[6]',
           template TEXT         PATH '$[7]',
           op       TEXT         PATH '$[8]',
           code     TEXT         PATH '$[9]',
           action   TEXT         PATH '$[10]',
           attempt  INT          PATH '$[11]',
           ms       DOUBLE       PATH '$[12]',
           nrows    INT          PATH '$[13]',
           message  TEXT         PATH '$[14]',
           doc      MEDIUMTEXT   PATH '$[15]'
         )) AS j
      ON DUPLICATE KEY UPDATE id = id;
END$$
SET SESSION sql_mode = @beds_sql_mode$$

-- sp_mst_tail: the newest events first, each filter NULL = any. Page with
-- p_before (ids below it); follow with p_after (ids above it).
DROP PROCEDURE IF EXISTS sp_mst_tail$$
CREATE PROCEDURE sp_mst_tail(
  IN p_node     VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci,
  IN p_level    VARCHAR(8) CHARACTER SET ascii,
  IN p_kind     VARCHAR(8) CHARACTER SET ascii,
  IN p_template VARCHAR(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci,
  IN p_code     VARCHAR(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci,
  IN p_since    DATETIME(3),
  IN p_until    DATETIME(3),
  IN p_before   BIGINT UNSIGNED,
  IN p_after    BIGINT UNSIGNED,
  IN p_max_rows INT
)
  READS SQL DATA
  COMMENT 'Newest log events first, filtered (NULL = any); paged by id'
BEGIN
  DECLARE v_limit INT DEFAULT LEAST(GREATEST(COALESCE(p_max_rows, 100), 1), 10000);
  SELECT id, event, parent, kind, level, at, node, broker, template, op, code, action, attempt,
         ms, nrows, message, doc
    FROM ms_logs
   WHERE (p_node IS NULL OR node = p_node)
     AND (p_level IS NULL OR level = p_level)
     AND (p_kind IS NULL OR kind = p_kind)
     AND (p_template IS NULL OR template = p_template)
     AND (p_code IS NULL OR code = p_code)
     AND (p_since IS NULL OR at >= p_since)
     AND (p_until IS NULL OR at < p_until)
     AND (p_before IS NULL OR id < p_before)
     AND (p_after IS NULL OR id > p_after)
   ORDER BY id DESC
   LIMIT v_limit;
END$$

-- sp_mst_chain: the chain that p_event belongs to (its root and all ids
-- extending it), oldest first: its oldest 10001 records, one more than a
-- reader shows (10000), so that it can tell a longer chain was cut; and, past
-- them, p_event's own record and those of the ids it extends (`a.b.c`: `a.b`
-- and `a`), so that a cut never leaves out the event asked for. A chain has
-- no bound: a client may hang any number of requests under one parent id.
-- One range scan of the event key, and a look-up of it per word of p_event.
DROP PROCEDURE IF EXISTS sp_mst_chain$$
CREATE PROCEDURE sp_mst_chain(
  IN p_event VARCHAR(600) CHARACTER SET ascii COLLATE ascii_bin
)
  READS SQL DATA
  COMMENT 'The chain of an event id, oldest first: its oldest 10001 records, and the event with the ids it extends'
BEGIN
  DECLARE v_root VARCHAR(600) CHARACTER SET ascii COLLATE ascii_bin
    DEFAULT SUBSTRING_INDEX(p_event, '.', 1);
  WITH RECURSIVE lineage (event) AS (
    SELECT p_event
    UNION ALL
    SELECT LEFT(event, CHAR_LENGTH(event) - LOCATE('.', REVERSE(event)))
      FROM lineage
     WHERE LOCATE('.', event) > 0
  )
  SELECT l.id, l.event, l.parent, l.kind, l.level, l.at, l.node, l.broker, l.template, l.op, l.code,
         l.action, l.attempt, l.ms, l.nrows, l.message, l.doc
    FROM (
      SELECT o.id
        FROM (SELECT id
                FROM ms_logs
               WHERE event = v_root
                  OR (event >= CONCAT(v_root, '.') AND event < CONCAT(v_root, '/'))
               ORDER BY at, id
               LIMIT 10001) AS o
      UNION
      SELECT id FROM ms_logs WHERE event IN (SELECT event FROM lineage)
    ) AS k
    -- The few ids first, then their rows by key: not a walk of the whole table in time order.
    STRAIGHT_JOIN ms_logs AS l ON l.id = k.id
   ORDER BY l.at, l.id;
END$$

-- sp_mst_purge: retention. Deletes records older than p_before, at most
-- p_max_rows of them per call (in chunks of 10000, so no statement holds
-- locks for long), and answers how many went. Run it from a MariaDB event or
-- cron, e.g. CALL sp_mst_purge(UTC_TIMESTAMP(3) - INTERVAL 7 DAY, 1000000).
DROP PROCEDURE IF EXISTS sp_mst_purge$$
CREATE PROCEDURE sp_mst_purge(IN p_before DATETIME(3), IN p_max_rows INT)
  MODIFIES SQL DATA
  COMMENT 'Delete log records older than p_before, at most p_max_rows per call'
BEGIN
  DECLARE v_left INT DEFAULT GREATEST(COALESCE(p_max_rows, 100000), 0);
  DECLARE v_chunk INT;
  DECLARE v_n INT;
  DECLARE v_done INT DEFAULT 0;
  chunks: LOOP
    SET v_chunk = LEAST(v_left, 10000);
    IF v_chunk = 0 OR p_before IS NULL THEN LEAVE chunks; END IF;
    DELETE FROM ms_logs WHERE at < p_before ORDER BY at LIMIT v_chunk;
    SET v_n = ROW_COUNT();
    SET v_done = v_done + v_n;
    SET v_left = v_left - v_chunk;
    IF v_n < v_chunk THEN LEAVE chunks; END IF;
  END LOOP;
  SELECT v_done AS deleted;
END$$

DELIMITER ;
