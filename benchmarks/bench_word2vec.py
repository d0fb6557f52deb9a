"""word2vec skip-gram training speed: fastnn's Word2Vec against gensim's, same corpus,
same settings, interleaved rounds.

    python benchmarks/bench_word2vec.py [--rounds 3] [--epochs 5] [--repeat 2] [--json PATH]

Corpus: the WEB Bible (fastnn.datasets.load_web_bible(), all three parts, lower-cased, punctuation
split) repeated `--repeat` times (>= 2M tokens).  Settings: vector_size 100, window 5,
negative 5, sample 1e-3, min_count 5, sg=1, `--epochs` epochs per timed call.  Both models
build their vocabulary once, outside the timing; each round then times one `train` call of
each contender in the order fastnn 2t, gensim 2t, fastnn 1t (reversed on odd rounds),
so that every contender meets the same machine load.  words/s = raw corpus tokens x epochs /
seconds of the `train` call (the Python pass over the corpus included for both: gensim
makes it every epoch, fastnn once per call to encode the ids); the best
round of each contender is reported, and the median of the per-round ratios.  Quality:
the questions-words analogy accuracy and the wordsim353 Spearman correlation of the
trained models, both scored by gensim's evaluators on the same vocabulary.
"""
import argparse
import json
import os
import statistics
import sys
import time


sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from fastnn.datasets import load_web_bible, questions_words_path  # noqa: E402
from fastnn.text import tokenize  # noqa: E402
from fastnn.word2vec import Word2Vec  # noqa: E402

SETTINGS = dict(vector_size=100, window=5, negative=5, sample=1e-3, min_count=5, sg=1)
TARGET_SPEEDUP, TARGET_SCALING = 2.0, 1.6

def corpus(repeat):
    text = load_web_bible()
    sentences = [tokenize(line) for part in (text.train, text.validation, text.test)
                 for line in part]
    return sentences * repeat


def quality(wv_keys, vectors):
    from gensim.models import KeyedVectors
    from gensim.test.utils import datapath
    kv = KeyedVectors(vectors.shape[1])
    kv.add_vectors(wv_keys, vectors)
    analogy = kv.evaluate_word_analogies(questions_words_path())[0]
    spearman = kv.evaluate_word_pairs(datapath("wordsim353.tsv"))[1][0]
    return 100 * analogy, float(spearman)


def kernel_scaling(model, sentences, rounds):
    """Best words/s of fastnn's epoch kernel alone at 1 and 2 threads (interleaved),
    on ids encoded once, as `train` calls it: the scaling of the C part, without the
    Python encoding pass."""
    from fastnn._kernels import sgns
    from fastnn.word2vec._corpus import encode_corpus
    ids, starts, _, _ = encode_corpus(sentences, "sentences", model.wv.key_to_index)
    best = {1: 0.0, 2: 0.0}
    for r in range(rounds):
        for nt in ((1, 2) if r % 2 == 0 else (2, 1)):
            start = time.perf_counter()
            sgns.epoch(model._syn0, model.syn1neg, ids, starts, model._keep, model._alias_prob,
                       model._alias_idx, 1, 1, SETTINGS["window"], 1, SETTINGS["negative"],
                       1e-4, 1e-4, r, 1, nt, model._hot_rows(nt))
            best[nt] = max(best[nt], len(ids) / (time.perf_counter() - start))
    return best


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=5,
                    help="epochs per timed train call (5, gensim's default)")
    ap.add_argument("--json", default=None, help="also write the results here")
    args = ap.parse_args(argv)
    sentences = corpus(args.repeat)
    n_tokens = sum(map(len, sentences))
    print(f"corpus: {len(sentences)} sentences, {n_tokens} tokens; settings {SETTINGS}")

    import gensim
    from gensim.models import Word2Vec as GensimWord2Vec
    models = {
        "fastnn 2t": Word2Vec(**SETTINGS, workers=2, epochs=args.epochs),
        "gensim 2t": GensimWord2Vec(**SETTINGS, workers=2, epochs=args.epochs),
        "fastnn 1t": Word2Vec(**SETTINGS, workers=1, epochs=args.epochs),
    }
    for m in models.values():
        m.build_vocab(sentences)
    times = {name: [] for name in models}
    words = n_tokens * args.epochs
    for r in range(args.rounds):
        order = list(models) if r % 2 == 0 else list(reversed(models))
        for name in order:
            m = models[name]
            start = time.perf_counter()
            m.train(sentences, total_examples=m.corpus_count, epochs=args.epochs)
            times[name].append(time.perf_counter() - start)
        print(f"round {r + 1}: " + ", ".join(f"{n} {words / times[n][-1]:,.0f} w/s"
                                             for n in models), flush=True)
    best = {n: words / min(t) for n, t in times.items()}
    ratio = statistics.median(g / f for f, g in zip(times["fastnn 2t"], times["gensim 2t"]))
    scaling = statistics.median(a / b for a, b in zip(times["fastnn 1t"], times["fastnn 2t"]))
    scores = {n: quality(m.wv.index_to_key, m.wv.vectors) for n, m in models.items()}
    kernel = kernel_scaling(models["fastnn 2t"], sentences, args.rounds)
    print(f"\ngensim {gensim.__version__}; {args.rounds} rounds of {args.epochs} epoch(s) "
          f"(every model ends with {args.rounds * args.epochs} epochs over the corpus)")
    print(f"{'contender':10s} {'best words/s':>14s} {'analogy %':>10s} {'wordsim353':>11s}")
    for n in models:
        print(f"{n:10s} {best[n]:14,.0f} {scores[n][0]:10.2f} {scores[n][1]:11.3f}")
    speedup = best["fastnn 2t"] / best["gensim 2t"]
    print(f"fastnn 2t / gensim 2t: best {speedup:.2f}x, median paired {ratio:.2f}x "
          f"(target >= {TARGET_SPEEDUP}x: {'met' if speedup >= TARGET_SPEEDUP else 'NOT met'})")
    print(f"fastnn 2t / fastnn 1t: best {best['fastnn 2t'] / best['fastnn 1t']:.2f}x, "
          f"median paired {scaling:.2f}x (target >= {TARGET_SCALING}x: "
          f"{'met' if best['fastnn 2t'] / best['fastnn 1t'] >= TARGET_SCALING else 'NOT met'})")
    print(f"fastnn epoch kernel alone (ids encoded once): 1t {kernel[1]:,.0f} w/s, "
          f"2t {kernel[2]:,.0f} w/s, {kernel[2] / kernel[1]:.2f}x")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"tokens": n_tokens, "settings": SETTINGS, "seconds": times,
                       "best_words_per_s": best, "quality": scores,
                       "kernel_words_per_s": kernel}, f, indent=1)


if __name__ == "__main__":
    main()
