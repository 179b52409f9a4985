/**
 * What a node sends to the admin role over the admin exchange: status
 * reports (`create.nst`) and its warn and error log lines (`call.slg`); the
 * log store over AMQP is in ../logstore/amqp_store.ts.
 *
 * @module
 */
export { type NodeReport, type NodeSelf, reportOf, type ReportsOptions, startReports } from "./reports.ts";
export {
  createSyslogShipper,
  SHIPPING_FAILED,
  type SyslogLine,
  type SyslogSend,
  type SyslogShipper,
  type SyslogShipperOptions,
  toSyslogLine,
} from "./syslog.ts";
