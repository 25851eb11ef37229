"""BERT sentence-transformers models (all-MiniLM-L6-v2, ...) run with ONNX Runtime, no torch.

The same packaged weights (``model.safetensors``) and tokenizer (``tokenizer.json``) that
sentence-transformers loads, put into an ONNX graph built in memory at load time: the BERT
encoder (embeddings, post-norm attention layers with exact GELU) as in transformers'
``BertModel``, then the mean pooling and L2 normalisation of the sentence-transformers folder.
Loading takes about a second instead of the 5-15 s of importing torch and sentence-transformers,
and the vectors match theirs (cosine ≥ 0.99999, tests/test_models_text_onnx.py), so stores
written by either runtime stay valid: the model's identity (``ModelInfo``) is the same.

The graph, fused by ONNX Runtime (weights included, ~90 MB for MiniLM), is kept in ``SCENESPARK_CACHE_DIR/onnx/`` under
the model's name and fingerprint, shared by every library; later starts read it instead of importing ``onnx`` and building it
again (a derived cache, like bytecode: deleting it only costs the next start a second).

Only folders this graph describes exactly are taken (:func:`onnx_unsupported` says why not);
anything else runs with sentence-transformers (``SCENESPARK_TEXT_RUNTIME``).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import logging
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scenespark.config import Settings
from scenespark.errors import ModelUnavailableError
from scenespark.models.base import LazyModel
from scenespark.models.resolve import Resolution
from scenespark.types import ModelInfo

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

WEIGHTS_FILE = "model.safetensors"
TOKENIZER_FILE = "tokenizer.json"
TRANSFORMER = "sentence_transformers.models.Transformer"
POOLING = "sentence_transformers.models.Pooling"
NORMALIZE = "sentence_transformers.models.Normalize"
BATCH_TEXTS = 32  # as sentence-transformers' encode: texts sorted by length, then batched
MASKED = -1.0e9  # added to attention scores of padding tokens (exp() underflows to 0)
OPSET = 17  # LayerNormalization
GRAPH_VERSION = 1  # bump when build_bert_graph changes: cached graphs of other versions are unused
CACHE_DIR = "onnx"
MAX_GRAPH_BYTES = 1_500_000_000  # weights inlined in one ONNX protobuf (2 GB limit)


def _json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def onnx_unsupported(folder: Path) -> str | None:
    """Why the ONNX graph cannot run the sentence-transformers model in ``folder`` (or None).

    Supported: a BERT encoder with absolute positions and GELU, mean pooling, optional
    normalisation, weights in safetensors and a fast-tokenizer file.
    """
    try:
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "no readable modules.json"
    kinds = [str(m.get("type", "")) for m in modules if isinstance(m, dict)]
    if kinds not in ([TRANSFORMER, POOLING], [TRANSFORMER, POOLING, NORMALIZE]):
        return f"modules {kinds} are not Transformer + Pooling (+ Normalize)"
    if any(str(m.get("path", "")) for m in modules[:1] if isinstance(m, dict)):
        return "the transformer is not at the top of the folder"
    pooling = _json(folder / str(modules[1].get("path", "1_Pooling")) / "config.json")
    modes = sorted(k for k, v in pooling.items() if k.startswith("pooling_mode") and v is True)
    if modes != ["pooling_mode_mean_tokens"]:
        return f"pooling {modes or 'unknown'} is not mean pooling"
    config = _json(folder / "config.json")
    if config.get("model_type") != "bert":
        return f"model type {config.get('model_type')!r} is not bert"
    if config.get("hidden_act", "gelu") != "gelu":
        return f"activation {config.get('hidden_act')!r} is not gelu"
    if config.get("position_embedding_type", "absolute") != "absolute":
        return "positions are not absolute"
    if int(config.get("hidden_size", 0)) % max(1, int(config.get("num_attention_heads", 0))):
        return "hidden size is not a multiple of the heads"
    for name in (WEIGHTS_FILE, TOKENIZER_FILE):
        if not (folder / name).is_file():
            return f"no {name}"
    return None


def onnx_runtime_fits(resolution: Resolution, settings: Settings) -> bool:
    """Run this sentence-transformers model with :class:`OnnxSentenceEmbedder`?

    ``SCENESPARK_TEXT_RUNTIME``: ``onnx`` always (an unsupported model then fails to load with
    the reason), ``torch`` never, ``auto`` when the model is a supported local folder whose
    weights fit in one ONNX protobuf and the onnx and onnxruntime packages are installed.
    """
    if settings.text_runtime != "auto":
        return settings.text_runtime == "onnx"
    folder = Path(resolution.location) if resolution.location else None
    if folder is None or onnx_unsupported(folder) is not None:
        return False
    if (folder / WEIGHTS_FILE).stat().st_size > MAX_GRAPH_BYTES:  # one protobuf holds < 2 GB
        return False
    return all(importlib.util.find_spec(name) for name in ("onnx", "onnxruntime", "tokenizers"))


def _max_tokens(folder: Path, config: dict[str, Any]) -> int:
    positions = int(config.get("max_position_embeddings", 512))
    wanted = _json(folder / "sentence_bert_config.json").get("max_seq_length") or positions
    return min(int(wanted), positions)


def build_bert_graph(weights: dict[str, np.ndarray], config: dict[str, Any]) -> bytes:
    """A serialized ONNX model: ``input_ids``, ``position_ids`` (int64, batch × tokens) and
    ``attention_bias`` (float32, batch × 1 × 1 × tokens) → ``hidden`` (batch × tokens × hidden),
    the last hidden state of transformers' ``BertModel`` in eval mode (single-segment input)."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    prefix = "bert." if "bert.embeddings.word_embeddings.weight" in weights else ""
    hidden = int(config["hidden_size"])
    heads = int(config["num_attention_heads"])
    head_dim = hidden // heads
    eps = float(config.get("layer_norm_eps", 1e-12))
    nodes: list[Any] = []
    initializers: list[Any] = []
    counter = [0]

    def const(name: str, value: np.ndarray) -> str:
        initializers.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def weight(key: str, *, transpose: bool = False) -> str:
        try:
            value = weights[prefix + key]
        except KeyError as exc:
            raise ModelUnavailableError(f"the BERT weights have no {key}") from exc
        return const(key, value.T if transpose else value)

    def op(kind: str, inputs: list[str], **attrs: Any) -> str:
        counter[0] += 1
        out = f"{kind}_{counter[0]}"
        nodes.append(helper.make_node(kind, inputs, [out], **attrs))
        return out

    def linear(x: str, key: str) -> str:
        matmul = op("MatMul", [x, weight(f"{key}.weight", transpose=True)])
        return op("Add", [matmul, weight(f"{key}.bias")])

    def layer_norm(x: str, key: str) -> str:
        scale, shift = weight(f"{key}.weight"), weight(f"{key}.bias")
        return op("LayerNormalization", [x, scale, shift], axis=-1, epsilon=eps)

    split = const("split_heads", np.array([0, 0, heads, head_dim], dtype=np.int64))
    merge = const("merge_heads", np.array([0, 0, hidden], dtype=np.int64))
    scale = const("score_scale", np.array(1.0 / np.sqrt(head_dim), dtype=np.float32))
    half = const("half", np.array(0.5, dtype=np.float32))
    one = const("one", np.array(1.0, dtype=np.float32))
    rsqrt2 = const("rsqrt2", np.array(1.0 / np.sqrt(2.0), dtype=np.float32))
    segment_a = weights[prefix + "embeddings.token_type_embeddings.weight"][0]

    words = op("Gather", [weight("embeddings.word_embeddings.weight"), "input_ids"])
    places = op("Gather", [weight("embeddings.position_embeddings.weight"), "position_ids"])
    x = op("Add", [op("Add", [words, places]), const("segment_a", segment_a)])
    x = layer_norm(x, "embeddings.LayerNorm")
    for i in range(int(config["num_hidden_layers"])):
        key = f"encoder.layer.{i}"

        def project(name: str, perm: list[int], x: str = x, key: str = key) -> str:
            reshaped = op("Reshape", [linear(x, f"{key}.attention.self.{name}"), split])
            return op("Transpose", [reshaped], perm=perm)

        q = project("query", [0, 2, 1, 3])
        k = project("key", [0, 2, 3, 1])
        v = project("value", [0, 2, 1, 3])
        scores = op("Add", [op("Mul", [op("MatMul", [q, k]), scale]), "attention_bias"])
        context = op("MatMul", [op("Softmax", [scores], axis=-1), v])
        context = op("Reshape", [op("Transpose", [context], perm=[0, 2, 1, 3]), merge])
        attended = op("Add", [linear(context, f"{key}.attention.output.dense"), x])
        x = layer_norm(attended, f"{key}.attention.output.LayerNorm")
        inner = linear(x, f"{key}.intermediate.dense")
        erf = op("Erf", [op("Mul", [inner, rsqrt2])])
        gelu = op("Mul", [op("Mul", [inner, half]), op("Add", [one, erf])])
        out = op("Add", [linear(gelu, f"{key}.output.dense"), x])
        x = layer_norm(out, f"{key}.output.LayerNorm")
    nodes.append(helper.make_node("Identity", [x], ["hidden"]))
    graph = helper.make_graph(
        nodes,
        "bert_encoder",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "tokens"]),
            helper.make_tensor_value_info("position_ids", TensorProto.INT64, ["batch", "tokens"]),
            helper.make_tensor_value_info(
                "attention_bias", TensorProto.FLOAT, ["batch", 1, 1, "tokens"]
            ),
        ],
        [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["batch", "tokens", hidden])],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8  # readable by every onnxruntime that supports opset 17
    return model.SerializeToString()


def _session_keeping(onnxruntime: Any, graph: bytes, options: Any, path: Path) -> Any:
    """A session for ``graph``, its fused graph saved to ``path`` for the next start (atomically;
    a read-only cache dir only loses the cache). ``options`` must not be used again."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        options.optimized_model_filepath = str(partial)
    except OSError as exc:
        log.debug("cannot keep the ONNX graph in %s: %s", path.parent, exc)
    session = onnxruntime.InferenceSession(graph, options, providers=["CPUExecutionProvider"])
    try:
        if partial.is_file():
            os.replace(partial, path)
    except OSError as exc:
        log.debug("could not keep the ONNX graph in %s: %s", path, exc)
        with contextlib.suppress(OSError):
            partial.unlink()
    return session


class OnnxSentenceEmbedder(LazyModel):
    """A BERT sentence-transformers folder on ONNX Runtime; loaded lazily once (thread-safe).

    Embeddings are float32 and L2-normalised, like ``SentenceTransformerEmbedder``'s.
    """

    runtime = "onnxruntime"

    def __init__(self, resolution: Resolution, settings: Settings) -> None:
        self.info: ModelInfo = resolution.info.model_copy(
            update={"reason": f"{resolution.info.reason}; runs with ONNX Runtime"}
        )
        self._folder = Path(resolution.location)
        self._cache_dir = settings.cache_dir / CACHE_DIR
        self._threads = settings.threads_per_model()
        self._session: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    def _load(self) -> tuple[Any, Any]:
        with self._lock:
            if self._session is None:
                try:
                    self._session, self._tokenizer = self._open()
                except ModelUnavailableError:
                    raise
                except Exception as exc:  # unreadable weights, a graph ORT refuses
                    first = str(exc).splitlines()[0] if str(exc) else repr(exc)
                    raise ModelUnavailableError(
                        f"cannot load text model {self.info.name} with ONNX Runtime: {first}"
                    ) from exc
        return self._session, self._tokenizer

    def _open(self) -> tuple[Any, Any]:
        import onnxruntime
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        why = onnx_unsupported(self._folder)
        if why:
            raise ModelUnavailableError(
                f"text model {self.info.name} cannot run with ONNX Runtime: {why}"
            )
        config = _json(self._folder / "config.json")

        def options(level: Any) -> Any:
            chosen = onnxruntime.SessionOptions()
            chosen.intra_op_num_threads = self._threads
            chosen.inter_op_num_threads = 1
            chosen.log_severity_level = 3  # warnings about unused initializers are noise
            chosen.graph_optimization_level = level
            return chosen

        levels = onnxruntime.GraphOptimizationLevel
        cached = self.cached_graph_path()
        session = None
        if cached.is_file():  # already fused: loads in ~0.2 s instead of ~1 s
            try:
                session = onnxruntime.InferenceSession(
                    str(cached), options(levels.ORT_DISABLE_ALL), providers=["CPUExecutionProvider"]
                )
            except Exception as exc:  # unreadable cache: build the graph again
                log.warning("rebuilding the ONNX graph of %s: %s", self.info.name, exc)
        if session is None:
            graph = build_bert_graph(load_file(str(self._folder / WEIGHTS_FILE)), config)
            # EXTENDED: the fusions (attention, layer norm, GELU) without ALL's layout changes
            # for this very CPU, so the kept graph stays valid on another machine
            session = _session_keeping(
                onnxruntime, graph, options(levels.ORT_ENABLE_EXTENDED), cached
            )
        tokenizer = Tokenizer.from_file(str(self._folder / TOKENIZER_FILE))
        tokenizer.no_padding()
        tokenizer.enable_truncation(_max_tokens(self._folder, config))
        dimension = int(config["hidden_size"])
        if self.info.dimension != dimension:
            self.info = self.info.model_copy(update={"dimension": dimension})
        return session, tokenizer

    def cached_graph_path(self) -> Path:
        """Where this model's graph is kept: named by the weights' fingerprint, so replaced
        weights (or a new graph version) never reuse an old graph."""
        stem = "".join(c if c.isalnum() else "-" for c in self._folder.name)[:40]
        import onnxruntime

        runtime = onnxruntime.__version__  # fused graphs use this build's contrib operators
        identity = f"{self.info.name}\0{self.info.version}\0{GRAPH_VERSION}\0{runtime}".encode()
        return self._cache_dir / f"{stem}-{hashlib.sha256(identity).hexdigest()[:16]}.onnx"

    def _encode_batch(self, session: Any, encodings: list[Any]) -> np.ndarray:
        import numpy as np

        tokens = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), tokens), dtype=np.int64)
        mask = np.zeros((len(encodings), tokens), dtype=np.float32)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1.0
        positions = np.broadcast_to(np.arange(tokens, dtype=np.int64), ids.shape)
        bias = ((1.0 - mask) * np.float32(MASKED))[:, None, None, :]
        feeds = {
            "input_ids": ids,
            "position_ids": np.ascontiguousarray(positions),
            "attention_bias": np.ascontiguousarray(bias, dtype=np.float32),
        }
        (hidden,) = session.run(["hidden"], feeds)
        summed = (hidden * mask[:, :, None]).sum(axis=1)
        pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return pooled / np.maximum(norms, 1e-12)

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        import numpy as np

        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        session, tokenizer = self._load()
        encodings = tokenizer.encode_batch([str(t).strip() for t in texts])
        order = sorted(range(len(texts)), key=lambda i: -len(encodings[i].ids))
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(order), BATCH_TEXTS):
            chosen = order[start : start + BATCH_TEXTS]
            out[chosen] = self._encode_batch(session, [encodings[i] for i in chosen])
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_texts([text])[0]

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Several search queries at once (one space for queries and passages)."""
        return self.embed_texts(list(texts))
