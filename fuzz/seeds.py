#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target into fuzz/corpus/<target>/ (not committed).

Deterministic: small valid files of each format (every safetensors float dtype, every
dequantizable ggml type, sharded indexes), plus the real fixture's config, tokenizer
config and chat templates when the fixture cache is present ($FLINT_CACHE, default
~/.cache/flint). Run by fuzz/run.sh.
"""
import json
import os
import struct
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
CACHE = Path(os.environ.get("FLINT_CACHE", Path.home() / ".cache/flint"))
SEPARATOR = b"\n--flint-fuzz-file--\n"
rng = np.random.default_rng(9)


def put(target, name, data):
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data if isinstance(data, bytes) else data.encode())


def safetensors_bytes(tensors, metadata=None):
    """tensors: list of (name, dtype, shape, raw bytes)."""
    header, data = {}, b""
    if metadata:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


SIZES = {"F32": 4, "F16": 2, "BF16": 2, "I32": 4, "I16": 2, "U8": 1, "I8": 1, "F64": 8, "BOOL": 1}


def tensor(name, dtype, shape):
    n = int(np.prod(shape)) if shape else 1
    return (name, dtype, shape, rng.integers(0, 256, n * SIZES[dtype], dtype=np.uint8).tobytes())


def safetensors_seeds():
    for dtype in SIZES:
        put("safetensors_header", f"one-{dtype}", safetensors_bytes([tensor("w", dtype, [3, 5])]))
    put("safetensors_header", "llama-ish", safetensors_bytes([
        tensor("model.embed_tokens.weight", "BF16", [16, 8]),
        tensor("model.layers.0.input_layernorm.weight", "F32", [8]),
        tensor("model.layers.0.self_attn.q_proj.weight", "F16", [8, 8]),
        tensor("model.norm.weight", "F32", [8]),
        tensor("scalar", "F32", []),
        tensor("empty", "F32", [0, 4]),
    ], metadata={"format": "pt"}))
    put("safetensors_header", "empty-header", safetensors_bytes([]))
    real = CACHE / "smollm2/hf-bf16/model.safetensors"
    if real.is_file():
        with open(real, "rb") as f:
            n = struct.unpack("<Q", f.read(8))[0]
            header = json.loads(f.read(n))
        # The real header over tiny tensors of the same names and dtypes.
        tensors = [tensor(k, v["dtype"], [2, 2]) for k, v in sorted(header.items()) if k != "__metadata__"][:24]
        put("safetensors_header", "smollm2-names", safetensors_bytes(tensors))


def shard_seeds():
    a = [tensor("model.embed_tokens.weight", "BF16", [4, 2]), tensor("model.norm.weight", "F32", [2])]
    b = [tensor("lm_head.weight", "F16", [4, 2])]
    names = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]
    index = {"metadata": {"total_size": 40}, "weight_map": {
        "model.embed_tokens.weight": names[0], "model.norm.weight": names[0], "lm_head.weight": names[1]}}
    put("shard_index", "two-shards", json.dumps(index).encode() + SEPARATOR + safetensors_bytes(a) + SEPARATOR + safetensors_bytes(b))
    one = {"weight_map": {"w": "model.safetensors"}}
    put("shard_index", "one-shard", json.dumps(one).encode() + SEPARATOR + safetensors_bytes([tensor("w", "F32", [2])]))


def gguf_seeds():
    import gguf
    from gguf import GGMLQuantizationType as T
    types = [T.F32, T.F16, T.BF16, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0, T.Q2_K, T.Q3_K, T.Q4_K, T.Q5_K, T.Q6_K]
    tmp = CORPUS / "gguf.tmp"
    for ty in types:
        block, size = gguf.GGML_QUANT_SIZES[ty]
        w = gguf.GGUFWriter(str(tmp), "llama")
        w.add_block_count(1)
        w.add_string("general.name", f"seed {ty.name}")
        w.add_array("tokenizer.ggml.scores", [0.5, -1.0, 2.0])
        cols = max(block, 32) if block > 1 else 8
        raw = rng.integers(0, 256, (2, cols // block * size), dtype=np.uint8)
        if ty in (T.F32, T.F16, T.BF16):
            # Finite values: random bytes would be NaN now and then, which is fine but rarer.
            raw = np.ones((2, cols), dtype=np.float32).astype({T.F32: np.float32, T.F16: np.float16, T.BF16: np.float32}[ty])
            if ty == T.BF16:
                raw = (raw.view(np.uint32) >> 16).astype(np.uint16).view(np.uint8).reshape(2, -1)
            w.add_tensor("t", raw if ty != T.BF16 else raw, raw_dtype=ty)
        else:
            w.add_tensor("t", raw, raw_dtype=ty)
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()
        put("gguf", f"one-{ty.name}", tmp.read_bytes())
    tmp.unlink()


def text_seeds():
    put("config", "minimal-llama", json.dumps({
        "model_type": "llama", "vocab_size": 32, "hidden_size": 8, "intermediate_size": 16,
        "num_hidden_layers": 2, "num_attention_heads": 2, "num_key_value_heads": 1,
        "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                         "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}}))
    put("config", "minimal-gemma3", json.dumps({
        "model_type": "gemma3_text", "vocab_size": 32, "hidden_size": 8, "intermediate_size": 16,
        "num_hidden_layers": 6, "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 4,
        "sliding_window": 4, "sliding_window_pattern": 6, "query_pre_attn_scalar": 4,
        "rope_scaling": {"rope_type": "linear", "factor": 8.0}}))
    put("config", "gemma3-multimodal", json.dumps({"model_type": "gemma3", "text_config": {
        "vocab_size": 32, "hidden_size": 8, "intermediate_size": 16, "num_hidden_layers": 2,
        "num_attention_heads": 2, "head_dim": 4,
        "layer_types": ["sliding_attention", "full_attention"]}}))
    config = CACHE / "smollm2/hf-bf16/config.json"
    if config.is_file():
        put("config", "smollm2", config.read_bytes())
    put("chat_template", "minimal", json.dumps({
        "chat_template": "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{% endfor %}"
                         "{% if add_generation_prompt %}<|assistant|>{% endif %}",
        "bos_token": "<s>", "eos_token": {"content": "</s>"}}))
    put("chat_template", "named-list", json.dumps({"chat_template": [
        {"name": "default", "template": "{{ bos_token }}{% for m in messages %}{{ m.content | trim }}{% endfor %}"}]}))
    # Gemma's template style: a system turn folded into the first user turn, role checks.
    put("chat_template", "gemma-style", json.dumps({"bos_token": "<bos>", "chat_template": (
        "{{ bos_token }}{% if messages[0]['role'] == 'system' %}"
        "{% set first = messages[0]['content'] + '\n\n' %}{% set loop_messages = messages[1:] %}"
        "{% else %}{% set first = '' %}{% set loop_messages = messages %}{% endif %}"
        "{% for message in loop_messages %}"
        "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
        "{{ raise_exception('Conversation roles must alternate') }}{% endif %}"
        "{% set role = 'model' if message['role'] == 'assistant' else message['role'] %}"
        "{{ '<start_of_turn>' + role + '\n' + (first if loop.first else '') + message['content'] | trim }}"
        "{{ '<end_of_turn>\n' }}{% endfor %}"
        "{% if add_generation_prompt %}{{ '<start_of_turn>model\n' }}{% endif %}")}))
    tok = CACHE / "smollm2/hf-bf16/tokenizer_config.json"
    if tok.is_file():
        t = json.loads(tok.read_text())
        put("chat_template", "smollm2", json.dumps({k: t[k] for k in ("chat_template", "bos_token", "eos_token") if k in t}))


if __name__ == "__main__":
    safetensors_seeds()
    shard_seeds()
    gguf_seeds()
    text_seeds()
    for d in sorted(CORPUS.iterdir()):
        print(d.name, len(list(d.iterdir())), file=sys.stderr)
