#!/usr/bin/python3
"""Independent numpy reference of the forward pass for GGUF llama / qwen2 / qwen3 / qwen3moe / deepseek2 models.

deepseek2 runs multi-head latent attention in its plain (non-absorbed) form: per-head keys and values are
decompressed from the latent, as the paper writes it.

Reads the GGUF file itself (its own small parser; it shares no code with the C++ engine), dequantizes every
tensor to float64 (f32, f16, bf16, q8_0, q4_0, q4_k, q6_k with the ggml block layouts), and runs the tokens
through the model in float64, writing the logits of every position as float32 [n_tokens, n_vocab].

usage: ref_forward.py MODEL.gguf TOKENS(comma-separated) OUT.f32
"""
import struct
import sys

import numpy as np

GGUF_TYPES = {0: 'B', 1: 'b', 2: 'H', 3: 'h', 4: 'I', 5: 'i', 6: 'f', 7: '?', 10: 'Q', 11: 'q', 12: 'd'}


class Reader:
    def __init__(self, data):
        self.d = data
        self.o = 0

    def unpack(self, fmt):
        v = struct.unpack_from('<' + fmt, self.d, self.o)
        self.o += struct.calcsize('<' + fmt)
        return v[0] if len(v) == 1 else v

    def string(self):
        n = self.unpack('Q')
        s = self.d[self.o:self.o + n].decode('utf-8', errors='replace')
        self.o += n
        return s

    def value(self, t):
        if t == 8:
            return self.string()
        if t == 9:
            et = self.unpack('I')
            n = self.unpack('Q')
            return [self.value(et) for _ in range(n)]
        return self.unpack(GGUF_TYPES[t])


def parse_gguf(path):
    data = open(path, 'rb').read()
    r = Reader(data)
    assert data[:4] == b'GGUF', 'not a GGUF file'
    r.o = 4
    version = r.unpack('I')
    assert version in (2, 3)
    n_tensors = r.unpack('Q')
    n_kv = r.unpack('Q')
    meta = {}
    for _ in range(n_kv):
        k = r.string()
        t = r.unpack('I')
        meta[k] = r.value(t)
    infos = []
    for _ in range(n_tensors):
        name = r.string()
        nd = r.unpack('I')
        dims = [r.unpack('Q') for _ in range(nd)]
        typ = r.unpack('I')
        off = r.unpack('Q')
        infos.append((name, dims, typ, off))
    align = meta.get('general.alignment', 32)
    start = (r.o + align - 1) // align * align
    tensors = {}
    for name, dims, typ, off in infos:
        n = int(np.prod(dims))
        tensors[name] = (dims, typ, data, start + off, n)
    return meta, tensors


def f16(buf):
    return np.frombuffer(buf, dtype='<f2').astype(np.float64)


def dequant(typ, data, off, n):
    if typ == 0:  # f32
        return np.frombuffer(data, dtype='<f4', count=n, offset=off).astype(np.float64)
    if typ == 1:  # f16
        return np.frombuffer(data, dtype='<f2', count=n, offset=off).astype(np.float64)
    if typ == 30:  # bf16: the high half of an f32
        u = np.frombuffer(data, dtype='<u2', count=n, offset=off).astype(np.uint32) << 16
        return u.view(np.float32).astype(np.float64)
    if typ == 8:  # q8_0: f16 d, int8 q[32]
        nb = n // 32
        b = np.frombuffer(data, dtype=np.uint8, count=nb * 34, offset=off).reshape(nb, 34)
        d = f16(b[:, :2].tobytes()).reshape(nb, 1)
        q = b[:, 2:].view(np.int8).astype(np.float64)
        return (d * q).reshape(-1)
    if typ == 2:  # q4_0: f16 d, 16 bytes; low nibbles = elements 0..15, high = 16..31, value (q - 8) * d
        nb = n // 32
        b = np.frombuffer(data, dtype=np.uint8, count=nb * 18, offset=off).reshape(nb, 18)
        d = f16(b[:, :2].tobytes()).reshape(nb, 1)
        qs = b[:, 2:]
        q = np.concatenate([(qs & 0xF), (qs >> 4)], axis=1).astype(np.float64) - 8
        return (d * q).reshape(-1)
    if typ == 12:  # q4_k: f16 d, f16 dmin, 12 bytes of 6-bit scales/mins, 128 bytes of nibbles
        nb = n // 256
        b = np.frombuffer(data, dtype=np.uint8, count=nb * 144, offset=off).reshape(nb, 144)
        d = f16(b[:, 0:2].tobytes())
        dmin = f16(b[:, 2:4].tobytes())
        sc = b[:, 4:16].astype(np.int64)
        qs = b[:, 16:144]
        out = np.empty((nb, 256))
        scales = np.empty((nb, 8))
        mins = np.empty((nb, 8))
        for j in range(8):
            if j < 4:
                s = sc[:, j] & 63
                m = sc[:, j + 4] & 63
            else:
                s = (sc[:, j + 4] & 0xF) | ((sc[:, j - 4] >> 6) << 4)
                m = (sc[:, j + 4] >> 4) | ((sc[:, j] >> 6) << 4)
            scales[:, j] = s
            mins[:, j] = m
        for g in range(4):  # 64 elements per group: 32 low nibbles then 32 high nibbles of the same 32 bytes
            q = qs[:, g * 32:(g + 1) * 32]
            lo = (q & 0xF).astype(np.float64)
            hi = (q >> 4).astype(np.float64)
            j = 2 * g
            out[:, g * 64:g * 64 + 32] = (d * scales[:, j])[:, None] * lo - (dmin * mins[:, j])[:, None]
            out[:, g * 64 + 32:g * 64 + 64] = (d * scales[:, j + 1])[:, None] * hi - (dmin * mins[:, j + 1])[:, None]
        return out.reshape(-1)
    if typ == 14:  # q6_k: ql[128], qh[64], int8 scales[16], f16 d
        nb = n // 256
        b = np.frombuffer(data, dtype=np.uint8, count=nb * 210, offset=off).reshape(nb, 210)
        ql = b[:, 0:128].astype(np.int64)
        qh = b[:, 128:192].astype(np.int64)
        sc = b[:, 192:208].view(np.int8).astype(np.float64)
        d = f16(b[:, 208:210].tobytes())
        out = np.empty((nb, 256))
        for h in range(2):  # two halves of 128
            L = ql[:, h * 64:(h + 1) * 64]
            H = qh[:, h * 32:(h + 1) * 32]
            s = sc[:, h * 8:(h + 1) * 8]
            for l in range(32):
                isc = l // 16
                q1 = ((L[:, l] & 0xF) | (((H[:, l] >> 0) & 3) << 4)) - 32
                q2 = ((L[:, l + 32] & 0xF) | (((H[:, l] >> 2) & 3) << 4)) - 32
                q3 = ((L[:, l] >> 4) | (((H[:, l] >> 4) & 3) << 4)) - 32
                q4 = ((L[:, l + 32] >> 4) | (((H[:, l] >> 6) & 3) << 4)) - 32
                base = h * 128
                out[:, base + l] = d * s[:, isc + 0] * q1
                out[:, base + l + 32] = d * s[:, isc + 2] * q2
                out[:, base + l + 64] = d * s[:, isc + 4] * q3
                out[:, base + l + 96] = d * s[:, isc + 6] * q4
        return out.reshape(-1)
    raise ValueError('unsupported tensor type %d' % typ)


class Model:
    def __init__(self, path):
        self.meta, self.t = parse_gguf(path)
        m = self.meta
        self.arch = m['general.architecture']
        a = self.arch + '.'
        self.n_layers = m[a + 'block_count']
        self.n_embd = m[a + 'embedding_length']
        self.n_heads = m[a + 'attention.head_count']
        self.n_kv = m.get(a + 'attention.head_count_kv', self.n_heads)
        self.hd = m.get(a + 'attention.key_length', self.n_embd // self.n_heads)
        self.hdv = m.get(a + 'attention.value_length', self.hd)
        self.eps = m.get(a + 'attention.layer_norm_rms_epsilon', 1e-5)
        self.base = m.get(a + 'rope.freq_base', 10000.0)
        self.n_rot = m.get(a + 'rope.dimension_count', self.hd)
        self.neox = self.arch in ('qwen2', 'qwen3', 'qwen3moe')
        self.n_expert = m.get(a + 'expert_count', 0)
        self.n_expert_used = m.get(a + 'expert_used_count', 0)
        self.mla = self.arch == 'deepseek2'
        self.softmax_gating = m.get(a + 'expert_gating_func', 1) in (0, 1)
        self.norm_w = self.arch == 'qwen3moe' or bool(m.get(a + 'expert_weights_norm', False))
        self.w_scale = m.get(a + 'expert_weights_scale', 1.0) or 1.0
        if self.mla:
            self.kv_lora = m[a + 'attention.kv_lora_rank']
            # Older converters: per-head sizes in key_length / value_length (and one attn_kv_b).
            self.dq = m.get(a + 'attention.key_length_mla', m[a + 'attention.key_length'])
            self.dv = m.get(a + 'attention.value_length_mla', m[a + 'attention.value_length'])
            self.n_rot = m[a + 'rope.dimension_count']
            self.nope = self.dq - self.n_rot
        self.n_ctx_train = m.get(a + 'context_length', 2048)
        st = m.get(a + 'rope.scaling.type', 'none')
        fac = m.get(a + 'rope.scaling.factor', 0.0)
        self.freq_scale = 1.0 / fac if st in ('linear', 'yarn') and fac > 0 else 1.0
        self.yarn = st == 'yarn'
        self.n_ctx_orig = m.get(a + 'rope.scaling.original_context_length', self.n_ctx_train)

    def w(self, name):
        dims, typ, data, off, n = self.t[name]
        x = dequant(typ, data, off, n)
        return x.reshape(list(reversed(dims))) if len(dims) > 1 else x

    def has(self, name):
        return name in self.t

    def rope_cos_sin(self, pos):
        half = self.n_rot // 2
        i = np.arange(half)
        inv = self.base ** (-2.0 * i / self.n_rot)
        if self.has('rope_freqs.weight'):
            inv = inv / self.w('rope_freqs.weight')
        extrap = pos * inv
        interp = self.freq_scale * extrap
        mscale = 1.0
        if self.yarn:
            def corr(nr):
                return self.n_rot * np.log(self.n_ctx_orig / (nr * 2 * np.pi)) / (2 * np.log(self.base))
            lo = max(0.0, np.floor(corr(32.0)))
            hi = min(self.n_rot - 1.0, np.ceil(corr(1.0)))
            y = (i - lo) / max(0.001, hi - lo)
            mix = 1.0 - np.clip(y, 0.0, 1.0)
            theta = interp * (1 - mix) + extrap * mix
            mscale = 1.0 + 0.1 * np.log(1.0 / self.freq_scale)
        else:
            theta = interp
        return np.cos(theta) * mscale, np.sin(theta) * mscale

    def rope(self, x, pos):  # x: [heads, hd]
        c, s = self.rope_cos_sin(pos)
        half = self.n_rot // 2
        x = x.copy()
        if self.neox:
            a, b = x[:, :half].copy(), x[:, half:2 * half].copy()
            x[:, :half] = a * c - b * s
            x[:, half:2 * half] = a * s + b * c
        else:
            a, b = x[:, 0:2 * half:2].copy(), x[:, 1:2 * half:2].copy()
            x[:, 0:2 * half:2] = a * c - b * s
            x[:, 1:2 * half:2] = a * s + b * c
        return x

    def rmsnorm(self, x, w):
        return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + self.eps) * w

    def moe(self, p, h):
        # qwen3moe: softmax over the router logits, the top k experts by probability, their probabilities
        # renormalised to sum 1 weigh the experts' SwiGLU outputs.
        # deepseek2: softmax or sigmoid, selection by probability + exp_probs_b, weights optionally renormalised,
        # times expert_weights_scale; shared experts added.
        logits = h @ self.w(p + 'ffn_gate_inp.weight').T
        if self.softmax_gating:
            prob = np.exp(logits - logits.max(axis=1, keepdims=True))
            prob /= prob.sum(axis=1, keepdims=True)
        else:
            prob = 1 / (1 + np.exp(-logits))
        sel = prob + self.w(p + 'exp_probs_b.bias') if self.has(p + 'exp_probs_b.bias') else prob
        wg, wu, wd = (self.w(p + 'ffn_%s_exps.weight' % k) for k in ('gate', 'up', 'down'))  # [E, out, in]
        out = np.zeros_like(h)
        for i in range(h.shape[0]):
            top = np.argsort(-sel[i], kind='stable')[:self.n_expert_used]
            wts = prob[i, top]
            if self.norm_w:
                wts = wts / wts.sum()
            wts = wts * self.w_scale
            for e, wt in zip(top, wts):
                gt = wg[e] @ h[i]
                up = wu[e] @ h[i]
                out[i] += wt * (wd[e] @ (gt / (1 + np.exp(-gt)) * up))
        if self.has(p + 'ffn_gate_shexp.weight'):
            gt = h @ self.w(p + 'ffn_gate_shexp.weight').T
            up = h @ self.w(p + 'ffn_up_shexp.weight').T
            out += (gt / (1 + np.exp(-gt)) * up) @ self.w(p + 'ffn_down_shexp.weight').T
        return out

    def mla_attention(self, p, h):
        n, H = h.shape[0], self.n_heads
        if self.has(p + 'attn_q_a.weight'):
            q = self.rmsnorm(h @ self.w(p + 'attn_q_a.weight').T, self.w(p + 'attn_q_a_norm.weight'))
            q = q @ self.w(p + 'attn_q_b.weight').T
        else:
            q = h @ self.w(p + 'attn_q.weight').T
        q = q.reshape(n, H, self.dq)
        kva = h @ self.w(p + 'attn_kv_a_mqa.weight').T
        c = self.rmsnorm(kva[:, :self.kv_lora], self.w(p + 'attn_kv_a_norm.weight'))
        k_pe = np.stack([self.rope(kva[i:i + 1, self.kv_lora:], i)[0] for i in range(n)])  # [n, rope]
        q_pe = np.stack([self.rope(q[i, :, self.nope:], i) for i in range(n)])  # [n, H, rope]
        if self.has(p + 'attn_kv_b.weight'):  # [H * (nope + dv), kv_lora]: per head the key rows, then the value rows
            kvb = self.w(p + 'attn_kv_b.weight').reshape(H, self.nope + self.dv, self.kv_lora)
            wkb = kvb[:, :self.nope, :].transpose(0, 2, 1)
            wvb = kvb[:, self.nope:, :]
        else:
            wkb = self.w(p + 'attn_k_b.weight')  # [H, kv_lora, nope]
            wvb = self.w(p + 'attn_v_b.weight')  # [H, dv, kv_lora]
        mask = np.triu(np.full((n, n), -np.inf), 1)
        out = np.zeros((n, H, self.dv))
        for hh in range(H):
            k_nope = c @ wkb[hh]  # [n, nope]
            v = c @ wvb[hh].T     # [n, dv]
            s = (q[:, hh, :self.nope] @ k_nope.T + q_pe[:, hh, :] @ k_pe.T) / np.sqrt(self.dq) + mask
            s = np.exp(s - s.max(axis=1, keepdims=True))
            s /= s.sum(axis=1, keepdims=True)
            out[:, hh, :] = s @ v
        return out.reshape(n, -1) @ self.w(p + 'attn_output.weight').T

    def forward(self, tokens):
        n = len(tokens)
        emb = self.w('token_embd.weight')
        x = emb[np.array(tokens)]
        G = self.n_heads // self.n_kv
        for l in range(self.n_layers):
            p = 'blk.%d.' % l
            h = self.rmsnorm(x, self.w(p + 'attn_norm.weight'))
            if self.mla:
                x = x + self.mla_attention(p, h)
            else:
                x = x + self.gqa_attention(p, h)
            h = self.rmsnorm(x, self.w(p + 'ffn_norm.weight'))
            if self.has(p + 'ffn_gate_inp.weight'):
                x = x + self.moe(p, h)
                continue
            gt = h @ self.w(p + 'ffn_gate.weight').T
            up = h @ self.w(p + 'ffn_up.weight').T
            x = x + (gt / (1 + np.exp(-gt)) * up) @ self.w(p + 'ffn_down.weight').T
        x = self.rmsnorm(x, self.w('output_norm.weight'))
        out_w = self.w('output.weight') if self.has('output.weight') else emb
        return x @ out_w.T

    def gqa_attention(self, p, h):
        n, G = h.shape[0], self.n_heads // self.n_kv
        q = h @ self.w(p + 'attn_q.weight').T
        k = h @ self.w(p + 'attn_k.weight').T
        v = h @ self.w(p + 'attn_v.weight').T
        if self.has(p + 'attn_q.bias'):
            q += self.w(p + 'attn_q.bias')
            k += self.w(p + 'attn_k.bias')
            v += self.w(p + 'attn_v.bias')
        q = q.reshape(n, self.n_heads, self.hd)
        k = k.reshape(n, self.n_kv, self.hd)
        v = v.reshape(n, self.n_kv, self.hdv)
        if self.has(p + 'attn_q_norm.weight'):
            q = self.rmsnorm(q, self.w(p + 'attn_q_norm.weight'))
            k = self.rmsnorm(k, self.w(p + 'attn_k_norm.weight'))
        q = np.stack([self.rope(q[i], i) for i in range(n)])
        k = np.stack([self.rope(k[i], i) for i in range(n)])
        out = np.zeros((n, self.n_heads, self.hdv))
        mask = np.triu(np.full((n, n), -np.inf), 1)
        for hh in range(self.n_heads):
            g = hh // G
            s = q[:, hh, :] @ k[:, g, :].T / np.sqrt(self.hd) + mask
            s = np.exp(s - s.max(axis=1, keepdims=True))
            s /= s.sum(axis=1, keepdims=True)
            out[:, hh, :] = s @ v[:, g, :]
        return out.reshape(n, -1) @ self.w(p + 'attn_output.weight').T


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    m = Model(sys.argv[1])
    tokens = [int(t) for t in sys.argv[2].split(',')]
    logits = m.forward(tokens)
    logits.astype('<f4').tofile(sys.argv[3])


if __name__ == '__main__':
    main()
