"""fastnn: fast CPU kernels and models for the classic neural models of NLP."""
__version__ = "0.1.0"

from fastnn import autograd, functional
from fastnn._config import show_config
from fastnn._threads import threads

__all__ = ["__version__", "autograd", "datasets", "functional", "linear_model", "lm", "optim",
           "show_config", "text", "threads", "word2vec", "KeyedVectors", "LineSentence",
           "FeedForwardLM", "LogisticRegression", "MLPClassifier", "NGramLM", "RNNLM",
           "SoftmaxRegression", "Word2Vec"]

# the estimators import scikit-learn: load them on first use, not on `import fastnn`
# name -> (module, attribute of it, or None for the module itself)
_LAZY = {
    "LogisticRegression": ("fastnn.linear_model", "LogisticRegression"),
    "SoftmaxRegression": ("fastnn.linear_model", "SoftmaxRegression"),
    "MLPClassifier": ("fastnn.neural_network", "MLPClassifier"),
    "FeedForwardLM": ("fastnn.lm", "FeedForwardLM"),
    "NGramLM": ("fastnn.lm", "NGramLM"),
    "RNNLM": ("fastnn.lm", "RNNLM"),
    "Word2Vec": ("fastnn.word2vec", "Word2Vec"),
    "KeyedVectors": ("fastnn.word2vec", "KeyedVectors"),
    "LineSentence": ("fastnn.word2vec", "LineSentence"),
    "datasets": ("fastnn.datasets", None),
    "linear_model": ("fastnn.linear_model", None),
    "lm": ("fastnn.lm", None),
    "optim": ("fastnn.optim", None),
    "text": ("fastnn.text", None),
    "word2vec": ("fastnn.word2vec", None),
}


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'fastnn' has no attribute {name!r}")
    import importlib
    module_name, attribute = _LAZY[name]
    module = importlib.import_module(module_name)
    return module if attribute is None else getattr(module, attribute)
