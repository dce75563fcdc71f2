// Ready-made datasets (exported as `datasets`).
export * as fashionMnist from './fashionMnist.js';
export { sampleImages } from './sampleImages.js';
export type { SampleImages, SampleImagesOptions } from './sampleImages.js';
