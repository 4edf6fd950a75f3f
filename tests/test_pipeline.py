"""The tf.data streams."""

import numpy as np
import pytest
import tensorflow as tf

from ssgan_tf.data import pipeline
from ssgan_tf.data.rows import ImageRows


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


def pixels(batch, key):
    return list(np.round((batch[key].numpy().ravel() + 1) * 127.5 / 20)
                .astype(int))


def test_a_stream_started_at_a_step_continues_where_that_step_is():
    """The batches of a stream started at step t (a resumed run) are those
    an uninterrupted stream gives from step t on: images, labels, every
    unlabeled stream and the noise."""
    images = np.arange(12, dtype=np.uint8).reshape(12, 1, 1, 1) * 20
    labels = np.arange(12) % 3
    labeled = np.array([0, 4, 8, 9])

    def stream(start):
        return pipeline.train_stream(images, labels, labeled, 3, seed=4,
                                     noise_shape=(2, 5), second_unlabeled=True,
                                     start_step=start)
    uninterrupted = list(stream(0).take(9))
    for start in (1, 4, 7):
        for batch, expected in zip(stream(start).take(2),
                                   uninterrupted[start:]):
            assert set(batch) == set(expected)
            for key in batch:
                np.testing.assert_array_equal(batch[key], expected[key])


def test_every_epoch_is_a_permutation_of_its_own():
    images = np.arange(12, dtype=np.uint8).reshape(12, 1, 1, 1) * 20
    labels = np.arange(12) % 3
    batches = list(pipeline.train_stream(images, labels, np.arange(3), 4,
                                         seed=0).take(9))
    unlabeled = [pixels(b, "unlabeled") for b in batches]
    epochs = [sum(unlabeled[i:i + 3], []) for i in (0, 3, 6)]
    for epoch in epochs:
        assert sorted(epoch) == list(range(12))
    assert epochs[0] != epochs[1] != epochs[2]
    # the labeled stream: 3 examples, an epoch every 3 rows
    labeled = sum([pixels(b, "image") for b in batches], [])
    for start in range(0, 36, 3):
        assert sorted(labeled[start:start + 3]) == [0, 1, 2]


def test_seeds_give_other_orders_and_noise():
    images = np.arange(12, dtype=np.uint8).reshape(12, 1, 1, 1) * 20
    labels = np.arange(12) % 3

    def first(seed):
        return next(iter(pipeline.train_stream(images, labels, None, 4, seed,
                                               noise_shape=(1, 3))))
    one, again, other = first(1), first(1), first(2)
    np.testing.assert_array_equal(one["noise"], again["noise"])
    assert pixels(one, "image") == pixels(again, "image")
    assert not np.array_equal(one["noise"], other["noise"])
    assert pixels(one, "image") != pixels(other, "image")


def test_a_split_of_a_memory_map_is_read_from_the_map(tmp_path):
    """The images stay on disk: rows of a memory-mapped array give the
    batches the same images in memory give."""
    images = np.arange(48, dtype=np.uint8).reshape(24, 1, 2, 1) * 5
    labels = np.arange(24) % 3
    np.save(tmp_path / "images.npy", images)
    mapped = np.load(tmp_path / "images.npy", mmap_mode="r")
    split = np.arange(3, 21)[::-1]  # a split: rows of the whole array
    labeled = np.array([0, 5, 9])
    in_memory = list(pipeline.train_stream(
        images[split], labels[split], labeled, 4, 3, second_unlabeled=True
    ).take(6))
    from_disk = list(pipeline.train_stream(
        ImageRows(mapped, split), labels[split], labeled, 4, 3,
        second_unlabeled=True).take(6))
    for a, b in zip(in_memory, from_disk):
        assert set(a) == set(b)
        for key in a:
            np.testing.assert_array_equal(a[key], b[key])


def largest_class_share(batches, classes):
    """The largest class's share of a batch, averaged over the batches."""
    shares = [np.bincount(classes[b], minlength=classes.max() + 1).max()
              / len(b) for b in batches]
    return float(np.mean(shares))


def test_batches_of_class_grouped_ids_mix_the_classes():
    """Ids grouped by class (as --from_folder writes them): every batch
    draws from the whole epoch, so its classes are mixed as in a uniform
    draw, which a reader of contiguous blocks through a shuffle buffer is
    not."""
    count, num_class, batch = 2000, 10, 50
    classes = np.repeat(np.arange(num_class), count // num_class)
    index = np.arange(count)  # each image is its index, in two pixels
    images = np.stack([index % 256, index // 256], axis=1).astype(
        np.uint8).reshape(count, 1, 2, 1)
    stream = pipeline.train_stream(images, classes, None, batch, seed=5)
    batches, seen = [], []
    for got in stream.take(count // batch):
        pixels = np.round((got["image"].numpy() + 1) * 127.5).astype(int)
        index = pixels[:, 0, 0, 0] + 256 * pixels[:, 0, 1, 0]
        batches.append(index)
        seen.extend(index)
    assert sorted(seen) == list(range(count))  # one epoch: a permutation
    uniform = largest_class_share(
        [np.random.RandomState(s).permutation(count)[:batch]
         for s in range(40)], classes)
    mixed = largest_class_share(batches, classes)
    assert mixed < uniform + 0.05
    # the bound is one a block reader fails: blocks of 200 contiguous ids
    # through a 500-example shuffle buffer
    blocks = tf.data.Dataset.range(count).batch(200).shuffle(
        10, seed=0).unbatch().shuffle(500, seed=0).batch(batch)
    blocked = largest_class_share(
        [b.numpy() for b in blocks.take(count // batch)], classes)
    assert blocked > uniform + 0.1
