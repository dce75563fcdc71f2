#!/usr/bin/env python3
"""A Keras 3 model in the tfjs-layers form tfjs-converter writes (test/tfjs-format.test.ts):
model.json whose modelTopology is {keras_version, backend, model_config: model.to_json()},
the weights in two shard files split mid-weight, plus an input and Keras' own output.

  keras_tfjs_layers_fixture.py DIR   (committed: test/fixtures/keras/tfjs-layers, ~10 KB)

Needs TensorFlow + Keras 3 (scripts/setup-keras-venv.sh). Deterministic for a Keras version.
"""
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import keras  # noqa: E402
import numpy as np  # noqa: E402


def main(out):
    keras.utils.set_random_seed(7)
    inp = keras.Input((8, 8, 2), name="image")
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", kernel_regularizer=keras.regularizers.l2(0.01),
                            kernel_constraint=keras.constraints.MaxNorm(2.0), name="conv")(inp)
    x = keras.layers.BatchNormalization(name="bn")(x)
    a = keras.layers.MaxPooling2D(2, name="max_pool")(x)
    b = keras.layers.AveragePooling2D(2, name="avg_pool")(x)
    m = keras.layers.Add(name="add")([a, b])
    c = keras.layers.Concatenate(name="concat")([m, a])
    f = keras.layers.Flatten(name="flatten")(c)
    d = keras.layers.Dropout(0.2, name="dropout")(f)
    o = keras.layers.Dense(5, activation="softmax", name="dense_out")(d)
    model = keras.Model(inp, o, name="converted_cnn")
    rng = np.random.default_rng(7)
    bn = model.get_layer("bn")
    bn.moving_mean.assign(rng.normal(0, 0.5, 4).astype("float32"))
    bn.moving_variance.assign(rng.uniform(0.5, 2.0, 4).astype("float32"))
    bn.gamma.assign(rng.uniform(0.5, 1.5, 4).astype("float32"))
    bn.beta.assign(rng.normal(0, 0.2, 4).astype("float32"))

    os.makedirs(out, exist_ok=True)
    weights = [{"name": w.path, "shape": list(w.shape), "dtype": "float32"} for w in model.weights]
    data = b"".join(np.asarray(w.numpy(), dtype="<f4").tobytes() for w in model.weights)
    cut = 50  # inside the first weight, as tfjs-converter's 4 MB shards cut through weights
    with open(os.path.join(out, "group1-shard1of2.bin"), "wb") as f:
        f.write(data[:cut])
    with open(os.path.join(out, "group1-shard2of2.bin"), "wb") as f:
        f.write(data[cut:])
    model_json = {
        "format": "layers-model",
        "generatedBy": "keras v" + keras.__version__,
        "convertedBy": "TensorFlow.js Converter v4.22.0 (form reproduced by scripts/keras_tfjs_layers_fixture.py)",
        "modelTopology": {"keras_version": keras.__version__, "backend": "tensorflow", "model_config": json.loads(model.to_json())},
        "weightsManifest": [{"paths": ["group1-shard1of2.bin", "group1-shard2of2.bin"], "weights": weights}],
    }
    with open(os.path.join(out, "model.json"), "w") as f:
        json.dump(model_json, f)
    x = rng.uniform(-1, 1, (2, 8, 8, 2)).astype("float32")
    y = model.predict(x, verbose=0).astype("float32")
    x.astype("<f4").tofile(os.path.join(out, "input.bin"))
    y.astype("<f4").tofile(os.path.join(out, "output.bin"))
    with open(os.path.join(out, "meta.json"), "w") as f:
        json.dump({"keras": keras.__version__, "input": list(x.shape), "output": list(y.shape)}, f)


if __name__ == "__main__":
    main(sys.argv[1])
