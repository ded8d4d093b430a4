"""What an ONNX file says about itself (names, producer, metadata), read from its protobuf without loading it.

The model registry must judge a file before onnxruntime has it in memory, and the `onnx` package is not a
dependency, so the few fields needed are read straight from the protobuf wire format (ModelProto and
GraphProto field numbers from onnx/onnx.proto). Weights (initialisers) are skipped by their length, never
decoded. A file that does not parse as ONNX is refused: what cannot be judged is not loaded.
"""

from __future__ import annotations

from pathlib import Path

from openrtcc.domain.errors import InvalidInput
from openrtcc.domain.model_registry import ModelDescription

# ModelProto
_PRODUCER, _DOMAIN, _MODEL_DOC, _GRAPH, _METADATA, _FUNCTIONS = 2, 4, 6, 7, 14, 25
# GraphProto
_NODE, _GRAPH_NAME, _GRAPH_DOC, _INPUT, _OUTPUT = 1, 2, 10, 11, 12
# NodeProto, ValueInfoProto, StringStringEntryProto, FunctionProto: the name (or key) is field 1 or 3
_NODE_NAME, _NODE_DOC, _VALUE_NAME, _ENTRY_KEY, _ENTRY_VALUE, _FUNCTION_NAME = 3, 6, 1, 1, 2, 1
_VARINT, _FIXED64, _BYTES, _FIXED32 = 0, 1, 2, 5


class _Truncated(Exception):
    pass


def _varint(buf: memoryview, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise _Truncated
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def fields(buf: memoryview) -> list[tuple[int, memoryview | int]]:
    """(field number, value) of one protobuf message: bytes fields as views, numbers as ints."""
    out, pos = [], 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == _VARINT:
            value, pos = _varint(buf, pos)
        elif wire == _BYTES:
            size, pos = _varint(buf, pos)
            if pos + size > len(buf):
                raise _Truncated
            value, pos = buf[pos:pos + size], pos + size
        elif wire in (_FIXED64, _FIXED32):
            step = 8 if wire == _FIXED64 else 4
            if pos + step > len(buf):
                raise _Truncated
            value, pos = int.from_bytes(buf[pos:pos + step], "little"), pos + step
        else:  # groups (3, 4) are not used by ONNX; anything else is not protobuf
            raise _Truncated
        if number == 0:
            raise _Truncated
        out.append((number, value))
    return out


def _text(value) -> str:
    return bytes(value).decode("utf-8", "replace") if isinstance(value, memoryview) else ""


def _names(messages, number: int) -> tuple[str, ...]:
    return tuple(_text(v) for m in messages for n, v in fields(m) if n == number and isinstance(v, memoryview))


def describe_onnx(path: Path) -> ModelDescription:
    """The description of an ONNX model file; InvalidInput when it is not one."""
    try:
        data = memoryview(path.read_bytes())
        model = fields(data)
        graphs = [v for n, v in model if n == _GRAPH and isinstance(v, memoryview)]
        if len(graphs) != 1:
            raise _Truncated
        graph = fields(graphs[0])
        by = {n: [v for k, v in graph if k == n] for n in (_NODE, _GRAPH_NAME, _GRAPH_DOC, _INPUT, _OUTPUT)}
        metadata = {}
        for n, entry in model:
            if n == _METADATA and isinstance(entry, memoryview):
                kv = dict(fields(entry))
                metadata[_text(kv.get(_ENTRY_KEY))] = _text(kv.get(_ENTRY_VALUE))
        docs = [_text(v) for n, v in model if n in (_MODEL_DOC, _DOMAIN)] + [_text(v) for v in by[_GRAPH_DOC]]
        nodes = by[_NODE]
        return ModelDescription(
            file_name=path.name,
            producer=" ".join(_text(v) for n, v in model if n == _PRODUCER),
            graph_name=" ".join(_text(v) for v in by[_GRAPH_NAME]),
            doc_string=" ".join(d for d in docs if d),
            metadata=metadata,
            input_names=_names(by[_INPUT], _VALUE_NAME),
            output_names=_names(by[_OUTPUT], _VALUE_NAME),
            node_names=_names(nodes, _NODE_NAME) + _names(nodes, _NODE_DOC)
            + _names([v for n, v in model if n == _FUNCTIONS], _FUNCTION_NAME),
        )
    except (_Truncated, UnicodeError) as e:
        raise InvalidInput(f"{path.name} is not a readable ONNX model, so it is not loaded",
                           code="unreadable_model") from e
