#!/usr/bin/env python3
"""Throughput of `changjuan-cli serve` under concurrent streaming clients, and the time to first token of a client
that joins while the others stream.

  scripts/bench_serve.py --cli build/bin/changjuan-cli --model M --threads 2 --clients 8 --prompt-tokens 128 --gen 128

Starts the server (--parallel = clients) on a free port of 127.0.0.1, runs one client alone, then `clients` clients
starting at once (the throughput run), then --joins K runs where clients-1 clients stream and the last one joins when
every other client has streamed a quarter of its tokens (the join runs). Prints one JSON object: single_tok_s,
aggregate_tok_s and ratio (the throughput run: every client's tokens over the time from the first request to the last
piece), join_ttft_ms (the joining client's time to its first streamed piece, the median of the K join runs;
join_ttft_ms_all lists them), join_run_aggregate_tok_s and join_run_ratio (the first join run, whose tail holds the
joiner decoding alone), prompt_tokens; single_decode_tok_s, all_decoding_tok_s and decoding_ratio: the throughput run
while every client decodes (no prefill), comparable with `bench --sequences`; scheduler: the server's own account
(steps, decodes per step, time in the batch calls and outside them), all runs. The prompt is synthetic text (distinct
CJK characters), so any model with a Qwen-style tokenizer
takes it.
"""
import argparse, json, subprocess, tempfile, threading, time, http.client, sys


def prompt_text(n, salt):
    return "".join(chr(0x4E00 + (salt * 131 + i * 7) % 20000) for i in range(n))


def stream(port, prompt, gen, out, started=None, progress=None):
    t0 = time.time()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    body = json.dumps({"prompt": prompt, "max_tokens": gen, "temperature": 0, "stream": True,
                       "stream_options": {"include_usage": True}})
    c.request("POST", "/v1/completions", body, {"Content-Type": "application/json"})
    r = c.getresponse()
    first = None
    times = []
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
                times.append(time.time())
                if progress is not None:
                    progress[0] = pieces
                if first is None:
                    first = time.time()
                if started is not None and pieces == 1:
                    started.set()
    out.update(t0=t0, t1=time.time(), ttft=(first or time.time()) - t0, tokens=tokens, pieces=pieces,
               prompt_tokens=prompt_tokens, times=times)


def decode_rate(clients):
    """Aggregate tokens/s while every client streams (from the last first piece to the first last piece), each
    client's pieces scaled by its tokens per piece."""
    ta = max(c["times"][0] for c in clients)
    tb = min(c["times"][-1] for c in clients)
    if tb <= ta:
        return 0.0
    n = 0.0
    for c in clients:
        k = sum(1 for t in c["times"] if ta < t <= tb)
        n += k * c["tokens"] / max(1, c["pieces"])
    return n / (tb - ta)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--prompt-tokens", type=int, default=128)
    ap.add_argument("--gen", type=int, default=128)
    ap.add_argument("--ctx", type=int, default=1024)
    ap.add_argument("--joins", type=int, default=1,
                    help="join runs (join_ttft_ms: the median of them; 0 = throughput only)")
    ap.add_argument("--serve-args", default="", help="more options for serve, e.g. \"--step-tokens 128\"")
    a = ap.parse_args()
    log = tempfile.TemporaryFile(mode="w+")
    srv = subprocess.Popen([a.cli, "serve", "--model", a.model, "--threads", str(a.threads), "--port", "0",
                            "--parallel", str(a.clients), "--ctx", str(a.ctx), "--max-tokens", str(a.gen)] + a.serve_args.split(),
                           stdout=subprocess.PIPE, stderr=log, text=True)
    url = srv.stdout.readline().strip()
    port = int(url.split(":")[2].split("/")[0])
    try:
        warm = {}
        stream(port, prompt_text(8, 999), 4, warm)
        one = {}
        stream(port, prompt_text(a.prompt_tokens, 0), a.gen, one)
        single = one["tokens"] / (one["t1"] - one["t0"])
        def aggregate(res):
            t0 = min(r["t0"] for r in res)
            t1 = max(r["t1"] for r in res)
            return sum(r["tokens"] for r in res) / (t1 - t0)

        # Throughput: every client starts at once.
        res = [dict() for _ in range(a.clients)]
        ths = [threading.Thread(target=stream, args=(port, prompt_text(a.prompt_tokens, 1 + i), a.gen, res[i]))
               for i in range(a.clients)]
        for t in ths:
            t.start()
        for t in ths:
            t.join()
        agg = aggregate(res)
        out = {"clients": a.clients, "threads": a.threads, "prompt_tokens": one["prompt_tokens"],
               "gen": a.gen, "single_tok_s": single, "aggregate_tok_s": agg, "ratio": agg / single,
               "tokens": sum(r["tokens"] for r in res), "single_ttft_ms": 1000 * one["ttft"]}
        # Decoding alone, without the prompts' prefill: comparable with bench --sequences.
        out["single_decode_tok_s"] = decode_rate([one])
        out["all_decoding_tok_s"] = decode_rate(res)
        out["decoding_ratio"] = out["all_decoding_tok_s"] / max(1e-9, out["single_decode_tok_s"])

        rounds = []
        for k in range(a.joins):
            res = [dict() for _ in range(a.clients)]
            progress = [[0] for _ in range(a.clients)]
            ths = []
            salt = 1 + (k + 1) * (a.clients + 1)  # fresh prompts each run: nothing comes from the prefix cache
            for i in range(a.clients - 1):
                ths.append(threading.Thread(target=stream, args=(port, prompt_text(a.prompt_tokens, salt + i), a.gen,
                                                                 res[i], None, progress[i])))
                ths[-1].start()
            # The last client joins mid-run: once every other client has streamed a quarter of its tokens (all of
            # them are decoding then, so its prompt is prefilled beside their decode steps).
            t_wait = time.time()
            while time.time() - t_wait < 600 and any(p[0] < max(1, a.gen // 4) and not r
                                                     for p, r in zip(progress[:-1], res[:-1])):
                time.sleep(0.005)
            last = threading.Thread(target=stream, args=(port, prompt_text(a.prompt_tokens, salt + a.clients - 1),
                                                         a.gen, res[-1]))
            last.start()
            ths.append(last)
            for t in ths:
                t.join()
            rounds.append(res)
        if rounds:
            joins = sorted(1000 * r[-1]["ttft"] for r in rounds)
            out["join_ttft_ms"] = joins[len(joins) // 2]
            out["join_ttft_ms_all"] = joins
            out["join_run_aggregate_tok_s"] = aggregate(rounds[0])
            out["join_run_ratio"] = out["join_run_aggregate_tok_s"] / single
    finally:
        srv.terminate()
        srv.wait()
    # The server's own account of its scheduler (steps, decodes per step, time in the batch calls), all runs.
    log.seek(0)
    out["scheduler"] = " ".join(l.strip() for l in log if "scheduler" in l)
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
