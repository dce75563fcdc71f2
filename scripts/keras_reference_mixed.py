#!/usr/bin/env python3
"""Keras layers under the mixed_bfloat16 policy, as references for cudnn-node's
cn.mixedPrecision (issue 21, item 9: "layers under mixed_bfloat16 are compared with Keras
layers under mixed_bfloat16: output dtype, values and gradients"; item 7: "Keras .h5 weights
load into mixed-policy models"). Run through the dispatcher:

  keras_reference.py mixed OUT.json   (committed: test/fixtures/keras/mixed_bfloat16.json and,
                                       beside it, mixed_bfloat16.weights.h5 and the same weights
                                       in the legacy layout, mixed_bfloat16.h5)

Per case: the layer's configuration, its float32 inputs and weights (the values set on the
layer), Keras' output dtype and values (widened to float32), and the gradients of a float32
loss sum(cast(out, float32) * r) (r fixed, random) with respect to each input and each weight,
with their dtypes, plus the layers' compute and variable dtypes. BatchNormalization in
training mode also records its updated moving statistics. The h5 part is a small CNN built
under mixed_bfloat16, trained a few steps, saved with model.save_weights (both HDF5 layouts), and its
predictions under the policy.

Every float is stored as the shortest decimal that rounds back to the same float32, so the
inputs and weights the tests use are exactly Keras' float32 values.
"""
import os

import numpy as np
import keras
import tensorflow as tf

from keras_reference import encode, write_json

L = keras.layers


def arr(a):
    a = np.asarray(a)
    return {"shape": [int(d) for d in a.shape], "values": encode(a.astype(np.float32))}


def dtype_name(t):
    return tf.as_dtype(t.dtype).name


def record(case_name, cases, layer, inputs, training=None, call_kwargs=None):
    """Runs layer on inputs (float32 numpy arrays) under a GradientTape and records it."""
    xs = [tf.constant(x) for x in inputs]
    # Build first so weights exist, then record the weights as they are (set by the caller).
    weights = list(layer.weights)
    before = [np.asarray(w.numpy()) for w in weights]
    with tf.GradientTape(persistent=True) as tape:
        for x in xs:
            tape.watch(x)
        kw = dict(call_kwargs or {})
        if training is not None:
            kw["training"] = training
        out = layer(xs if len(xs) > 1 else xs[0], **kw)
        r = np.random.default_rng(7 + len(cases)).uniform(-1, 1, out.shape).astype(np.float32)
        loss = tf.reduce_sum(tf.cast(out, tf.float32) * r)
    trainable = list(layer.trainable_weights)
    dxs = tape.gradient(loss, xs)
    dws = tape.gradient(loss, trainable) if trainable else []
    del tape
    case = {
        "layer": layer.__class__.__name__,
        "config": {k: v for k, v in layer.get_config().items() if k in CONFIG_KEYS and k != "dtype"},
        "policy": layer.dtype_policy.name,
        "computeDtype": layer.compute_dtype,
        "variableDtype": layer.variable_dtype,
        "inputs": [arr(x) for x in inputs],
        "weights": [dict(name=w.path, dtype=dtype_name(w), trainable=bool(w.trainable), **arr(b))
                    for w, b in zip(weights, before)],
        "output": dict(dtype=dtype_name(out), **arr(tf.cast(out, tf.float32).numpy())),
        "r": arr(r),
        "loss": float(loss.numpy()),
        "dInputs": [dict(dtype=dtype_name(d), **arr(tf.cast(d, tf.float32).numpy())) for d in dxs],
        "dWeights": [dict(name=w.path, dtype=dtype_name(d), **arr(d.numpy()))
                     for w, d in zip(trainable, dws)],
    }
    if training is not None:
        case["training"] = bool(training)
    if isinstance(layer, L.BatchNormalization) and training:
        case["movingAfter"] = {"moving_mean": arr(layer.moving_mean.numpy()),
                               "moving_variance": arr(layer.moving_variance.numpy())}
    cases[case_name] = case


CONFIG_KEYS = ("units", "activation", "use_bias", "filters", "kernel_size", "strides", "padding",
               "depth_multiplier", "pool_size", "momentum", "epsilon", "rate", "dtype")


def set_random(layer, input_shapes, seed):
    """Builds layer and gives every weight random float32 values (moving variance positive)."""
    if not layer.built:
        layer.build(input_shapes if len(input_shapes) > 1 else input_shapes[0])
    rng = np.random.default_rng(seed)
    vals = []
    for w in layer.weights:
        leaf = w.path.split("/")[-1]
        if leaf in ("gamma", "moving_variance"):
            v = rng.uniform(0.5, 1.5, w.shape)
        elif leaf in ("bias", "beta", "moving_mean"):
            v = rng.normal(0, 0.2, w.shape)
        else:
            v = rng.uniform(-0.5, 0.5, w.shape)
        vals.append(np.asarray(encode_roundtrip(v)))
    layer.set_weights(vals)


def encode_roundtrip(a):
    return np.array(encode(np.asarray(a, np.float32)), np.float32).reshape(np.shape(a))


def data(rng, shape, lo=-1.0, hi=1.0):
    return encode_roundtrip(rng.uniform(lo, hi, shape))


def layer_cases(cases):
    rng = np.random.default_rng(2101)
    specs = [
        ("dense", lambda: L.Dense(6), [(4, 8)], {}),
        ("dense_relu", lambda: L.Dense(6, activation="relu"), [(4, 8)], {}),
        ("conv2d_same", lambda: L.Conv2D(4, 3, padding="same"), [(2, 6, 6, 3)], {}),
        ("conv2d_valid_s2_relu", lambda: L.Conv2D(5, 3, strides=2, padding="valid", activation="relu"), [(2, 7, 7, 3)], {}),
        ("depthwise_conv2d", lambda: L.DepthwiseConv2D(3, padding="same", depth_multiplier=2), [(2, 5, 5, 3)], {}),
        ("separable_conv2d", lambda: L.SeparableConv2D(4, 3, padding="valid"), [(2, 6, 6, 3)], {}),
        ("batchnorm_train", lambda: L.BatchNormalization(momentum=0.8), [(4, 3, 3, 5)], {"training": True}),
        ("batchnorm_infer", lambda: L.BatchNormalization(momentum=0.8), [(4, 3, 3, 5)], {"training": False}),
        ("maxpool", lambda: L.MaxPooling2D(2), [(2, 6, 6, 3)], {}),
        ("avgpool", lambda: L.AveragePooling2D(2), [(2, 6, 6, 3)], {}),
        ("global_avgpool", lambda: L.GlobalAveragePooling2D(), [(2, 4, 4, 3)], {}),
        ("relu", lambda: L.Activation("relu"), [(4, 10)], {}),
        ("softmax", lambda: L.Activation("softmax"), [(4, 10)], {}),
        ("dense_float32_softmax", lambda: L.Dense(5, activation="softmax", dtype="float32"), [(4, 8)], {}),
        ("flatten", lambda: L.Flatten(), [(2, 3, 3, 2)], {}),
        ("add", lambda: L.Add(), [(2, 4, 4, 3), (2, 4, 4, 3)], {}),
        ("zero_padding2d", lambda: L.ZeroPadding2D(((1, 2), (0, 1))), [(2, 3, 3, 2)], {}),
        ("dropout_infer", lambda: L.Dropout(0.5), [(4, 6)], {"training": False}),
    ]
    for i, (name, make, shapes, kw) in enumerate(specs):
        layer = make()
        set_random(layer, shapes, 300 + i)
        scale = 3.0 if name in ("softmax", "relu") else 1.0
        xs = [data(rng, s, -scale, scale) for s in shapes]
        if name.startswith("batchnorm"):
            xs = [encode_roundtrip(rng.normal(0.5, 2.0, shapes[0]))]
        record(name, cases, layer, xs, training=kw.get("training"))


def small_cnn(name="cnn"):
    """conv-bn-relu-pool-flatten-dense-softmax, the softmax in float32 (Keras' usual head)."""
    return keras.Sequential([
        keras.Input((8, 8, 2)),
        L.Conv2D(4, 3, padding="same", name="conv"),
        L.BatchNormalization(momentum=0.8, name="bn"),
        L.Activation("relu", name="relu"),
        L.MaxPooling2D(2, name="pool"),
        L.Flatten(name="flatten"),
        L.Dense(5, name="dense"),
        L.Activation("softmax", dtype="float32", name="probs"),
    ], name=name)


def model_case(cases, training):
    m = small_cnn()
    rng = np.random.default_rng(77)
    for j, layer in enumerate(m.layers):
        if layer.weights:
            set_random(layer, [None], 500 + j)
    x = data(rng, (4, 8, 8, 2))
    name = "sequential_cnn_" + ("train" if training else "infer")
    # A model is a layer: record it whole; its weights are listed in model.weights order.
    record(name, cases, m, [x], training=training)
    cases[name]["layerDtypes"] = [[l.name, l.dtype_policy.name, l.compute_dtype, l.variable_dtype] for l in m.layers]
    cases[name]["layerOutputDtypes"] = layer_output_dtypes(m, x)
    cases[name]["exact"] = exact_cnn(cases[name], training)
    if training:
        bn = m.get_layer("bn")
        cases[name]["movingAfter"] = {"moving_mean": arr(bn.moving_mean.numpy()),
                                      "moving_variance": arr(bn.moving_variance.numpy())}


def exact_cnn(case, training):
    """The same network in float64 from the bfloat16-rounded input and weights, with no
    rounding in between: exact arithmetic on what both sides compute from. Through six bf16
    roundings, Keras' own gradients are 1-5% of their largest value away from these (TF sums
    some of them in bf16), so the tests judge our distance from Keras against Keras' own."""
    def values(e):
        return np.array(e["values"], np.float64).reshape(e["shape"])

    def bf(a):
        return tf.cast(tf.cast(tf.constant(a, tf.float32), tf.bfloat16), tf.float64)

    k, b, g, be, mm, mv, dk, db = [tf.Variable(values(w)) for w in case["weights"]]
    x = bf(values(case["inputs"][0]))
    r = tf.constant(values(case["r"]))
    with tf.GradientTape() as tape:
        tape.watch(x)
        h = tf.nn.conv2d(x, tf.cast(tf.cast(k, tf.bfloat16), tf.float64), 1, "SAME") + tf.cast(tf.cast(b, tf.bfloat16), tf.float64)
        mean, var = tf.nn.moments(h, [0, 1, 2]) if training else (mm, mv)
        h = (h - mean) / tf.sqrt(var + 1e-3) * g + be
        h = tf.reshape(tf.nn.max_pool2d(tf.nn.relu(h), 2, 2, "VALID"), [h.shape[0], -1])
        h = h @ tf.cast(tf.cast(dk, tf.bfloat16), tf.float64) + tf.cast(tf.cast(db, tf.bfloat16), tf.float64)
        out = tf.nn.softmax(h)
        loss = tf.reduce_sum(out * r)
    grads = tape.gradient(loss, [x, k, b, g, be, dk, db])
    return {"output": arr(out.numpy()), "dInputs": [arr(grads[0].numpy())], "dWeights": [arr(d.numpy()) for d in grads[1:]]}


def layer_output_dtypes(m, x):
    out = []
    t = tf.constant(x)
    for layer in m.layers:
        t = layer(t, training=False)
        out.append([layer.name, dtype_name(t)])
    return out


def h5_case(res, weights_path):
    """A small CNN trained a few steps under mixed_bfloat16, saved with save_weights, and its
    predictions under the policy (inputs stored; weights only in the .weights.h5 file)."""
    keras.utils.set_random_seed(21)
    m = small_cnn("h5cnn")
    rng = np.random.default_rng(8)
    xtr = rng.uniform(-1, 1, (32, 8, 8, 2)).astype(np.float32)
    ytr = rng.integers(0, 5, 32)
    m.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    m.fit(xtr, ytr, batch_size=8, epochs=2, verbose=0, shuffle=False)
    m.save_weights(weights_path)
    # The legacy HDF5 layout too (Keras 2's model.save_weights('x.h5'), the applications' files).
    import h5py
    from keras.src.legacy.saving import legacy_h5_format
    with h5py.File(weights_path.replace(".weights.h5", ".h5"), "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, m)
    x = data(rng, (3, 8, 8, 2))
    y = m.predict(x, verbose=0)
    res["h5"] = {
        "files": [os.path.basename(weights_path), os.path.basename(weights_path.replace(".weights.h5", ".h5"))],
        "policy": keras.mixed_precision.global_policy().name,
        "weightDtypes": [[w.path, dtype_name(w)] for w in m.weights],
        "input": arr(x),
        "output": dict(dtype=str(y.dtype), **arr(y)),
    }


def mixed(out):
    keras.utils.set_random_seed(2026)
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        res = {"kerasVersion": keras.__version__, "tensorflowVersion": tf.__version__,
               "policy": keras.mixed_precision.global_policy().name, "cases": {}}
        layer_cases(res["cases"])
        model_case(res["cases"], training=True)
        model_case(res["cases"], training=False)
        h5_case(res, os.path.join(os.path.dirname(os.path.abspath(out)), "mixed_bfloat16.weights.h5"))
    finally:
        keras.mixed_precision.set_global_policy("float32")
    write_json(out, res)
