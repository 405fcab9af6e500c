#!/usr/bin/env python3
"""Independent numpy reference for a Hugging Face Llama checkpoint (float32 compute).

Deliberately plain and separate from flint's Rust code: it parses safetensors by
hand, runs the Llama forward pass with a KV cache, and greedily decodes each case
of a prompts file. The result (prompt ids, generated ids, decoded text, the
full-vocabulary logits at the last prompt position) is what flint's tests compare
against.

    python tests/reference/llama_numpy.py --model DIR --prompts tests/fixtures/prompts.json --out FILE
    python tests/reference/llama_numpy.py --model DIR --prompts tests/fixtures/prompts.json --bench

DIR holds config.json (+ optional generation_config.json), model.safetensors or
model-*-of-*.safetensors with model.safetensors.index.json, tokenizer.json and
tokenizer_config.json (only needed for chat cases).
"""

import argparse
import hashlib
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

# --------------------------------------------------------------------- safetensors


def read_safetensors(path: Path) -> dict:
    """name -> float32 array. bf16 is read as raw uint16 and shifted into the top half of an f32."""
    raw = np.memmap(path, dtype=np.uint8, mode="r")
    header_len = int(raw[:8].view("<u8")[0])
    header = json.loads(bytes(raw[8:8 + header_len]).decode("utf-8"))
    data = raw[8 + header_len:]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        chunk, shape = data[start:end], info["shape"]
        if info["dtype"] == "BF16":
            values = (chunk.view("<u2").astype(np.uint32) << 16).view(np.float32)
        elif info["dtype"] == "F16":
            values = chunk.view("<f2").astype(np.float32)
        elif info["dtype"] == "F32":
            values = chunk.view("<f4").astype(np.float32)
        else:
            raise ValueError(f"{path.name}:{name}: unsupported dtype {info['dtype']}")
        tensors[name] = values.reshape(shape)
    return tensors


def weight_files(model_dir: Path) -> list:
    """The safetensors files of a single-file or sharded (index.json) checkpoint."""
    index = model_dir / "model.safetensors.index.json"
    if index.exists():
        weight_map = json.loads(index.read_text())["weight_map"]
        return [model_dir / f for f in sorted(set(weight_map.values()))]
    return [model_dir / "model.safetensors"]


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def load_weights(model_dir: Path) -> dict:
    tensors = {}
    for path in weight_files(model_dir):
        tensors.update(read_safetensors(path))
    return tensors


# -------------------------------------------------------------------------- config


def load_config(model_dir: Path) -> dict:
    """config.json, with the eos ids of config and generation_config merged into `eos_ids`."""
    config = json.loads((model_dir / "config.json").read_text())
    eos = set()
    sources = [config]
    gen_path = model_dir / "generation_config.json"
    if gen_path.exists():
        sources.append(json.loads(gen_path.read_text()))
    for source in sources:
        value = source.get("eos_token_id")
        if value is not None:
            eos.update(value if isinstance(value, list) else [value])
    config["eos_ids"] = sorted(eos)
    return config


def rope_inv_freq(config: dict) -> np.ndarray:
    """Inverse RoPE frequencies (float64), incl. HF `linear` and `llama3` rope_scaling.

    llama3 follows transformers' `_compute_llama3_parameters`: long wavelengths are
    divided by `factor`, short ones kept, the band in between interpolated smoothly.
    """
    head_dim = config.get("head_dim") or config["hidden_size"] // config["num_attention_heads"]
    base = config.get("rope_theta", 10000.0)
    inv_freq = 1.0 / (base ** (np.arange(0, head_dim, 2, dtype=np.float64) / head_dim))
    scaling = config.get("rope_scaling") or {}
    kind = scaling.get("rope_type", scaling.get("type", "default"))
    if kind == "default":
        return inv_freq
    if kind == "linear":
        return inv_freq / scaling["factor"]
    if kind == "llama3":
        factor = scaling["factor"]
        low, high = scaling["low_freq_factor"], scaling["high_freq_factor"]
        old_ctx = scaling["original_max_position_embeddings"]
        low_freq_wavelen, high_freq_wavelen = old_ctx / low, old_ctx / high
        wavelen = 2 * math.pi / inv_freq
        scaled = np.where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)
        smooth = (old_ctx / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * scaled / factor + smooth * scaled
        medium = ~(wavelen < high_freq_wavelen) & ~(wavelen > low_freq_wavelen)
        return np.where(medium, smoothed, scaled)
    raise ValueError(f"unsupported rope_scaling type {kind!r}")


# -------------------------------------------------------------------------- model


def rms_norm(x: np.ndarray, weight: np.ndarray, eps: float) -> np.ndarray:
    """x * rsqrt(mean(x^2) + eps) * w, in float32."""
    variance = np.mean(x * x, axis=-1, keepdims=True)
    return (x / np.sqrt(variance + np.float32(eps))) * weight


def silu(x: np.ndarray) -> np.ndarray:
    return x / (np.float32(1.0) + np.exp(-x))


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def rotate_half(x: np.ndarray) -> np.ndarray:
    half = x.shape[-1] // 2
    return np.concatenate([-x[..., half:], x[..., :half]], axis=-1)


class Llama:
    """Llama forward pass over one sequence with a KV cache (list of per-layer (k, v) arrays)."""

    def __init__(self, config: dict, weights: dict):
        self.c = config
        self.n_layers = config["num_hidden_layers"]
        self.n_heads = config["num_attention_heads"]
        self.n_kv = config.get("num_key_value_heads", self.n_heads)
        self.head_dim = config.get("head_dim") or config["hidden_size"] // self.n_heads
        self.eps = config["rms_norm_eps"]
        self.w = weights
        self.embed = weights["model.embed_tokens.weight"]
        tied = config.get("tie_word_embeddings", True) or "lm_head.weight" not in weights
        self.lm_head = self.embed if tied else weights["lm_head.weight"]
        self.inv_freq = rope_inv_freq(config)

    def new_cache(self) -> list:
        empty = np.zeros((self.n_kv, 0, self.head_dim), dtype=np.float32)
        return [(empty, empty) for _ in range(self.n_layers)]

    def rope(self, x: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """Rotate-half RoPE; x is [heads, T, head_dim]. Angles in float64, then cast to f32."""
        angles = positions[:, None].astype(np.float64) * self.inv_freq[None, :]
        emb = np.concatenate([angles, angles], axis=-1)
        cos, sin = np.cos(emb).astype(np.float32), np.sin(emb).astype(np.float32)
        return x * cos + rotate_half(x) * sin

    def attention(self, layer: int, x: np.ndarray, positions: np.ndarray, cache: list) -> np.ndarray:
        p = f"model.layers.{layer}.self_attn."
        T, hd = x.shape[0], self.head_dim
        q = (x @ self.w[p + "q_proj.weight"].T).reshape(T, self.n_heads, hd).transpose(1, 0, 2)
        k = (x @ self.w[p + "k_proj.weight"].T).reshape(T, self.n_kv, hd).transpose(1, 0, 2)
        v = (x @ self.w[p + "v_proj.weight"].T).reshape(T, self.n_kv, hd).transpose(1, 0, 2)
        q, k = self.rope(q, positions), self.rope(k, positions)
        k_all = np.concatenate([cache[layer][0], k], axis=1)
        v_all = np.concatenate([cache[layer][1], v], axis=1)
        cache[layer] = (k_all, v_all)
        S = k_all.shape[1]

        # Grouped-query attention: query head h uses kv head h // group.
        group = self.n_heads // self.n_kv
        qg = q.reshape(self.n_kv, group, T, hd)
        scores = np.einsum("kgtd,ksd->kgts", qg, k_all) / np.float32(math.sqrt(hd))
        key_pos = np.arange(S)
        causal = key_pos[None, :] > positions[:, None]  # [T, S]: True = future, masked
        scores = np.where(causal, np.float32(-np.inf), scores)
        out = np.einsum("kgts,ksd->kgtd", softmax(scores), v_all)
        out = out.reshape(self.n_heads, T, hd).transpose(1, 0, 2).reshape(T, self.n_heads * hd)
        return out @ self.w[p + "o_proj.weight"].T

    def mlp(self, layer: int, x: np.ndarray) -> np.ndarray:
        p = f"model.layers.{layer}.mlp."
        gate = x @ self.w[p + "gate_proj.weight"].T
        up = x @ self.w[p + "up_proj.weight"].T
        return (silu(gate) * up) @ self.w[p + "down_proj.weight"].T

    def forward(self, ids: list, cache: list) -> np.ndarray:
        """Run `ids` after whatever is in `cache`; returns logits [len(ids), vocab] (float32)."""
        start = cache[0][0].shape[1]
        positions = np.arange(start, start + len(ids))
        h = self.embed[np.asarray(ids)].astype(np.float32)
        for layer in range(self.n_layers):
            p = f"model.layers.{layer}."
            h = h + self.attention(layer, rms_norm(h, self.w[p + "input_layernorm.weight"], self.eps),
                                   positions, cache)
            h = h + self.mlp(layer, rms_norm(h, self.w[p + "post_attention_layernorm.weight"], self.eps))
        h = rms_norm(h, self.w["model.norm.weight"], self.eps)
        return h @ self.lm_head.T

    def generate(self, prompt_ids: list, max_new_tokens: int, eos_ids: list):
        """Greedy decode (argmax, lowest id on ties). Returns (new ids, last-prompt logits)."""
        cache = self.new_cache()
        logits = self.forward(prompt_ids, cache)[-1]
        prompt_logits = logits
        generated = []
        for _ in range(max_new_tokens):
            next_id = int(np.argmax(logits))  # np.argmax returns the first (lowest) maximal id
            if next_id in eos_ids:
                break
            generated.append(next_id)
            if len(generated) == max_new_tokens:
                break
            logits = self.forward([next_id], cache)[-1]
        return generated, prompt_logits


# ------------------------------------------------------------------------- prompts


def render_prompt(case: dict, tokenizer_config: dict) -> str:
    """Raw `prompt`, or `messages` rendered with the chat template as transformers does it."""
    if "prompt" in case:
        return case["prompt"]
    from jinja2.ext import loopcontrols
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    template = env.from_string(tokenizer_config["chat_template"])
    return template.render(messages=case["messages"], add_generation_prompt=True,
                           bos_token=tokenizer_config.get("bos_token"),
                           eos_token=tokenizer_config.get("eos_token"))


def tokenize(tokenizer, text: str) -> list:
    """Token ids of `text`; asserts the tokenizer adds no BOS/EOS the text does not contain."""
    ids = tokenizer.encode(text, add_special_tokens=True).ids
    assert ids == tokenizer.encode(text, add_special_tokens=False).ids, "post-processor added tokens"
    return ids


def load_cases(model_dir: Path, prompts_path: Path):
    """(tokenizer, [(case, rendered text, prompt ids)]) for every case in the prompts file."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tok_config_path = model_dir / "tokenizer_config.json"
    tok_config = json.loads(tok_config_path.read_text()) if tok_config_path.exists() else {}
    cases = []
    for case in json.loads(prompts_path.read_text()):
        text = render_prompt(case, tok_config)
        cases.append((case, text, tokenize(tokenizer, text)))
    return tokenizer, cases


# -------------------------------------------------------------------------- modes


def run_reference(model_dir: Path, prompts_path: Path, out_path: Path) -> None:
    """Greedy-decode every case and write the expected-output JSON."""
    config = load_config(model_dir)
    model = Llama(config, load_weights(model_dir))
    tokenizer, cases = load_cases(model_dir, prompts_path)
    results = []
    for case, text, ids in cases:
        t0 = time.perf_counter()
        generated, logits = model.generate(ids, case.get("max_new_tokens", 16), config["eos_ids"])
        top = np.argsort(-logits.astype(np.float64), kind="stable")[:5]
        results.append({
            "name": case["name"],
            "prompt_text": text,
            "prompt_ids": ids,
            "max_new_tokens": case.get("max_new_tokens", 16),
            "generated_ids": generated,
            "generated_text": tokenizer.decode(generated, skip_special_tokens=False),
            "prompt_top5": [[int(i), round(float(logits[i]), 6)] for i in top],
            "prompt_logits": np.round(logits.astype(np.float64), 6).tolist(),
        })
        print(f"{case['name']:>20} ({len(ids):3d} tok, {time.perf_counter() - t0:5.2f}s): "
              f"{results[-1]['generated_text']!r}", flush=True)
    report = {
        "generator": "tests/reference/llama_numpy.py (numpy float32, greedy, KV cache)",
        "model_dir": str(model_dir),
        "weights_sha256": {p.name: sha256_file(p) for p in weight_files(model_dir)},
        "eos_token_ids": config["eos_ids"],
        "cases": results,
    }
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(report, indent=1, sort_keys=True, ensure_ascii=False) + "\n",
                        encoding="utf-8")
    print(f"wrote {out_path}")


def run_bench(model_dir: Path, prompts_path: Path, case_name: str, decode_tokens: int) -> None:
    """Prefill and decode throughput of this numpy reference on one prompt (eos ignored)."""
    model = Llama(load_config(model_dir), load_weights(model_dir))
    _, cases = load_cases(model_dir, prompts_path)
    ids = next(ids for case, _, ids in cases if case["name"] == case_name)
    model.forward(ids[:4], model.new_cache())  # warm-up (BLAS threads, page-in of weights)

    cache = model.new_cache()
    t0 = time.perf_counter()
    logits = model.forward(ids, cache)[-1]
    prefill_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(decode_tokens):
        logits = model.forward([int(np.argmax(logits))], cache)[-1]
    decode_s = time.perf_counter() - t0
    print(f"case {case_name}: prompt {len(ids)} tokens, decode {decode_tokens} tokens")
    print(f"prefill: {len(ids) / prefill_s:8.1f} tokens/s ({prefill_s * 1000:.1f} ms)")
    print(f"decode:  {decode_tokens / decode_s:8.1f} tokens/s ({decode_s * 1000 / decode_tokens:.1f} ms/token)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, required=True, help="Hugging Face model directory")
    parser.add_argument("--prompts", type=Path, default=Path(__file__).parents[1] / "fixtures" / "prompts.json")
    parser.add_argument("--out", type=Path, help="expected-output JSON to write")
    parser.add_argument("--bench", action="store_true", help="print prefill/decode tokens/s instead")
    parser.add_argument("--bench-case", default="long_paragraph", help="prompt name for --bench")
    parser.add_argument("--bench-tokens", type=int, default=32, help="decode steps for --bench")
    args = parser.parse_args()
    if args.bench:
        run_bench(args.model, args.prompts, args.bench_case, args.bench_tokens)
    elif args.out:
        run_reference(args.model, args.prompts, args.out)
    else:
        parser.error("give --out FILE or --bench")
    return 0


if __name__ == "__main__":
    sys.exit(main())
