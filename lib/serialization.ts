// tf.serialization: tfjs' name for registering custom classes so saved models load them back.
import { registerLayer } from './layers/serialization.js';
import type { Layer } from './layers/base.js';

/**
 * tf.serialization.registerClass(cls): registers a custom Layer class under its static
 * className (or its name), as registerLayer() does, so loadLayersModel() can rebuild it.
 */
export function registerClass<T extends abstract new (...args: never[]) => Layer>(cls: T, name?: string): T {
  registerLayer(cls as never, name);
  return cls;
}
