export { metaserverConfigSchema } from './config.js';
export type { MetaserverConfig } from './config.js';
