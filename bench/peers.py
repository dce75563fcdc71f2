#!/usr/bin/env python3
"""Python peer worker for bench/run.ts: Keras/TensorFlow ("keras") or PyTorch ("torch").

Launched once per peer (`python bench/peers.py keras|torch`), its own process group, stopped
by bench/measure.ts whenever another runner is on turn. Reads one JSON request per line on
stdin and answers one JSON line, echoing the request's "seq", on the original stdout;
everything the libraries print goes to stderr. The first line (seq 0) says whether the
library loaded. Requests (the protocol of bench/runners/node-worker.ts):

  {"cmd": "info"}                                    -> versions, threads, settings
  {"cmd": "setup", "key": k, "spec": {...}}          -> {"ok": true, "note", "params"} or {"ok": false, "error"}
  {"cmd": "run", "key": k, "samples": n, "inner": i} -> {"times": [seconds per call] * n}
  {"cmd": "free", "key": k}
  {"cmd": "quit"}

A sample times `inner` back-to-back calls with perf_counter and reports the mean per call.
spec["variant"] picks the configuration (bench/runners/variants.ts): Keras "eager_graph"
(jit_compile=False, Keras's default on a CPU) or "xla" (jit_compile=True); PyTorch "eager"
or "compile" (torch.compile of the model), both channels_last. The bf16 mixed-precision
training steps (spec["precision"] == "mixed_bf16") have their own: Keras "bf16_graph" and
"bf16_xla" (the model built under keras.mixed_precision.set_global_policy("mixed_bfloat16"),
the softmax Dense in float32 as Keras's guide does, the policy reset to float32 after
compile), PyTorch "bf16_eager" and "bf16_compile" (forward and loss under
torch.autocast("cpu", dtype=torch.bfloat16), backward and the update outside it, as
PyTorch's AMP recipe does). A compiling variant compiles
and runs its first call during setup, within spec["compileLimitS"] seconds (SIGALRM), and
fails with the reason when it takes longer.
Workload specs (the same objects run.ts uses for its in-process runners):
  {"kind": "conv", "dir": "fwd"|"bwd_data"|"bwd_filter", "x": [N,H,W,C], "k": K, "oc": OC,
   "stride": S (default 1), "depthwise": bool}                (SAME padding; depthwise: oc == C)
  {"kind": "matmul", "m": M, "k": K, "n": N}
  {"kind": "tiny_add", "read": bool}   (read: also fetch the result to the host)
  {"kind": "pool", "dir": "fwd"|"bwd", "x": [N,H,W,C], "k": K, "stride": S}   (max, SAME)
  {"kind": "bn", "dir": "fwd"|"bwd", "x": [N,H,W,C]}          (training mode, batch statistics)
  {"kind": "train", "model": "fashion_cnn"|"resnet34"|"xception", "batch": B, "optimizer": "adam"|"sgd",
   "size": S, "classes": 10, "freeze": bool}                  (sgd: SGD(0.01, momentum 0.9))
  {"kind": "infer", "model": ..., "batch": B, "size": S, "classes": 10}
The setup reply carries the model's parameter counts ("params": {"total", "trainable"}, as
Keras counts them: BN moving statistics included), which run.ts compares across runners.

Child mode (bench/run.ts's time-to-first-step and peak-memory measurement, a fresh process):
  python bench/peers.py keras|torch --child '{"kind": "train", ...}' STEPS
prints one JSON line per event: imported (with rssMiB, the library's baseline), built,
first_step, done (with peakRssMiB, the process's VmHWM). spec["variant"] picks the
configuration, as in the worker.
"""
import json
import os
import platform
import signal
import sys
import time
import traceback

PEER = sys.argv[1] if len(sys.argv) > 1 else ""

# Answers go to a private copy of stdout; fd 1 becomes stderr so that library chatter
# (Keras progress, C++ logging) can never corrupt the protocol.
_out = os.fdopen(os.dup(1), "w", buffering=1)
os.dup2(2, 1)
sys.stdout = sys.stderr
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def reply(obj):
    _out.write(json.dumps(obj) + "\n")
    _out.flush()


def within_limit(limit_s, fn, what):
    """Runs fn(), raising TimeoutError if it takes more than limit_s seconds (a compile)."""
    def on_alarm(signum, frame):
        raise TimeoutError(f"{what} took more than {limit_s:.0f} s to compile and run its first call; not used")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, float(limit_s))
    try:
        return fn()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def warm_compiled(spec, fn, what):
    """A compiling variant: its first call (the compile) within the limit, in setup. A failure
    is re-raised as one line saying what failed (the compiler wraps our TimeoutError)."""
    t0 = time.perf_counter()
    try:
        within_limit(spec.get("compileLimitS", 180), fn, what)
    except Exception as e:
        inner, seen = e, set()
        while inner is not None and id(inner) not in seen and not isinstance(inner, TimeoutError):
            seen.add(id(inner))
            inner = inner.__cause__ or inner.__context__
        if isinstance(inner, TimeoutError):
            raise RuntimeError(str(inner)) from None
        line = next((ln for ln in str(e).splitlines() if ln.strip()), "")
        raise RuntimeError(f"{what} failed: {type(e).__name__}: {line}"[:300]) from e
    return time.perf_counter() - t0


def time_calls(fn, samples, inner):
    times = []
    for _ in range(samples):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        times.append((time.perf_counter() - t0) / inner)
    return times


# ---------------------------------------------------------------- Keras / TensorFlow
class KerasPeer:
    name = "keras"
    last_note = last_params = None

    def __init__(self):
        import numpy as np
        import tensorflow as tf
        import keras

        self.np, self.tf, self.keras = np, tf, keras

    def info(self):
        tf, keras, np = self.tf, self.keras, self.np
        return {
            "library": f"Keras {keras.__version__} on TensorFlow {tf.__version__}",
            "versions": {"tensorflow": tf.__version__, "keras": keras.__version__, "numpy": np.__version__,
                         "python": platform.python_version()},
            "threads": {
                "intra_op": tf.config.threading.get_intra_op_parallelism_threads() or f"default ({os.cpu_count()})",
                "inter_op": tf.config.threading.get_inter_op_parallelism_threads() or "default",
            },
            "TF_ENABLE_ONEDNN_OPTS": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "(unset: TF default, oneDNN on for x86)"),
            "keras_backend": keras.backend.backend(),
        }

    def setup(self, spec):
        tf, np = self.tf, self.np
        rng = np.random.default_rng(0)
        kind = spec["kind"]
        if kind == "conv":
            n, h, w, c = spec["x"]
            k, oc, st = spec["k"], spec["oc"], spec.get("stride", 1)
            dw = bool(spec.get("depthwise"))
            oh, ow = -(-h // st), -(-w // st)  # SAME
            x = tf.constant(rng.standard_normal((n, h, w, c), dtype=np.float32))
            f = tf.constant(rng.standard_normal((k, k, c, 1 if dw else oc), dtype=np.float32) * 0.05)
            dy = tf.constant(rng.standard_normal((n, oh, ow, oc), dtype=np.float32))
            strides = [1, st, st, 1]
            d = spec["dir"]
            if dw:
                if d == "fwd":
                    fn = tf.function(lambda: tf.nn.depthwise_conv2d(x, f, strides, "SAME"))
                elif d == "bwd_data":
                    sizes = tf.constant([n, h, w, c], tf.int32)
                    fn = tf.function(lambda: tf.raw_ops.DepthwiseConv2dNativeBackpropInput(
                        input_sizes=sizes, filter=f, out_backprop=dy, strides=strides, padding="SAME"))
                else:
                    sizes = tf.constant([k, k, c, 1], tf.int32)
                    fn = tf.function(lambda: tf.raw_ops.DepthwiseConv2dNativeBackpropFilter(
                        input=x, filter_sizes=sizes, out_backprop=dy, strides=strides, padding="SAME"))
            elif d == "fwd":
                fn = tf.function(lambda: tf.nn.conv2d(x, f, st, "SAME"))
            elif d == "bwd_data":
                sizes = tf.constant([n, h, w, c], tf.int32)
                fn = tf.function(lambda: tf.raw_ops.Conv2DBackpropInput(
                    input_sizes=sizes, filter=f, out_backprop=dy, strides=strides, padding="SAME"))
            else:
                sizes = tf.constant([k, k, c, oc], tf.int32)
                fn = tf.function(lambda: tf.raw_ops.Conv2DBackpropFilter(
                    input=x, filter_sizes=sizes, out_backprop=dy, strides=strides, padding="SAME"))
            return lambda: fn().numpy()  # CPU eager tensors: .numpy() is a zero-copy view
        if kind == "pool":
            n, h, w, c = spec["x"]
            k, st = spec["k"], spec["stride"]
            x = tf.constant(rng.standard_normal((n, h, w, c), dtype=np.float32))
            fwd = tf.function(lambda: tf.nn.max_pool2d(x, k, st, "SAME"))
            if spec["dir"] == "fwd":
                return lambda: fwd().numpy()
            y = fwd()
            dy = tf.constant(rng.standard_normal(tuple(y.shape), dtype=np.float32))
            # What TF's gradient of MaxPool calls (it recomputes the argmax from x and y).
            fn = tf.function(lambda: tf.raw_ops.MaxPoolGrad(
                orig_input=x, orig_output=y, grad=dy, ksize=[1, k, k, 1], strides=[1, st, st, 1], padding="SAME"))
            return lambda: fn().numpy()
        if kind == "bn":
            # TensorFlow's fused batch-norm kernels (FusedBatchNormV3 / its gradient). Keras 3's
            # BatchNormalization layer does not call them (moments + batch_normalization ops).
            n, h, w, c = spec["x"]
            x = tf.constant(rng.standard_normal((n, h, w, c), dtype=np.float32))
            g = tf.constant(rng.random(c, dtype=np.float32) + 0.5)
            b = tf.constant(rng.standard_normal(c, dtype=np.float32) * 0.1)
            empty = tf.constant([], tf.float32)
            fwd = tf.function(lambda: tf.raw_ops.FusedBatchNormV3(
                x=x, scale=g, offset=b, mean=empty, variance=empty, epsilon=1e-3, data_format="NHWC", is_training=True))
            if spec["dir"] == "fwd":
                return lambda: fwd()[0].numpy()
            r = fwd()
            dy = tf.constant(rng.standard_normal((n, h, w, c), dtype=np.float32))
            fn = tf.function(lambda: tf.raw_ops.FusedBatchNormGradV3(
                y_backprop=dy, x=x, scale=g, reserve_space_1=r.reserve_space_1, reserve_space_2=r.reserve_space_2,
                reserve_space_3=r.reserve_space_3, epsilon=1e-3, data_format="NHWC", is_training=True))
            return lambda: fn()[0].numpy()
        if kind == "matmul":
            a = tf.constant(rng.standard_normal((spec["m"], spec["k"]), dtype=np.float32))
            b = tf.constant(rng.standard_normal((spec["k"], spec["n"]), dtype=np.float32))
            fn = tf.function(lambda: tf.linalg.matmul(a, b))
            return lambda: fn().numpy()
        if kind == "tiny_add":
            a, b = tf.constant([1.0]), tf.constant([2.0])
            if spec.get("read"):
                return lambda: tf.add(a, b).numpy()
            return lambda: tf.add(a, b)  # eager, as a user would write it
        if kind == "train":
            return self.train_step(spec)
        if kind == "infer":
            return self.infer(spec)
        raise ValueError(f"unknown workload kind {kind}")

    def build(self, spec, head=None):
        """The model of a train / infer spec; returns (model, how). head: extra keyword
        arguments of the last (softmax) Dense, e.g. dtype="float32" under mixed_bfloat16."""
        keras = self.keras
        head = head or {}
        keras.utils.set_random_seed(0)
        L = keras.layers
        classes = spec.get("classes", 10)
        m = spec["model"]
        if m == "fashion_cnn":
            return self.fashion_cnn(head), "Sequential"
        if m == "resnet34":
            return self.resnet34(spec.get("size", 224), classes, head), "the notebook's ResidualUnit Sequential"
        if m == "xception":
            size = spec.get("size", 299)
            base = keras.applications.Xception(weights=None, include_top=False, input_shape=(size, size, 3))
            out = L.Dense(classes, activation="softmax", **head)(L.GlobalAveragePooling2D()(base.output))
            model = keras.Model(base.input, out)
            how = "keras.applications.Xception(weights=None, include_top=False) + GlobalAveragePooling2D + Dense"
            if spec.get("freeze"):
                base.trainable = False
                how += ", base.trainable = False"
            return model, how
        raise ValueError(f"unknown model {m}")

    def counts(self, model):
        np = self.np
        return {"total": int(model.count_params()),
                "trainable": int(sum(int(np.prod(w.shape)) for w in model.trainable_weights))}

    def optimizer(self, name):
        if name == "sgd":
            return self.keras.optimizers.SGD(learning_rate=0.01, momentum=0.9)
        return name

    def data(self, spec):
        np = self.np
        m = spec["model"]
        shape = (28, 28, 1) if m == "fashion_cnn" else (spec.get("size", 299 if m == "xception" else 224),) * 2 + (3,)
        rng = np.random.default_rng(0)
        x = rng.random((spec["batch"],) + shape, dtype=np.float32)
        y = rng.integers(0, spec.get("classes", 10), size=(spec["batch"],)).astype(np.int32)
        return x, y

    def train_step(self, spec):
        variant = spec.get("variant")
        xla = variant in ("xla", "bf16_xla")
        mixed = variant in ("bf16_graph", "bf16_xla")
        if spec.get("precision", "fp32") != ("mixed_bf16" if mixed else "fp32"):
            raise ValueError(f"variant {variant} does not compute in {spec.get('precision', 'fp32')}")
        mp = self.keras.mixed_precision
        if mixed:
            mp.set_global_policy("mixed_bfloat16")
        try:
            model, how = self.build(spec, {"dtype": "float32"} if mixed else None)
            model.compile(optimizer=self.optimizer(spec.get("optimizer", "adam")), loss="sparse_categorical_crossentropy",
                          metrics=["accuracy"], jit_compile=xla)
        finally:
            mp.set_global_policy("float32")
        if mixed:
            how += ", mixed_precision.set_global_policy('mixed_bfloat16'), softmax Dense dtype float32"
            if not any(getattr(lay, "compute_dtype", None) == "bfloat16" for lay in model.layers):
                raise RuntimeError("mixed_bfloat16 did not take: no layer computes in bfloat16")
        x, y = self.data(spec)
        self.last_params = self.counts(model)
        self.last_note = f"train_on_batch, {how}, jit_compile={model.jit_compile}"
        fn = lambda: model.train_on_batch(x, y)  # noqa: E731  (returns numpy logs: synchronous)
        if xla:
            self.last_note += f", XLA compile + first step {warm_compiled(spec, fn, 'Keras jit_compile=True'):.1f} s"
        return fn

    def infer(self, spec):
        model, how = self.build(spec)
        xla = spec.get("variant") == "xla"
        model.compile(jit_compile=xla)
        x, _ = self.data(spec)
        self.last_params = self.counts(model)
        self.last_note = f"predict_on_batch, {how}, jit_compile={model.jit_compile}"
        fn = lambda: model.predict_on_batch(x)  # noqa: E731
        if xla:
            self.last_note += f", XLA compile + first call {warm_compiled(spec, fn, 'Keras jit_compile=True'):.1f} s"
        return fn

    def resnet34(self, size, classes, head=None):
        """The reference notebook's ResNet-34 (HOML ch. 14), as written there."""
        keras = self.keras
        L = keras.layers
        from functools import partial

        DefaultConv2D = partial(L.Conv2D, kernel_size=3, strides=1, padding="same",
                                kernel_initializer="he_normal", use_bias=False)

        class ResidualUnit(L.Layer):
            def __init__(self, filters, strides=1, activation="relu", **kwargs):
                super().__init__(**kwargs)
                self.activation = keras.activations.get(activation)
                self.main_layers = [
                    DefaultConv2D(filters, strides=strides),
                    L.BatchNormalization(),
                    self.activation,
                    DefaultConv2D(filters),
                    L.BatchNormalization(),
                ]
                self.skip_layers = []
                if strides > 1:
                    self.skip_layers = [DefaultConv2D(filters, kernel_size=1, strides=strides), L.BatchNormalization()]

            def call(self, inputs):
                Z = inputs
                for layer in self.main_layers:
                    Z = layer(Z)
                skip_Z = inputs
                for layer in self.skip_layers:
                    skip_Z = layer(skip_Z)
                return self.activation(Z + skip_Z)

        model = keras.Sequential([
            keras.Input(shape=(size, size, 3)),
            DefaultConv2D(64, kernel_size=7, strides=2),
            L.BatchNormalization(),
            L.Activation("relu"),
            L.MaxPool2D(pool_size=3, strides=2, padding="same"),
        ])
        prev_filters = 64
        for filters in [64] * 3 + [128] * 4 + [256] * 6 + [512] * 3:
            strides = 1 if filters == prev_filters else 2
            model.add(ResidualUnit(filters, strides=strides))
            prev_filters = filters
        model.add(L.GlobalAvgPool2D())
        model.add(L.Flatten())
        model.add(L.Dense(classes, activation="softmax", **(head or {})))
        return model

    def fashion_cnn(self, head=None):
        keras = self.keras
        L = keras.layers
        return keras.Sequential([
            keras.Input(shape=(28, 28, 1)),
            L.Conv2D(64, 7, activation="relu", padding="same"),
            L.MaxPooling2D(2),
            L.Conv2D(128, 3, activation="relu", padding="same"),
            L.Conv2D(128, 3, activation="relu", padding="same"),
            L.MaxPooling2D(2),
            L.Conv2D(256, 3, activation="relu", padding="same"),
            L.Conv2D(256, 3, activation="relu", padding="same"),
            L.MaxPooling2D(2),
            L.Flatten(),
            L.Dense(128, activation="relu"),
            L.Dropout(0.5),
            L.Dense(64, activation="relu"),
            L.Dropout(0.5),
            L.Dense(10, activation="softmax", **(head or {})),
        ])


# ---------------------------------------------------------------- PyTorch
class TorchPeer:
    name = "torch"
    last_note = last_params = None

    def __init__(self):
        import numpy as np
        import torch

        self.np, self.torch = np, torch

    def info(self):
        torch = self.torch
        return {
            "library": f"PyTorch {torch.__version__}",
            "versions": {"torch": torch.__version__, "numpy": self.np.__version__, "python": platform.python_version()},
            "threads": {"intra_op": torch.get_num_threads(), "inter_op": torch.get_num_interop_threads()},
            "mkldnn": torch.backends.mkldnn.is_available(),
            "cuda": torch.cuda.is_available(),
            "layout": "channels_last",
        }

    def setup(self, spec):
        torch = self.torch
        F = torch.nn.functional
        g = torch.Generator().manual_seed(0)
        cl = torch.channels_last
        kind = spec["kind"]
        if kind == "conv":
            n, h, w, c = spec["x"]
            k, oc, st = spec["k"], spec["oc"], spec.get("stride", 1)
            groups = c if spec.get("depthwise") else 1
            # Odd k: k // 2 on both sides gives TF's SAME output size (ceil(h / stride)); with
            # stride 2 on an even extent TF pads (0, 1) and torch (1, 1): same cost.
            p = k // 2
            oh, ow = (h + 2 * p - k) // st + 1, (w + 2 * p - k) // st + 1
            assert (oh, ow) == (-(-h // st), -(-w // st)), "torch padding does not give SAME's output size"
            x = torch.randn(n, c, h, w, generator=g).contiguous(memory_format=cl)
            f = (torch.randn(oc, c // groups, k, k, generator=g) * 0.05).contiguous(memory_format=cl)
            dy = torch.randn(n, oc, oh, ow, generator=g).contiguous(memory_format=cl)
            d = spec["dir"]
            if d == "fwd":
                def fn():
                    with torch.no_grad():
                        return F.conv2d(x, f, stride=st, padding=p, groups=groups)
            elif d == "bwd_data":
                def fn():
                    return torch.nn.grad.conv2d_input(x.shape, f, dy, stride=st, padding=p, groups=groups)
            else:
                def fn():
                    return torch.nn.grad.conv2d_weight(x, f.shape, dy, stride=st, padding=p, groups=groups)
            if spec.get("readback"):
                return lambda: fn().numpy()  # zero-copy on the CPU, as TF's .numpy()
            return fn
        if kind == "pool":
            n, h, w, c = spec["x"]
            k, st = spec["k"], spec["stride"]
            p = k // 2
            x = torch.randn(n, c, h, w, generator=g).contiguous(memory_format=cl)
            if spec["dir"] == "fwd":
                def fn():
                    with torch.no_grad():
                        return F.max_pool2d(x, k, st, p)
                return fn
            # What autograd calls for max_pool2d's gradient (argmax indices saved by the forward).
            y, idx = torch.ops.aten.max_pool2d_with_indices(x, [k, k], [st, st], [p, p])
            dy = torch.randn(y.shape, generator=g).contiguous(memory_format=cl)
            return lambda: torch.ops.aten.max_pool2d_with_indices_backward(dy, x, [k, k], [st, st], [p, p], [1, 1], False, idx)
        if kind == "bn":
            # What autograd calls for BatchNorm2d in training mode.
            n, h, w, c = spec["x"]
            x = torch.randn(n, c, h, w, generator=g).contiguous(memory_format=cl)
            gamma = torch.rand(c, generator=g) + 0.5
            beta = torch.randn(c, generator=g) * 0.1
            eps = 1e-3
            fwd = lambda: torch.ops.aten.native_batch_norm(x, gamma, beta, None, None, True, 0.01, eps)  # noqa: E731
            if spec["dir"] == "fwd":
                def fn():
                    with torch.no_grad():
                        return fwd()[0]
                return fn
            with torch.no_grad():
                _, mean, invstd = fwd()
            dy = torch.randn(n, c, h, w, generator=g).contiguous(memory_format=cl)
            return lambda: torch.ops.aten.native_batch_norm_backward(
                dy, x, gamma, None, None, mean, invstd, True, eps, [True, True, True])
        if kind == "matmul":
            a = torch.randn(spec["m"], spec["k"], generator=g)
            b = torch.randn(spec["k"], spec["n"], generator=g)
            return lambda: torch.matmul(a, b)
        if kind == "tiny_add":
            a, b = torch.tensor([1.0]), torch.tensor([2.0])
            if spec.get("read"):
                return lambda: torch.add(a, b).numpy()
            return lambda: torch.add(a, b)
        if kind == "train":
            return self.train_step(spec)
        if kind == "infer":
            return self.infer(spec)
        raise ValueError(f"unknown workload kind {kind}")

    # ---- models (written by hand, torchvision-free; layer for layer the Keras models)
    def bn(self, c):
        return self.torch.nn.BatchNorm2d(c, eps=1e-3, momentum=0.01)  # Keras' defaults

    def fashion_cnn(self):
        nn = self.torch.nn
        return nn.Sequential(
            nn.Conv2d(1, 64, 7, padding=3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(),
            nn.Conv2d(128, 128, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(128, 256, 3, padding=1), nn.ReLU(),
            nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(2304, 128), nn.ReLU(), nn.Dropout(0.5),
            nn.Linear(128, 64), nn.ReLU(), nn.Dropout(0.5),
            nn.Linear(64, 10),  # softmax folded into cross_entropy
        )

    def resnet34(self, classes):
        torch = self.torch
        nn, F = torch.nn, torch.nn.functional
        bn = self.bn

        def conv(cin, cout, k=3, stride=1):  # DefaultConv2D: no bias, 'same' (k // 2, see conv above)
            return nn.Conv2d(cin, cout, k, stride, padding=k // 2, bias=False)

        class ResidualUnit(nn.Module):
            def __init__(self, cin, filters, strides):
                super().__init__()
                self.main = nn.Sequential(conv(cin, filters, 3, strides), bn(filters), nn.ReLU(),
                                          conv(filters, filters), bn(filters))
                self.skip = nn.Sequential(conv(cin, filters, 1, strides), bn(filters)) if strides > 1 else nn.Identity()

            def forward(self, x):
                return F.relu(self.main(x) + self.skip(x))

        layers = [conv(3, 64, 7, 2), bn(64), nn.ReLU(), nn.MaxPool2d(3, 2, padding=1)]
        prev = 64
        for filters in [64] * 3 + [128] * 4 + [256] * 6 + [512] * 3:
            layers.append(ResidualUnit(prev, filters, 1 if filters == prev else 2))
            prev = filters
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, classes)]
        return nn.Sequential(*layers)

    def xception(self, classes):
        """keras.applications.Xception without the top, + global average pooling + dense."""
        torch = self.torch
        nn, F = torch.nn, torch.nn.functional
        bn = self.bn

        class Sep(nn.Sequential):  # SeparableConv2D(3x3, 'same', no bias) + BatchNormalization
            def __init__(self, cin, cout):
                super().__init__(nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False),
                                 nn.Conv2d(cin, cout, 1, bias=False), bn(cout))

        def shortcut(cin, cout):
            return nn.Sequential(nn.Conv2d(cin, cout, 1, 2, bias=False), bn(cout))

        class Down(nn.Module):  # blocks 2-4 and 13: [relu] sep, relu, sep, pool, + 1x1/2 shortcut
            def __init__(self, cin, c1, c2, first_relu):
                super().__init__()
                self.first_relu = first_relu
                self.sep1, self.sep2, self.short = Sep(cin, c1), Sep(c1, c2), shortcut(cin, c2)
                self.pool = nn.MaxPool2d(3, 2, padding=1)

            def forward(self, x):
                z = F.relu(x) if self.first_relu else x
                z = self.pool(self.sep2(F.relu(self.sep1(z))))
                return z + self.short(x)

        class Middle(nn.Module):
            def __init__(self):
                super().__init__()
                self.seps = nn.ModuleList([Sep(728, 728) for _ in range(3)])

            def forward(self, x):
                z = x
                for s in self.seps:
                    z = s(F.relu(z))
                return z + x

        class Base(nn.Module):
            def __init__(self):
                super().__init__()
                self.entry = nn.Sequential(nn.Conv2d(3, 32, 3, 2, bias=False), bn(32), nn.ReLU(),
                                           nn.Conv2d(32, 64, 3, bias=False), bn(64), nn.ReLU())
                self.blocks = nn.Sequential(Down(64, 128, 128, False), Down(128, 256, 256, True),
                                            Down(256, 728, 728, True), *[Middle() for _ in range(8)],
                                            Down(728, 728, 1024, True))
                self.exit = nn.Sequential(Sep(1024, 1536), nn.ReLU(), Sep(1536, 2048), nn.ReLU())

            def forward(self, x):
                return self.exit(self.blocks(self.entry(x)))

        base = Base()
        return base, nn.Sequential(base, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2048, classes))

    def build(self, spec):
        torch = self.torch
        torch.manual_seed(0)
        m, classes = spec["model"], spec.get("classes", 10)
        base = None
        if m == "fashion_cnn":
            model, how = self.fashion_cnn(), "nn.Sequential"
        elif m == "resnet34":
            model, how = self.resnet34(classes), "the notebook's ResNet-34 by hand"
        elif m == "xception":
            base, model = self.xception(classes)
            how = "Xception (no top) by hand + avg pool + Linear"
        else:
            raise ValueError(f"unknown model {m}")
        model = model.to(memory_format=torch.channels_last)
        if m == "fashion_cnn":
            shape = (1, 28, 28)
        else:
            s = spec.get("size", 299 if m == "xception" else 224)
            shape = (3, s, s)
        x = torch.rand((spec["batch"],) + shape).contiguous(memory_format=torch.channels_last)
        y = torch.randint(0, classes, (spec["batch"],))
        return model, base, how, x, y

    def counts(self, model):
        """As Keras counts: parameters plus BN running mean / variance."""
        total = sum(p.numel() for p in model.parameters())
        total += sum(b.numel() for n, b in model.named_buffers() if n.endswith(("running_mean", "running_var")))
        trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
        return {"total": int(total), "trainable": int(trainable)}

    def train_step(self, spec):
        torch = self.torch
        model, base, how, x, y = self.build(spec)
        model.train()
        if base is not None and spec.get("freeze"):
            # Keras' trainable = False: no gradients, and batch norm in inference mode.
            for p in base.parameters():
                p.requires_grad_(False)
            base.eval()
            how += ", base frozen (requires_grad False, eval)"
        params = [p for p in model.parameters() if p.requires_grad]
        name = spec.get("optimizer", "adam")
        if name == "sgd":
            opt = torch.optim.SGD(params, lr=0.01, momentum=0.9)
        else:
            opt = torch.optim.Adam(params, lr=1e-3)
        self.last_params = self.counts(model)
        variant = spec.get("variant")
        compiled = variant in ("compile", "bf16_compile")
        amp = variant in ("bf16_eager", "bf16_compile")
        if spec.get("precision", "fp32") != ("mixed_bf16" if amp else "fp32"):
            raise ValueError(f"variant {variant} does not compute in {spec.get('precision', 'fp32')}")
        forward = torch.compile(model) if compiled else model
        self.last_note = (f"{'torch.compile(model)' if compiled else 'eager'} step (zero_grad, "
                          f"{'forward and loss under autocast(cpu, bfloat16)' if amp else 'forward'}, backward, "
                          f"{type(opt).__name__}), channels_last, {how}")

        def step():
            opt.zero_grad(set_to_none=True)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=amp):
                loss = torch.nn.functional.cross_entropy(forward(x), y)
            loss.backward()
            opt.step()
            return loss.item()

        if compiled:
            self.last_note += f", compile + first step {warm_compiled(spec, step, 'torch.compile'):.1f} s"
        return step

    def infer(self, spec):
        torch = self.torch
        model, _, how, x, _ = self.build(spec)
        model.eval()
        self.last_params = self.counts(model)
        compiled = spec.get("variant") == "compile"
        forward = torch.compile(model) if compiled else model
        self.last_note = f"{'torch.compile(model), ' if compiled else ''}inference_mode, eval, channels_last, {how}"

        def fn():
            with torch.inference_mode():
                return forward(x)

        if compiled:
            self.last_note += f", compile + first call {warm_compiled(spec, fn, 'torch.compile'):.1f} s"
        return fn


def rss_mib():
    """The process's resident set now (VmRSS), MiB; None without /proc."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def peak_rss_mib():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(spec, steps):
    """A fresh process: import, build, first step, more steps, peak memory (see run.ts)."""
    def emit(event, **extra):
        reply({"event": event, "t": time.perf_counter() - T0, **extra})

    try:
        peer = {"keras": KerasPeer, "torch": TorchPeer}[PEER]()
        emit("imported", rssMiB=rss_mib())
        peer.last_params = None
        fn = peer.setup(spec)
        emit("built")
        fn()
        emit("first_step")
        times = []
        for _ in range(max(steps, 2) - 1):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        times.sort()
        emit("done", stepS=times[len(times) // 2], steps=steps, params=(peer.last_params or {}).get("total"),
             peakRssMiB=peak_rss_mib())
    except Exception as e:
        traceback.print_exc()
        emit("error", error=f"{type(e).__name__}: {e}"[:300])


T0 = time.perf_counter()


def main():
    if len(sys.argv) > 2 and sys.argv[2] == "--child":
        child(json.loads(sys.argv[3]), int(sys.argv[4]) if len(sys.argv) > 4 else 5)
        return
    try:
        peer = {"keras": KerasPeer, "torch": TorchPeer}[PEER]()
    except Exception as e:  # missing module, broken install
        reply({"seq": 0, "ok": False, "error": f"{type(e).__name__}: {e}"})
        return
    reply({"seq": 0, "ok": True, "ready": PEER})
    fns = {}
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        req = json.loads(line)
        cmd, seq = req.get("cmd"), req.get("seq")
        try:
            if cmd == "info":
                reply({"seq": seq, "ok": True, "info": peer.info()})
            elif cmd == "setup":
                peer.last_note, peer.last_params = None, None
                fns[req["key"]] = peer.setup(req["spec"])
                reply({"seq": seq, "ok": True, "note": peer.last_note, "params": peer.last_params})
            elif cmd == "run":
                fn = fns[req["key"]]
                reply({"seq": seq, "ok": True, "times": time_calls(fn, int(req.get("samples", 1)), int(req.get("inner", 1)))})
            elif cmd == "free":
                fns.pop(req["key"], None)
                reply({"seq": seq, "ok": True})
            elif cmd == "quit":
                reply({"seq": seq, "ok": True})
                break
            else:
                reply({"seq": seq, "ok": False, "error": f"unknown command {cmd}"})
        except Exception as e:
            traceback.print_exc()
            reply({"seq": seq, "ok": False, "error": f"{type(e).__name__}: {e}"[:500]})


if __name__ == "__main__":
    main()
