"""word2vec (skip-gram and CBOW with negative sampling) with a gensim-shaped API."""

__all__ = ["KeyedVectors", "LineSentence", "Word2Vec"]

# name -> submodule; loaded on first use so that each part imports on its own
_WHERE = {"KeyedVectors": "_keyedvectors", "LineSentence": "_corpus", "Word2Vec": "_model"}


def __getattr__(name):
    if name not in _WHERE:
        raise AttributeError(f"module 'fastnn.word2vec' has no attribute {name!r}")
    import importlib
    return getattr(importlib.import_module(f"fastnn.word2vec.{_WHERE[name]}"), name)
