"""MNIST with few labels: test accuracy against training time.

    python benchmarks/accuracy.py [--variant preset] [--seeds 1-10]
                                  [--minutes 15] [--fit_time]
                                  [--schedule_steps N]
                                  [--labels drawn|paper] [--label_seed L]
                                  [--ema_decay D]
                                  [--learning_rate_g R]
                                  [--set FIELD=VALUE ...] [--out DIR]

Variants: `preset` (--preset mnist_100: the paper's networks and losses),
`baseline` (the same discriminator trained on the same 100 labels alone,
--d_loss supervised), `baseline_all_labels` (that discriminator trained on
every one of the 60,000 training labels, no GAN: what this network reaches
with full supervision, a reference for the 100-label runs), `original` (the
original repository's networks and losses with --num_labeled 100),
`original_baseline` (those networks on the 100 labels alone), `original_fm`
(those networks without batch norm, with the paper's losses and feature
matching, Adam 3e-4), `original_fm_baseline` (the same on the 100 labels
alone) and `sgan_30000` (Odena's SGAN with half of the labels, --model sgan
--num_labeled 30000).

Gets the genuine MNIST through `download.py --mirror ../shared/datasets/mnist`
(or the registry copy when that folder is absent), trains the variant for a
fixed wall-clock budget per seed (or until its schedule ends), measuring the
accuracy on the official 10,000 test images every few hundred steps, and writes
accuracy-vs-time as JSON and PNG. Runs that end their schedule also go into
the paper's statistic (`paper_statistic.py`: mean ± std of the test error over
the seeds, each seed, the worst), seed by seed as they end:
`figures/paper-statistic-mnist_100.json` for the preset's own schedule and
labels, `<out>/paper-statistic-<tag>.json` for anything else.
"""

import argparse
import ast
import json
import os
import sys

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from benchmarks import common, paper_statistic  # noqa: E402
from ssgan_tf import config as config_lib, training  # noqa: E402
from ssgan_tf.presets import PRESETS  # noqa: E402
from ssgan_tf.errors import UserError  # noqa: E402


VARIANTS = {
    "preset": dict(PRESETS["mnist_100"]),
    "baseline": dict(PRESETS["mnist_100"], d_loss="supervised"),
    "baseline_all_labels": dict(PRESETS["mnist_100"],
                                d_loss="supervised", num_labeled=0),
    "original": dict(dataset="MNIST", num_labeled=100, batch_size=100),
    "original_baseline": dict(dataset="MNIST", num_labeled=100, batch_size=100,
                              d_loss="supervised"),
    # The original networks without batch norm, trained with the paper's
    # losses (Salimans et al.'s D loss, feature matching) at Adam 3e-4
    "original_fm": dict(dataset="MNIST", num_labeled=100, batch_size=100,
                        norm_type="none", d_loss="improved_gan",
                        g_loss="feature_matching", learning_rate_g=3e-4,
                        learning_rate_d=3e-4),
    "original_fm_baseline": dict(dataset="MNIST", num_labeled=100,
                                 batch_size=100, norm_type="none",
                                 d_loss="supervised", learning_rate_g=3e-4,
                                 learning_rate_d=3e-4),
    # Odena's SGAN with half of the labels, Adam 2e-4 as DCGAN-style
    # implementations use
    "sgan_30000": dict(dataset="MNIST", model="sgan", num_labeled=30000,
                       batch_size=100, n_z=100, learning_rate_g=2e-4,
                       learning_rate_d=2e-4),
}
# Steps between test evaluations (the original networks are slow on a CPU).
EVERY = {"preset": 600, "baseline": 600, "baseline_all_labels": 600,
         "sgan_30000": 300, "original_fm": 300, "original_fm_baseline": 300}


def seed_list(text):
    """One --seeds item: "7" or a range "1-10" (inclusive)."""
    first, dash, last = text.partition("-")
    try:
        seeds = list(range(int(first), int(last) + 1)) if dash \
            else [int(first)]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a seed or a range such "
                                         f"as 1-10, got {text!r}") from None
    if not seeds:
        raise argparse.ArgumentTypeError(f"the range {text!r} is empty")
    return seeds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", default="preset", choices=sorted(VARIANTS))
    parser.add_argument("--seeds", type=seed_list, nargs="+",
                        default=[[1, 2, 3]],
                        help="training seeds, e.g. 1 2 3 or 1-10; each also "
                             "draws its own labels (see --labels)")
    parser.add_argument("--minutes", type=float, default=15.0)
    parser.add_argument("--steps", type=int, default=0,
                        help="stop after this many steps instead (0: the "
                             "variant's schedule, stopped by --minutes)")
    parser.add_argument("--schedule_steps", type=int, default=0,
                        help="the variant's schedule in this many steps (its "
                             "learning rate decays over the last third of "
                             "them): a schedule sized to the time budget")
    parser.add_argument("--fit_time", action="store_true",
                        help="the schedule fitted to --minutes, as "
                             "trainer.py --max_seconds without "
                             "--max_training_steps; without it the variant's "
                             "fixed schedule is stopped by --minutes")
    parser.add_argument("--mixed_precision", action="store_true")
    parser.add_argument("--ema_decay", type=float, default=None,
                        help="evaluate an average of the discriminator's "
                             "weights with this decay (--ema_decay) instead "
                             "of the variant's own setting")
    parser.add_argument("--learning_rate_g", type=float, default=None,
                        help="the generator's Adam rate (--learning_rate_g) "
                             "instead of the variant's own")
    parser.add_argument("--set", nargs="+", default=[], metavar="FIELD=VALUE",
                        help="Config fields over the variant's (e.g. "
                             "d_init=unit jit_compile=False): a screen of "
                             "one change")
    parser.add_argument("--labels", default="drawn", choices=["drawn", "paper"],
                        help="`drawn`: each seed draws its own class-balanced "
                             "labels (--num_labeled by --seed); `paper`: every "
                             "seed trains on the paper's own 100 labels (its "
                             "script's --seed_data 1 draw), so only the "
                             "training seed varies, as in the paper's code")
    parser.add_argument("--label_seed", type=int, default=None,
                        help="every run trains on the labels that this seed "
                             "draws (its labeled_ids.txt), so that only the "
                             "training draws vary: a low seed's labels "
                             "told from its training")
    parser.add_argument("--dataset_dir", default=os.path.join(ROOT, "datasets"))
    parser.add_argument("--mirror", default=common.SHARED_MNIST)
    parser.add_argument("--out", default=os.path.join(ROOT, "benchmarks",
                                                      "results"))
    args = parser.parse_args()
    args.seeds = sorted({seed for item in args.seeds for seed in item})
    if args.label_seed is not None and args.labels == "paper":
        parser.error("--label_seed and --labels paper exclude each other")
    if args.steps and args.schedule_steps:
        parser.error("--steps and --schedule_steps exclude each other")
    if args.fit_time and (args.steps or args.schedule_steps):
        parser.error("--fit_time fits the schedule to --minutes: leave out "
                     "--steps and --schedule_steps")
    num_labeled = VARIANTS[args.variant]["num_labeled"]
    labels_used = num_labeled or "all"  # num_labeled 0: every training label
    if args.labels == "paper" and num_labeled != 100:
        parser.error(f"--labels paper: the paper's draw has 100 labels; "
                     f"--variant {args.variant} uses {labels_used}")
    # The variant's settings as the runs use them, written to the JSON.
    settings = dict(VARIANTS[args.variant])
    if args.ema_decay is not None:
        settings.update(ema_decay=args.ema_decay)
    if args.learning_rate_g is not None:
        settings.update(learning_rate_g=args.learning_rate_g)
    changes = {}
    defaults = config_lib.Config()
    for item in args.set:
        field, equals, value = item.partition("=")
        if not equals or not hasattr(defaults, field):
            parser.error(f"--set {item}: expected FIELD=VALUE, FIELD a "
                         f"Config field")
        try:
            changes[field] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            changes[field] = value  # a bare string such as d_init=unit
        default = getattr(defaults, field)
        if default is not None and not isinstance(
                changes[field], type(default)) and not (
                isinstance(default, float) and type(changes[field]) is int):
            parser.error(f"--set {item}: {field} wants a value of type "
                         f"{type(default).__name__}")
    settings.update(changes)
    if args.steps:
        settings.update(max_training_steps=args.steps, lr_decay_fraction=0.0)
    elif args.schedule_steps:
        settings.update(max_training_steps=args.schedule_steps)
    every = EVERY.get(args.variant, 60)
    try:  # the trainer's own checks (every Config runs them), before writing
        configs = [config_lib.Config(**settings).replace(
            dataset_dir=args.dataset_dir, seed=seed,
            prefix=f"bench_{args.variant}_seed{seed}",
            train_dir=os.path.join(args.out, "runs"),
            max_seconds=args.minutes * 60, test_sample_step=every,
            log_step=every, write_summary_step=every,
            output_save_step=10 * every, ckpt_save_step=10 * every,
            steps_per_call=min(50, every),
            mixed_precision=args.mixed_precision, fit_to_time=args.fit_time)
            for seed in args.seeds]
    except (UserError, TypeError) as error:
        parser.error(f"the runs' settings: {error}")
    os.makedirs(args.out, exist_ok=True)
    common.ensure_mnist(args.dataset_dir, args.mirror)
    labeled_ids = None
    labels = args.labels
    if args.labels == "paper":
        labeled_ids = common.paper_labeled_ids(
            args.dataset_dir, os.path.join(args.out, "paper_labeled_ids.txt"))
    elif args.label_seed is not None:
        labels = f"seed {args.label_seed}'s draw"
        labeled_ids = common.drawn_labeled_ids(
            args.dataset_dir, num_labeled, args.label_seed, os.path.join(
                args.out, f"labeled_ids-seed{args.label_seed}.txt"))
    tag = args.variant + ("-mixed" if args.mixed_precision else "") + (
        f"-ema{args.ema_decay:g}" if args.ema_decay is not None else "") + (
        f"-lrg{args.learning_rate_g:g}"
        if args.learning_rate_g is not None else "") + (
        f"-schedule{args.schedule_steps}" if args.schedule_steps else "") + (
        f"-fitted{args.minutes:g}min" if args.fit_time else "") + (
        "".join(f"-{k}{v}" for k, v in changes.items())) + (
        "-paperlabels" if args.labels == "paper" else "") + (
        f"-labelseed{args.label_seed}" if args.label_seed is not None else "")
    # The paper's statistic of the runs that end their schedule (a
    # time-fitted schedule differs from seed to seed: no statistic).
    length = settings["max_training_steps"]
    statistic_path = None
    if not args.fit_time:
        statistic_path = os.path.join(
            ROOT, "benchmarks", "figures", "paper-statistic-mnist_100.json") \
            if tag == "preset" and not args.steps else os.path.join(
                args.out, f"paper-statistic-{tag}.json")
    output = {"variant": args.variant, "settings": settings,
              "commit": paper_statistic.training_code_commit(),
              "length": length, "labels": labels}
    runs = []
    for config in configs:
        seed = config.seed
        config = config.replace(labeled_ids=labeled_ids)
        result = training.run(config)
        runs.append({"seed": seed, "final_step": result["step"],
                     "final_test_accuracy": result["test_accuracy"],
                     "schedule": result["schedule"],
                     "history": [{"step": s, "seconds": round(t, 1),
                                  "test_accuracy": a}
                                 for s, t, a in result["history"]]})
        print(json.dumps(runs[-1]["history"][-1]), flush=True)
        if statistic_path and result["step"] == length:
            paper_statistic.merge(statistic_path, runs[-1:],
                                  paper_statistic.identity_of(output),
                                  common.machine())
    output.update({"mixed_precision": args.mixed_precision,
                   "steps": args.steps,
                   "schedule_steps": args.schedule_steps,
                   "fit_time": args.fit_time,
                   "num_labeled": num_labeled,
                   "minutes": args.minutes,
                   "runs": runs, **common.machine()})
    with open(os.path.join(args.out, f"accuracy-{tag}.json"), "w") as f:
        json.dump(output, f, indent=2)
    import matplotlib  # pylint: disable=import-outside-toplevel
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
    figure, axis = plt.subplots(figsize=(6, 4))
    for run in runs:
        axis.plot([h["seconds"] / 60 for h in run["history"]],
                  [100 * h["test_accuracy"] for h in run["history"]],
                  label=f"seed {run['seed']}")
    count = common.threads()
    axis.set_xlabel(f"training time (minutes, {count} CPU "
                    f"thread{'s' if count != 1 else ''})")
    axis.set_ylabel("MNIST test accuracy (%)")
    axis.set_ylim(50 if args.variant.startswith("original") else 80, 100)
    axis.grid(alpha=0.3)
    axis.legend()
    whose = " (the paper's)" if labeled_ids else ""
    axis.set_title(f"MNIST, {labels_used} labels"
                   f"{whose}: {args.variant}")
    figure.tight_layout()
    figure.savefig(os.path.join(args.out, f"accuracy-{tag}.png"), dpi=100)
    print(json.dumps({"seed_final": [(r["seed"], r["final_test_accuracy"])
                                     for r in runs]}))
    if statistic_path:
        with open(statistic_path) as f:
            print("\n".join(paper_statistic.table(json.load(f))))
        print(f"the statistic: {statistic_path}")


if __name__ == "__main__":
    main()
