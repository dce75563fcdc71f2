#!/usr/bin/env python3
"""Keras 3 references for cudnn-node's applications and weight loading (lib/applications,
lib/io/h5weights.ts). Needs TensorFlow + Keras 3 + h5py (scripts/setup-keras-venv.sh makes a
venv with them from the local pip index).

  keras_reference.py arch   OUT.json   layer names / classes / output shapes / parameter
                                       counts / weight shapes / inbound layers of resnet50 and
                                       xception (with and without top) and the notebook's
                                       ResNet-34 (committed: test/fixtures/keras/applications.json)
  keras_reference.py zoo    OUT.json   the model zoo's Keras architectures: per layer name / class / output
                                       shape / parameter count of vgg16, vgg19, resnet101 and resnet152
                                       (committed: test/fixtures/keras/zoo.json)
  keras_reference.py small  OUT.json   preprocess_input, decode_predictions, and RandomRotation's
                                       transform + TF's ImageProjectiveTransformV3 outputs
                                       (committed: test/fixtures/keras/small.json)
  keras_reference.py tiny   DIR        a tiny model with random weights saved in both HDF5
                                       layouts and in Keras 2's legacy style, its input and
                                       Keras' output (committed: test/fixtures/keras/tiny, ~100 KB)
  keras_reference.py bf16   OUT.json   TensorFlow's own bfloat16 / float16 results for casts, conv2d (forward,
                                       both gradients), matMul, max/avg pooling (and gradients), relu,
                                       softmax, fused batch norm, depthwise conv2d (forward, both
                                       gradients) and mean / sum, with their float32 inputs
                                       (committed: test/fixtures/keras/bf16.json)
  keras_reference.py parity DIR        resnet50 and xception with random weights in both HDF5
                                       layouts, an input and Keras' outputs (made at test time,
                                       ~400 MB, never committed)

Outputs are deterministic for a given Keras version (keras.utils.set_random_seed).
"""
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402
import h5py  # noqa: E402
import keras  # noqa: E402
from keras.src.legacy.saving import legacy_h5_format  # noqa: E402


def layer_table(model):
    rows = []
    for layer in model.layers:
        inbound = []
        node = layer._inbound_nodes[0] if layer._inbound_nodes else None
        if node is not None:
            for t in node.input_tensors:
                inbound.append(t._keras_history[0].name)
        shape = layer.output.shape if hasattr(layer, "output") else None
        rows.append({
            "name": layer.name,
            "className": layer.__class__.__name__,
            "outputShape": [None if d is None else int(d) for d in shape],
            "params": int(layer.count_params()),
            "weights": [[w.path.split("/")[-1], [int(d) for d in w.shape]] for w in layer.weights],
            "inbound": inbound,
        })
    return rows


def notebook_resnet34(input_shape, classes):
    """The reference notebook's ResNet-34 (HOML ch. 14), verbatim but for the arguments."""
    from functools import partial

    DefaultConv2D = partial(keras.layers.Conv2D, kernel_size=3, strides=1, padding="same",
                            kernel_initializer="he_normal", use_bias=False)

    class ResidualUnit(keras.layers.Layer):
        def __init__(self, filters, strides=1, activation="relu", **kwargs):
            super().__init__(**kwargs)
            self.activation = keras.activations.get(activation)
            self.main_layers = [
                DefaultConv2D(filters, strides=strides),
                keras.layers.BatchNormalization(),
                self.activation,
                DefaultConv2D(filters),
                keras.layers.BatchNormalization(),
            ]
            self.skip_layers = []
            if strides > 1:
                self.skip_layers = [
                    DefaultConv2D(filters, kernel_size=1, strides=strides),
                    keras.layers.BatchNormalization(),
                ]

        def call(self, inputs):
            Z = inputs
            for layer in self.main_layers:
                Z = layer(Z)
            skip_Z = inputs
            for layer in self.skip_layers:
                skip_Z = layer(skip_Z)
            return self.activation(Z + skip_Z)

    model = keras.Sequential([
        keras.Input(shape=input_shape),
        DefaultConv2D(64, kernel_size=7, strides=2),
        keras.layers.BatchNormalization(),
        keras.layers.Activation("relu"),
        keras.layers.MaxPool2D(pool_size=3, strides=2, padding="same"),
    ])
    prev_filters = 64
    for filters in [64] * 3 + [128] * 4 + [256] * 6 + [512] * 3:
        strides = 1 if filters == prev_filters else 2
        model.add(ResidualUnit(filters, strides=strides))
        prev_filters = filters
    model.add(keras.layers.GlobalAvgPool2D())
    model.add(keras.layers.Flatten())
    model.add(keras.layers.Dense(classes, activation="softmax"))
    return model


def arch(out):
    A = keras.applications
    configs = [
        ("resnet50", dict(include_top=True, weights=None), lambda kw: A.ResNet50(**kw)),
        ("resnet50", dict(include_top=False, weights=None, input_shape=(32, 32, 3), pooling="avg"), lambda kw: A.ResNet50(**kw)),
        ("xception", dict(include_top=True, weights=None), lambda kw: A.Xception(**kw)),
        ("xception", dict(include_top=False, weights=None, input_shape=(71, 71, 3), pooling="max"), lambda kw: A.Xception(**kw)),
    ]
    res = {"kerasVersion": keras.__version__, "models": []}
    configs.append(("resnet34", dict(input_shape=(224, 224, 3), classes=10), lambda kw: notebook_resnet34(**kw)))
    for name, kw, make in configs:
        m = make(kw)
        res["models"].append({
            "application": name,
            "args": {k: (list(v) if isinstance(v, tuple) else v) for k, v in kw.items()},
            "modelName": m.name,
            "totalParams": int(m.count_params()),
            "trainableParams": int(sum(np.prod(w.shape) for w in m.trainable_weights)),
            "layers": layer_table(m),
        })
        keras.backend.clear_session()
    write_json(out, res)


def small(out):
    rng = np.random.default_rng(0)
    x = f32(rng.uniform(0, 255, size=(2, 3, 4, 3)))
    probs = f32(rng.uniform(0, 1, size=(2, 1000)))
    # decode_predictions would download the class index: hand it the project's copy (the
    # same bytes as Keras' file) instead.
    from keras.src.applications import imagenet_utils
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "..", "lib", "applications", "imagenet_class_index.json")) as f:
        imagenet_utils.CLASS_INDEX = json.load(f)
    decoded = imagenet_utils.decode_predictions(probs, top=5)
    res = {
        "kerasVersion": keras.__version__,
        "input": [float(f"{v:.9g}") for v in x.ravel()],
        "inputShape": list(x.shape),
        "resnet50": r6(keras.applications.resnet50.preprocess_input(x.copy()).ravel().tolist()),
        "xception": r6(keras.applications.xception.preprocess_input(x.copy()).ravel().tolist()),
        "probs": [float(f"{v:.9g}") for v in probs.ravel()],
        "decoded": [[[c, n, float(p)] for c, n, p in row] for row in decoded],
        "rotation": rotation_reference(rng),
    }
    write_json(out, res)


def rotation_reference(rng):
    """Keras' rotation matrices for given angles and TF's ImageProjectiveTransformV3 outputs."""
    import tensorflow as tf

    img = f32(rng.uniform(0, 255, size=(3, 7, 9, 2)))
    degrees = np.array([17.0, -33.0, 95.0], dtype="float32")
    layer = keras.layers.RandomRotation(0.1)
    z = np.zeros(3, "float32")
    m = np.asarray(layer._compute_affine_matrix(
        center_x=0.5, center_y=0.5, angle=degrees, translate_x=z, translate_y=z,
        scale=np.ones(3, "float32"), shear_x=z, shear_y=z, height=7, width=9))
    outs = {}
    for fill in ("reflect", "wrap", "constant", "nearest"):
        for interp in ("bilinear", "nearest"):
            y = tf.raw_ops.ImageProjectiveTransformV3(
                images=img, transforms=m.astype("float32"), output_shape=[7, 9],
                fill_value=3.0, interpolation=interp.upper(), fill_mode=fill.upper())
            outs[f"{fill}/{interp}"] = r6(np.asarray(y).ravel().tolist())
    return {"image": [float(f"{v:.9g}") for v in img.ravel()], "shape": list(img.shape), "degrees": degrees.tolist(),
            "transforms": m.tolist(), "fillValue": 3.0, "outputs": outs}


def f32(a):
    """Float32 values that survive a JSON round trip exactly (9 significant digits)."""
    a = np.asarray(a, "float32")
    return np.array([float(f"{v:.9g}") for v in a.ravel()], "float32").reshape(a.shape)


def r6(values):
    """Floats to 7 significant digits (keeps the committed JSON small; tests allow for it)."""
    return [float(f"{v:.7g}") for v in values]


def write_json(path, obj):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {path}")


def randomize(model, seed, calibration=None):
    """Random, non-trivial weights: Keras' initializers, noise on biases and BN scales, and
    BN moving statistics taken from a training-mode pass over calibration images (so the
    signal neither dies nor explodes through a deep network and outputs depend on inputs)."""
    rng = np.random.default_rng(seed)
    for w in model.weights:
        v = np.asarray(w.numpy())
        leaf = w.path.split("/")[-1]
        if leaf in ("bias", "beta", "moving_mean"):
            v = rng.normal(0, 0.1, v.shape)
        elif leaf in ("gamma", "moving_variance"):
            v = rng.uniform(0.5, 1.5, v.shape)
        w.assign(v.astype("float32"))
    if calibration is not None:
        bns = [l for l in model.layers if isinstance(l, keras.layers.BatchNormalization)]
        for l in bns:
            l.momentum = 0.0
        model(calibration, training=True)
        for l in bns:
            l.momentum = 0.99


def save_both(model, prefix):
    model.save_weights(prefix + ".weights.h5")
    with h5py.File(prefix + ".h5", "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, model)


def run_and_save(model, x, d, name, meta):
    y = model.predict(x, verbose=0)
    x.astype("<f4").tofile(os.path.join(d, name + ".input.bin"))
    y.astype("<f4").tofile(os.path.join(d, name + ".output.bin"))
    meta[name] = {"inputShape": list(x.shape), "outputShape": list(y.shape)}
    save_both(model, os.path.join(d, name))


def tiny(d):
    os.makedirs(d, exist_ok=True)
    keras.utils.set_random_seed(1)
    L = keras.layers
    inp = keras.Input((9, 9, 3), name="image")
    x = L.ZeroPadding2D(((1, 0), (0, 1)), name="pad")(inp)
    x = L.Conv2D(4, 3, strides=2, name="conv")(x)
    x = L.BatchNormalization(name="bn")(x)
    x = L.Activation("relu", name="relu")(x)
    y = L.SeparableConv2D(4, 3, padding="same", name="sep")(x)
    y = L.DepthwiseConv2D(3, padding="same", depth_multiplier=1, name="dw")(y)
    x = L.Add(name="add")([x, y])
    x = L.MaxPooling2D(2, name="pool")(x)
    x = L.GlobalAveragePooling2D(name="gap")(x)
    out = L.Dense(3, activation="softmax", name="probs")(x)
    m = keras.Model(inp, out, name="tiny")
    randomize(m, 1)
    x = np.random.default_rng(2).normal(0, 1, (2, 9, 9, 3)).astype("float32")
    meta = {"kerasVersion": keras.__version__}
    run_and_save(m, x, d, "tiny", meta)
    save_keras2_style(m, os.path.join(d, "tiny_keras2.h5"))
    write_json(os.path.join(d, "meta.json"), meta)


def save_keras2_style(model, path):
    """The legacy layout as Keras 2 wrote it (and as the applications' ImageNet files are):
    fixed-length byte-string attributes, weight names with ':0', attributes in chunks
    ('layer_names0', 'layer_names1', ...) when long (here forced by a tiny chunk size)."""
    with h5py.File(path, "w") as f:
        names = [l.name for l in model.layers]
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.2.4"
        half = len(names) // 2
        f.attrs["layer_names0"] = np.array([n.encode("utf8") for n in names[:half]])
        f.attrs["layer_names1"] = np.array([n.encode("utf8") for n in names[half:]])
        for layer in model.layers:
            g = f.create_group(layer.name)
            ws = layer.trainable_weights + layer.non_trainable_weights
            wnames = [f"{layer.name}/{w.path.split('/')[-1]}:0".encode("utf8") for w in ws]
            g.attrs["weight_names"] = np.array(wnames)
            for wn, w in zip(wnames, ws):
                g.create_dataset(wn.decode(), data=np.asarray(w.numpy()))


def parity(d):
    os.makedirs(d, exist_ok=True)
    A = keras.applications
    meta = {"kerasVersion": keras.__version__}
    keras.utils.set_random_seed(3)
    m = A.ResNet50(include_top=False, weights=None, input_shape=(32, 32, 3), pooling="avg")
    randomize(m, 3, np.random.default_rng(7).uniform(-1, 1, (8, 32, 32, 3)).astype("float32"))
    x = np.random.default_rng(4).uniform(-1, 1, (2, 32, 32, 3)).astype("float32")
    run_and_save(m, x, d, "resnet50", meta)
    keras.backend.clear_session()
    keras.utils.set_random_seed(5)
    m = A.Xception(include_top=True, weights=None, input_shape=(71, 71, 3), classes=7)
    randomize(m, 5, np.random.default_rng(8).uniform(-1, 1, (8, 71, 71, 3)).astype("float32"))
    x = np.random.default_rng(6).uniform(-1, 1, (2, 71, 71, 3)).astype("float32")
    run_and_save(m, x, d, "xception", meta)
    write_json(os.path.join(d, "meta.json"), meta)


def zoo(out):
    """Compact layer tables ([name, class, output shape, parameters]) of the zoo's Keras models."""
    A = keras.applications
    configs = [
        ("vgg16", dict(include_top=True, weights=None), A.VGG16),
        ("vgg16", dict(include_top=False, weights=None, input_shape=(32, 32, 3), pooling="max"), A.VGG16),
        ("vgg19", dict(include_top=True, weights=None, input_shape=(32, 32, 3), classes=10), A.VGG19),
        ("vgg19", dict(include_top=False, weights=None), A.VGG19),
        ("resnet101", dict(include_top=True, weights=None), A.ResNet101),
        ("resnet152", dict(include_top=True, weights=None), A.ResNet152),
    ]
    res = {"kerasVersion": keras.__version__, "models": []}
    for name, kw, make in configs:
        m = make(**kw)
        res["models"].append({
            "application": name,
            "args": {k: (list(v) if isinstance(v, tuple) else v) for k, v in kw.items()},
            "totalParams": int(m.count_params()),
            "trainableParams": int(sum(np.prod(w.shape) for w in m.trainable_weights)),
            "layers": [[r["name"], r["className"], r["outputShape"], r["params"]] for r in layer_table(m)],
        })
        keras.backend.clear_session()
    write_json(out, res)


def encode(a):
    """A flat list of float32 values; NaN and infinities as strings (JSON has no literals)."""
    out = []
    for v in np.asarray(a, dtype=np.float32).reshape(-1):  # shortest repr that rounds back to the float32
        out.append("NaN" if np.isnan(v) else ("Infinity" if v == np.inf else ("-Infinity" if v == -np.inf else float(repr(v).replace("np.float32(", "").rstrip(")")))))
    return out


def bf16(out):
    """TensorFlow's bfloat16 kernels (float16 for the cast) on deterministic float32 inputs.
    Inputs are rounded to bfloat16 by tf.cast; outputs are widened to float32 for JSON."""
    import tensorflow as tf

    rng = np.random.default_rng(21)
    res = {"tensorflowVersion": tf.__version__, "cases": {}}
    cases = res["cases"]

    def put(name, **arrays):
        cases[name] = {k: {"shape": [int(d) for d in np.shape(v)], "values": encode(v)} for k, v in arrays.items()}

    def f32(t):
        return tf.cast(t, tf.float32).numpy()

    # Casts: ties, values between bfloat16 neighbours, subnormals, overflow, NaN, infinities.
    special = np.array([0.0, -0.0, 1.0, 1.00390625, 1.01171875, 1.005859375, 1.0 + 2.0 ** -9, 1.0 + 3 * 2.0 ** -9,
                        -2.5, 3.14159265, 65504.0, 65520.0, 1e-8, 1e-40, -1e-40, 3.3895314e38, 3.4e38, np.nan,
                        np.inf, -np.inf], dtype=np.float32)
    cast_x = np.concatenate([special, rng.normal(0, 100, 236).astype(np.float32)])
    put("cast", x=cast_x, bfloat16=f32(tf.cast(cast_x, tf.bfloat16)), float16=f32(tf.cast(cast_x, tf.float16)))

    def bf(a):
        return tf.cast(tf.constant(a), tf.bfloat16)

    # conv2d: forward and both gradients for an upstream gradient dy.
    for name, xs, ws, stride, pad in [("conv2d_same", (2, 9, 9, 16), (3, 3, 16, 32), 1, "SAME"),
                                      ("conv2d_valid_s2", (2, 11, 11, 3), (5, 5, 3, 8), 2, "VALID")]:
        x = rng.uniform(-1, 1, xs).astype(np.float32)
        w = rng.uniform(-0.5, 0.5, ws).astype(np.float32)
        xb, wb = bf(x), bf(w)
        with tf.GradientTape(persistent=True) as tape:
            tape.watch([xb, wb])
            y = tf.nn.conv2d(xb, wb, strides=stride, padding=pad)
            dy = bf(rng.uniform(-1, 1, y.shape).astype(np.float32))
            loss = tf.reduce_sum(tf.cast(y, tf.float32) * tf.cast(dy, tf.float32))
        dx, dw = tape.gradient(y, [xb, wb], output_gradients=dy)
        put(name, x=x, w=w, dy=f32(dy), y=f32(y), dx=f32(dx), dw=f32(dw))
        cases[name]["attrs"] = {"strides": stride, "pad": pad.lower()}

    a = rng.uniform(-1, 1, (16, 96)).astype(np.float32)
    b = rng.uniform(-1, 1, (96, 24)).astype(np.float32)
    put("matmul", a=a, b=b, c=f32(tf.matmul(bf(a), bf(b))))

    x = rng.uniform(-1, 1, (2, 8, 8, 8)).astype(np.float32)
    for kind, fn in [("maxpool", tf.nn.max_pool2d), ("avgpool", tf.nn.avg_pool2d)]:
        xb = bf(x)
        with tf.GradientTape() as tape:
            tape.watch(xb)
            y = fn(xb, ksize=2, strides=2, padding="VALID")
        dy = bf(rng.uniform(-1, 1, y.shape).astype(np.float32))
        dx = tape.gradient(y, xb, output_gradients=dy)
        put(kind, x=x, y=f32(y), dy=f32(dy), dx=f32(dx))

    x = rng.uniform(-2, 2, (4, 33)).astype(np.float32)
    xb = bf(x)
    with tf.GradientTape() as tape:
        tape.watch(xb)
        y = tf.nn.relu(xb)
    dy = bf(rng.uniform(-1, 1, (4, 33)).astype(np.float32))
    put("relu", x=x, y=f32(y), dy=f32(dy), dx=f32(tape.gradient(y, xb, output_gradients=dy)))

    x = rng.uniform(-4, 4, (6, 10)).astype(np.float32)
    xb = bf(x)
    with tf.GradientTape() as tape:
        tape.watch(xb)
        y = tf.nn.softmax(xb)
    dy = bf(rng.uniform(-1, 1, (6, 10)).astype(np.float32))
    put("softmax", x=x, y=f32(y), dy=f32(dy), dx=f32(tape.gradient(y, xb, output_gradients=dy)))

    # Fused batch norm (training): bfloat16 x / y, float32 scale, offset and statistics.
    x = rng.normal(0.5, 2, (4, 5, 5, 8)).astype(np.float32)
    gamma = rng.uniform(0.5, 1.5, 8).astype(np.float32)
    beta = rng.uniform(-0.5, 0.5, 8).astype(np.float32)
    xb = bf(x)
    g, bt = tf.constant(gamma), tf.constant(beta)
    with tf.GradientTape() as tape:
        tape.watch([xb, g, bt])
        y, mean, var = tf.compat.v1.nn.fused_batch_norm(xb, g, bt, epsilon=1e-3, is_training=True)
    dy = bf(rng.uniform(-1, 1, x.shape).astype(np.float32))
    dx, dg, db = tape.gradient(y, [xb, g, bt], output_gradients=dy)
    n = x.size // 8
    put("batchnorm", x=x, gamma=gamma, beta=beta, y=f32(y), mean=mean.numpy(),
        var=var.numpy() * (n - 1) / n, dy=f32(dy), dx=f32(dx), dgamma=dg.numpy(), dbeta=db.numpy())

    # Cases for ResNet-34 / Xception training in bf16, drawn from their own generator so the
    # cases above keep their values. Depthwise convolution (SeparableConv2D's first half):
    # forward and both gradients, multiplier 1 (Xception's) and 2.
    rng = np.random.default_rng(2121)
    for name, xs, ws, stride, pad in [("depthwise_same", (2, 9, 9, 16), (3, 3, 16, 1), 1, "SAME"),
                                      ("depthwise_valid_s2_m2", (2, 11, 11, 8), (3, 3, 8, 2), 2, "VALID")]:
        x = rng.uniform(-1, 1, xs).astype(np.float32)
        w = rng.uniform(-0.5, 0.5, ws).astype(np.float32)
        xb, wb = bf(x), bf(w)
        with tf.GradientTape() as tape:
            tape.watch([xb, wb])
            y = tf.nn.depthwise_conv2d(xb, wb, strides=[1, stride, stride, 1], padding=pad)
        dy = bf(rng.uniform(-1, 1, y.shape).astype(np.float32))
        dx, dw = tape.gradient(y, [xb, wb], output_gradients=dy)
        put(name, x=x, w=w, dy=f32(dy), y=f32(y), dx=f32(dx), dw=f32(dw))
        cases[name]["attrs"] = {"strides": stride, "pad": pad.lower()}

    # Reductions on bf16 (GlobalAveragePooling2D's mean over H, W; a sum over two axes).
    x = rng.normal(0.3, 1, (2, 5, 5, 16)).astype(np.float32)
    xb = bf(x)
    put("reduce", x=x, mean12=f32(tf.reduce_mean(xb, axis=[1, 2])), sum02=f32(tf.reduce_sum(xb, axis=[0, 2], keepdims=True)))
    write_json(out, res)


if __name__ == "__main__":
    commands = {"arch": arch, "zoo": zoo, "small": small, "tiny": tiny, "parity": parity, "bf16": bf16}
    commands["mixed"] = lambda out: __import__("keras_reference_mixed").mixed(out)  # mixed_bfloat16 layers: see that file
    if len(sys.argv) != 3 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    commands[sys.argv[1]](sys.argv[2])
