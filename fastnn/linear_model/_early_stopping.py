"""Early stopping of the linear classifiers: the held-out split and its accuracy."""
import numpy as np
from sklearn.model_selection import train_test_split

from fastnn.linear_model._batches import make_rows


def split_validation(X, labels, rng, fraction):
    """(train_rows, X_val, labels_val): `fraction` of the rows of X held out (copied),
    stratified when every class has two rows; the others train in place, by index, in
    the order train_test_split gives them."""
    stratify = labels if np.bincount(labels).min() >= 2 else None
    train_rows, val_rows = train_test_split(np.arange(X.shape[0], dtype=np.int64),
                                            test_size=fraction, stratify=stratify,
                                            random_state=rng.randint(np.iinfo(np.int32).max))
    if np.unique(labels[train_rows]).shape[0] < 2:
        raise ValueError("early_stopping: the training part holds a single class; "
                         "lower validation_fraction")
    return train_rows, X[val_rows], labels[val_rows]


def validation_score(rows, W, b, X_val, labels_val, nt):
    """Accuracy on (X_val, labels_val) of the weights W (in the layout of `rows`) and b
    (None: no intercept)."""
    val = make_rows(X_val, X_val.shape[0], nt)
    z = np.empty((X_val.shape[0], W.shape[0] if not rows.sparse else W.shape[1]), W.dtype)
    val.logits(None, W, b, z)
    pred = (z[:, 0] > 0).astype(np.int32) if z.shape[1] == 1 else np.argmax(z, axis=1)
    return float(np.mean(pred == labels_val))
