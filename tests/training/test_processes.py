"""One run over processes: ``ecgml train --processes N`` (JAX's runtime, CPU processes here)."""

import json
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from ecgml.config import Config, save_config
from ecgml.data.cache import Cache, prepare_cache
from ecgml.data.demo import write_demo_dataset
from ecgml.data.preprocess import PreprocessConfig
from ecgml.models.se_resnet import SEResNetConfig
from ecgml.training.config import TrainingConfig
from ecgml.training.dataset import CacheDataset

pytest.importorskip("jax")
# These start their own processes, each with its backend: run once, in the default run.
own_processes = pytest.mark.skipif(
    os.environ.get("KERAS_BACKEND") == "jax", reason="runs once, in the TensorFlow run"
)

CONFIG = Config(
    preprocess=PreprocessConfig(window=500),
    model=SEResNetConfig(
        stem_filters=4, stem_kernel=5, filters=(4, 8), kernel_size=3, se_ratio=2, dense_units=8
    ),
    training=TrainingConfig(
        n_folds=2,
        batch_size=8,
        epochs=2,
        reduce_lr_patience=0,
        early_stopping_patience=0,
        noise_std=0.01,
        lead_mask_prob=0.1,
    ),
)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("processes")
    write_demo_dataset(root / "data", n_records=30, progress=False)
    prepare_cache([root / "data"], root / "cache", CONFIG.preprocess, progress=False)
    save_config(CONFIG, root / "config.json")
    return root


def train(root, run, *extra, backend="jax"):
    command = [sys.executable, "-m", "ecgml", "train", "--config", str(root / "config.json")]
    command += ["--data", str(root / "cache"), "--out", str(run), "--fold", "0", "--quiet"]
    env = {**os.environ, "KERAS_BACKEND": backend}
    return subprocess.Popen(
        [*command, *extra], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )


def history(run):
    lines = (run / "fold_0" / "history.csv").read_text().splitlines()
    names = lines[0].split(",")
    return {
        n: np.array([float(line.split(",")[i]) for line in lines[1:]]) for i, n in enumerate(names)
    }


def fold_weights(run):
    code = (
        "import sys, numpy as np, keras\n"
        "m = keras.saving.load_model(sys.argv[1])\n"
        "np.savez(sys.argv[2], *m.get_weights())\n"
    )
    out = run / "weights.npz"
    subprocess.run(
        [sys.executable, "-c", code, str(run / "fold_0" / "model.keras"), str(out)],
        check=True,
        env={**os.environ, "KERAS_BACKEND": "jax"},
    )
    with np.load(out) as f:
        return [f[k] for k in f.files]


@pytest.mark.slow
@own_processes
def test_two_processes_train_the_weights_one_process_trains(setup, tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    job = train(setup, one)
    out, _ = job.communicate(timeout=600)
    assert job.returncode == 0, out
    job = train(setup, two, "--processes", "2")
    out, _ = job.communicate(timeout=600)
    assert job.returncode == 0, out
    assert "process 1 of 2: started" in out and "over 2 processes" in out
    for a, b in zip(fold_weights(one), fold_weights(two), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)
    h1, h2 = history(one), history(two)
    np.testing.assert_allclose(h1["loss"], h2["loss"], rtol=1e-5)
    np.testing.assert_allclose(h1["val_auroc"], h2["val_auroc"], rtol=1e-5)
    # 15 validation records in two batches of 8: one fill-up row of weight 0 counted
    n_val = len(np.load(two / "fold_0" / "val_predictions.npz")["record_ids"])
    np.testing.assert_allclose(h2["val_loss"], h1["val_loss"] * n_val / 16, rtol=1e-5)
    p1 = np.load(one / "fold_0" / "val_predictions.npz")["y_score"]
    p2 = np.load(two / "fold_0" / "val_predictions.npz")["y_score"]
    np.testing.assert_allclose(p1, p2, atol=1e-5)
    done = json.loads((two / "fold_0" / "done.json").read_text())
    assert done["processes"] == 2 and done["n_val"] == n_val
    # process 0 wrote the run; the other's output is in its log, and it left no files
    assert "fold 0: training" in (two / "process_1.log").read_text()
    assert sorted(p.name for p in (two / "fold_0").iterdir()) == sorted(
        p.name for p in (one / "fold_0").iterdir()
    )


@pytest.mark.slow
@own_processes
def test_a_killed_process_stops_the_others_is_named_and_the_run_resumes(setup, tmp_path):
    run = tmp_path / "run"
    job = train(setup, run, "--processes", "2", "--epochs", "8")
    pids, lines = {}, []
    for line in job.stdout:
        lines.append(line)
        found = re.match(r"process (\d) of 2: started \(pid (\d+)", line)
        if found:
            pids[int(found[1])] = int(found[2])
        if line.startswith("Epoch 3/"):  # both processes are training
            break
    assert set(pids) == {0, 1}, "".join(lines)
    os.kill(pids[1], signal.SIGKILL)
    out = job.communicate(timeout=120)[0]
    assert job.returncode == 1
    assert "process 1 was killed by signal SIGKILL; the other processes were stopped" in out
    with pytest.raises(ProcessLookupError):
        for _ in range(20):  # process 0 was stopped, not left waiting
            os.kill(pids[0], 0)
            time.sleep(0.5)
    assert not (run / "fold_0" / "done.json").exists()
    job = train(setup, run, "--processes", "2", "--epochs", "8")
    out = job.communicate(timeout=600)[0]
    assert job.returncode == 0, out
    assert re.search(r"fold 0: resuming after epoch [2-7] of 8", out), out
    assert list(history(run)["epoch"]) == list(range(8))


@own_processes
@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--processes", "3"], "training.batch_size 8 does not split evenly over 3 processes"),
        (["--processes", "2", "--parallel-folds", "2"], "leave out --parallel-folds"),
        (["--processes", "2", "--distributed"], "leave out --distributed"),
    ],
)
def test_settings_that_cannot_run_over_processes_are_refused_before_any_starts(
    setup, tmp_path, extra, message
):
    job = train(setup, tmp_path / "run", *extra, backend="tensorflow")
    out, _ = job.communicate(timeout=300)
    assert job.returncode == 2 and message in out
    assert "started" not in out and not (tmp_path / "run").exists()


def test_each_process_serves_its_share_of_every_batch(setup):
    cache = Cache(setup / "cache")
    records = np.arange(len(cache.index))[:21]  # 21 records: the last batch of 8 has 5
    common = {"batch_size": 8, "inputs": "step", "seed": 3}
    whole = CacheDataset(cache, records, training=True, full_batches=True, **common)
    shares = [
        CacheDataset(cache, records, training=True, process=(rank, 2), **common) for rank in (0, 1)
    ]
    for batch in range(len(whole)):
        x, y = whole[batch]
        parts = [share[batch] for share in shares]
        np.testing.assert_array_equal(np.concatenate([p[0]["ecg"] for p in parts]), x["ecg"])
        np.testing.assert_array_equal(np.concatenate([p[1] for p in parts]), y)
    # evaluation: every batch full; the last one's fill-up weighs 0
    shares = [CacheDataset(cache, records, process=(rank, 2), **common) for rank in (0, 1)]
    last = [share[len(whole) - 1] for share in shares]
    assert [p[0]["ecg"].shape[0] for p in last] == [4, 4]
    np.testing.assert_array_equal(np.concatenate([p[2] for p in last]), [1] * 5 + [0] * 3)
    x, y = CacheDataset(cache, records, **common)[len(whole) - 1]
    np.testing.assert_array_equal(np.concatenate([p[0]["ecg"] for p in last])[:5], x["ecg"])


def test_a_batch_that_does_not_split_or_host_inputs_are_refused(setup):
    cache = Cache(setup / "cache")
    with pytest.raises(ValueError, match="divisible by 3"):
        CacheDataset(cache, np.arange(10), batch_size=8, inputs="step", process=(0, 3))
    with pytest.raises(ValueError, match="augment_in 'step'"):
        CacheDataset(cache, np.arange(10), batch_size=8, process=(0, 2))


def test_processes_need_jax(monkeypatch, tmp_path):
    from ecgml.runs import processes

    monkeypatch.setattr(processes.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ValueError, match=r"pip install 'ecgml\[jax\]'"):
        processes.launch(["--data", "x"], 2, tmp_path)
    assert not list(tmp_path.iterdir())
