"""``digitnet export MODEL --onnx FILE``: the network's inference path as an ONNX graph.

The graph, one node per step of ``Network.infer`` and ``softmax``::

    pixels (N, 784) float32, grey levels 0..255, 0 = background (a 28x28 image, row by row)
      Mul 1/255             scaling to [0, 1], as data.scale_images (notes section 4)
      Gemm X W + b          notes eq. (1); W is (n_in, n_out) as stored, so no transpose
      Relu | LeakyRelu | Sigmoid | Tanh          notes eq. (2)-(2d), after each hidden layer
      ... Gemm              logits (N, k)
      Div T                 temperature scaling, only when the model file has a calibration
      Softmax axis -1       notes eq. (3): probabilities (N, k)
      ArgMax axis 1         digit (N,) int64: the index of the most probable class

The model's facts (``ExportableModel.description``) are metadata properties, one per key, each
value JSON text. The ``onnx`` package is imported only here, when an export is asked for.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from .. import __version__
from ..atomic import check_writable_destination, write_atomically
from ..errors import ConfigError, ExportError
from ..functional import LEAKY_RELU_SLOPE
from ..persistence import LoadedModel
from .exportable import ExportableModel, exportable_model

# Opset 21 (onnx >= 1.16, onnxruntime >= 1.18). Every operator used here last changed in
# opset 16 or earlier, so newer runtimes give the same graph the same meaning.
OPSET = 21
IR_VERSION = 10
ONNX_ACTIVATIONS = {  # digitnet name -> (ONNX operator, its attributes)
    "relu": ("Relu", {}),
    "leaky_relu": ("LeakyRelu", {"alpha": LEAKY_RELU_SLOPE}),
    "sigmoid": ("Sigmoid", {}),
    "tanh": ("Tanh", {}),
}
PIXEL_SCALE = np.float32(1 / 255)  # the factor data.scale_images multiplies by
INPUT_NAME = "pixels"


def require_onnx():
    try:
        import onnx
    except ImportError:
        raise ConfigError("exporting to ONNX needs the onnx package: pip install 'digitnet[onnx]'") from None
    return onnx


def export_onnx(model: LoadedModel, path: str | os.PathLike) -> Path:
    """Write ``model`` as an ONNX file at ``path`` (atomically) after ``onnx.checker`` passed."""
    path = Path(path)
    check_writable_destination(path, ExportError)
    onnx = require_onnx()
    graph_model = build_onnx_model(exportable_model(model, ONNX_ACTIVATIONS, "ONNX"))
    onnx.checker.check_model(graph_model, full_check=True)
    return write_atomically(path, graph_model.SerializeToString(), ExportError)


def build_onnx_model(exportable: ExportableModel):
    """The ``onnx.ModelProto`` of ``exportable``: graph, opset, producer and metadata."""
    onnx = require_onnx()
    helper = onnx.helper
    nodes, initializers = inference_nodes(exportable, helper, onnx.numpy_helper)
    n_classes = exportable.network.layer_sizes[-1]
    graph = helper.make_graph(
        nodes,
        "digitnet",
        inputs=[
            helper.make_tensor_value_info(
                INPUT_NAME,
                onnx.TensorProto.FLOAT,
                ["N", exportable.network.layer_sizes[0]],
                "grey levels 0..255 (0 = background) of 28x28 images, row by row, framed as MNIST digits",
            )
        ],
        outputs=[
            helper.make_tensor_value_info("probabilities", onnx.TensorProto.FLOAT, ["N", n_classes]),
            helper.make_tensor_value_info("logits", onnx.TensorProto.FLOAT, ["N", n_classes]),
            helper.make_tensor_value_info("digit", onnx.TensorProto.INT64, ["N"]),
        ],
        initializer=initializers,
    )
    graph_model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="digitnet",
        producer_version=__version__,
        doc_string=f"digitnet network {'-'.join(map(str, exportable.network.layer_sizes))} "
        f"({exportable.network.activation}) from {exportable.source.name}",
    )
    graph_model.ir_version = IR_VERSION
    helper.set_model_props(graph_model, {key: json.dumps(value) for key, value in exportable.description().items()})
    return graph_model


def inference_nodes(exportable: ExportableModel, helper, numpy_helper) -> tuple[list, list]:
    """The nodes and weight tensors from ``pixels`` to the three outputs (see the module docstring)."""
    initializers = [numpy_helper.from_array(PIXEL_SCALE.reshape(()), "pixel_scale")]
    nodes = [helper.make_node("Mul", [INPUT_NAME, "pixel_scale"], ["x"], name="scale_pixels")]
    operator, attributes = ONNX_ACTIVATIONS[exportable.network.activation]
    current = "x"
    dense_layers = exportable.network.dense_layers
    for index, dense in enumerate(dense_layers):
        initializers += [
            numpy_helper.from_array(dense.W, f"dense{index}.W"),
            numpy_helper.from_array(dense.b, f"dense{index}.b"),
        ]
        is_output = index == len(dense_layers) - 1
        z = "logits" if is_output else f"z{index}"
        nodes.append(
            helper.make_node("Gemm", [current, f"dense{index}.W", f"dense{index}.b"], [z], name=f"dense{index}")
        )
        if not is_output:
            current = f"a{index}"
            nodes.append(helper.make_node(operator, [z], [current], name=f"activation{index}", **attributes))
    scaled = "logits"
    if exportable.temperature is not None:
        initializers.append(numpy_helper.from_array(np.float32(exportable.temperature).reshape(()), "temperature"))
        nodes.append(helper.make_node("Div", ["logits", "temperature"], ["calibrated_logits"], name="calibrate"))
        scaled = "calibrated_logits"
    nodes.append(helper.make_node("Softmax", [scaled], ["probabilities"], name="softmax", axis=-1))
    nodes.append(helper.make_node("ArgMax", ["probabilities"], ["digit"], name="argmax", axis=1, keepdims=0))
    return nodes, initializers
