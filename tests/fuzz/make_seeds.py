#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/): small valid inputs of each format,
plus a few damaged ones, so that libFuzzer starts from the interesting shapes. Run it again after changing it;
the files are committed. Seeds come from this script and the repository's own test data only."""
import json
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, "corpus")


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- GGUF ----------------------------------------------------------------------------------------------------
T_U32, T_I32, T_F32, T_BOOL, T_STR, T_ARR, T_U64 = 4, 5, 6, 7, 8, 9, 10


def gstr(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def kv(key, t, val):
    out = gstr(key) + struct.pack("<I", t)
    if t == T_U32:
        out += struct.pack("<I", val)
    elif t == T_I32:
        out += struct.pack("<i", val)
    elif t == T_F32:
        out += struct.pack("<f", val)
    elif t == T_BOOL:
        out += struct.pack("<B", 1 if val else 0)
    elif t == T_U64:
        out += struct.pack("<Q", val)
    elif t == T_STR:
        out += gstr(val)
    elif t == T_ARR:
        et, items = val
        out += struct.pack("<IQ", et, len(items))
        for x in items:
            if et == T_STR:
                out += gstr(x)
            elif et == T_F32:
                out += struct.pack("<f", x)
            elif et == T_I32:
                out += struct.pack("<i", x)
    return out


def q8_0_rows(rows, cols):
    # Q8_0 block: f16 scale + 32 int8. Scale 1/64, values a small ramp.
    out = b""
    for r in range(rows):
        for b in range(cols // 32):
            out += struct.pack("<e", 1.0 / 64) + bytes(((r + b + i) % 7 - 3) & 0xFF for i in range(32))
    return out


def gguf(kvs, tensors, alignment=32):
    """tensors: [(name, dims, type, bytes)] with dims in ggml order."""
    head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kvs))
    for k in kvs:
        head += k
    off = 0
    infos = b""
    for name, dims, ty, data in tensors:
        infos += gstr(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        infos += struct.pack("<IQ", ty, off)
        off += (len(data) + alignment - 1) // alignment * alignment
    out = head + infos
    out += b"\0" * ((-len(out)) % alignment)
    for _, _, _, data in tensors:
        out += data + b"\0" * ((-len(data)) % alignment)
    return out


def f32(n, seed=1):
    return b"".join(struct.pack("<f", ((i * 37 + seed) % 11 - 5) / 10.0) for i in range(n))


def llama_spm_model():
    toks = ["<unk>", "<s>", "</s>"] + ["<0x%02X>" % b for b in range(256)] + ["\u2581a", "\u2581b", "ab"]
    types = [2, 3, 3] + [6] * 256 + [1, 1, 1]
    V, E, F = len(toks), 8, 16
    kvs = [kv("general.architecture", T_STR, "llama"), kv("llama.block_count", T_U32, 1),
           kv("llama.context_length", T_U32, 64), kv("llama.embedding_length", T_U32, E),
           kv("llama.feed_forward_length", T_U32, F), kv("llama.attention.head_count", T_U32, 2),
           kv("llama.attention.layer_norm_rms_epsilon", T_F32, 1e-5),
           kv("tokenizer.ggml.model", T_STR, "llama"), kv("tokenizer.ggml.tokens", T_ARR, (T_STR, toks)),
           kv("tokenizer.ggml.scores", T_ARR, (T_F32, [float(-i) for i in range(V)])),
           kv("tokenizer.ggml.token_type", T_ARR, (T_I32, types)),
           kv("tokenizer.ggml.bos_token_id", T_U32, 1), kv("tokenizer.ggml.eos_token_id", T_U32, 2)]
    t = [("token_embd.weight", [E, V], 0, f32(E * V)), ("output_norm.weight", [E], 0, f32(E, 2)),
         ("blk.0.attn_norm.weight", [E], 0, f32(E, 3))]
    for n in ("attn_q", "attn_k", "attn_v", "attn_output"):
        t.append(("blk.0.%s.weight" % n, [E, E], 0, f32(E * E, 4)))
    t += [("blk.0.ffn_norm.weight", [E], 0, f32(E, 5)), ("blk.0.ffn_gate.weight", [E, F], 0, f32(E * F, 6)),
          ("blk.0.ffn_up.weight", [E, F], 0, f32(E * F, 7)), ("blk.0.ffn_down.weight", [F, E], 0, f32(E * F, 8))]
    return gguf(kvs, t)


def gpt2_bytes():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    m = dict(zip(bs, cs))
    return [chr(m[b]) for b in range(256)]


def qwen2_q8_model():
    toks = gpt2_bytes() + ["ab", "<|im_start|>", "<|im_end|>"]
    types = [1] * 257 + [3, 3]
    V, E, F = len(toks), 32, 64
    kvs = [kv("general.architecture", T_STR, "qwen2"), kv("qwen2.block_count", T_U32, 1),
           kv("qwen2.embedding_length", T_U32, E), kv("qwen2.feed_forward_length", T_U32, F),
           kv("qwen2.attention.head_count", T_U32, 2), kv("qwen2.attention.head_count_kv", T_U32, 1),
           kv("qwen2.rope.freq_base", T_F32, 1000000.0), kv("qwen2.rope.scaling.type", T_STR, "yarn"),
           kv("qwen2.rope.scaling.factor", T_F32, 4.0),
           kv("tokenizer.ggml.model", T_STR, "gpt2"), kv("tokenizer.ggml.pre", T_STR, "qwen2"),
           kv("tokenizer.ggml.tokens", T_ARR, (T_STR, toks)), kv("tokenizer.ggml.token_type", T_ARR, (T_I32, types)),
           kv("tokenizer.ggml.merges", T_ARR, (T_STR, ["a b"])), kv("tokenizer.ggml.eos_token_id", T_U32, V - 1)]
    t = [("token_embd.weight", [E, V], 8, q8_0_rows(V, E)), ("output_norm.weight", [E], 0, f32(E, 2)),
         ("blk.0.attn_norm.weight", [E], 0, f32(E, 3)),
         ("blk.0.attn_q.weight", [E, E], 8, q8_0_rows(E, E)), ("blk.0.attn_k.weight", [E, 16], 8, q8_0_rows(16, E)),
         ("blk.0.attn_v.weight", [E, 16], 8, q8_0_rows(16, E)),
         ("blk.0.attn_q.bias", [E], 0, f32(E, 9)), ("blk.0.attn_k.bias", [16], 0, f32(16, 10)),
         ("blk.0.attn_v.bias", [16], 0, f32(16, 11)),
         ("blk.0.attn_output.weight", [E, E], 8, q8_0_rows(E, E)), ("blk.0.ffn_norm.weight", [E], 0, f32(E, 5)),
         ("blk.0.ffn_gate.weight", [E, F], 8, q8_0_rows(F, E)), ("blk.0.ffn_up.weight", [E, F], 8, q8_0_rows(F, E)),
         ("blk.0.ffn_down.weight", [F, E], 8, q8_0_rows(E, F))]
    return gguf(kvs, t)


def metadata_only():
    kvs = [kv("general.architecture", T_STR, "qwen3"), kv("general.alignment", T_U32, 64),
           kv("flag", T_BOOL, True), kv("big", T_U64, 1 << 40), kv("neg", T_I32, -7),
           kv("names", T_ARR, (T_STR, ["甲", "乙", ""])), kv("floats", T_ARR, (T_F32, [1.5, -2.0]))]
    return gguf(kvs, [("a", [64, 2], 0, f32(128))], alignment=64)


# ---- safetensors ----------------------------------------------------------------------------------------------
def safetensors(tensors, meta=None):
    h = {}
    data = b""
    for name, dtype, shape, raw in tensors:
        h[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    if meta:
        h["__metadata__"] = meta
    hs = json.dumps(h).encode()
    return struct.pack("<Q", len(hs)) + hs + data


# ---- tokenizer.json -------------------------------------------------------------------------------------------
QWEN2_RE = ("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
            "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+")


def tokenizer_json(pre, merges_as_pairs):
    vocab = {c: i for i, c in enumerate(gpt2_bytes())}
    vocab.update({"ab": 256, "abc": 257, "\u0120a": 258})
    merges = [["a", "b"], ["ab", "c"], ["\u0120", "a"]]
    doc = {"version": "1.0",
           "added_tokens": [{"id": 259, "content": "<|im_end|>", "special": True},
                            {"id": 260, "content": "<think>", "special": False}],
           "normalizer": {"type": "NFC"}, "pre_tokenizer": pre,
           "model": {"type": "BPE", "vocab": vocab,
                     "merges": merges if merges_as_pairs else [" ".join(m) for m in merges]}}
    return json.dumps(doc, ensure_ascii=merges_as_pairs).encode()


def main():
    put("gguf", "llama_spm_f32.gguf", llama_spm_model())
    put("gguf", "qwen2_q8_0.gguf", qwen2_q8_model())
    put("gguf", "metadata_only.gguf", metadata_only())
    put("gguf", "truncated.gguf", llama_spm_model()[:700])

    put("safetensors", "f32.safetensors", safetensors([("model.norm.weight", "F32", [4], f32(4)),
                                                       ("lm_head.weight", "F32", [2, 4], f32(8, 3))]))
    put("safetensors", "f16_bf16.safetensors",
        safetensors([("a", "F16", [2, 2], struct.pack("<4e", 1, -2, 0.5, 65504)),
                     ("b", "BF16", [3], b"\x80\x3f\x00\xc0\x00\x00")], meta={"format": "pt"}))
    put("safetensors", "bad_offsets.safetensors",
        struct.pack("<Q", 60) + b'{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,99]}}      ')

    seq = {"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": QWEN2_RE}, "behavior": "Isolated", "invert": False},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}]}
    put("tokenizer_json", "qwen2_strings.json", tokenizer_json(seq, False))
    put("tokenizer_json", "qwen2_pairs.json", tokenizer_json(seq, True))
    put("tokenizer_json", "gpt2_bytelevel.json", tokenizer_json({"type": "ByteLevel", "use_regex": True}, False))
    put("tokenizer_json", "nested_unknown.json",
        b'{"truncation":{"a":[[[{"b":[1,2.5e3,-4,true,false,null,"\\u00e9\\ud83d\\ude00"]}]]]},'
        b'"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"pre_tokenizer":{"type":"ByteLevel"}}')

    with open(os.path.join(ROOT, "tests/data/models/stories260K/tok512.bin"), "rb") as f:
        put("llama2c", "tok512.bin", b"\x00" + f.read())
    tiny_tok = struct.pack("<i", 8)
    for i, t in enumerate([b"<unk>", b"\n<s>\n", b"\n</s>\n", b"<0x41>", b" a", b"ab", b"b"]):
        tiny_tok += struct.pack("<fi", -float(i), len(t)) + t
    put("llama2c", "tiny_tok.bin", b"\x00" + tiny_tok)
    dim, hid, L, H, KV, V, seq_len = 8, 16, 1, 2, 2, 7, 8
    hs = dim // H
    n = V * dim + L * dim + L * dim * dim * 2 + 2 * L * dim * hs * KV + L * dim + 3 * L * hid * dim + dim + seq_len * hs
    put("llama2c", "tiny_model.bin", b"\x01" + struct.pack("<7i", dim, hid, L, H, KV, V, seq_len) + f32(n))
    put("llama2c", "model_header_only.bin", b"\x01" + struct.pack("<7i", dim, hid, L, H, KV, -V, seq_len))

    novel = ("《测试之书》\n作者：无名氏\n\n楔子\n这是楔子。\n\n第一回 甄士隐梦幻识通灵\n此开卷第一回也。\r\n"
             "第二回 贾夫人仙逝扬州城\n诗云：一局输赢料不真，香销茶尽尚逡巡。\n")
    put("text_import", "utf8.txt", novel.encode("utf-8"))
    put("text_import", "gb18030.txt", novel.encode("gb18030"))
    put("text_import", "utf16le_bom.txt", b"\xff\xfe" + novel.encode("utf-16-le"))
    put("text_import", "utf16be_nobom.txt", novel.encode("utf-16-be"))
    put("text_import", "big5.txt", "第一章 開端\n話說天下大勢，分久必合，合久必分。\n第二章 續\n".encode("big5"))
    put("text_import", "markdown.md", "# 书名\n\n## 第一章 起\n正文。\n\n## 第二章 承\n正文二。\n".encode())

    body = json.dumps({"model": "m", "messages": [{"role": "system", "content": "你是助手"},
                                                  {"role": "user", "content": [{"type": "text", "text": "你好"}]}],
                       "max_tokens": 8, "temperature": 0, "stream": True,
                       "stream_options": {"include_usage": True}, "stop": ["\n\n", "。"]}).encode()
    put("http_request", "chat_stream.txt",
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nAuthorization: Bearer k\r\n"
        b"Content-Type: application/json\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    body = b'{"prompt":["once"],"max_tokens":4,"seed":7,"n":1,"top_p":0.9}'
    put("http_request", "completion.txt",
        b"POST /v1/completions?x=1 HTTP/1.1\r\nHost: localhost\r\nOrigin: http://localhost:5173\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    put("http_request", "models.txt",
        b"GET /v1/models HTTP/1.1\r\nHost: [::1]:8080\r\nSec-Fetch-Site: same-origin\r\nX-A: 1\r\nX-A: 2\r\n\r\n")
    put("http_request", "preflight.txt",
        b"OPTIONS /v1/chat/completions HTTP/1.1\r\nHost: box.lan\r\nOrigin: http://localhost:5173\r\n"
        b"Access-Control-Request-Method: POST\r\n\r\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
