// Dtype policies (Keras' keras.mixed_precision): a policy names the dtype a layer computes
// in and the dtype its variables are stored in. 'mixed_bfloat16' and 'mixed_float16' keep
// variables in float32 and compute in the 2-byte type; 'float32' (the default), 'bfloat16',
// 'float16' (and 'int32', 'bool' for layers that take them) use one dtype for both.
// setGlobalPolicy() sets the policy of every layer created afterwards that names none.
import { InvalidArgumentError, describe } from '../errors.js';
import type { DType } from '../tensor.js';

/** A policy name: a mixed policy or a plain dtype. */
export type PolicyName = 'mixed_bfloat16' | 'mixed_float16' | DType;

const MIXED: Record<string, DType> = { mixed_bfloat16: 'bfloat16', mixed_float16: 'float16' };
const PLAIN: readonly string[] = ['float32', 'bfloat16', 'float16', 'int32', 'bool'];

/** The policy names setGlobalPolicy() and a layer's `dtype` option take, for messages. */
export const POLICY_NAMES: readonly string[] = ['mixed_bfloat16', 'mixed_float16', ...PLAIN];

/** A layer's dtype policy (Keras DTypePolicy): its compute dtype and its variables' dtype. */
export class DTypePolicy {
  /** The policy's name ('mixed_bfloat16', 'float32', ...). */
  readonly name: PolicyName;
  /** The dtype the layer's inputs are cast to and its computations run in. */
  readonly computeDtype: DType;
  /** The dtype of the layer's variables (float32 under the mixed policies). */
  readonly variableDtype: DType;

  constructor(name: string) {
    if (typeof name !== 'string' || !POLICY_NAMES.includes(name))
      throw new InvalidArgumentError(`DTypePolicy: expected a policy name (${POLICY_NAMES.map((n) => `'${n}'`).join(', ')}) but received ${describe(name)}`);
    this.name = name as PolicyName;
    this.computeDtype = MIXED[name] ?? (name as DType);
    this.variableDtype = MIXED[name] ? 'float32' : (name as DType);
  }

  /** Whether compute and variable dtypes differ (a mixed policy). */
  get isMixed(): boolean {
    return this.computeDtype !== this.variableDtype;
  }

  toString(): string {
    return `<DTypePolicy "${this.name}">`;
  }
}

let globalPolicyValue = new DTypePolicy('float32');

/**
 * Sets the policy of layers created from now on that are given no `dtype`
 * (keras.mixed_precision.set_global_policy). Layers already created keep theirs.
 */
export function setGlobalPolicy(policy: string | DTypePolicy): void {
  globalPolicyValue = policy instanceof DTypePolicy ? policy : toPolicy(policy, 'setGlobalPolicy', 'policy');
}

/** The global policy (keras.mixed_precision.global_policy); 'float32' unless set. */
export function globalPolicy(): DTypePolicy {
  return globalPolicyValue;
}

/**
 * A policy from what a layer's `dtype` option may hold: a policy name or dtype, a
 * DTypePolicy, or Keras 3's serialized form {class_name: 'DTypePolicy', config: {name}}.
 */
export function toPolicy(v: unknown, op: string, arg = 'dtype'): DTypePolicy {
  if (v instanceof DTypePolicy) return v;
  const serialized = (v as { config?: { name?: unknown } } | null)?.config?.name;
  const name = typeof v === 'object' && v !== null && serialized !== undefined ? serialized : v;
  if (typeof name === 'string' && POLICY_NAMES.includes(name)) return new DTypePolicy(name);
  throw new InvalidArgumentError(`${op}: expected ${arg} as a policy name or dtype (${POLICY_NAMES.map((n) => `'${n}'`).join(', ')}) but received ${describe(v)}`);
}

/** The --precision names of the command line and the pipelines. */
export type Precision = 'fp32' | 'bf16' | 'fp16';
const PRECISION_POLICY: Record<Precision, PolicyName> = { fp32: 'float32', bf16: 'mixed_bfloat16', fp16: 'mixed_float16' };

/** The policy a precision trains with: fp32 'float32', bf16 'mixed_bfloat16', fp16 'mixed_float16'. */
export function precisionPolicy(precision: unknown, op: string): PolicyName {
  if (typeof precision !== 'string' || !(precision in PRECISION_POLICY))
    throw new InvalidArgumentError(`${op}: expected precision 'fp32', 'bf16' or 'fp16' but received ${describe(precision)}`);
  return PRECISION_POLICY[precision as Precision];
}

/** Runs fn with the global policy set to `policy` (restored afterwards, also when fn fails). */
export async function withGlobalPolicy<T>(policy: string, fn: () => Promise<T>): Promise<T> {
  const prev = globalPolicyValue;
  setGlobalPolicy(policy);
  try {
    return await fn();
  } finally {
    globalPolicyValue = prev;
  }
}
