/**
 * The logging the proxy needs: the pino-compatible subset (`log.info({ fields }, 'msg')`),
 * so the process passes its `createLogger` logger and tests pass nothing.
 */
export interface ProxyLogger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

const ignore = (): void => undefined;

export const SILENT_LOGGER: ProxyLogger = Object.freeze({ debug: ignore, info: ignore, warn: ignore, error: ignore });
