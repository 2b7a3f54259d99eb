/**
 * The life of a long-running Shoal process (node, metaserver): start, run until
 * SIGTERM/SIGINT or a fatal storage failure, stop within a bounded time.
 *
 * Signal handlers are installed before `start` runs, so a signal that arrives while the
 * process is still starting (a node waiting for the metaserver to register it, a WAL
 * replay) stops it cleanly once start finishes instead of killing it with the default
 * action; a start that does not finish within `shutdownTimeoutMs` after the signal is cut
 * short (every durable structure is crash-safe, so that loses nothing acknowledged).
 */

export const EXIT_OK = 0;
export const EXIT_FATAL = 1;

/** What `runService` needs from a started process. */
export interface RunningService {
  /** Settles when a storage failure makes it unsafe to continue. */
  readonly fatal: Promise<unknown>;
  stop(): Promise<void>;
  readonly logger: { info(obj: object, msg: string): void; error(obj: object, msg: string): void };
}

export interface ServiceMainOptions<S extends RunningService> {
  /** For the "cannot start" line on stderr, e.g. `shoal node`. */
  readonly name: string;
  readonly start: () => Promise<S>;
  readonly shutdownTimeoutMs: number;
  /** Injectable for tests; defaults to the process. */
  readonly signals?: Pick<NodeJS.Process, 'once' | 'removeListener'>;
  readonly exit?: (code: number) => void;
}

/** Runs the service; resolves with the process exit code. */
export async function runService<S extends RunningService>(o: ServiceMainOptions<S>): Promise<number> {
  const proc = o.signals ?? process;
  const exit = o.exit ?? ((code: number) => process.exit(code));
  let onSignal: (signal: string) => void = () => undefined;
  const signalled = new Promise<string>((resolve) => { onSignal = resolve; });
  proc.once('SIGTERM', onSignal);
  proc.once('SIGINT', onSignal);

  let server: S;
  let started = false;
  try {
    const starting = o.start();
    // A signal during start: give start the shutdown budget, then leave without it.
    void signalled.then(() => setTimeout(() => { if (!started) exit(EXIT_OK); }, o.shutdownTimeoutMs).unref());
    server = await starting;
    started = true;
  } catch (e) {
    console.error(`${o.name}: cannot start: ${e instanceof Error ? e.message : String(e)}`);
    return EXIT_FATAL;
  }
  const outcome = await Promise.race([
    signalled.then((signal) => ({ kind: 'signal' as const, signal })),
    server.fatal.then(() => ({ kind: 'fatal' as const })),
  ]);
  if (outcome.kind === 'signal') server.logger.info({ signal: outcome.signal }, 'shutting down');
  const code = outcome.kind === 'fatal' ? EXIT_FATAL : EXIT_OK;
  // Whatever still holds the event loop after a bounded shutdown must not keep us alive.
  setTimeout(() => exit(code), o.shutdownTimeoutMs + 1000).unref();
  await Promise.race([
    server.stop().catch((e: unknown) => server.logger.error({ err: e }, 'shutdown failed')),
    new Promise((resolve) => setTimeout(resolve, o.shutdownTimeoutMs).unref()),
  ]);
  proc.removeListener('SIGTERM', onSignal);
  proc.removeListener('SIGINT', onSignal);
  return code;
}
