// tf.data-style input pipelines (exported as `data`).
export { Dataset, fromTensors, array, generator, seededRng } from './dataset.js';
export type { Element } from './dataset.js';
export { csv, CSVDataset, parseCsvLine } from './csv.js';
export type { CSVConfig, ColumnConfig, CSVRow } from './csv.js';
export { zip } from './zip.js';
export type { DatasetContainer } from './zip.js';
export { imageFolder, decodeImage, parseSplit } from './imageFolder.js';
export type { ImageFolderOptions, ImageFolderDataset, DecodeImageOptions } from './imageFolder.js';
