export { nodeConfigSchema } from './config.js';
export type { NodeConfig } from './config.js';
