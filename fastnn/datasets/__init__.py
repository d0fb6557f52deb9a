"""Loaders for the small real data sets embedded in fastnn (see data/README.md for
their sources and licences)."""
from fastnn.datasets._analogies import questions_words_path
from fastnn.datasets._sms_spam import load_sms_spam
from fastnn.datasets._web_bible import load_web_bible

__all__ = ["load_sms_spam", "load_web_bible", "questions_words_path"]
