#!/usr/bin/env python3
"""Trains the sample model: a tiny Qwen3-architecture Chinese model with the real Qwen tokenizer, on the
public-domain classics in tests/data/novels (红楼梦, 三国演义). Reproducible: fixed seeds, data order drawn from a
seeded generator, hyper-parameters in HPARAMS and recorded in the output's train_log.json.

Needs python3-torch, python3-numpy and libopenblas0-pthread (Debian; without OpenBLAS PyTorch falls back to the
reference BLAS, ~20x slower) and a built changjuan-cli (for exact Qwen tokenization).
Usage: /usr/bin/python3 samples/model/train.py --out DIR [--steps N] [--threads T]   (the committed model: --steps 700)
Writes DIR/hf/ (config.json, model.safetensors, tokenizer.json: a Hugging Face Qwen3 folder), DIR/train_log.json,
and DIR/reference_logits.bin (PyTorch logits on the F16-rounded weights, for the engine's comparison test).
Export to GGUF with: changjuan-cli convert-hf --dir DIR/hf --type f16 --out M.gguf

The vocabulary has 151,936 entries but the corpus uses a few thousand of them. Training uses a sampled softmax:
every step scores all tokens the corpus uses plus a fresh uniform sample of the unused ones (their logits
corrected by log(unused/sample)), which estimates the full-vocabulary loss at a fraction of its cost; the final
report evaluates the exact full-vocabulary loss on held-out text.
"""
import argparse, json, math, os, struct, subprocess, sys, time
import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HPARAMS = dict(
    hidden_size=64, num_hidden_layers=6, num_attention_heads=4, num_key_value_heads=2, head_dim=32,
    intermediate_size=192, vocab_size=151936, rope_theta=1000000.0, rms_norm_eps=1e-6, ctx=512,
    batch=8, lr=3e-3, min_lr=3e-4, warmup=100, weight_decay=0.05, unused_sample=2048, seed=1234, val_frac=0.02,
)


class RMSNorm(torch.nn.Module):
    def __init__(self, n, eps):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(n))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope(x, cos, sin):  # NeoX layout: rotate the two halves of each head
    h = x.shape[-1] // 2
    x1, x2 = x[..., :h], x[..., h:]
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)


class Layer(torch.nn.Module):
    def __init__(self, p):
        super().__init__()
        E, H, KV, D, FF = p['hidden_size'], p['num_attention_heads'], p['num_key_value_heads'], p['head_dim'], p['intermediate_size']
        self.H, self.KV, self.D = H, KV, D
        self.input_layernorm = RMSNorm(E, p['rms_norm_eps'])
        self.q_proj = torch.nn.Linear(E, H * D, bias=False)
        self.k_proj = torch.nn.Linear(E, KV * D, bias=False)
        self.v_proj = torch.nn.Linear(E, KV * D, bias=False)
        self.o_proj = torch.nn.Linear(H * D, E, bias=False)
        self.q_norm = RMSNorm(D, p['rms_norm_eps'])
        self.k_norm = RMSNorm(D, p['rms_norm_eps'])
        self.post_attention_layernorm = RMSNorm(E, p['rms_norm_eps'])
        self.gate_proj = torch.nn.Linear(E, FF, bias=False)
        self.up_proj = torch.nn.Linear(E, FF, bias=False)
        self.down_proj = torch.nn.Linear(FF, E, bias=False)

    def forward(self, x, cos, sin):
        B, T, _ = x.shape
        h = self.input_layernorm(x)
        q = self.q_norm(self.q_proj(h).view(B, T, self.H, self.D)).transpose(1, 2)
        k = self.k_norm(self.k_proj(h).view(B, T, self.KV, self.D)).transpose(1, 2)
        v = self.v_proj(h).view(B, T, self.KV, self.D).transpose(1, 2)
        q, k = rope(q, cos, sin), rope(k, cos, sin)
        rep = self.H // self.KV
        k = k.repeat_interleave(rep, dim=1)
        v = v.repeat_interleave(rep, dim=1)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(self.D)           # torch 1.13 (Debian 12) has no SDPA
        mask = torch.ones(T, T, dtype=torch.bool, device=x.device).triu(1)
        a = att.masked_fill(mask, float('-inf')).softmax(-1) @ v
        x = x + self.o_proj(a.transpose(1, 2).reshape(B, T, self.H * self.D))
        h = self.post_attention_layernorm(x)
        return x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))


class Model(torch.nn.Module):
    def __init__(self, p):
        super().__init__()
        self.p = p
        self.embed_tokens = torch.nn.Embedding(p['vocab_size'], p['hidden_size'])
        self.layers = torch.nn.ModuleList([Layer(p) for _ in range(p['num_hidden_layers'])])
        self.norm = RMSNorm(p['hidden_size'], p['rms_norm_eps'])
        D = p['head_dim']
        inv = 1.0 / (p['rope_theta'] ** (torch.arange(0, D, 2, dtype=torch.float64) / D))
        ang = torch.outer(torch.arange(p['ctx'] * 4, dtype=torch.float64), inv)
        self.register_buffer('cos', torch.cat([ang.cos()] * 1, -1).float(), persistent=False)
        self.register_buffer('sin', torch.cat([ang.sin()] * 1, -1).float(), persistent=False)
        torch.nn.init.normal_(self.embed_tokens.weight, std=0.02)
        for l in self.layers:
            for m in [l.q_proj, l.k_proj, l.v_proj, l.o_proj, l.gate_proj, l.up_proj, l.down_proj]:
                torch.nn.init.normal_(m.weight, std=0.02)
            for m in [l.o_proj, l.down_proj]:
                m.weight.data /= math.sqrt(2 * p['num_hidden_layers'])

    def hidden(self, ids):
        T = ids.shape[1]
        x = self.embed_tokens(ids)
        cos, sin = self.cos[:T], self.sin[:T]
        for l in self.layers:
            x = l(x, cos, sin)
        return self.norm(x)

    def logits(self, ids):  # full vocabulary, tied output
        return self.hidden(ids) @ self.embed_tokens.weight.T


def hf_state(model):
    sd = {'model.embed_tokens.weight': model.embed_tokens.weight, 'model.norm.weight': model.norm.weight}
    for i, l in enumerate(model.layers):
        pre = f'model.layers.{i}.'
        sd[pre + 'input_layernorm.weight'] = l.input_layernorm.weight
        sd[pre + 'post_attention_layernorm.weight'] = l.post_attention_layernorm.weight
        for n in ['q_proj', 'k_proj', 'v_proj', 'o_proj']:
            sd[pre + f'self_attn.{n}.weight'] = getattr(l, n).weight
        sd[pre + 'self_attn.q_norm.weight'] = l.q_norm.weight
        sd[pre + 'self_attn.k_norm.weight'] = l.k_norm.weight
        for n in ['gate_proj', 'up_proj', 'down_proj']:
            sd[pre + f'mlp.{n}.weight'] = getattr(l, n).weight
    return {k: v.detach().float().contiguous() for k, v in sd.items()}


def write_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        a = tensors[name].numpy().astype('<f4')
        b = a.tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(a.shape), 'data_offsets': [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h + b''.join(blobs))


def load_corpus(cli, tokenizer, workdir):
    parts = []
    for name in ['红楼梦.txt', '三国演义.txt']:
        text = open(os.path.join(ROOT, 'tests/data/novels', name), encoding='utf-8').read().replace('\r\n', '\n')
        lines = [ln.strip(' \u3000\t') for ln in text.split('\n')]
        parts.append('\n'.join(ln for ln in lines if ln))
    path = os.path.join(workdir, 'corpus.txt')
    open(path, 'w', encoding='utf-8').write('\n'.join(parts) + '\n')
    out = subprocess.run([cli, 'tokenize', '--tokenizer', tokenizer, '--file', path], check=True, capture_output=True)
    return np.array([int(t) for t in out.stdout.split()], dtype=np.int64)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', required=True)
    ap.add_argument('--steps', type=int, default=1200)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--cli', default=os.path.join(ROOT, 'build/bin/changjuan-cli'))
    args = ap.parse_args()
    p = dict(HPARAMS, steps=args.steps)
    torch.set_num_threads(args.threads)
    torch.manual_seed(p['seed'])
    rng = np.random.default_rng(p['seed'])
    os.makedirs(os.path.join(args.out, 'hf'), exist_ok=True)
    tok_path = os.path.join(ROOT, 'samples/tokenizer/qwen3/tokenizer.json')

    ids = load_corpus(args.cli, tok_path, args.out)
    n_val = int(len(ids) * p['val_frac'])
    train, val = ids[:-n_val], ids[-n_val:]
    used = np.unique(ids)
    unused = np.setdiff1d(np.arange(p['vocab_size']), used)
    print(f'corpus: {len(ids)} tokens ({len(used)} distinct), train {len(train)}, val {len(val)}', flush=True)

    model = Model(p)
    n_params = sum(x.numel() for x in model.parameters())
    decay = [x for n, x in model.named_parameters() if x.dim() == 2]
    no_decay = [x for n, x in model.named_parameters() if x.dim() < 2]
    opt = torch.optim.AdamW([{'params': decay, 'weight_decay': p['weight_decay']},
                             {'params': no_decay, 'weight_decay': 0.0}], lr=p['lr'], betas=(0.9, 0.95))
    used_t = torch.from_numpy(used)
    pos_in_used = torch.full((p['vocab_size'],), -1, dtype=torch.long)
    pos_in_used[used_t] = torch.arange(len(used))
    log_correction = math.log(len(unused) / p['unused_sample'])
    T, B = p['ctx'], p['batch']
    log = {'hparams': p, 'params': n_params, 'corpus_tokens': int(len(ids)), 'distinct_tokens': int(len(used)),
           'steps': []}
    t0 = time.time()
    for step in range(p['steps']):
        lr = p['lr'] * min(1.0, (step + 1) / p['warmup'])
        if step >= p['warmup']:
            frac = (step - p['warmup']) / max(1, p['steps'] - p['warmup'])
            lr = p['min_lr'] + 0.5 * (p['lr'] - p['min_lr']) * (1 + math.cos(math.pi * frac))
        for g in opt.param_groups:
            g['lr'] = lr
        starts = rng.integers(0, len(train) - T - 1, size=B)
        x = torch.from_numpy(np.stack([train[s:s + T] for s in starts]))
        y = torch.from_numpy(np.stack([train[s + 1:s + T + 1] for s in starts]))
        sample = torch.from_numpy(rng.choice(unused, size=p['unused_sample'], replace=False))
        h = model.hidden(x)                                       # [B, T, E]
        W = model.embed_tokens.weight
        logits = torch.cat([h @ W[used_t].T, h @ W[sample].T + log_correction], dim=-1)
        loss = F.cross_entropy(logits.view(-1, logits.shape[-1]), pos_in_used[y].view(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 25 == 0 or step == p['steps'] - 1:
            el = time.time() - t0
            log['steps'].append({'step': step, 'loss': round(loss.item(), 4), 'lr': lr, 'seconds': round(el, 1)})
            print(f'step {step:5d} loss {loss.item():.4f} lr {lr:.2e} {el:.0f}s', flush=True)
            with open(os.path.join(args.out, 'train_log.json'), 'w') as f:
                json.dump(log, f, indent=1)

    # Exact full-vocabulary loss on held-out text.
    model.eval()
    with torch.no_grad():
        losses = []
        for s in range(0, len(val) - T - 1, T)[:16]:
            xv = torch.from_numpy(val[s:s + T][None])
            yv = torch.from_numpy(val[s + 1:s + T + 1])
            losses.append(F.cross_entropy(model.logits(xv)[0], yv).item())
    log['val_loss_full_vocab'] = round(float(np.mean(losses)), 4)
    log['val_ppl_full_vocab'] = round(float(np.exp(np.mean(losses))), 2)
    log['train_seconds'] = round(time.time() - t0, 1)
    print(f'held-out loss (full vocabulary) {log["val_loss_full_vocab"]} ppl {log["val_ppl_full_vocab"]}', flush=True)

    # The HF folder, with weights rounded to F16 (what the committed GGUF stores), so the reference logits below
    # are exactly what the engine should compute.
    with torch.no_grad():
        for prm in model.parameters():
            prm.copy_(prm.half().float())
    write_safetensors(os.path.join(args.out, 'hf/model.safetensors'), hf_state(model))
    cfg = {'architectures': ['Qwen3ForCausalLM'], 'model_type': 'qwen3', 'hidden_size': p['hidden_size'],
           'intermediate_size': p['intermediate_size'], 'num_hidden_layers': p['num_hidden_layers'],
           'num_attention_heads': p['num_attention_heads'], 'num_key_value_heads': p['num_key_value_heads'],
           'head_dim': p['head_dim'], 'vocab_size': p['vocab_size'], 'rms_norm_eps': p['rms_norm_eps'],
           'rope_theta': p['rope_theta'], 'max_position_embeddings': p['ctx'] * 4, 'tie_word_embeddings': True,
           'hidden_act': 'silu', 'torch_dtype': 'float32'}
    json.dump(cfg, open(os.path.join(args.out, 'hf/config.json'), 'w'), indent=1)
    with open(tok_path, 'rb') as src, open(os.path.join(args.out, 'hf/tokenizer.json'), 'wb') as dst:
        dst.write(src.read())

    # Reference logits for a fixed prompt: int32 n_tokens, int32 n_vocab, int32 n_positions, the tokens, the
    # positions, then the f32 logits at each of those positions (first, middle, last).
    prompt = val[:24]
    positions = np.array([0, 11, 23], dtype='<i4')
    with torch.no_grad():
        lg = model.logits(torch.from_numpy(prompt[None]))[0].numpy().astype('<f4')
    with open(os.path.join(args.out, 'reference_logits.bin'), 'wb') as f:
        f.write(struct.pack('<iii', len(prompt), p['vocab_size'], len(positions)))
        f.write(prompt.astype('<i4').tobytes())
        f.write(positions.tobytes())
        f.write(lg[positions].tobytes())
    with open(os.path.join(args.out, 'train_log.json'), 'w') as f:
        json.dump(log, f, indent=1)


if __name__ == '__main__':
    main()
