/** The logging surface the value log and the engine need; a pino Logger satisfies it. */
export interface VlogLogger {
  info(o: object, m?: string): void;
  warn(o: object, m?: string): void;
  error(o: object, m?: string): void;
}
