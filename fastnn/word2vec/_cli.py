"""`fastnn word2vec`: train word vectors from the command line with the original C
tool's flags, and write them in its text or binary format.

    fastnn word2vec -train corpus.txt -output vectors.bin -cbow 0 -size 200 -binary 1

The corpus is a whitespace-tokenised UTF-8 text file with one sentence per line
(the C tool reads one stream and marks line ends with a "</s>" word instead).
"""
import argparse
import sys
import time

_DEFAULTS = "C tool defaults: -cbow 1 -size 100 -window 5 -sample 1e-3 -negative 5 -iter 5 -min-count 5"


def _parser():
    p = argparse.ArgumentParser(
        prog="fastnn word2vec", allow_abbrev=False,
        description="Train word2vec vectors (negative sampling). " + _DEFAULTS + ".")
    p.add_argument("-train", dest="train", required=True, metavar="FILE",
                   help="training text: one sentence per line, tokens separated by whitespace")
    p.add_argument("-output", dest="output", required=True, metavar="FILE",
                   help="where to write the word vectors (word2vec format)")
    p.add_argument("-size", dest="size", type=int, default=100, help="vector size (100)")
    p.add_argument("-window", dest="window", type=int, default=5, help="max skip length (5)")
    p.add_argument("-sample", dest="sample", type=float, default=1e-3,
                   help="sub-sampling threshold of frequent words (1e-3; 0 turns it off)")
    p.add_argument("-negative", dest="negative", type=int, default=5,
                   help="noise words per example (5; must be >= 1)")
    p.add_argument("-threads", dest="threads", type=int, default=None,
                   help="training threads (default: every core this process may use)")
    p.add_argument("-iter", dest="iter", type=int, default=5, help="epochs (5)")
    p.add_argument("-min-count", dest="min_count", type=int, default=5,
                   help="drop words seen fewer times (5)")
    p.add_argument("-alpha", dest="alpha", type=float, default=None,
                   help="starting learning rate (0.05 for CBOW, 0.025 for skip-gram)")
    p.add_argument("-binary", dest="binary", type=int, choices=(0, 1), default=0,
                   help="1 writes the binary format (0: text)")
    p.add_argument("-cbow", dest="cbow", type=int, choices=(0, 1), default=1,
                   help="1 for CBOW, 0 for skip-gram (1)")
    return p


def main(argv=None):
    """Run `fastnn word2vec` with the arguments `argv` (default: sys.argv[1:]); returns
    the exit status (argparse exits with status 2 on bad flags)."""
    args = _parser().parse_args(argv)
    from fastnn._threads import resolve_threads
    from fastnn.word2vec._model import Word2Vec

    alpha = args.alpha if args.alpha is not None else (0.05 if args.cbow else 0.025)
    start = time.perf_counter()
    try:
        threads = resolve_threads(args.threads, "-threads")
        model = Word2Vec(corpus_file=args.train, vector_size=args.size, window=args.window,
                         sample=args.sample, negative=args.negative, workers=threads,
                         epochs=args.iter, min_count=args.min_count, alpha=alpha,
                         min_alpha=alpha * 1e-4, sg=1 - args.cbow)
        model.wv.save_word2vec_format(args.output, binary=bool(args.binary))
    except (ValueError, TypeError, OSError, NotImplementedError) as exc:
        print(f"fastnn word2vec: error: {exc}", file=sys.stderr)
        return 1
    seconds = time.perf_counter() - start
    print(f"fastnn word2vec: {len(model.wv.index_to_key)} words x {args.size} from "
          f"{model.corpus_total_words} tokens, {args.iter} epochs on {threads} thread(s) in "
          f"{seconds:.1f} s -> {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
