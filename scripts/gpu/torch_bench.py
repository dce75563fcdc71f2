#!/usr/bin/env python3
"""PyTorch side of bench/gpu.ts: conv2d forward / backward-data / backward-filter per layer
and training steps of the Fashion-MNIST CNN and ResNet-34, timed as bench/gpu.ts times ours.

    python3 scripts/gpu/torch_bench.py REQUEST.json RESULT.json

REQUEST: {"device": "cuda"|"cpu", "batch": N, "modes": ["tf32", "fp32"],
          "layers": [{"id", "h", "w", "c", "k", "oc", "s", "p"}], "dirs": [...],
          "train": {"batch": N, "models": ["fashion", "fashion_bf16", "fashion_fp16", "resnet34"]} | null,
          "samples": 5, "target_s": 0.03, "budget_s": S}
RESULT:  {"ok": bool, "note"?, "info": {...},
          "conv": {"<mode>|<layer id>|<dir>": {"ms"} | {"note"}},
          "train": {"<model>": {"ms"} | {"note"}}}   (training with TF32 allowed)

Mixed precision (models "<net>_bf16" / "<net>_fp16", issue 21): the same step under
torch.autocast(device, dtype=torch.bfloat16 / torch.float16), float32 master weights and
optimizer, and for float16 a torch.amp.GradScaler (dynamic loss scaling), as PyTorch's AMP
recipe has it; bench/gpu.ts runs ours under cn.mixedPrecision 'mixed_bfloat16' /
'mixed_float16'.

Settings: torch.backends.cudnn.benchmark = True (autotuned algorithms, chosen during the
warm-up), channels_last tensors and weights, TF32 allowed for cuDNN and matmul in mode
"tf32" and disallowed in "fp32". Padding is symmetric (p), as in bench/gpu.ts.
Timing: perf_counter around `iters` back-to-back calls, then torch.cuda.synchronize();
median of `samples` samples; iters is chosen so that a sample lasts about target_s.
"""
import json
import sys
import time
import traceback

req_path, res_path = sys.argv[1], sys.argv[2]
req = json.load(open(req_path))
result = {"ok": False, "conv": {}, "train": {}}
t_start = time.perf_counter()


def save():
    with open(res_path, "w") as f:
        json.dump(result, f)


def log(*a):
    print("[torch_bench]", *a, file=sys.stderr, flush=True)


try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except Exception as e:  # noqa: BLE001
    result["note"] = f"PyTorch not importable: {e}"
    save()
    sys.exit(0)

dev = torch.device(req.get("device", "cuda"))
if dev.type == "cuda" and not torch.cuda.is_available():
    result["note"] = f"PyTorch {torch.__version__} sees no CUDA device"
    save()
    sys.exit(0)

result["info"] = {
    "torch": torch.__version__,
    "cuda": torch.version.cuda,
    "cudnn": torch.backends.cudnn.version() if dev.type == "cuda" else None,
    "device": torch.cuda.get_device_name(0) if dev.type == "cuda" else "cpu",
}
log(result["info"])
torch.backends.cudnn.benchmark = True
budget = float(req.get("budget_s", 240))
samples = int(req.get("samples", 5))
target = float(req.get("target_s", 0.03))


def sync():
    if dev.type == "cuda":
        torch.cuda.synchronize()


def time_call(fn, warmup=3):
    for _ in range(warmup):
        fn()
    sync()
    t0 = time.perf_counter()
    fn()
    sync()
    one = time.perf_counter() - t0
    iters = max(1, min(200, int(-(-target // max(one, 1e-6)))))
    per = []
    for _ in range(samples):
        t0 = time.perf_counter()
        for _ in range(iters):
            fn()
        sync()
        per.append((time.perf_counter() - t0) / iters)
    per.sort()
    n = len(per)
    return per[n // 2] if n % 2 else (per[n // 2 - 1] + per[n // 2]) / 2


def set_mode(mode):
    tf32 = mode == "tf32"
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cuda.matmul.allow_tf32 = tf32


def conv_layer(layer, batch, dirs, mode):
    n, h, w, c, k, oc, s, p = batch, layer["h"], layer["w"], layer["c"], layer["k"], layer["oc"], layer["s"], layer["p"]
    cl = torch.channels_last
    g = torch.Generator(device=dev).manual_seed(1)
    x = (torch.rand(n, c, h, w, device=dev, generator=g) * 2 - 1).contiguous(memory_format=cl)
    wt = ((torch.rand(oc, c, k, k, device=dev, generator=g) * 2 - 1) * 0.05).contiguous(memory_format=cl)
    with torch.no_grad():
        y = F.conv2d(x, wt, None, s, p)
    dy = (torch.rand(y.shape, device=dev, generator=g) * 2 - 1).contiguous(memory_format=cl)
    del y
    conv_bwd = torch.ops.aten.convolution_backward

    def fwd():
        with torch.no_grad():
            return F.conv2d(x, wt, None, s, p)

    def bwd_data():
        return conv_bwd(dy, x, wt, None, [s, s], [p, p], [1, 1], False, [0, 0], 1, [True, False, False])

    def bwd_filter():
        return conv_bwd(dy, x, wt, None, [s, s], [p, p], [1, 1], False, [0, 0], 1, [False, True, False])

    fns = {"fwd": fwd, "bwd_data": bwd_data, "bwd_filter": bwd_filter}
    out = {}
    for d in dirs:
        try:
            out[d] = {"ms": time_call(fns[d]) * 1e3}
        except Exception as e:  # noqa: BLE001
            out[d] = {"note": str(e).splitlines()[0][:160]}
    return out


def fashion_cnn():
    # The Keras notebook's CNN (lib/models/fashion_mnist.ts); 'same' padding, valid pooling.
    return nn.Sequential(
        nn.Conv2d(1, 64, 7, padding=3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(),
        nn.Conv2d(128, 128, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(128, 256, 3, padding=1), nn.ReLU(),
        nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(256 * 3 * 3, 128), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(128, 64), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(64, 10),
    )


class ResidualUnit(nn.Module):
    # The notebook's unit: conv-BN-ReLU-conv-BN plus the (1x1 conv + BN when strided) input.
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
            nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout))
        self.skip = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, 0, bias=False), nn.BatchNorm2d(cout))
                     if stride > 1 else nn.Identity())

    def forward(self, x):
        return F.relu(self.main(x) + self.skip(x))


def resnet34(classes=10):
    # lib/applications/resnet34.ts (HOML ch. 14): 7x7/2 conv + BN + ReLU, max pool 3/2, units
    # [64]*3 + [128]*4 + [256]*6 + [512]*3, global average pooling, dense.
    layers = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1)]
    prev = 64
    for f in [64] * 3 + [128] * 4 + [256] * 6 + [512] * 3:
        layers.append(ResidualUnit(prev, f, 1 if f == prev else 2))
        prev = f
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, classes)]
    return nn.Sequential(*layers)


def train_step_ms(which, batch):
    torch.manual_seed(1)
    amp = None
    if which.endswith("_bf16") or which.endswith("_fp16"):
        amp = torch.bfloat16 if which.endswith("_bf16") else torch.float16
        which = which[:-5]
    if which == "fashion":
        model, shape = fashion_cnn(), (batch, 1, 28, 28)
        make_opt = lambda p: torch.optim.NAdam(p, lr=1e-3)  # noqa: E731
        steps = 5
    else:
        model, shape = resnet34(10), (batch, 3, 224, 224)
        make_opt = lambda p: torch.optim.SGD(p, lr=1e-2)  # noqa: E731
        steps = 2
    model = model.to(dev).to(memory_format=torch.channels_last)
    opt = make_opt(model.parameters())
    lossf = nn.CrossEntropyLoss()
    x = (torch.rand(*shape, device=dev) * 2 - 1).contiguous(memory_format=torch.channels_last)
    y = torch.arange(batch, device=dev) * 7 % 10

    scaler = torch.amp.GradScaler(dev.type) if amp == torch.float16 else None

    def step():
        opt.zero_grad(set_to_none=True)
        if amp is None:
            loss = lossf(model(x), y)
            loss.backward()
            opt.step()
        else:
            with torch.autocast(dev.type, dtype=amp):
                loss = lossf(model(x), y)
            if scaler is not None:
                scaler.scale(loss).backward()
                scaler.step(opt)
                scaler.update()
            else:
                loss.backward()
                opt.step()
        return loss.item()  # like trainOnBatch, which returns the loss as a number

    def several():
        for _ in range(steps):
            step()

    return time_call(several, warmup=1) * 1e3 / steps


try:
    batch = int(req["batch"])
    dirs = req.get("dirs", ["fwd", "bwd_data", "bwd_filter"])
    skipped = 0
    for mode in req.get("modes", ["tf32"]):
        set_mode(mode)
        for layer in req["layers"]:
            if time.perf_counter() - t_start > budget:
                skipped += 1
                continue
            r = conv_layer(layer, batch, dirs, mode)
            for d, v in r.items():
                result["conv"][f"{mode}|{layer['id']}|{d}"] = v
            log(mode, layer, {d: round(v.get("ms", float("nan")), 3) for d, v in r.items()})
            if dev.type == "cuda":
                torch.cuda.empty_cache()
        save()
    if skipped:
        result["note"] = f"time budget: {skipped} layer runs skipped"
    if req.get("train"):
        set_mode("tf32")
        for which in req["train"].get("models", ["fashion"]):
            if not which.startswith("fashion") and time.perf_counter() - t_start > budget:
                result["train"][which] = {"note": "skipped: time budget"}
                continue
            try:
                result["train"][which] = {"ms": train_step_ms(which, int(req["train"]["batch"]))}
            except Exception as e:  # noqa: BLE001
                result["train"][which] = {"note": str(e).splitlines()[0][:160]}
            log("train", which, result["train"][which])
            if dev.type == "cuda":
                torch.cuda.empty_cache()
    result["ok"] = True
except Exception as e:  # noqa: BLE001
    traceback.print_exc()
    result["note"] = f"failed: {str(e).splitlines()[0][:200]}"
save()
