"""benchmarks/paper_statistic.py: the paper's mean ± std over seeds, merged
seed by seed."""

import json
import os
import sys

import pytest

from conftest import ROOT

sys.path.insert(0, ROOT)
from benchmarks import paper_statistic  # noqa: E402


def run(seed, final, steps=60000, along=None):
    history = [{"step": s, "seconds": 1.0, "test_accuracy": a}
               for s, a in sorted((along or {}).items())]
    history.append({"step": steps, "seconds": 2.0, "test_accuracy": final})
    return {"seed": seed, "final_step": steps, "final_test_accuracy": final,
            "history": history}


IDENTITY = {"commit": "abc1234", "variant": "preset", "settings": {"x": 1},
            "labels": "drawn", "steps": 60000}


def test_summary_is_the_papers_form_computed_by_hand():
    # errors 1%, 2%, 3%: mean 2%, sample std 1%; 200 ± 100 of 10,000
    found = paper_statistic.summarize({"1": 0.99, "2": 0.98, "3": 0.97})
    assert found["seeds"] == 3
    assert found["mean_error_percent"] == pytest.approx(2.0)
    assert found["std_error_percent"] == pytest.approx(1.0)
    assert found["mean_errors_of_10000"] == pytest.approx(200.0)
    assert found["std_errors_of_10000"] == pytest.approx(100.0)
    assert found["worst_seed"] == "3" and found["worst_accuracy"] == 0.97
    single = paper_statistic.summarize({"4": 0.9})
    assert single["std_error_percent"] is None
    assert single["mean_error_percent"] == pytest.approx(10.0)


def test_seeds_merge_one_by_one_and_other_code_is_set_aside(tmp_path):
    path = str(tmp_path / "stat.json")
    paper_statistic.merge(path, [run(2, 0.98, along={15000: 0.95,
                                                     30000: 0.97})],
                          IDENTITY, {"cpu": "A"})
    record = paper_statistic.merge(
        path, [run(1, 0.99, along={15000: 0.96, 30000: 0.985})], IDENTITY,
        {"cpu": "B"})
    assert list(record["runs"]) == ["1", "2"]  # in seed order
    assert record["runs"]["1"]["cpu"] == "B" and record["runs"]["2"]["cpu"] \
        == "A"
    assert record["accuracy"] == {"1": 0.99, "2": 0.98}
    assert record["commit"] == "abc1234" and record["steps"] == 60000
    end = record["statistic"]["end"]
    assert end["mean_error_percent"] == pytest.approx(1.5)
    assert record["statistic"]["along"]["15000"]["mean_error_percent"] == \
        pytest.approx(4.5)
    with open(path) as f:
        assert json.load(f) == record
    lines = paper_statistic.table(record)
    assert lines[2].startswith("| 1 | 96.00% | 98.50% | 99.00% |")
    assert "1.50 ± 0.71% error (150 ± 70.7 of 10,000; 2 seeds), worst " \
        "seed 2: 98.00%" in lines[-1]
    # Other training code: the old file is kept under its commit's name.
    paper_statistic.merge(path, [run(3, 0.97)],
                          dict(IDENTITY, commit="def5678"), {})
    with open(path) as f:
        assert list(json.load(f)["runs"]) == ["3"]
    with open(tmp_path / "stat-abc1234.json") as f:
        assert list(json.load(f)["runs"]) == ["1", "2"]


def test_cli_merges_accuracy_outputs_and_names_a_missing_commit(tmp_path,
                                                                capsys):
    output = {"variant": "preset", "settings": {"max_training_steps": 6},
              "labels": "drawn", "runs": [run(5, 0.9, steps=6)],
              "cpu": "C", "date": "2026-12-07"}
    source = tmp_path / "accuracy-preset.json"
    source.write_text(json.dumps(output))
    target = str(tmp_path / "stat.json")
    assert paper_statistic.main([target, str(source)]) == 2
    assert "names no commit" in capsys.readouterr().err
    assert not os.path.exists(target)
    assert paper_statistic.main([target, str(source), "--commit",
                                 "0123abc"]) == 0
    assert "| 5 | 90.00% |" in capsys.readouterr().out
    with open(target) as f:
        record = json.load(f)
    assert record["commit"] == "0123abc" and record["runs"]["5"]["cpu"] == "C"


def test_the_training_code_commit_is_the_last_to_change_ssgan_tf(tmp_path):
    import subprocess

    def git(*args):
        return subprocess.run(["git", "-C", str(tmp_path), "-c",
                               "user.name=t", "-c", "user.email=t@t", *args],
                              check=True, capture_output=True,
                              text=True).stdout.strip()
    git("init", "-q")
    (tmp_path / "ssgan_tf").mkdir()
    (tmp_path / "ssgan_tf" / "step.py").write_text("a\n")
    git("add", "-A")
    git("commit", "-qm", "code")
    code = git("log", "-1", "--format=%h")
    (tmp_path / "README.md").write_text("b\n")
    git("add", "-A")
    git("commit", "-qm", "docs")
    assert paper_statistic.training_code_commit(str(tmp_path)) == code
    (tmp_path / "ssgan_tf" / "step.py").write_text("c\n")
    assert paper_statistic.training_code_commit(str(tmp_path)) == \
        code + "+modified"
    assert paper_statistic.training_code_commit(str(tmp_path / "x")) == \
        "unknown"


def test_commit_counts_recorded_runs_as_an_identical_commit(tmp_path, capsys):
    """Runs from a later commit that same_training.py showed identical join
    the statistic of the earlier one."""
    target = str(tmp_path / "stat.json")
    for seed, commit in ((1, "0123abc"), (2, "4567def")):
        source = tmp_path / f"accuracy-{seed}.json"
        source.write_text(json.dumps({
            "commit": commit, "variant": "preset",
            "settings": {"max_training_steps": 6}, "labels": "drawn",
            "runs": [run(seed, 0.9, steps=6)]}))
        assert paper_statistic.main([target, str(source), "--commit",
                                     "0123abc"]) == 0
    capsys.readouterr()
    with open(target) as f:
        record = json.load(f)
    assert record["commit"] == "0123abc" and set(record["runs"]) == {"1", "2"}
    assert not [p for p in os.listdir(tmp_path) if "4567def" in p]
