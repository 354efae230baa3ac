// Writes N pseudo-random test cases (fixed seed) in llama.cpp's .inp format, built from the character classes
// the Qwen2 pre-tokenizer distinguishes: letters of several scripts, digits and other numbers, every kind of
// whitespace (CR/LF runs, U+3000, tabs), punctuation, apostrophe contractions, emoji and astral characters,
// combining marks. Excluded: U+0085, U+FEFF and U+017F, where JavaScript regexes differ from Unicode/HF (see
// docs/tokenizer.md). Usage: node gen_random.js OUT N SEED
"use strict";
const fs = require("fs");
const [out, nStr, seedStr] = process.argv.slice(2);
let s = BigInt(seedStr || 1) & 0xffffffffffffffffn;
const rnd = (n) => {  // xorshift64*
  s ^= s >> 12n; s ^= (s << 25n) & 0xffffffffffffffffn; s ^= s >> 27n;
  return Number(((s * 0x2545f4914f6cdd1dn) & 0xffffffffffffffffn) >> 33n) % n;
};
const pools = [
  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
  "的一是不了在人有我他这个们中来上大为和国地到以说时要就出会可也你对生能而子那得于着下自之年过发后作里",
  "贾宝玉林黛玉王熙凤曹操刘备诸葛亮關羽張飛說話們這個",
  "0123456789０１２３４５６７８９①②③½¾ⅫⅣ٣٤",
  " ", "  ", "\t", "\n", "\r\n", "\r", "\u3000", "\u00a0", "\u2009", "\u000b\u000c",
  "。，、；：？！“”‘’（）《》【】「」『』……——·～",
  ".,;:?!'\"()[]{}<>-_=+*/\\|@#$%^&`~",
  "'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'T", "'RE", "'Ve", "'M", "'LL", "'D", "'x",
  "😀👍🏽👨‍👩‍👧‍👦🀄𝕏𝔸🇨🇳𠀀𠀁𪚥",
  "\u0301\u0303\u0308\u0327\u200b\u200d",
  "éñüçÅΩжЖدالعربيةहिन्दीไทย한국어かなカナ",
];
const pick = (str) => { const a = Array.from(str); return a[rnd(a.length)]; };
const cases = [];
for (let i = 0; i < Number(nStr); ++i) {
  const len = 1 + rnd(i % 10 === 0 ? 400 : 40);
  let t = "";
  while (Array.from(t).length < len) {
    const p = pools[rnd(pools.length)];
    const reps = 1 + rnd(4);
    for (let r = 0; r < reps; ++r) t += p.length <= 3 ? p : pick(p);
  }
  cases.push(t);
}
fs.writeFileSync(out, cases.map((c) => c + "\n__ggml_vocab_test__\n").join(""));
