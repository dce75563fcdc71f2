#!/usr/bin/env python3
"""Python peer worker for bench/run.ts: Keras/TensorFlow ("keras") or PyTorch ("torch").

Launched once per peer (`python bench/peers.py keras|torch`). Reads one JSON request per
line on stdin and answers one JSON line on the original stdout; everything the libraries
print goes to stderr. Requests:

  {"cmd": "info"}                                  -> versions, threads, settings
  {"cmd": "setup", "id": s, "spec": {...}}         -> {"ok": true} or {"ok": false, "note"}
  {"cmd": "run", "id": s, "samples": n, "inner": k}-> {"times": [seconds per call] * n}
  {"cmd": "free", "id": s}
  {"cmd": "quit"}

A sample times `inner` back-to-back calls with perf_counter and reports the mean per call.
Workload specs (the same objects run.ts uses for its in-process runners):
  {"kind": "conv", "dir": "fwd"|"bwd_data"|"bwd_filter", "x": [N,H,W,C], "k": K, "oc": OC}
  {"kind": "matmul", "m": M, "k": K, "n": N}
  {"kind": "tiny_add", "read": bool}   (read: also fetch the result to the host)
  {"kind": "train", "model": "fashion_cnn", "batch": B}
"""
import json
import os
import platform
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
            k, oc = spec["k"], spec["oc"]
            x = tf.constant(rng.standard_normal((n, h, w, c), dtype=np.float32))
            f = tf.constant(rng.standard_normal((k, k, c, oc), dtype=np.float32) * 0.05)
            dy = tf.constant(rng.standard_normal((n, h, w, oc), dtype=np.float32))
            d = spec["dir"]
            if d == "fwd":
                fn = tf.function(lambda: tf.nn.conv2d(x, f, 1, "SAME"))
            elif d == "bwd_data":
                sizes = tf.constant([n, h, w, c], tf.int32)
                fn = tf.function(lambda: tf.raw_ops.Conv2DBackpropInput(
                    input_sizes=sizes, filter=f, out_backprop=dy, strides=[1, 1, 1, 1], padding="SAME"))
            else:
                sizes = tf.constant([k, k, c, oc], tf.int32)
                fn = tf.function(lambda: tf.raw_ops.Conv2DBackpropFilter(
                    input=x, filter_sizes=sizes, out_backprop=dy, strides=[1, 1, 1, 1], padding="SAME"))
            return lambda: fn().numpy()  # CPU eager tensors: .numpy() is a zero-copy view
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
        raise ValueError(f"unknown workload kind {kind}")

    def train_step(self, spec):
        keras, np = self.keras, self.np
        assert spec["model"] == "fashion_cnn"
        L = keras.layers
        keras.utils.set_random_seed(0)
        model = keras.Sequential([
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
            L.Dense(10, activation="softmax"),
        ])
        model.compile(optimizer=spec.get("optimizer", "adam"), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        b = spec["batch"]
        rng = np.random.default_rng(0)
        x = rng.random((b, 28, 28, 1), dtype=np.float32)
        y = rng.integers(0, 10, size=(b,)).astype(np.int32)
        self.last_note = f"train_on_batch, jit_compile={model.jit_compile}, params={model.count_params()}"
        return lambda: model.train_on_batch(x, y)  # returns numpy logs: synchronous


# ---------------------------------------------------------------- PyTorch
class TorchPeer:
    name = "torch"

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
            k, oc = spec["k"], spec["oc"]
            p = k // 2  # stride 1, odd k: TF's SAME is symmetric
            x = torch.randn(n, c, h, w, generator=g).contiguous(memory_format=cl)
            f = (torch.randn(oc, c, k, k, generator=g) * 0.05).contiguous(memory_format=cl)
            dy = torch.randn(n, oc, h, w, generator=g).contiguous(memory_format=cl)
            d = spec["dir"]
            if d == "fwd":
                def fn():
                    with torch.no_grad():
                        return F.conv2d(x, f, padding=p)
            elif d == "bwd_data":
                def fn():
                    return torch.nn.grad.conv2d_input(x.shape, f, dy, padding=p)
            else:
                def fn():
                    return torch.nn.grad.conv2d_weight(x, f.shape, dy, padding=p)
            if spec.get("readback"):
                return lambda: fn().numpy()  # zero-copy on the CPU, as TF's .numpy()
            return fn
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
        raise ValueError(f"unknown workload kind {kind}")

    def train_step(self, spec):
        torch = self.torch
        nn = torch.nn
        assert spec["model"] == "fashion_cnn"
        torch.manual_seed(0)
        model = nn.Sequential(
            nn.Conv2d(1, 64, 7, padding=3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(),
            nn.Conv2d(128, 128, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(128, 256, 3, padding=1), nn.ReLU(),
            nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(2304, 128), nn.ReLU(), nn.Dropout(0.5),
            nn.Linear(128, 64), nn.ReLU(), nn.Dropout(0.5),
            nn.Linear(64, 10),  # softmax folded into cross_entropy
        ).to(memory_format=torch.channels_last)
        model.train()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        b = spec["batch"]
        x = torch.rand(b, 1, 28, 28).contiguous(memory_format=torch.channels_last)
        y = torch.randint(0, 10, (b,))
        nparams = sum(p.numel() for p in model.parameters())
        self.last_note = f"eager step (zero_grad, forward, backward, Adam), channels_last, params={nparams}"

        def step():
            opt.zero_grad(set_to_none=True)
            loss = torch.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss.item()

        return step


def main():
    try:
        peer = {"keras": KerasPeer, "torch": TorchPeer}[PEER]()
    except Exception as e:  # missing module, broken install
        reply({"ok": False, "error": f"{type(e).__name__}: {e}"})
        return
    reply({"ok": True, "ready": PEER})
    fns = {}
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        req = json.loads(line)
        cmd = req.get("cmd")
        try:
            if cmd == "info":
                reply({"ok": True, "info": peer.info()})
            elif cmd == "setup":
                peer.last_note = None
                fns[req["id"]] = peer.setup(req["spec"])
                reply({"ok": True, "note": peer.last_note})
            elif cmd == "run":
                fn = fns[req["id"]]
                reply({"ok": True, "times": time_calls(fn, int(req.get("samples", 1)), int(req.get("inner", 1)))})
            elif cmd == "free":
                fns.pop(req["id"], None)
                reply({"ok": True})
            elif cmd == "quit":
                reply({"ok": True})
                break
            else:
                reply({"ok": False, "error": f"unknown command {cmd}"})
        except Exception as e:
            traceback.print_exc()
            reply({"ok": False, "error": f"{type(e).__name__}: {e}"})


if __name__ == "__main__":
    main()
