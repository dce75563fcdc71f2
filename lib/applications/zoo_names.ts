// The zoo's architecture names, oldest first, in a module without the addon, so the CLI can
// validate `--models` (and print --help) where the native addon cannot load.

/** Names of the model zoo's architectures (the `applications` builders), oldest first. */
export const ZOO_NAMES = ['lenet5', 'alexnet', 'vgg16', 'vgg19', 'googlenet', 'resnet18', 'resnet34', 'resnet50', 'resnet101', 'resnet152', 'seResNet50'] as const;

/** One of ZOO_NAMES. */
export type ZooName = (typeof ZOO_NAMES)[number];
