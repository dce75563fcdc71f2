"""Reads TensorBoard event files with TensorBoard's own code and prints JSON, for
test/tensorboard.test.ts. Usage: tensorboard_reader.py RUN_DIR [RUN_DIR ...]

For each run directory:
  records: every record of every events file, read with TensorBoard's TFRecord reader
           (which checks both masked CRC-32Cs and raises on a bad one) and parsed as
           tensorboard's Event protobuf;
  accumulator: what TensorBoard's dashboards ingest (plugin_event_accumulator): per tag, the
           plugin name and the (step, value) series decoded with tensor_util.make_ndarray.
"""
import glob
import json
import os
import sys

from tensorboard.backend.event_processing import plugin_event_accumulator
from tensorboard.compat.proto import event_pb2
from tensorboard.compat.tensorflow_stub import pywrap_tensorflow
from tensorboard.util import tensor_util


def summary_value(v):
    out = {
        "tag": v.tag,
        "kind": v.WhichOneof("value"),
        "plugin": v.metadata.plugin_data.plugin_name,
        "description": v.metadata.summary_description,
        "data_class": v.metadata.data_class,
    }
    if v.HasField("tensor"):
        array = tensor_util.make_ndarray(v.tensor)
        out["value"], out["dtype"] = array.tolist(), str(array.dtype)
    elif out["kind"] == "simple_value":  # the legacy scalar form (tfjs-node writes it)
        out["value"], out["dtype"] = v.simple_value, "float32"
    return out


def read_records(path):
    reader = pywrap_tensorflow.PyRecordReader_New(path.encode(), 0, None, None)
    out = []
    while True:
        try:
            reader.GetNext()
        except Exception as e:  # the stub raises DataLossError / OutOfRangeError at the end
            if type(e).__name__ == "OutOfRangeError":
                break
            raise
        ev = event_pb2.Event.FromString(reader.record())
        rec = {"wall_time": ev.wall_time, "step": ev.step, "what": ev.WhichOneof("what")}
        if ev.HasField("file_version"):
            rec["file_version"] = ev.file_version
        if ev.HasField("summary"):
            rec["values"] = [summary_value(v) for v in ev.summary.value]
        out.append(rec)
    return out


def main():
    result = {}
    for run in sys.argv[1:]:
        files = sorted(glob.glob(os.path.join(run, "*tfevents*")))
        acc = plugin_event_accumulator.EventAccumulator(run, size_guidance={"tensors": 0})
        acc.Reload()
        series = {}
        for tag in acc.Tags()["tensors"]:
            series[tag] = {
                "plugin": acc.SummaryMetadata(tag).plugin_data.plugin_name,
                "points": [[e.step, tensor_util.make_ndarray(e.tensor_proto).tolist()] for e in acc.Tensors(tag)],
            }
        result[run] = {
            "files": [os.path.basename(f) for f in files],
            "records": {os.path.basename(f): read_records(f) for f in files},
            "accumulator": series,
        }
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
