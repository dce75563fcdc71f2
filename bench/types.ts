// The benchmark's data model: workload specs (the same JSON objects go to every runner's
// worker process), per-runner results, and the report that bench/report.ts renders and
// bench/results/*.json stores.

export type Mode = 'quick' | 'full';
export type ConvDir = 'fwd' | 'bwd_data' | 'bwd_filter';

/** The networks whose layers and training steps are benchmarked. */
export type ModelName = 'fashion_cnn' | 'resnet34' | 'xception';

/** A workload spec: the same JSON object goes to the Python peers (bench/peers.py). */
export type Spec =
  /** NHWC, SAME padding. depthwise: an HWC1 filter (channel multiplier 1, oc = C). */
  | { kind: 'conv'; dir: ConvDir; x: [number, number, number, number]; k: number; oc: number; stride?: number; depthwise?: boolean }
  | { kind: 'matmul'; m: number; k: number; n: number }
  | { kind: 'tiny_add'; read?: boolean }
  /** Max pooling k x k, stride, SAME; bwd: the gradient w.r.t. x given dy (and x, y). */
  | { kind: 'pool'; dir: 'fwd' | 'bwd'; x: [number, number, number, number]; k: number; stride: number }
  /** Batch normalization over N, H, W in training mode (batch statistics); bwd: dx, dgamma, dbeta. */
  | { kind: 'bn'; dir: 'fwd' | 'bwd'; x: [number, number, number, number] }
  /**
   * One training step (forward, loss, backward, optimizer update) on random data. size: the
   * square image side (ResNet-34, Xception); freeze: Xception's base frozen (only the head
   * trains). optimizer 'sgd' is SGD(learning rate 0.01, momentum 0.9). precision
   * 'mixed_bf16': Keras's mixed_bfloat16 (bf16 compute, float32 variables), PyTorch's
   * autocast(bfloat16); absent: float32 (Note [mixed precision variants]).
   */
  | { kind: 'train'; model: ModelName; batch: number; optimizer: string; size?: number; classes?: number; freeze?: boolean; precision?: Precision }
  /** Inference (predict on one batch, training false). */
  | { kind: 'infer'; model: ModelName; batch: number; size?: number; classes?: number };

export type Group = 'conv' | 'matmul' | 'tiny' | 'train' | 'prim' | 'infer';

export interface Workload {
  id: string;
  group: Group;
  /** The network whose layer shape (conv, prim) or model (train, infer) this is. */
  model?: ModelName;
  label: string;
  spec: Spec;
  /** FLOPs of one call (conv: 2*N*OH*OW*OC*KH*KW*IC, per direction). */
  flops?: number;
  /** Images processed by one call (training steps). */
  images?: number;
  /** Calls per timed sample (the sample reports the mean per call). */
  inner: number;
  warmup: number;
  samples: number;
  /** Samples a runner takes per turn before the next runner's turn. */
  perTurn: number;
}

export interface RunStats {
  n: number;
  median: number;
  q1: number;
  q3: number;
  min: number;
  max: number;
}

export interface RunResult {
  ok: boolean;
  note?: string;
  /** Seconds to set the workload up (build tensors / model) and for its first call (the
   * first training step includes tracing and plan compilation: time to first step). */
  setupS?: number;
  /** sgemm only: medians of the measurement at the start and at the end of the run. */
  phases?: { start?: number; end?: number };
  firstCallS?: number;
  /** Seconds per call, one per sample, in the order measured. */
  times: number[];
  stats?: RunStats;
  gflops?: number;
  /** GFLOP/s at q3 and q1 time (the IQR expressed as throughput). */
  gflopsIqr?: [number, number];
  fractionOfCeiling?: number;
  imagesPerSec?: number;
  /** peer median / our median: > 1 means cudnn-node is faster. */
  ratio?: number;
  /** Models: parameter counts as Keras counts them (BN moving statistics included). */
  params?: { total: number; trainable: number };
  /** The configuration these samples ran (a runner with several, e.g. Keras's jit_compile
   * False / True: the faster one, see bench/runners/variants.ts). */
  variant?: string;
  /** The key of the configuration these samples ran (spec.variant), and its precision. */
  variantKey?: string;
  precision?: Precision;
  /** Every configuration tried, with its probe median (or why it was not used). */
  variants?: VariantProbe[];
  /** For peers: where cudnn-node stands against this runner on this workload. */
  verdict?: Verdict;
}

/** One configuration of a runner, tried on a workload before the timed samples. */
export interface VariantProbe {
  key: string;
  label: string;
  precision: Precision;
  ok: boolean;
  note?: string;
  /** Median of the probe samples (seconds per call). */
  medianS?: number;
  /** Setup (including any compilation done there) and first call, seconds. */
  setupS?: number;
  firstCallS?: number;
}

/** The arithmetic a workload or a variant computes in (Note [mixed precision variants] in
 * bench/runners/variants.ts). mixed_fp16 is reserved: no workload uses it yet. */
export type Precision = 'fp32' | 'mixed_bf16' | 'mixed_fp16';

/** cudnn-node against a peer on one workload: peer time / our time above 1 + band: we lead;
 * below 1 - band: we are behind; in between: level (bench/verdict.ts). */
export type Verdict = 'lead' | 'level' | 'behind';

/** One runner's fresh-process measurement (time to first step, peak memory). */
export interface ChildRun {
  ok: boolean;
  note?: string;
  /** Seconds from spawning the process to: the library imported, the model built and
   * compiled, the first training step completed (medians over the repeats). */
  importS?: number;
  builtS?: number;
  firstStepS?: number;
  /** Median seconds per step over the steps after the first. */
  stepS?: number;
  /** Peak resident set size of the process (VmHWM), MiB. */
  peakRssMiB?: number;
  params?: number;
  repeats: number;
  /** Every repeat's raw numbers. */
  raw?: Array<Record<string, number>>;
}

export interface ChildReport {
  id: string;
  label: string;
  model: ModelName;
  batch: number;
  steps: number;
  optimizer: string;
  runs: Record<string, ChildRun>;
}

export interface BenchResult extends Workload {
  runs: Record<string, RunResult>;
  check?: { against: string; maxRelErr: number };
  /** CPU seconds that runners other than the one on turn used during its timed turns (they
   * are stopped, so this should read 0): the proof of isolation, Note [one process per
   * runner] in bench/measure.ts. */
  otherCpuS?: number;
}

/** The self-check (issue 18): the reference workload's median per runner inside the suite
 * against the same runner measured alone (only its process alive) in the same session. */
export interface SelfCheck {
  workload: string;
  tolerance: number;
  /** False when any runner deviates by more than the tolerance: the report is untrustworthy. */
  passed: boolean;
  rows: SelfCheckRow[];
  /** Where the alone measurement ran (phase order). */
  method: string;
}

export interface SelfCheckRow {
  runner: string;
  variant?: string;
  aloneS?: number;
  suiteS?: number;
  /** (suite - alone) / alone. */
  deviation?: number;
  ok: boolean;
  note?: string;
}

export interface RunnerInfo {
  name: string;
  available: boolean;
  note?: string;
  info: Record<string, unknown>;
}

export interface Ceiling {
  gflops: number;
  source: string;
  sgemm: number;
  conv: number;
  ours: number;
}

export interface Target {
  name: string;
  met: boolean;
  detail: string;
  /** Not judged: a runner it needs did not run (detail says why); met is false. */
  notMeasured?: boolean;
}

/** From ONEDNN_VERBOSE=1 output of one convolution and one matmul in a cudnn-node process. */
export interface OnednnInfo {
  version?: string;
  runtime?: string;
  /** The ISA oneDNN detected, e.g. 'Intel AVX-512 with Intel DL Boost and bfloat16 support'. */
  isa?: string;
  /** Implementations it dispatched, e.g. { convolution: 'brgconv:avx512_core' }. */
  impl: Record<string, string>;
  note?: string;
}

export interface Report {
  /** False when the self-check failed: no number in this report should be quoted. */
  trustworthy: boolean;
  selfCheck?: SelfCheck;
  /** With bf16 steps, the same check on the bf16 reference (train_fashion_cnn_b128_bf16);
   * trustworthy needs both. */
  mixedSelfCheck?: SelfCheck;
  date: string;
  mode: Mode;
  durationS: number;
  machine: {
    cpu: string;
    cpuFamily?: string;
    cores: number;
    simd: string[];
    memoryGiB: number;
    os: string;
    node: string;
    gpu: string;
    /** 1-minute load average before and after the run (other work on the machine). */
    loadAvg1m?: { before: number; after: number };
    /** What oneDNN in cudnn-node's process reports and dispatches (ONEDNN_VERBOSE). */
    onednn?: OnednnInfo;
  };
  runners: RunnerInfo[];
  /** The machine's measured ceiling: the best of sgemm and the fastest convolution (GFLOP/s,
   * any runner, medians), and cudnn-node's own sgemm. */
  ceiling: Ceiling;
  results: BenchResult[];
  /** The self-check's alone phase: the reference workload, one result per runner measured by
   * itself (configurations probed there are reused in the suite). */
  alone?: BenchResult[];
  /** Time to first step and peak memory, each runner in fresh child processes. */
  startup?: ChildReport[];
  targets: Target[];
  /** The bf16 mixed-precision steps (issue 21), when the run measured them. */
  mixedPrecision?: MixedPrecisionSection;
  notes: string[];
}

/** One runner's peak memory on a workload, in a fresh process running the configuration the
 * suite chose (bench/startup.ts peakMemory). */
export interface MemoryRun {
  ok: boolean;
  note?: string;
  /** The configuration (variant key) it ran. */
  variantKey?: string;
  /** The process's VmHWM after the last step, MiB. */
  peakRssMiB?: number;
  /** The process's RSS once its library was imported, before the model: the library's share. */
  importRssMiB?: number;
  /** cudnn-node only: the native allocator's peak bytes (memory().peakBytes), MiB. */
  peakNativeMiB?: number;
  steps?: number;
}

export interface MemoryReport {
  id: string;
  label: string;
  runs: Record<string, MemoryRun>;
}

/** One runner's line in a mixed-precision workload's table. */
export interface MixedRow {
  runner: string;
  precision: Precision;
  configuration?: string;
  ok: boolean;
  note?: string;
  medianS?: number;
  q1S?: number;
  q3S?: number;
  imagesPerSec?: number;
  gflops?: number;
  /** This runner's time / our bf16 step's (> 1: our bf16 step is faster); for our fp32 row,
   * bf16's speed-up over fp32. */
  vsOursBf16?: number;
  verdict?: Verdict;
  /** This runner's time / our fp32 step's (> 1: our fp32 step is faster). */
  vsOursFp32?: number;
  memory?: MemoryRun;
}

export interface MixedWorkload {
  id: string;
  label: string;
  precision: Precision;
  rows: MixedRow[];
}

export interface MixedPrecisionSection {
  workloads: MixedWorkload[];
  /** Issue 21's targets table, each met or not (or not measured, with the reason). */
  targets: Target[];
  /** Our mixed-precision steps that failed, with their errors: failures of ours, reported. */
  oursFailed: Array<{ id: string; error: string }>;
  /** How memory was measured (the report prints it). */
  memoryMethod: string;
}
