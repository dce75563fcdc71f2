// cn.mixedPrecision: Keras' mixed-precision API (docs/mixed-precision.md).
export { DTypePolicy, setGlobalPolicy, globalPolicy, POLICY_NAMES, precisionPolicy } from './policy.js';
export type { PolicyName, Precision } from './policy.js';
