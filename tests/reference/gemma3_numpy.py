#!/usr/bin/env python3
"""Independent numpy reference for a Gemma 3 GGUF file (float32 compute).

Deliberately separate from flint's Rust code, and from its conventions: it reads the
GGUF with the PyPI `gguf` package, dequantizes with `gguf.quants`, and runs the forward
pass the way llama.cpp's graph does (`llm_build_gemma3`): GGUF tensor names, norm
weights used as stored (llama.cpp's converter already added Gemma's `+1`), every 6th
layer global, local layers with RoPE base 10000 and a sliding window, scores scaled by
1/sqrt(head_dim). flint instead translates to Hugging Face names and subtracts the `+1`
again; the two agreeing checks both conventions.

Prompts are tokenized by Google's SentencePiece library (PyPI `sentencepiece`), from a
ModelProto built out of the GGUF vocabulary (pieces, scores, types), with a BOS token
in front as `tokenizer.ggml.add_bos_token` says. Control and user-defined tokens written
in the text (`<start_of_turn>`, `\n\n`, runs of spaces) are matched first, leftmost and
longest, as transformers' added tokens and llama.cpp's special-token partition do (a
SentencePiece model rebuilt from the GGUF escapes spaces before it would match Gemma's
literal-space indentation pieces, which the model was trained with); the text between
them goes through SentencePiece.

    python tests/reference/gemma3_numpy.py --gguf FILE --prompts tests/fixtures/prompts-gemma3.json --out FILE
"""

import argparse
import hashlib
import json
import math
import sys
import time
from pathlib import Path

import numpy as np


def field(reader, key, default=None):
    f = reader.fields.get(key)
    return default if f is None else f.contents()


# ------------------------------------------------------------------------ tokenizer


def sentencepiece_processor(reader):
    """A SentencePiece BPE processor over the GGUF vocabulary (Gemma: no dummy prefix,
    byte fallback, identity normalisation, whitespace as U+2581)."""
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2 as pb

    tokens = field(reader, "tokenizer.ggml.tokens")
    scores = field(reader, "tokenizer.ggml.scores")
    types = field(reader, "tokenizer.ggml.token_type")
    proto = pb.ModelProto()
    proto.trainer_spec.model_type = pb.TrainerSpec.BPE
    proto.trainer_spec.vocab_size = len(tokens)
    proto.trainer_spec.byte_fallback = True
    proto.trainer_spec.unk_id = field(reader, "tokenizer.ggml.unknown_token_id")
    proto.trainer_spec.bos_id = field(reader, "tokenizer.ggml.bos_token_id")
    proto.trainer_spec.eos_id = field(reader, "tokenizer.ggml.eos_token_id")
    proto.trainer_spec.pad_id = field(reader, "tokenizer.ggml.padding_token_id", -1)
    proto.normalizer_spec.name = "identity"
    proto.normalizer_spec.add_dummy_prefix = bool(field(reader, "tokenizer.ggml.add_space_prefix", True))
    proto.normalizer_spec.remove_extra_whitespaces = False
    proto.normalizer_spec.escape_whitespaces = True
    for piece, score, kind in zip(tokens, scores, types):
        p = proto.pieces.add()
        p.piece, p.score, p.type = piece, float(score), int(kind)
    return spm.SentencePieceProcessor(model_proto=proto.SerializeToString())


def encode(reader, sp, text):
    """SentencePiece ids of `text`, with control and user-defined tokens in it matched as
    themselves (leftmost, then longest)."""
    import re

    tokens = field(reader, "tokenizer.ggml.tokens")
    types = field(reader, "tokenizer.ggml.token_type")
    control = {t: i for i, (t, kind) in enumerate(zip(tokens, types)) if kind in (3, 4) and t}
    pattern = re.compile("|".join(re.escape(t) for t in sorted(control, key=len, reverse=True)))
    ids, at = [], 0
    for m in pattern.finditer(text):
        if m.start() > at:
            ids += sp.encode(text[at:m.start()])
        ids.append(control[m.group()])
        at = m.end()
    if at < len(text):
        ids += sp.encode(text[at:])
    return ids


# -------------------------------------------------------------------------- model


def rms_norm(x, weight, eps):
    return (x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + np.float32(eps))) * weight


def gelu_tanh(x):
    c = np.float32(math.sqrt(2.0 / math.pi))
    return np.float32(0.5) * x * (np.float32(1.0) + np.tanh(c * (x + np.float32(0.044715) * x * x * x)))


def softmax(x):
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def rotate_half(x):
    half = x.shape[-1] // 2
    return np.concatenate([-x[..., half:], x[..., :half]], axis=-1)


class Gemma3:
    """llama.cpp's Gemma 3 graph over one sequence with a KV cache."""

    def __init__(self, reader):
        from gguf.quants import dequantize

        a = field(reader, "general.architecture")
        assert a == "gemma3", a
        k = lambda s, d=None: field(reader, f"gemma3.{s}", d)
        self.n_layers = k("block_count")
        self.n_embd = k("embedding_length")
        self.n_head = k("attention.head_count")
        self.n_kv = k("attention.head_count_kv", self.n_head)
        self.hd = k("attention.key_length")
        self.eps = k("attention.layer_norm_rms_epsilon")
        self.theta_global = k("rope.freq_base")
        self.theta_local = 10000.0  # llama.cpp: rope_freq_base_train_swa for gemma3
        self.window = k("attention.sliding_window")
        self.final_cap = k("final_logit_softcapping")
        self.w = {}
        for t in reader.tensors:
            shape = tuple(int(d) for d in reversed(t.shape))
            self.w[t.name] = np.asarray(dequantize(t.data, t.tensor_type), dtype=np.float32).reshape(shape)
        self.out = self.w.get("output.weight", self.w["token_embd.weight"])

    def is_swa(self, il):
        return il % 6 < 5  # llama.cpp: set_swa_pattern(6)

    def new_cache(self):
        empty = np.zeros((self.n_kv, 0, self.hd), dtype=np.float32)
        return [(empty, empty) for _ in range(self.n_layers)]

    def rope(self, x, positions, theta):
        inv = 1.0 / (theta ** (np.arange(0, self.hd, 2, dtype=np.float64) / self.hd))
        ang = positions[:, None].astype(np.float64) * inv[None, :]
        emb = np.concatenate([ang, ang], axis=-1)
        return x * np.cos(emb).astype(np.float32) + rotate_half(x) * np.sin(emb).astype(np.float32)

    def attention(self, il, x, positions, cache):
        p = f"blk.{il}."
        T, hd = x.shape[0], self.hd
        q = (x @ self.w[p + "attn_q.weight"].T).reshape(T, self.n_head, hd).transpose(1, 0, 2)
        k = (x @ self.w[p + "attn_k.weight"].T).reshape(T, self.n_kv, hd).transpose(1, 0, 2)
        v = (x @ self.w[p + "attn_v.weight"].T).reshape(T, self.n_kv, hd).transpose(1, 0, 2)
        q = rms_norm(q, self.w[p + "attn_q_norm.weight"], self.eps)
        k = rms_norm(k, self.w[p + "attn_k_norm.weight"], self.eps)
        theta = self.theta_local if self.is_swa(il) else self.theta_global
        q, k = self.rope(q, positions, theta), self.rope(k, positions, theta)
        q = q * np.float32(1.0 / math.sqrt(hd))
        k_all = np.concatenate([cache[il][0], k], axis=1)
        v_all = np.concatenate([cache[il][1], v], axis=1)
        cache[il] = (k_all, v_all)
        group = self.n_head // self.n_kv
        scores = np.einsum("kgtd,ksd->kgts", q.reshape(self.n_kv, group, T, hd), k_all)
        key = np.arange(k_all.shape[1])[None, :]
        masked = key > positions[:, None]
        if self.is_swa(il):
            masked |= positions[:, None] - key >= self.window
        scores = np.where(masked, np.float32(-np.inf), scores)
        out = np.einsum("kgts,ksd->kgtd", softmax(scores), v_all)
        out = out.reshape(self.n_head, T, hd).transpose(1, 0, 2).reshape(T, self.n_head * hd)
        return out @ self.w[p + "attn_output.weight"].T

    def forward(self, ids, cache):
        start = cache[0][0].shape[1]
        positions = np.arange(start, start + len(ids))
        h = self.w["token_embd.weight"][np.asarray(ids)] * np.float32(math.sqrt(self.n_embd))
        for il in range(self.n_layers):
            p = f"blk.{il}."
            a = self.attention(il, rms_norm(h, self.w[p + "attn_norm.weight"], self.eps), positions, cache)
            h = h + rms_norm(a, self.w[p + "post_attention_norm.weight"], self.eps)
            x = rms_norm(h, self.w[p + "ffn_norm.weight"], self.eps)
            f = (gelu_tanh(x @ self.w[p + "ffn_gate.weight"].T) * (x @ self.w[p + "ffn_up.weight"].T)) \
                @ self.w[p + "ffn_down.weight"].T
            h = h + rms_norm(f, self.w[p + "post_ffw_norm.weight"], self.eps)
        h = rms_norm(h, self.w["output_norm.weight"], self.eps)
        logits = h @ self.out.T
        if self.final_cap:
            logits = np.tanh(logits / np.float32(self.final_cap)) * np.float32(self.final_cap)
        return logits

    def generate(self, ids, max_new_tokens, eos_ids):
        cache = self.new_cache()
        logits = self.forward(ids, cache)[-1]
        prompt_logits, generated = logits, []
        while len(generated) < max_new_tokens:
            nxt = int(np.argmax(logits))
            if nxt in eos_ids:
                break
            generated.append(nxt)
            if len(generated) == max_new_tokens:
                break
            logits = self.forward([nxt], cache)[-1]
        return generated, prompt_logits


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gguf", type=Path, required=True)
    parser.add_argument("--prompts", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    from gguf import GGUFReader

    reader = GGUFReader(str(args.gguf))
    sp = sentencepiece_processor(reader)
    bos = field(reader, "tokenizer.ggml.bos_token_id")
    add_bos = field(reader, "tokenizer.ggml.add_bos_token", True)
    eos_ids = [field(reader, "tokenizer.ggml.eos_token_id")]
    model = Gemma3(reader)
    results = []
    for case in json.loads(args.prompts.read_text(encoding="utf-8")):
        text = case["prompt"]
        ids = ([bos] if add_bos else []) + encode(reader, sp, text)
        t0 = time.perf_counter()
        generated, logits = model.generate(ids, case["max_new_tokens"], eos_ids)
        top = np.argsort(-logits.astype(np.float64), kind="stable")[:5]
        results.append({
            "name": case["name"],
            "prompt_text": text,
            "prompt_ids": ids,
            "max_new_tokens": case["max_new_tokens"],
            "generated_ids": generated,
            "generated_text": sp.decode(generated),
            "prompt_top5": [[int(i), round(float(logits[i]), 6)] for i in top],
            "prompt_logits": np.round(logits.astype(np.float64), 6).tolist(),
        })
        print(f"{case['name']:>20} ({len(ids):3d} tok, {time.perf_counter() - t0:5.2f}s): "
              f"{results[-1]['generated_text']!r}", flush=True)
    report = {
        "generator": "tests/reference/gemma3_numpy.py (numpy float32, llama.cpp graph, greedy)",
        "gguf_sha256": sha256_file(args.gguf),
        "eos_token_ids": eos_ids,
        "cases": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    partial = args.out.with_suffix(".partial")
    partial.write_text(json.dumps(report, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    partial.rename(args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
