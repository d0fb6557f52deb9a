"""The two public estimators; the training itself lives in `_base`."""
from fastnn.linear_model._base import SGDLinearClassifier

_PARAMETERS = """
    Parameters
    ----------
    penalty : {'l1', 'l2', 'elasticnet'} or None, default='deprecated'
        As in scikit-learn 1.9, where it is deprecated: prefer `l1_ratio` and `C`.
        'l1' / 'l2' force l1_ratio to 1 / 0, None means no penalty; the default
        ('deprecated') and 'elasticnet' use `l1_ratio`.
    C : float in (0, inf], default=1.0
        Inverse penalty strength: the penalty is 1/(C S) times
        (1 - l1_ratio)/2 ||W||^2 + l1_ratio ||W||_1, S the total sample weight.
        np.inf means no penalty.
    l1_ratio : float in [0, 1], default=0.0
        0 is L2, 1 is L1 (a proximal soft-threshold after each step), between is the
        elastic net.  On sparse input l1_ratio > 0 updates every weight every step
        (the L1 step is not lazy), where l1_ratio = 0 costs only the batch's non-zeros:
        on 100k x 50k with 90 non-zeros a row an epoch took 52 ms against 48 (3x faster
        than SGDClassifier(penalty='l1')), but on much wider data the passes over the
        weights dominate.  The zeros that L1 makes are in the iterates: with
        average=True the model, their mean, is seldom exactly sparse; average=False
        keeps them.
    tol : float >= 0 or None, default=1e-4
        Stopping test: an epoch "improves" when the training objective drops by more
        than tol (with early_stopping: the validation accuracy rises by more than tol).
        After `n_iter_no_change` epochs without improvement, 'adaptive' divides the
        learning rate by 5 (stopping once it falls below 1e-6 eta0); the other schedules
        stop.  None disables the test (max_iter epochs always run).
    fit_intercept : bool, default=True
        Learn an (unpenalised) intercept per logit.
    class_weight : dict, 'balanced' or None, default=None
        Multiplies the sample weights by a per-class weight, as in scikit-learn.
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffling and the validation split.  The same seed gives the same
        model whatever n_jobs (the kernels' reductions have a fixed order).
    solver : str or None, default=None
        Accepted for code written for scikit-learn; any value but None / 'sgd' warns
        that fastnn trains by SGD and is otherwise ignored.
    max_iter : int >= 1, default=100
        Maximum number of epochs (passes over the training data).
    verbose : int, default=0
        Non-zero: a tqdm progress bar per fit with the epoch, loss and samples/s.
    warm_start : bool, default=False
        Start `fit` from the previous coef_ / intercept_ (when the classes match).
    n_jobs : int or None, default=None
        Threads of the kernels (and of BLAS during fit); None means every core,
        negative counts back from the cores as in joblib.
    batch_size : int or 'auto', default='auto'
        Rows per mini-batch; 'auto' is min(200, n_samples).
    learning_rate : {'constant', 'invscaling', 'adaptive', 'optimal'}, default='adaptive'
        Step-size schedule, t counting mini-batch updates from 0: 'constant' eta0;
        'invscaling' eta0 / (t + 1)**power_t; 'optimal' 1 / (alpha (t + t0)) with
        alpha = 1/(C S) and t0 = 1/(alpha eta0); 'adaptive' eta0, divided by 5 each
        time the stopping test fires (see tol).
    eta0 : float > 0 or 'auto', default='auto'
        Initial step size.  'auto' is 8 / (c mean_i ||x_i||^2 + alpha) with the
        intercept counted as a feature of value 1 and c = 1/4 for the sigmoid, 1/2 for
        the softmax: 8 times the inverse of a smoothness bound of the objective, so it
        adapts to the scale of the features (the factor 8 was tuned on digits, SMS spam
        and Gaussian data).
    power_t : float >= 0, default=0.5
        Exponent of 'invscaling'.
    momentum : float in [0, 1), default=0.9
        Heavy-ball momentum (PyTorch's form: v = momentum v + g, w -= eta v).
    average : bool, default=True
        The model (coef_, intercept_, and the weights early stopping scores) is the mean
        of the last epoch's iterates (the weights after each update), while SGD itself
        goes on from the last iterate.  Iterate averaging (Polyak and Juditsky;
        scikit-learn's SGDClassifier(average=True) averages over all epochs, this over
        the last one, a suffix average) cancels most of the gradient noise that keeps a
        constant-step iterate away from the optimum: on a 100k x 300 softmax problem the
        last iterate stayed 11 % above the optimal objective at the default step, the
        epoch's mean came within 0.6 % from the first epoch on.  False: the last
        iterate.
    shuffle : bool, default=True
        Reshuffle the rows every epoch.
    early_stopping : bool, default=False
        Hold out `validation_fraction` of the training rows (stratified) and stop when
        their accuracy has not improved by tol for n_iter_no_change epochs; the best
        weights are kept.
    validation_fraction : float in (0, 1), default=0.1
        Share held out for early stopping.
    n_iter_no_change : int >= 1, default=5
        Epochs without improvement before the stopping test fires.

    Attributes
    ----------
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Weights, in the training dtype (float32 input keeps float32).
    intercept_ : ndarray of shape (1,) or (n_classes,)
    classes_ : ndarray of shape (n_classes,)
        The labels, sorted (any type: ints, strings, ...).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Column names, when X was a DataFrame with string column names.
    n_iter_ : ndarray of shape (1,)
        Epochs run (summed over partial_fit calls), shaped as scikit-learn's.
    loss_curve_ : ndarray of float64
        Training objective (mean weighted loss + penalty) of every epoch, averaged over
        the epoch's mini-batches before their updates: the objective along the SGD
        iterates (with average=True the model, their mean, is usually lower).
    validation_scores_ : ndarray of float64
        Validation accuracy per epoch (early_stopping only).
    best_validation_score_ : float
        The best of them (early_stopping only).
"""


class LogisticRegression(SGDLinearClassifier):
    """Logistic regression trained by mini-batch SGD on compiled kernels.

    A drop-in for `sklearn.linear_model.LogisticRegression`: two classes use one
    logit and the sigmoid, more classes the multinomial (softmax) model, and the
    objective is scikit-learn's (mean weighted log-loss + penalty / (C S)).  Dense
    input runs through BLAS, CSR / CSC input through sparse kernels without densifying.
    """ + _PARAMETERS

    _binary_sigmoid = True


class SoftmaxRegression(SGDLinearClassifier):
    """Multinomial logistic (softmax) regression trained by mini-batch SGD.

    Always one weight vector per class, also for two classes (then coef_ has two rows
    and decision_function returns z_1 - z_0 of shape (n_samples,)).  Otherwise as
    `LogisticRegression`.
    """ + _PARAMETERS

    _binary_sigmoid = False
