export { memberAddresses, metaserverConfigSchema } from './config.js';
export type { MetaserverConfig } from './config.js';
export { EXIT_FATAL, runMetaserver } from './main.js';
export { MetaserverProcess } from './server.js';
export * from './state/index.js';
export * from './schedule/index.js';
