"""Language models over word sequences: Kneser-Ney n-grams, a feed-forward neural LM and
a recurrent LM.  All share `fastnn.text` (tokenizer, Vocabulary) and one perplexity
convention: exp of the mean natural-log loss over every predicted token (each sentence's
words and its ``</s>``; ``<unk>`` targets count; ``<s>`` is never predicted).

The models are imported on first use, so ``import fastnn.lm`` stays cheap.
"""
__all__ = ["NGramLM", "FeedForwardLM", "RNNLM"]

# name -> module defining it
_LAZY = {
    "NGramLM": "fastnn.lm.ngram",
    "FeedForwardLM": "fastnn.lm.feedforward",
    "RNNLM": "fastnn.lm.rnn",
}


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'fastnn.lm' has no attribute {name!r}")
    import importlib
    return getattr(importlib.import_module(_LAZY[name]), name)


def __dir__():
    return sorted(list(globals()) + __all__)
