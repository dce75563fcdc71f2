// The tfjs-layers model format (what tfjs-node's model.save('file://...') writes and what
// tfjs-converter writes for Keras models): `class_name`, snake_case config keys and string
// values, functional graphs as `inbound_nodes: [[[layer, node, tensor, kwargs], ...]]`.
// Our layers serialize in tfjs' TypeScript form (camelCase keys, {className, config}); this
// file maps between the two, both ways, with tfjs' own conversion rules.
import { POLICY_NAMES } from '../mixed_precision/policy.js';
import { InvalidArgumentError, describe } from '../errors.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Dict = { [k: string]: Json };
/** A serialized layer or model in our (TypeScript) form. */
export interface LayerSpecTs {
  className: string;
  config: Record<string, unknown>;
}

// ---- tfjs' name conversions (tfjs-layers utils/generic_utils and serialization_utils)

/** tfjs' toSnakeCase: 'kernelSize' -> 'kernel_size', 'channelsLast' -> 'channels_last'. */
export function toSnakeCase(s: string): string {
  const intermediate = s.replace(/(.)([A-Z][a-z0-9]+)/g, '$1_$2');
  const insecure = intermediate.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
  // tfjs prefixes 'private' to names starting with '_'; no config key of ours does.
  return insecure[0] !== '_' ? insecure : `private${insecure}`;
}

/** tfjs' toCamelCase: 'kernel_size' -> 'kernelSize'. */
export function toCamelCase(s: string): string {
  return s.replace(/[_-](.)/g, (_, c: string) => c.toUpperCase());
}

// Note [names in inbound nodes]: tfjs converts every string value, except layer names: the
// value of a 'name' key, a 'className', and the first entry of each reference in
// inbound_nodes / input_layers / output_layers. We follow it exactly so that a file means
// the same thing to tfjs and to us.
function isRefName(key: string | undefined, index: number, value: unknown): boolean {
  // kerasHistory: Keras 3's references inside inbound_nodes (tfjs itself predates them).
  return (key === 'inboundNodes' || key === 'inputLayers' || key === 'outputLayers' || key === 'kerasHistory') && index === 0 && typeof value === 'string';
}

/** tfjs' convertPythonicToTs: snake_case keys and string values to camelCase. */
export function pythonicToTs(v: unknown, key?: string): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return toCamelCase(v);
  if (typeof v === 'number' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return v.map((item, i) => (isRefName(key, i, item) ? item : pythonicToTs(item, key)));
  const out: Record<string, unknown> = {};
  for (const [k, value] of Object.entries(v as Record<string, unknown>)) {
    if (k === 'name' && typeof value === 'string') out[k] = value;
    else {
      const tsKey = toCamelCase(k);
      out[tsKey] = tsKey === 'className' && typeof value === 'string' ? value : pythonicToTs(value, tsKey);
    }
  }
  return out;
}

/** tfjs' convertTsToPythonic: camelCase keys and string values to snake_case. */
export function tsToPythonic(v: unknown, key?: string): Json {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return toSnakeCase(v);
  if (typeof v === 'number' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return v.map((item, i) => (isRefName(key, i, item) ? (item as string) : tsToPythonic(item, key)));
  const out: Dict = {};
  for (const [k, value] of Object.entries(v as Record<string, unknown>)) {
    if ((k === 'name' || k === 'className') && typeof value === 'string') out[toSnakeCase(k)] = value;
    else out[toSnakeCase(k)] = tsToPythonic(value, k);
  }
  return out;
}

// ---- our topology -> tfjs

type Ref = [string, number, number];
interface OurNode {
  args: Ref[];
  single?: boolean;
  kwargs?: Record<string, unknown>;
}
const MODEL_CLASSES = new Set(['Sequential', 'Functional', 'Model']);

function toTfjsShape(spec: LayerSpecTs): Record<string, unknown> {
  if (spec.className === 'Sequential') {
    const layers = ((spec.config.layers as LayerSpecTs[]) ?? []).map(toTfjsShape) as Array<{ className: string; config: Record<string, unknown> }>;
    // Note [Sequential input]: tfjs and Keras 2 put the input shape on the first layer
    // (batch_input_shape) rather than listing an InputLayer; we write it their way.
    if (layers.length > 1 && layers[0].className === 'InputLayer') {
      const input = layers.shift()!.config;
      const first = layers[0];
      first.config = { ...first.config };
      if (first.config.batchInputShape === undefined) first.config.batchInputShape = input.batchInputShape;
      if (first.config.dtype === undefined) first.config.dtype = input.dtype;
    }
    return { className: 'Sequential', config: { ...spec.config, layers } };
  }
  if (spec.className === 'Functional') {
    const layers = (spec.config.layers as Array<LayerSpecTs & { name?: string; inboundNodes?: OurNode[] }>).map((l) => {
      const inner = toTfjsShape({ className: l.className, config: l.config });
      const nodes = (l.inboundNodes ?? []).map((n) => n.args.map((r) => [r[0], r[1], r[2], n.kwargs ?? {}]));
      return { name: l.name ?? l.config.name, className: inner.className, config: inner.config, inboundNodes: nodes };
    });
    return { className: 'Model', config: { ...spec.config, layers } };
  }
  return { className: spec.className, config: spec.config };
}

/** Our serialized model as a tfjs-layers modelTopology (class_name, snake_case). */
export function topologyToTfjs(spec: LayerSpecTs): Json {
  const normalized = JSON.parse(JSON.stringify(toTfjsShape(spec))) as unknown;
  return tsToPythonic(normalized);
}

/**
 * Whether topologyFromTfjs(topologyToTfjs(spec)) gives spec's layers back exactly. tfjs'
 * string conversion is lossy for values such as 'NHWC' or 'my_value' (they come back
 * 'nhwc', 'myValue'); saveModel keeps our own copy of the topology when it is.
 */
export function tfjsRoundTripIsExact(spec: LayerSpecTs): boolean {
  const shaped = JSON.parse(JSON.stringify(toTfjsShape(spec))) as unknown;
  return JSON.stringify(pythonicToTs(tsToPythonic(shaped))) === JSON.stringify(shaped);
}

// ---- tfjs / Keras -> our topology

/** Names of nested config entries that tfjs and Keras write but our layers do not apply. */
const UNAPPLIED = ['kernelRegularizer', 'biasRegularizer', 'activityRegularizer', 'betaRegularizer', 'gammaRegularizer', 'depthwiseRegularizer',
  'pointwiseRegularizer', 'kernelConstraint', 'biasConstraint', 'betaConstraint', 'gammaConstraint', 'depthwiseConstraint', 'pointwiseConstraint'];

/** What fromTfjs dropped: regularizers and constraints, which matter to training only. */
export interface Dropped {
  layer: string;
  key: string;
  className: string;
}

function layerConfigFromTfjs(className: string, config: Record<string, unknown>, file: string, dropped: Dropped[]): Record<string, unknown> {
  const c: Record<string, unknown> = { ...config };
  // Keras 3 writes dtype as a DTypePolicy object and the input shape as batch_shape.
  const dt = c.dtype as { className?: string; config?: { name?: string } } | undefined;
  if (dt && typeof dt === 'object') c.dtype = dt.config?.name ?? 'float32';
  // Dtype policies load as they are (mixed_bfloat16, mixed_float16, ...); float64 does not.
  if (c.dtype !== undefined && c.dtype !== null && !POLICY_NAMES.includes(c.dtype as string))
    throw new InvalidArgumentError(`loadLayersModel: expected layer '${String(c.name)}' of dtype ${POLICY_NAMES.map((n) => `'${n}'`).join(', ')} in '${file}' but received '${String(c.dtype)}'`);
  if (c.batchShape !== undefined && c.batchInputShape === undefined) c.batchInputShape = c.batchShape;
  delete c.batchShape;
  for (const k of UNAPPLIED) {
    const v = c[k] as { className?: string } | null | undefined;
    if (v !== null && v !== undefined) dropped.push({ layer: String(c.name ?? className), key: k, className: String(v.className ?? describe(v)) });
    delete c[k];
  }
  return c;
}

/** A Keras 3 node argument: {class_name: '__keras_tensor__', config: {keras_history: [layer, node, tensor]}}. */
function kerasTensorRef(t: unknown): Ref | undefined {
  const h = (t as { className?: string; config?: { kerasHistory?: unknown } })?.config?.kerasHistory;
  if ((t as { className?: string })?.className !== '__keras_tensor__' || !Array.isArray(h)) return undefined;
  return typeof h[0] === 'string' && Number.isInteger(h[1]) && Number.isInteger(h[2]) ? [h[0], h[1] as number, h[2] as number] : undefined;
}

function nodeFromTfjs(node: unknown, layer: string, file: string): OurNode {
  const bad = () =>
    new InvalidArgumentError(
      `loadLayersModel: expected inbound nodes of layer '${layer}' in '${file}' as [[layerName, nodeIndex, tensorIndex, kwargs], ...] (or Keras 3's {args, kwargs}) but received ${JSON.stringify(node).slice(0, 160)}`,
    );
  // Keras 3: {args: [tensor] or [[tensor, ...]], kwargs}
  if (node && typeof node === 'object' && !Array.isArray(node)) {
    const n = node as { args?: unknown[]; kwargs?: Record<string, unknown> };
    if (!Array.isArray(n.args) || n.args.length < 1) throw bad();
    const list = Array.isArray(n.args[0]);
    const refs = (list ? (n.args[0] as unknown[]) : n.args.slice(0, 1)).map(kerasTensorRef);
    if (refs.some((r) => !r)) throw bad();
    return { args: refs as Ref[], single: !list, kwargs: n.kwargs ?? {} };
  }
  // tfjs / Keras 2: [[name, nodeIndex, tensorIndex, kwargs?], ...]
  if (!Array.isArray(node) || !node.every((e) => Array.isArray(e) && typeof e[0] === 'string' && Number.isInteger(e[1]) && Number.isInteger(e[2]))) throw bad();
  const entries = node as Array<[string, number, number, Record<string, unknown>?]>;
  return { args: entries.map((e) => [e[0], e[1], e[2]]), single: entries.length === 1, kwargs: (entries[0]?.[3] as Record<string, unknown>) ?? {} };
}

/** input_layers / output_layers: a list of references, or Keras 3's single flat one. */
function refList(v: unknown): unknown {
  return Array.isArray(v) && typeof v[0] === 'string' ? [v] : v;
}

function specFromTfjs(spec: Record<string, unknown>, file: string, dropped: Dropped[]): LayerSpecTs {
  const className = spec.className;
  if (typeof className !== 'string')
    throw new InvalidArgumentError(`loadLayersModel: expected a layer with a class_name in '${file}' but received ${JSON.stringify(spec).slice(0, 120)}`);
  const config = (spec.config ?? {}) as Record<string, unknown>;
  if (className === 'Sequential') {
    const list = Array.isArray(config) ? config : config.layers;
    if (!Array.isArray(list)) throw new InvalidArgumentError(`loadLayersModel: expected a Sequential config with layers in '${file}' but received ${describe(config)}`);
    return { className, config: { ...(Array.isArray(config) ? {} : config), layers: list.map((l) => specFromTfjs(l as Record<string, unknown>, file, dropped)) } };
  }
  if (className === 'Model' || className === 'Functional') {
    const layers = config.layers;
    if (!Array.isArray(layers)) throw new InvalidArgumentError(`loadLayersModel: expected a functional config with layers in '${file}' but received ${describe(config)}`);
    return {
      className: 'Functional',
      config: {
        ...config,
        inputLayers: refList(config.inputLayers),
        outputLayers: refList(config.outputLayers),
        layers: (layers as Array<Record<string, unknown>>).map((l) => {
          const inner = specFromTfjs(l, file, dropped);
          const name = (l.name ?? inner.config.name) as string;
          return { ...inner, name, inboundNodes: ((l.inboundNodes as unknown[]) ?? []).map((n) => nodeFromTfjs(n, name, file)) };
        }),
      },
    };
  }
  return { className, config: layerConfigFromTfjs(className, config, file, dropped) };
}

/**
 * A tfjs-layers modelTopology (as tfjs-node saves it, or tfjs-converter's Keras form with
 * keras_version and model_config) as our serialized model. Regularizers and constraints,
 * which our layers do not apply, are listed in `dropped`.
 */
export function topologyFromTfjs(topology: unknown, file: string): { spec: LayerSpecTs; dropped: Dropped[] } {
  let t = topology as Record<string, unknown>;
  if (t && typeof t === 'object' && t.model_config && typeof t.model_config === 'object') t = t.model_config as Record<string, unknown>;
  if (!t || typeof t !== 'object' || typeof t.class_name !== 'string')
    throw new InvalidArgumentError(`loadLayersModel: expected a modelTopology with a class_name in '${file}' but received ${describe(topology)}`);
  if (!MODEL_CLASSES.has(t.class_name))
    throw new InvalidArgumentError(`loadLayersModel: expected a Sequential or functional model topology in '${file}' but received class_name '${t.class_name}'`);
  const dropped: Dropped[] = [];
  return { spec: specFromTfjs(pythonicToTs(t) as Record<string, unknown>, file, dropped), dropped };
}

/** Whether a modelTopology is in the tfjs-layers (Keras) form rather than our earlier camelCase form. */
export function isTfjsTopology(topology: unknown): boolean {
  const t = topology as Record<string, unknown> | null;
  return !!t && typeof t === 'object' && (typeof t.class_name === 'string' || (!!t.model_config && typeof t.model_config === 'object'));
}
