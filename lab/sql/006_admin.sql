-- =============================================================================
-- BEDS lab schema, part 6: what the admin role's brokers serve besides the log
-- store (templates in templates/admin/, bound on the admin exchange):
--   nst  fleet status: each node reports itself every [admin] report_ms
--        (create.nst, adminBrokerOut); read.nst (adminBrokerIn) answers the
--        latest report of every node.
--   slg  system log: the warn and error lines of every node's own log
--        (call.slg log_batch, read.slg; adminSyslogBroker).
--   grf  graphs: template calls per minute from the log store (ms_logs of
--        part 5), by template, op and outcome (read.grf; adminGraphBroker).
--        A REL request counts once for itself and once per part (each part
--        is a call of its own template, folded into the request's record or
--        not); a request's retried attempts do not count, the parts they ran do.
--
-- Schema-agnostic and idempotent. Uses DELIMITER for the routines.
-- =============================================================================

CREATE TABLE IF NOT EXISTS ms_node_status (
  node       VARCHAR(128) NOT NULL COMMENT 'Node instance id',
  role       VARCHAR(64) NOT NULL,
  version    VARCHAR(32) NOT NULL,
  started_at DATETIME(3) NOT NULL,
  at         DATETIME(3) NOT NULL COMMENT 'When the node sent this report (UTC)',
  inflight   INT NOT NULL,
  requests   BIGINT NOT NULL COMMENT 'Requests answered since start',
  errors     BIGINT NOT NULL COMMENT 'Of which answered with an error',
  rate       DOUBLE NOT NULL COMMENT 'Requests per second over the last report interval',
  last_error VARCHAR(1000) NULL,
  doc        MEDIUMTEXT NOT NULL COMMENT 'The whole report as JSON',
  PRIMARY KEY (node),
  KEY ix_ms_node_status_at (at),
  CONSTRAINT ck_ms_node_status_doc CHECK (JSON_VALID(doc))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Latest status report of every node';

CREATE TABLE IF NOT EXISTS ms_syslog (
  id      BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  line_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL
          COMMENT 'Sender-made id; a retried batch cannot duplicate',
  at      DATETIME(3) NOT NULL,
  node    VARCHAR(128) NOT NULL,
  level   VARCHAR(8) CHARACTER SET ascii NOT NULL COMMENT 'warn | error | fatal',
  msg     VARCHAR(1000) NOT NULL,
  line    MEDIUMTEXT NOT NULL COMMENT 'The whole log line (JSON)',
  PRIMARY KEY (id),
  UNIQUE KEY uq_ms_syslog_line (line_id),
  KEY ix_ms_syslog_at (at),
  KEY ix_ms_syslog_node_at (node, at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Warn and error lines of every node';

DELIMITER $$

-- sp_nst_report: keep the newest report of a node (an older one arriving late
-- does not overwrite it).
DROP PROCEDURE IF EXISTS sp_nst_report$$
CREATE PROCEDURE sp_nst_report(
  IN p_node       VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci,
  IN p_role       VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci,
  IN p_version    VARCHAR(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci,
  IN p_started_at DATETIME(3),
  IN p_at         DATETIME(3),
  IN p_inflight   INT,
  IN p_requests   BIGINT,
  IN p_errors     BIGINT,
  IN p_rate       DOUBLE,
  IN p_last_error TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci,
  IN p_doc        MEDIUMTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci
)
  MODIFIES SQL DATA
  COMMENT 'Record the latest status report of a node'
BEGIN
  INSERT INTO ms_node_status (node, role, version, started_at, at, inflight, requests, errors, rate,
                              last_error, doc)
  VALUES (p_node, p_role, p_version, p_started_at, p_at, p_inflight, p_requests, p_errors, p_rate,
          LEFT(p_last_error, 1000), p_doc)
  ON DUPLICATE KEY UPDATE
    role = IF(VALUES(at) >= at, VALUES(role), role),
    version = IF(VALUES(at) >= at, VALUES(version), version),
    started_at = IF(VALUES(at) >= at, VALUES(started_at), started_at),
    inflight = IF(VALUES(at) >= at, VALUES(inflight), inflight),
    requests = IF(VALUES(at) >= at, VALUES(requests), requests),
    errors = IF(VALUES(at) >= at, VALUES(errors), errors),
    rate = IF(VALUES(at) >= at, VALUES(rate), rate),
    last_error = IF(VALUES(at) >= at, VALUES(last_error), last_error),
    doc = IF(VALUES(at) >= at, VALUES(doc), doc),
    at = GREATEST(at, VALUES(at));
END$$

-- sp_nst_fleet: the latest report of every node heard from since p_since
-- (NULL = ever), newest first, with its age in seconds; at most 10000 nodes.
-- read.nst answers a read's `limit` of them (100 unless the request says):
-- newest first, a cut leaves out the nodes heard from longest ago.
DROP PROCEDURE IF EXISTS sp_nst_fleet$$
CREATE PROCEDURE sp_nst_fleet(
  IN p_role  VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci,
  IN p_since DATETIME(3)
)
  READS SQL DATA
  COMMENT 'Latest status report of every node, newest first'
BEGIN
  SELECT node, role, version, started_at, at, inflight, requests, errors, rate, last_error,
         TIMESTAMPDIFF(MICROSECOND, at, UTC_TIMESTAMP(3)) / 1e6 AS age_s
    FROM ms_node_status
   WHERE (p_role IS NULL OR role = p_role)
     AND (p_since IS NULL OR at >= p_since)
   ORDER BY at DESC, node
   LIMIT 10000;
END$$

-- sp_slg_log_batch: record a JSON array of log lines, each
-- {"id","at","node","level","msg","line"}; a repeated id is ignored.
DROP PROCEDURE IF EXISTS sp_slg_log_batch$$
CREATE PROCEDURE sp_slg_log_batch(
  IN p_lines LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci
)
  MODIFIES SQL DATA
  COMMENT 'Record a JSON array of node log lines (repeated ids are ignored)'
BEGIN
  INSERT IGNORE INTO ms_syslog (line_id, at, node, level, msg, line)
  SELECT j.line_id, j.at, LEFT(j.node, 128), LEFT(j.level, 8), LEFT(COALESCE(j.msg, ''), 1000), j.line
    FROM JSON_TABLE(p_lines, '$[*]' COLUMNS (
           line_id VARCHAR(64)  PATH '$.id',
           at      DATETIME(3)  PATH '$.at',
           node    TEXT         PATH '$.node',
           level   TEXT         PATH '$.level',
           msg     TEXT         PATH '$.msg',
           line    MEDIUMTEXT   PATH '$.line'
         )) AS j
   WHERE j.line_id IS NOT NULL AND j.at IS NOT NULL AND j.node IS NOT NULL AND j.line IS NOT NULL;
END$$

-- sp_slg_tail: the newest lines first, each filter NULL = any.
DROP PROCEDURE IF EXISTS sp_slg_tail$$
CREATE PROCEDURE sp_slg_tail(
  IN p_node     VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci,
  IN p_level    VARCHAR(8) CHARACTER SET ascii,
  IN p_since    DATETIME(3),
  IN p_max_rows INT
)
  READS SQL DATA
  COMMENT 'Newest node log lines first, filtered (NULL = any)'
BEGIN
  DECLARE v_limit INT DEFAULT LEAST(GREATEST(COALESCE(p_max_rows, 100), 1), 10000);
  SELECT id, at, node, level, msg, line
    FROM ms_syslog
   WHERE (p_node IS NULL OR node = p_node)
     AND (p_level IS NULL OR level = p_level)
     AND (p_since IS NULL OR at >= p_since)
   ORDER BY id DESC
   LIMIT v_limit;
END$$

-- sp_grf_minutes: template calls per minute from the log store, by template,
-- op and outcome (code NULL = OK), with mean and longest duration, the newest
-- minute first: read.grf answers a read's `limit` of these rows (100 unless
-- the request says), and a cut leaves out the oldest minutes, not the last
-- ones. p_since defaults to an hour ago; at most 24 hours and 10000 rows are
-- read.
DROP PROCEDURE IF EXISTS sp_grf_minutes$$
CREATE PROCEDURE sp_grf_minutes(
  IN p_since    DATETIME(3),
  IN p_until    DATETIME(3),
  IN p_template VARCHAR(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci,
  IN p_node     VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci
)
  READS SQL DATA
  COMMENT 'Requests per minute by template, op and outcome, from the log store'
BEGIN
  DECLARE v_until DATETIME(3) DEFAULT COALESCE(p_until, UTC_TIMESTAMP(3));
  DECLARE v_since DATETIME(3) DEFAULT GREATEST(COALESCE(p_since, v_until - INTERVAL 1 HOUR),
                                               v_until - INTERVAL 24 HOUR);
  -- A fan-out's successful parts are folded into its record ([logstore] fold_parts): each
  -- [n, template, op, call, ms, rows] of doc.parts counts as the call it was.
  SELECT DATE_FORMAT(r.at, '%Y-%m-%dT%H:%i:00Z') AS minute, r.template, r.op, r.outcome,
         COUNT(*) AS requests, ROUND(AVG(r.ms), 3) AS mean_ms, MAX(r.ms) AS max_ms
    FROM (
      SELECT at, template, op, COALESCE(code, 'OK') AS outcome, ms
        FROM ms_logs
       WHERE kind = 'request' AND action IN ('reply', 'dead_letter')
         AND at >= v_since AND at < v_until
         AND (p_template IS NULL OR template = p_template)
         AND (p_node IS NULL OR node = p_node)
      UNION ALL
      SELECT l.at, p.template, p.op, 'OK', p.ms
        FROM ms_logs l,
             JSON_TABLE(l.doc, '$.parts[*]' COLUMNS (
               n        VARCHAR(16) CHARACTER SET ascii PATH '$[0]' NULL ON ERROR,
               template VARCHAR(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci PATH '$[1]' NULL ON ERROR,
               op       VARCHAR(16) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci PATH '$[2]' NULL ON ERROR,
               ms       DOUBLE PATH '$[4]' NULL ON ERROR
             )) AS p
       -- Whatever the parent's outcome: stored unfolded, each part is a reply record of its own.
       -- Entries the readers skip (not [n, template, …]) are skipped here too.
       WHERE l.kind = 'request'
         AND l.at >= v_since AND l.at < v_until
         AND (p_node IS NULL OR l.node = p_node)
         AND JSON_CONTAINS_PATH(l.doc, 'one', '$.parts')
         AND p.n REGEXP '^[0-9]+$' AND p.template IS NOT NULL
         AND (p_template IS NULL OR p.template = p_template)
    ) AS r
   GROUP BY minute, r.template, r.op, r.outcome
   ORDER BY minute DESC, r.template, r.op, r.outcome
   LIMIT 10000;
END$$

-- sp_adm_purge: retention of the admin tables. Deletes system log lines older
-- than p_before (at most p_max_rows per call, in chunks of 10000) and forgets
-- nodes whose last report is older than p_before (stopped nodes, and nodes
-- restarted under a new instance id). Answers how many of each went. Run it
-- from a MariaDB event or cron, like sp_mst_purge.
DROP PROCEDURE IF EXISTS sp_adm_purge$$
CREATE PROCEDURE sp_adm_purge(IN p_before DATETIME(3), IN p_max_rows INT)
  MODIFIES SQL DATA
  COMMENT 'Delete system log lines and node reports older than p_before'
BEGIN
  DECLARE v_left INT DEFAULT GREATEST(COALESCE(p_max_rows, 100000), 0);
  DECLARE v_chunk INT;
  DECLARE v_n INT;
  DECLARE v_lines INT DEFAULT 0;
  DECLARE v_nodes INT DEFAULT 0;
  IF p_before IS NOT NULL THEN
    chunks: LOOP
      SET v_chunk = LEAST(v_left, 10000);
      IF v_chunk = 0 THEN LEAVE chunks; END IF;
      DELETE FROM ms_syslog WHERE at < p_before ORDER BY at LIMIT v_chunk;
      SET v_n = ROW_COUNT();
      SET v_lines = v_lines + v_n;
      SET v_left = v_left - v_chunk;
      IF v_n < v_chunk THEN LEAVE chunks; END IF;
    END LOOP;
    DELETE FROM ms_node_status WHERE at < p_before;
    SET v_nodes = ROW_COUNT();
  END IF;
  SELECT v_lines AS lines_deleted, v_nodes AS nodes_forgotten;
END$$

DELIMITER ;
