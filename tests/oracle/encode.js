// Reference encoder (test oracle): @lenml/tokenizers (a port of transformers.js/HF tokenizers) with the Qwen3
// tokenizer.json. Usage: node encode.js TOKENIZER_JSON OUT_FILE IN_FILE...
// Each input is read as UTF-8; its ids are written as one line "id id id ...". Added/special tokens in the text
// are always matched (HF behaviour), so compare against our encode(text, parse_special = true).
// An input named CASES:FILE is a llama.cpp .inp file: cases separated by "\n__ggml_vocab_test__\n"; one line
// per case.
"use strict";
const fs = require("fs");
const path = require("path");
const { TokenizerLoader } = require("@lenml/tokenizers");

const [tokPath, outPath, ...inputs] = process.argv.slice(2);
const dir = path.dirname(tokPath);
const tokenizerJSON = JSON.parse(fs.readFileSync(tokPath, "utf8"));
const cfgPath = path.join(dir, "tokenizer_config.json");
const tokenizerConfig = fs.existsSync(cfgPath) ? JSON.parse(fs.readFileSync(cfgPath, "utf8")) : {};
const tok = TokenizerLoader.fromPreTrained({ tokenizerJSON, tokenizerConfig });

const lines = [];
const enc = (text) => tok.encode(text, { add_special_tokens: false }).join(" ");
for (const inp of inputs) {
  if (inp.startsWith("CASES:")) {
    const text = fs.readFileSync(inp.slice(6), "utf8");
    const cases = text.split("\n__ggml_vocab_test__\n");
    if (cases.length && cases[cases.length - 1] === "") cases.pop();
    for (const c of cases) lines.push(enc(c));
  } else {
    lines.push(enc(fs.readFileSync(inp, "utf8")));
  }
}
fs.writeFileSync(outPath, lines.join("\n") + "\n");
