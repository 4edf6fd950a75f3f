"""The tf.data streams."""

import numpy as np
import pytest

from ssgan_tf.data import pipeline


def test_streams_scale_and_keep_labeled_labels_only():
    images = np.arange(12, dtype=np.uint8).reshape(12, 1, 1, 1) * 20
    labels = np.arange(12) % 3
    labeled = np.array([0, 4, 8])
    stream = pipeline.train_stream(images, labels, labeled, batch_size=3, seed=0)
    for batch in stream.take(4):
        pixels = np.round((batch["image"].numpy().ravel() + 1) * 127.5)
        assert set(pixels) == {0.0, 80.0, 160.0}  # the labeled images only
        assert set(batch["label"].numpy()) == {0, 1, 2}
        unlabeled = batch["unlabeled"].numpy()
        assert unlabeled.min() >= -1.0 and unlabeled.max() <= 1.0
    everything = pipeline.train_stream(images, labels, None, 4, 0)
    seen = set()
    for batch in everything.take(3):
        seen.update(np.round((batch["image"].numpy().ravel() + 1) * 127.5))
        np.testing.assert_array_equal(batch["image"], batch["unlabeled"])
    assert len(seen) == 12  # one epoch of 3 batches covers every image


@pytest.mark.parametrize("labeled", [np.array([0, 4, 8]), None])
def test_second_unlabeled_stream_has_its_own_order(labeled):
    """`unlabeled_g`, the generator's feature-matching batch: every training
    image once per epoch, in an order of its own; absent unless asked for."""
    images = np.arange(12, dtype=np.uint8).reshape(12, 1, 1, 1) * 20
    labels = np.arange(12) % 3
    assert "unlabeled_g" not in next(iter(pipeline.train_stream(
        images, labels, labeled, 4, seed=0)))
    # (a new stream: each iterator of one shuffled dataset has its own order)
    plain = pipeline.train_stream(images, labels, labeled, 4, seed=0)
    stream = pipeline.train_stream(images, labels, labeled, 4, seed=0,
                                   second_unlabeled=True)
    firsts, seconds = [], []
    for batch, alone in zip(stream.take(3), plain.take(3)):
        # the other keys are those of the stream without the second one
        np.testing.assert_array_equal(batch["unlabeled"], alone["unlabeled"])
        firsts.append(batch["unlabeled"].numpy().ravel())
        seconds.append(batch["unlabeled_g"].numpy().ravel())
    pixels = np.round((np.concatenate(seconds) + 1) * 127.5)
    assert sorted(pixels) == sorted(images.ravel().astype(float))
    assert not np.array_equal(np.concatenate(firsts), np.concatenate(seconds))


def test_eval_batches_cover_everything_once():
    images = np.zeros((7, 2, 2, 1), np.uint8)
    sizes = [len(b) for b in pipeline.eval_batches(images, 3)]
    assert sizes == [3, 3, 1]
