/**
 * The `admin_link` IPL step: one reconnecting client on the admin exchange
 * for what this node sends to the admin role: status reports
 * (`[admin] report_ms`), its warn and error log lines (`[admin] syslog`) and
 * its log store records (`[logstore] store = "admin"`). A node that sends
 * none of them opens nothing.
 *
 * @module
 */
import { adminExchangeName } from "../amqp/mod.ts";
import { createReconnectingClient } from "../client/mod.ts";
import { reportOf, SHIPPING_FAILED, startReports } from "../admin/mod.ts";
import { VERSION } from "../version.ts";
import { nodeStatus } from "./broker_pool.ts";
import type { IplContext } from "./context.ts";
import type { StepOutcome } from "./runner.ts";

/** Opens the admin link and starts the reports and the system log shipping. */
export async function openAdminLink(ctx: IplContext): Promise<StepOutcome> {
  const { config, logger } = ctx;
  const sends = [
    config.admin.report_ms > 0 ? `status every ${config.admin.report_ms} ms` : "",
    ctx.syslog ? "warn/error log lines" : "",
    config.logstore.store === "admin" ? "log store records" : "",
  ].filter(Boolean);
  if (!sends.length) return { detail: "nothing to send to the admin role" };
  const link = createReconnectingClient({
    amqp: config.amqp,
    name: `beds admin-link ${ctx.role} ${ctx.instance}`,
    exchange: adminExchangeName(config.amqp.exchange),
    confirm: true,
    logger,
  });
  await link.open();
  ctx.adminLink = link;
  ctx.syslog?.attach((lines) =>
    link.send({ template: "slg", op: "call", call: "log_batch", data: { lines } })
  );
  let reportFailing = false;
  const reports = config.admin.report_ms > 0
    ? startReports({
      everyMs: config.admin.report_ms,
      report: () => reportOf(nodeStatus(ctx), VERSION),
      send: async (report) => {
        await link.send({ template: "nst", op: "create", data: { ...report } });
        if (reportFailing) logger.info("status reports reach the admin role again");
        reportFailing = false;
      },
      // Once per outage, not every report: no admin node may be running at all.
      onError: (error) => {
        if (!reportFailing) logger.warn({ err: (error as Error).message }, "status report not sent");
        reportFailing = true;
      },
    })
    : undefined;
  return {
    detail: `${sends.join(", ")} to ${adminExchangeName(config.amqp.exchange)}`,
    undo: async () => {
      reports?.stop();
      await ctx.syslog?.close(2000);
      ctx.adminLink = undefined;
      await link.close();
    },
  };
}

/**
 * The system log shipper's failure report (never shipped itself). A node may run with no admin
 * node at all, so a drop is warned of at most once a minute, with the lines dropped in between;
 * a failed attempt that will be retried is not reported. `beds status` counts every drop.
 */
export function syslogFailure(ctx: Pick<IplContext, "logger">, now: () => number = Date.now) {
  let lastWarn = -Infinity;
  let unreported = 0;
  return (error: unknown, info: { size: number; attempt: number; dropped: boolean }) => {
    if (!info.dropped) return;
    if (now() - lastWarn < 60_000) {
      unreported += info.size;
      return;
    }
    ctx.logger.warn(
      { err: (error as Error).message, lines: info.size, droppedBefore: unreported },
      SHIPPING_FAILED,
    );
    lastWarn = now();
    unreported = 0;
  };
}
