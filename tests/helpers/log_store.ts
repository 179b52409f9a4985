/**
 * A test env's MariaDB log store, opened as a node opens it: to write rows to it directly, or
 * request events as a node's sink does (fan-out parts folded into their parent's record or not),
 * and a pair of envs holding the same events both ways.
 *
 * @module
 */
import { createMariadbAdapter } from "../../src/adapters/mod.ts";
import { silentLogger } from "../../src/logging/mod.ts";
import {
  createBatchWriter,
  createLogStore,
  createLogStoreSink,
  eventsIn,
  loadLogStoreTemplate,
  type LogEvent,
  type LogRow,
} from "../../src/logstore/mod.ts";
import { createTestEnv, ROOT, type TestEnv } from "./services.ts";

/** Runs `work` with the env's log store opened as a node opens it. */
export async function withLogStore<T>(
  env: TestEnv,
  work: (store: ReturnType<typeof createLogStore>) => Promise<T>,
): Promise<T> {
  const adapter = createMariadbAdapter({ config: env.config.databases.mariadb!, logger: silentLogger() });
  await adapter.open();
  try {
    const template = await loadLogStoreTemplate({
      dir: `${ROOT}/templates/logstore`,
      store: "mariadb",
      database: "lab",
    });
    return await work(createLogStore({ adapter, template }));
  } finally {
    await adapter.close();
  }
}

/** Writes `events` to the env's log store as a node's sink does, a fan-out's parts folded or not. */
export function recordEvents(env: TestEnv, events: readonly LogEvent[], fold: boolean): Promise<void> {
  return withLogStore(env, async (store) => {
    const writer = createBatchWriter<LogRow>({
      write: (rows) => store.write(rows),
      batchSize: 100,
      flushMs: 60_000,
      capacity: 1000,
      weight: eventsIn,
    });
    const sink = createLogStoreSink({ writer, sampleRate: 1, newId: () => "s", foldParts: fold });
    for (const event of events) sink.emit(event);
    await writer.close();
  });
}

/**
 * Runs `work` with two envs (`extraToml` added to their config) whose log stores hold `events`:
 * `envOf(true)`'s with each fan-out's parts folded into their parent's record, `envOf(false)`'s with
 * a record each; cleans both up.
 */
export async function withFoldedAndNot(
  extraToml: string,
  events: readonly LogEvent[],
  work: (envOf: (fold: boolean) => TestEnv) => Promise<void>,
): Promise<void> {
  const envs = new Map<boolean, TestEnv>();
  try {
    for (const fold of [true, false]) {
      const env = await createTestEnv({ extraToml });
      envs.set(fold, env);
      await recordEvents(env, events, fold);
    }
    await work((fold) => envs.get(fold)!);
  } finally {
    for (const env of envs.values()) await env.cleanup();
  }
}
