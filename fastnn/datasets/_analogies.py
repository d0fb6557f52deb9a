"""Google's word-analogy questions (word2vec project, Apache-2.0)."""
from importlib import resources


def questions_words_path():
    """Path of the embedded questions-words analogy set (gzip text, 19,544 questions in
    14 sections), for ``KeyedVectors.evaluate_word_analogies``."""
    return str(resources.files("fastnn.datasets").joinpath("data", "questions-words.txt.gz"))
