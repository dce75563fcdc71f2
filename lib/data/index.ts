// tf.data-style input pipelines (exported as `data`).
export { Dataset, fromTensors, array, generator, seededRng } from './dataset.js';
export type { Element } from './dataset.js';
