export { proxyConfigSchema } from './config.js';
export type { ProxyConfig } from './config.js';
