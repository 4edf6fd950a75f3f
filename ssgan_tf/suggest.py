"""What to label next: the unlabeled examples whose labels would help most.

The choice: the unlabeled and the labeled examples clustered together in
the discriminator's feature space (k-means, k = labeled + wanted), and from
each cluster with the fewest labels (the largest first) its most typical
example; the images the discriminator finds least real (the lowest
`OUTLIER_FRACTION` of p_real: junk, outliers) only after every other one.
Typical examples, not the ones the classifier is least sure of: with a few
labels a class, the least sure are the odd images, and their classes come
out lopsided.
"""

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


POOL = 20000  # at most this many unlabeled examples are ranked (a sample)
NEIGHBOURS = 20  # typicality: the mean distance to this many neighbours


def choose(features: np.ndarray, p_real: np.ndarray,
           labeled_features: np.ndarray, count: int, seed: int = 0,
           outlier_fraction: float = OUTLIER_FRACTION) -> np.ndarray:
    """The rows of `features` ([n, d], the discriminator's features of the
    unlabeled examples) to label, in order: the unlabeled and the labeled
    examples clustered together (k-means, k = labeled + count), the
    clusters with the fewest labels first (the largest first among equals),
    from each its most typical example (the smallest mean distance to its
    nearest neighbours in the cluster). The least real examples (the lowest
    `outlier_fraction` of p_real) come after every other one."""
    n = len(features)
    count = min(int(count), n)
    if count <= 0:
        return np.zeros(0, np.int64)
    rng = np.random.RandomState(seed)
    outliers = np.zeros(n, bool)
    outliers[np.argsort(np.asarray(p_real), kind="stable")[
        :int(n * outlier_fraction)]] = True
    candidates = np.flatnonzero(~outliers)
    points = _unit(np.concatenate([features[candidates],
                                   np.asarray(labeled_features,
                                              features.dtype)]))
    k = min(len(labeled_features) + count, len(points))
    assignment = kmeans(points, k, rng)
    own, theirs = assignment[:len(candidates)], assignment[len(candidates):]
    covered = np.bincount(theirs, minlength=k)
    size = np.bincount(own, minlength=k)
    order = np.lexsort((-size, covered))  # fewest labels, then largest
    chosen = []
    for cluster in order:
        if len(chosen) == count or not size[cluster]:
            continue
        members = np.flatnonzero(own == cluster)
        chosen.append(candidates[members[np.argmax(
            typicality(points[assignment == cluster],
                       points[members]))]])
    taken = set(chosen)  # slots left: the others at random, outliers last
    rest = [row for row in np.concatenate([
        candidates[rng.permutation(len(candidates))],
        np.flatnonzero(outliers)]) if row not in taken]
    return np.asarray(chosen + rest[:count - len(chosen)], np.int64)


def _unit(points):
    points = np.asarray(points, np.float64)
    return points / np.maximum(np.linalg.norm(points, axis=1,
                                              keepdims=True), 1e-12)


def _squared_distances(a, b):
    return np.maximum((a * a).sum(1)[:, None] - 2 * a @ b.T +
                      (b * b).sum(1)[None, :], 0.0)


def kmeans(points, k, rng, iterations=20):
    """Cluster of each point: k-means from a k-means++ start."""
    centres = [points[rng.randint(len(points))]]
    nearest = _squared_distances(points, centres[0][None])[:, 0]
    for _ in range(1, k):
        total = nearest.sum()
        pick = rng.choice(len(points), p=nearest / total) if total > 0 \
            else rng.randint(len(points))
        centres.append(points[pick])
        nearest = np.minimum(nearest, _squared_distances(
            points, points[pick][None])[:, 0])
    centres = np.asarray(centres)
    assignment = None
    for _ in range(iterations):
        new = np.concatenate([
            np.argmin(_squared_distances(points[i:i + 4096], centres), 1)
            for i in range(0, len(points), 4096)])
        if assignment is not None and np.array_equal(new, assignment):
            break
        assignment = new
        for j in range(k):
            members = points[assignment == j]
            if len(members):
                centres[j] = members.mean(0)
    return assignment


def typicality(cluster, candidates):
    """1 / mean distance of each candidate to its NEIGHBOURS nearest points
    of `cluster` (itself excluded)."""
    distances = np.sqrt(_squared_distances(candidates, cluster))
    neighbours = min(NEIGHBOURS, len(cluster) - 1)
    if neighbours <= 0:
        return np.ones(len(candidates))
    nearest = np.sort(distances, axis=1)[:, 1:neighbours + 1]
    return 1.0 / np.maximum(nearest.mean(1), 1e-12)
