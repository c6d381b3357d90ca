export { checkLayering, LAYER_RULES } from './layering.js';
export type { Violation } from './layering.js';
export { errnoOf } from './errors.js';
export { readmeShows, captureLog } from './readme.js';
