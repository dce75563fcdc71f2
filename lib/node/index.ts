// tf.node: what tfjs-node adds beside the core API: image codecs and TensorBoard logging.
export { decodeBmp, decodeGif, decodeImage, decodeJpeg, decodePng, encodeJpeg, encodePng, getImageType, ImageType } from './image.js';
export { summaryFileWriter, SummaryFileWriter, tensorBoard, TensorBoardCallback } from './tensorboard.js';
export type { TensorBoardCallbackArgs } from './tensorboard.js';
