// Test configuration. TF_ENABLE_ONEDNN_OPTS=0: TensorFlow 2.21's oneDNN path returns wrong
// conv2d input gradients for 1-channel filters, and tfjs-node is our parity reference.
import { defineConfig } from 'vitest/config';

process.env.TF_ENABLE_ONEDNN_OPTS ??= '0';
process.env.TF_CPP_MIN_LOG_LEVEL ??= '3';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results.json' },
  },
});
