"""Fold jobs side by side: ``--parallel-folds``, a killed job resumed, the manifest's lock."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ecgml.config import Config, save_config
from ecgml.data.cache import Cache, prepare_cache
from ecgml.data.demo import write_demo_dataset
from ecgml.data.preprocess import PreprocessConfig
from ecgml.models.se_resnet import SEResNetConfig
from ecgml.runs.manifest import update_manifest
from ecgml.runs.parallel import job_environment
from ecgml.training.config import TrainingConfig

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
CONFIG = Config(
    preprocess=PreprocessConfig(window=500),
    model=SEResNetConfig(
        stem_filters=4, stem_kernel=5, filters=(4, 8), kernel_size=3, se_ratio=2, dense_units=8
    ),
    training=TrainingConfig(
        n_folds=2,
        batch_size=8,
        epochs=3,
        reduce_lr_patience=0,
        early_stopping_patience=0,
        noise_std=0.01,
    ),
)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("parallel")
    write_demo_dataset(root / "data", n_records=20, progress=False)
    prepare_cache([root / "data"], root / "cache", CONFIG.preprocess, progress=False)
    save_config(CONFIG, root / "config.json")
    return root


def train(root, run, *extra, **popen):
    command = [
        sys.executable,
        str(ROOT / "model_training.py"),
        "--config",
        str(root / "config.json"),
        "--data",
        str(root / "cache"),
        "--out",
        str(run),
        *extra,
    ]
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **popen
    )


def epochs_logged(run, fold):
    lines = (run / f"fold_{fold}" / "history.csv").read_text().splitlines()[1:]
    return [int(line.split(",")[0]) for line in lines]


def test_two_folds_at_once_both_finish_with_a_complete_manifest(setup, tmp_path):
    run = tmp_path / "run"
    job = train(setup, run, "--parallel-folds", "2")
    out, _ = job.communicate(timeout=600)
    assert job.returncode == 0, out
    assert "fold 0: started" in out and "fold 1: started" in out
    manifest = json.loads((run / "manifest.json").read_text())
    assert set(manifest["folds"]) == {"0", "1"}
    for k in (0, 1):
        assert manifest["folds"][str(k)]["fold"] == k
        assert "seconds_this_job" in manifest["folds"][str(k)]
        assert (run / f"fold_{k}" / "done.json").is_file()
        assert epochs_logged(run, k) == [0, 1, 2]
        assert "fold" in (run / f"fold_{k}" / "train.log").read_text()
    assert (run / "losses.png").is_file()


def test_a_killed_fold_job_resumes_where_it_stopped(setup, tmp_path):
    run = tmp_path / "run"
    job = train(setup, run, "--fold", "0", "--quiet", start_new_session=True)
    state = run / "fold_0" / "state.json"
    deadline = time.time() + 300
    while not state.is_file() and job.poll() is None and time.time() < deadline:
        time.sleep(0.2)
    os.killpg(job.pid, signal.SIGKILL)
    job.wait()
    assert state.is_file() and not (run / "fold_0" / "done.json").exists()
    stopped_after = json.loads(state.read_text())["epoch"]
    again = train(setup, run, "--parallel-folds", "2")
    out, _ = again.communicate(timeout=600)
    assert again.returncode == 0, out
    log = (run / "fold_0" / "train.log").read_text()
    if stopped_after < 2:  # it had epochs left: they ran, and only they
        assert f"resuming after epoch {stopped_after + 1}" in log
    assert epochs_logged(run, 0) == [0, 1, 2]
    assert (run / "fold_0" / "done.json").is_file() and (run / "fold_1" / "done.json").is_file()


def test_concurrent_manifest_updates_lose_no_fold(setup, tmp_path):
    cache = Cache(setup / "cache")
    errors = []

    def fold_job(k):
        try:
            for i in range(15):
                update_manifest(tmp_path, cache, CONFIG, fold=k, fold_info={f"step_{i}": i})
        except Exception as e:  # a torn read would raise here
            errors.append(e)

    threads = [threading.Thread(target=fold_job, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    folds = json.loads((tmp_path / "manifest.json").read_text())["folds"]
    assert {k: len(v) for k, v in folds.items()} == {str(k): 15 for k in range(4)}


def test_jobs_share_the_gpus_and_their_memory(monkeypatch):
    for name in ("CUDA_VISIBLE_DEVICES", "XLA_PYTHON_CLIENT_MEM_FRACTION"):
        monkeypatch.delenv(name, raising=False)
    two_per_gpu = job_environment(3, 4, ["0", "1"])
    assert two_per_gpu["CUDA_VISIBLE_DEVICES"] == "1"
    assert float(two_per_gpu["XLA_PYTHON_CLIENT_MEM_FRACTION"]) == pytest.approx(0.45)
    three_on_one = job_environment(0, 3, None)
    assert "CUDA_VISIBLE_DEVICES" not in three_on_one
    assert float(three_on_one["XLA_PYTHON_CLIENT_MEM_FRACTION"]) == pytest.approx(0.3)
    assert "XLA_PYTHON_CLIENT_MEM_FRACTION" not in job_environment(0, 2, ["0", "1"])
