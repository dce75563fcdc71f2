// The tfjs-node reference (TensorFlow's own CPU kernels) for parity tests. It must be
// installed (scripts/install-tfjs-node.sh); a missing reference fails the suite, it never skips.
import type * as TF from '@tensorflow/tfjs-node';

let cached: typeof TF | undefined;

export async function loadTfjs(): Promise<typeof TF> {
  if (cached) return cached;
  try {
    cached = (await import('@tensorflow/tfjs-node')) as unknown as typeof TF;
  } catch (e) {
    throw new Error(
      `tfjs-node (the parity reference) could not be loaded: ${(e as Error).message}\n` +
        'Install it offline with: npm ci --ignore-scripts && bash scripts/install-tfjs-node.sh',
    );
  }
  return cached;
}
