// Run by bench/machine.ts under ONEDNN_VERBOSE=1: one convolution (a Fashion-MNIST CNN layer)
// and one matmul through cudnn-node, so that oneDNN prints the ISA it detected and the
// implementations it dispatched (e.g. brgconv:avx512_core) on stdout.
import * as cn from '../../lib/index.js';

const x = cn.ones([8, 14, 14, 64]), f = cn.ones([3, 3, 64, 128]);
cn.conv2d(x, f, 1, 'same').dataSync();
const a = cn.ones([256, 256]);
cn.matMul(a, a).dataSync();
