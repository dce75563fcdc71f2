// tf.data-style input pipelines (exported as `data`).
export { Dataset, fromTensors, array, generator, seededRng } from './dataset.js';
export type { Element } from './dataset.js';
export { imageFolder, decodeImage, parseSplit } from './imageFolder.js';
export type { ImageFolderOptions, ImageFolderDataset, DecodeImageOptions } from './imageFolder.js';
