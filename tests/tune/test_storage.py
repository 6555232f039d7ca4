"""Many tuning workers opening one new study database at the same instant."""

from __future__ import annotations

import multiprocessing

import pytest

optuna = pytest.importorskip("optuna")

from ecgml.tune.storage import open_study  # noqa: E402

N_WORKERS = 4


def _worker(url: str, barrier) -> None:
    barrier.wait()  # every worker opens the new database at once
    study = open_study(url, "together", direction="maximize")
    study.optimize(lambda trial: trial.suggest_float("x", 0.0, 1.0), n_trials=1)


@pytest.mark.parametrize("round_", range(5))  # the race lost about one round in two
def test_workers_started_together_on_a_fresh_sqlite_file_all_succeed(tmp_path, round_):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(N_WORKERS)
    workers = [context.Process(target=_worker, args=(url, barrier)) for _ in range(N_WORKERS)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert [w.exitcode for w in workers] == [0] * N_WORKERS
    study = optuna.load_study(study_name="together", storage=url)
    assert len(study.trials) == N_WORKERS
