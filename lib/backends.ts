// backends() and doctor(): what is compiled in, what can run here, and why not.
import { getCudaOptions } from './cuda_options.js';
import { fusionEnabled } from './compiler/fusion.js';
import * as native from './native.js';
import type { NativeBackendInfo } from './native.js';

export type BackendInfo = NativeBackendInfo;

/** Every backend with compiled/available flags; for cuda, the reason it cannot run. */
export function backends(): BackendInfo[] {
  return native.backends();
}

/** A human-readable report of the backends (`npx cudnn-node doctor`). */
export function doctor(): string {
  const lines: string[] = [];
  for (const b of backends()) {
    lines.push(`${b.name}: ${b.available ? 'available' : 'not available'}${b.compiled ? '' : ' (not compiled in)'}`);
    if (b.library) lines.push(`  library: ${b.library}`);
    const rp = b.reducedPrecision;
    if (rp && b.compiled) lines.push(`  bfloat16: ${rp.bfloat16}, float16: ${rp.float16}${rp.isa ? ` (ISA ${rp.isa})` : ''}`);
    if (b.name === 'cuda') {
      if (!b.available && b.reason) lines.push(`  reason: ${b.reason}`);
      if (b.deviceName) lines.push(`  device: ${b.deviceName} (compute capability ${b.computeCapability})`);
      if (b.cudnnVersion) lines.push(`  cuDNN: ${b.cudnnVersion} at ${b.cudnnPath}`);
      if (b.cublasVersion) lines.push(`  cuBLAS: ${b.cublasVersion} at ${b.cublasPath}`);
      if (b.compiled && !b.available && !b.cudnnVersion && !b.cublasVersion) {
        // Stopped before the libraries (no driver or device): say whether they would load.
        const l = native.cudaLibraries();
        lines.push(`  cuDNN: ${l.cudnn.ok ? `${l.cudnn.version} at ${l.cudnn.path}` : l.cudnn.error}`);
        lines.push(`  cuBLAS: ${l.cublas.ok ? `${l.cublas.version} at ${l.cublas.path}` : l.cublas.error}`);
      }
      if (b.runtimeVersion) lines.push(`  CUDA runtime: ${b.runtimeVersion}, driver: ${b.driverVersion}`);
      if (b.searched?.length) lines.push(`  searched: ${b.searched.join(', ')}`);
      const o = getCudaOptions();
      if (b.compiled) {
        lines.push(`  options: allowTF32 ${o.allowTF32}, autotune ${o.autotune}, convApi ${o.convApi} (setCudaOptions, CUDNN_NODE_TF32, CUDNN_NODE_AUTOTUNE, CUDNN_NODE_CONV_API)`);
        lines.push(`  plan fusion: ${fusionEnabled('cuda') ? 'on' : 'off'} (CUDNN_NODE_FUSION)`);
      }
    }
  }
  const info = native.buildInfo();
  lines.push(`addon: Node-API ${info.napiVersion}, ${info.compiler}`);
  return lines.join('\n');
}
