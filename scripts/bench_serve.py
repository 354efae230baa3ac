#!/usr/bin/env python3
"""Throughput of `changjuan-cli serve` under concurrent streaming clients, and the time to first token of a client
that joins while the others stream.

  scripts/bench_serve.py --cli build/bin/changjuan-cli --model M --threads 2 --clients 8 --prompt-tokens 128 --gen 128

Starts the server (--parallel = clients) on a free port of 127.0.0.1, runs one client alone, then `clients` clients at
once (the last one joins when the others have streamed a quarter of their tokens), and prints one JSON object:
single_tok_s, aggregate_tok_s, ratio, join_ttft_ms (the joining client's time to its first streamed piece),
prompt_tokens. The prompt is synthetic text (distinct CJK characters), so any model with a Qwen-style tokenizer
takes it.
"""
import argparse, json, subprocess, threading, time, http.client, sys


def prompt_text(n, salt):
    return "".join(chr(0x4E00 + (salt * 131 + i * 7) % 20000) for i in range(n))


def stream(port, prompt, gen, out, started=None):
    t0 = time.time()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    body = json.dumps({"prompt": prompt, "max_tokens": gen, "temperature": 0, "stream": True,
                       "stream_options": {"include_usage": True}})
    c.request("POST", "/v1/completions", body, {"Content-Type": "application/json"})
    r = c.getresponse()
    first = None
    tokens = 0
    prompt_tokens = 0
    pieces = 0
    for raw in r:
        line = raw.decode("utf-8", "replace").strip()
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        j = json.loads(line[6:])
        if j.get("usage"):
            tokens = j["usage"]["completion_tokens"]
            prompt_tokens = j["usage"]["prompt_tokens"]
        for ch in j.get("choices", []):
            if ch.get("text"):
                pieces += 1
                if first is None:
                    first = time.time()
                if started is not None and pieces == 1:
                    started.set()
    out.update(t0=t0, t1=time.time(), ttft=(first or time.time()) - t0, tokens=tokens, pieces=pieces,
               prompt_tokens=prompt_tokens)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--prompt-tokens", type=int, default=128)
    ap.add_argument("--gen", type=int, default=128)
    ap.add_argument("--ctx", type=int, default=1024)
    a = ap.parse_args()
    srv = subprocess.Popen([a.cli, "serve", "--model", a.model, "--threads", str(a.threads), "--port", "0",
                            "--parallel", str(a.clients), "--ctx", str(a.ctx), "--max-tokens", str(a.gen)],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    url = srv.stdout.readline().strip()
    port = int(url.split(":")[2].split("/")[0])
    try:
        warm = {}
        stream(port, prompt_text(8, 999), 4, warm)
        one = {}
        stream(port, prompt_text(a.prompt_tokens, 0), a.gen, one)
        single = one["tokens"] / (one["t1"] - one["t0"])
        res = [dict() for _ in range(a.clients)]
        quarter = threading.Event()
        progress = {"n": 0}
        ths = []
        for i in range(a.clients - 1):
            ths.append(threading.Thread(target=stream, args=(port, prompt_text(a.prompt_tokens, i + 1), a.gen, res[i])))
            ths[-1].start()
        # The last client joins once the others are decoding (their first pieces arrived, plus a quarter of the run).
        time.sleep(0.05)
        t_wait = time.time()
        while any(not r for r in res[:-1]) and time.time() - t_wait < 600:
            time.sleep(0.01)
            if time.time() - t_wait > (one["t1"] - one["t0"]) / 4:
                break
        last = threading.Thread(target=stream, args=(port, prompt_text(a.prompt_tokens, a.clients), a.gen, res[-1]))
        last.start()
        ths.append(last)
        for t in ths:
            t.join()
        t0 = min(r["t0"] for r in res)
        t1 = max(r["t1"] for r in res)
        total = sum(r["tokens"] for r in res)
        agg = total / (t1 - t0)
        print(json.dumps({"clients": a.clients, "threads": a.threads, "prompt_tokens": one["prompt_tokens"],
                          "gen": a.gen, "single_tok_s": single, "aggregate_tok_s": agg, "ratio": agg / single,
                          "join_ttft_ms": 1000 * res[-1]["ttft"], "single_ttft_ms": 1000 * one["ttft"],
                          "tokens": total}))
    finally:
        srv.terminate()
        srv.wait()


if __name__ == "__main__":
    main()
