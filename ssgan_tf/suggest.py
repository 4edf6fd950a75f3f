"""What to label next: the unlabeled examples whose labels would help most.

The ranking: the smallest margin between the two most probable classes first
(where the classifier is least sure), each predicted class given at most its
share of the slots (ceil(count / N)) while others have candidates, and the
images the discriminator finds least real (the lowest `OUTLIER_FRACTION` of
p_real: junk, outliers) only after every other one.
"""

import math

import numpy as np

OUTLIER_FRACTION = 0.1


def margins(probabilities: np.ndarray):
    """(predicted class, its probability, the runner-up, its probability)
    per row of [n, N] class probabilities."""
    probabilities = np.asarray(probabilities, np.float64)
    order = np.argsort(-probabilities, axis=1, kind="stable")
    rows = np.arange(len(probabilities))
    first, second = order[:, 0], order[:, min(1, order.shape[1] - 1)]
    return (first, probabilities[rows, first], second,
            probabilities[rows, second])


def rank(probabilities: np.ndarray, p_real: np.ndarray, count: int,
         outlier_fraction: float = OUTLIER_FRACTION) -> np.ndarray:
    """The rows of `probabilities` ([n, N]) to label, best first: at most
    `count` of them (all n when n <= count)."""
    n = len(probabilities)
    count = min(int(count), n)
    if count <= 0:
        return np.zeros(0, np.int64)
    predicted, top, _, runner_up = margins(probabilities)
    margin = top - runner_up
    outliers = np.zeros(n, bool)
    outliers[np.argsort(np.asarray(p_real), kind="stable")[
        :int(n * outlier_fraction)]] = True
    share = math.ceil(count / probabilities.shape[1])
    per_class = np.zeros(probabilities.shape[1], np.int64)
    taken = np.zeros(n, bool)
    chosen = []
    # Margin order (ties by row), the others first, then the outliers; in
    # each, first within the class shares, then whatever slots are left.
    for group in (~outliers, outliers):
        rows = np.flatnonzero(group)
        rows = rows[np.argsort(margin[rows], kind="stable")]
        for within_share in (True, False):
            for row in rows:
                if len(chosen) == count:
                    return np.asarray(chosen, np.int64)
                if taken[row] or (within_share and
                                  per_class[predicted[row]] >= share):
                    continue
                per_class[predicted[row]] += 1
                taken[row] = True
                chosen.append(row)
    return np.asarray(chosen, np.int64)
