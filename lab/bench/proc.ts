/**
 * Process accounting from Linux `/proc`: CPU time (user + system, all
 * threads, including threads that already exited) and resident memory.
 * Every process of a run (BEDS node, raw services, the bench itself) is
 * measured the same way.
 *
 * @module
 */

/** Clock ticks per second of `/proc/<pid>/stat` (`getconf CLK_TCK`; 100 on Linux x86-64). */
const CLK_TCK = 100;

/** CPU time used so far by `pid` (or this process), in microseconds. */
export function cpuMicros(pid: number | "self" = "self"): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  // The command name (field 2) may hold spaces and parentheses: split after its last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime and stime are fields 14 and 15 of the full line, 12 and 13 after the name.
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks * (1_000_000 / CLK_TCK);
}

/** Resident set size of `pid` (or this process) in KiB; 0 if it is gone. */
export function rssKiB(pid: number | "self" = "self"): number {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/** Sums CPU time over several processes; a process that is gone counts 0. */
export function cpuMicrosOf(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      total += cpuMicros(pid);
    } catch {
      // exited: its time is no longer readable
    }
  }
  return total;
}

/** Load average over the last minute and the number of CPUs, for the run's conditions. */
export function machineLoad(): { load1: number; cpus: number } {
  const load1 = Number(Deno.readTextFileSync("/proc/loadavg").split(" ")[0]);
  return { load1, cpus: navigator.hardwareConcurrency };
}

/**
 * The longest-running process whose command name (`/proc/<pid>/comm`) is
 * `name`, e.g. the RabbitMQ server among `beam.smp` processes (each
 * `rabbitmqctl` call starts a short-lived one too); undefined if none.
 */
export function oldestPidNamed(name: string): number | undefined {
  let best: { pid: number; start: number } | undefined;
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      if (Deno.readTextFileSync(`/proc/${entry.name}/comm`).trim() !== name) continue;
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      // starttime is field 22 of the full line, 20 after the command name.
      const start = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
      if (!best || start < best.start) best = { pid: Number(entry.name), start };
    } catch {
      // exited while listing
    }
  }
  return best?.pid;
}

/** Sends SIGTERM to `child` unless it has exited, SIGKILL after `timeoutMs`; resolves once it is gone. */
export async function terminate(child: Deno.ChildProcess, timeoutMs: number): Promise<Deno.CommandStatus> {
  const signal = (name: Deno.Signal) => {
    try {
      child.kill(name);
    } catch {
      // already gone
    }
  };
  signal("SIGTERM");
  const timer = setTimeout(() => signal("SIGKILL"), timeoutMs);
  try {
    return await child.status;
  } finally {
    clearTimeout(timer);
  }
}
