// Layer class registry for model.json: built-in layers register here, user layers with
// registerLayer(MyLayer), so a saved model can be loaded back.
import { InvalidArgumentError } from '../errors.js';
import { Layer } from './base.js';

type LayerClass = (new (args: never) => Layer) & { className: string; fromConfig?: (config: Record<string, unknown>) => Layer };

const registry = new Map<string, LayerClass>();

/** Registers a Layer subclass under its static className (or constructor name), for loading. */
export function registerLayer(cls: LayerClass, name?: string): void {
  const key = name ?? (Object.prototype.hasOwnProperty.call(cls, 'className') ? cls.className : cls.name);
  registry.set(key, cls);
}

/** The class registered under name, or an error listing what is known. */
export function getLayerClass(name: string): LayerClass {
  const cls = registry.get(name);
  if (!cls)
    throw new InvalidArgumentError(
      `loadLayersModel: expected a registered layer class but received '${name}' (register custom layers with registerLayer(${name}) before loading)`,
    );
  return cls;
}

/** {className, config} of a layer. */
export function serializeLayer(layer: Layer): { className: string; config: Record<string, unknown> } {
  return { className: layer.getClassName(), config: layer.getConfig() };
}

/** A new layer from {className, config}. */
export function deserializeLayer(spec: { className: string; config: Record<string, unknown> }): Layer {
  const cls = getLayerClass(spec.className);
  const from = (cls as unknown as { fromConfig?: (c: Record<string, unknown>) => Layer }).fromConfig;
  return from ? from.call(cls, { ...spec.config }) : new cls({ ...spec.config } as never);
}
