// The notebook's image pipelines by name, in a module without the addon, so the CLI can
// validate `train <pipeline>` (and print --help) where the native addon cannot load.

/** The pipelines runImagePipeline() runs (`cudnn-node train <pipeline>`). */
export const IMAGE_PIPELINES = ['preprocessing', 'resnet34', 'transfer', 'localization'] as const;

/** One of IMAGE_PIPELINES. */
export type ImagePipeline = (typeof IMAGE_PIPELINES)[number];
