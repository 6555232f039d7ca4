import json
import shutil

import pytest

from ecgml.cli.main import main
from ecgml.data.cache import Cache, prepare_cache
from ecgml.data.cache_shards import merge_parts, parse_shard, part_folder, shard_of
from ecgml.data.preprocess import PreprocessConfig

FILES = ("signals.f32", "index.csv", "labels.npy")
# what may differ between one prepare and a merge of parts: times, workers, paths
TIMES = {"updated", "seconds", "jobs", "cache", "parts"}


def _same_cache(one, merged):
    for name in FILES:
        assert (one / name).read_bytes() == (merged / name).read_bytes(), name
    for name in ("meta.json", "prepare_report.json"):
        a, b = (json.loads((d / name).read_text()) for d in (one, merged))
        assert {k: v for k, v in a.items() if k not in TIMES} == {
            k: v for k, v in b.items() if k not in TIMES
        }, name


@pytest.mark.parametrize("n", [2, 3])
def test_parts_merged_are_the_cache_one_prepare_writes(messy_dir, tmp_path, n):
    one, sharded = tmp_path / "one", tmp_path / "sharded"
    prepare_cache([messy_dir], one, progress=False)
    for i in range(1, n + 1):
        part = prepare_cache([messy_dir], sharded, shard=(i, n), progress=False)
        assert part["cached"] == len(Cache(part_folder(sharded, (i, n))))
    report = merge_parts(sharded, progress=False)
    assert report["parts"] == n
    _same_cache(one, sharded)
    assert len(Cache(sharded)) == 4  # what training reads


def test_each_record_is_in_exactly_one_part_and_stays_there():
    ids = [f"R{i:05d}" for i in range(2000)]
    parts = [shard_of(r, 4) for r in ids]
    assert set(parts) == {1, 2, 3, 4}
    assert all(350 < parts.count(i) < 650 for i in range(1, 5))  # a fair split
    # a stable hash, not Python's salted one: these values hold on every machine
    ids = ("A0001", "A0002", "HR00001", "JS00001", "E00001")
    assert [shard_of(r, 4) for r in ids] == [2, 4, 2, 2, 3]
    assert shard_of("A0001", 1) == 1


def test_a_shard_reruns_and_reuses_its_records(messy_dir, tmp_path):
    prepare_cache([messy_dir], tmp_path / "c", shard=(1, 2), progress=False)
    again = prepare_cache([messy_dir], tmp_path / "c", shard=(1, 2), progress=False)
    assert again["new"] == 0 and again["unchanged"] == again["cached"]


def test_merge_refuses_missing_unfinished_and_mismatched_parts(messy_dir, tmp_path):
    out = tmp_path / "c"
    with pytest.raises(FileNotFoundError, match="no parts"):
        merge_parts(out, progress=False)
    prepare_cache([messy_dir], out, shard=(1, 3), progress=False)
    with pytest.raises(ValueError, match="lacks part\\(s\\) 2/3, 3/3"):
        merge_parts(out, progress=False)
    prepare_cache([messy_dir], out, shard=(2, 3), progress=False)
    other = PreprocessConfig(fs=250.0)
    prepare_cache([messy_dir], out, other, shard=(3, 3), progress=False)
    with pytest.raises(ValueError, match=r"other settings than part 1 .*preprocess"):
        merge_parts(out, progress=False)
    prepare_cache([messy_dir], out, shard=(3, 3), progress=False)
    meta = part_folder(out, (3, 3)) / "meta.json"
    meta.write_text(meta.read_text().replace('"complete": true', '"complete": false'))
    with pytest.raises(ValueError, match="incomplete"):
        merge_parts(out, progress=False)
    prepare_cache([messy_dir], out, shard=(1, 2), progress=False)
    with pytest.raises(ValueError, match="parts of \\[2, 3\\] shards"):
        merge_parts(out, progress=False)
    assert not (out / "meta.json").exists()  # nothing half-merged was left behind


@pytest.mark.parametrize("text", ["0/2", "3/2", "2", "a/b", "1/0"])
def test_a_bad_shard_is_refused(text):
    with pytest.raises(ValueError, match="I/N"):
        parse_shard(text)


def test_the_cli_prepares_parts_and_merges_them(messy_dir, tmp_path, capsys):
    out = tmp_path / "c"
    for shard in ("1/2", "2/2"):
        assert main(["prepare", str(messy_dir), "--out", str(out), "--shard", shard]) == 0
    assert f"-> {part_folder(out, (2, 2))}" in capsys.readouterr().out
    assert main(["prepare", "--merge", "--out", str(out), "--no-progress"]) == 0
    assert "4 records cached" in capsys.readouterr().out
    assert len(Cache(out)) == 4
    shutil.rmtree(out / "parts")
    assert main(["prepare", str(messy_dir), "--merge", "--out", str(out)]) != 0
    assert "no DATA_DIR" in capsys.readouterr().err
    assert main(["prepare", "--out", str(out)]) != 0
    assert "at least one DATA_DIR" in capsys.readouterr().err


def test_a_killed_shard_resumes_where_it_stopped(messy_dir, tmp_path, monkeypatch):
    from ecgml.data import cache as cache_module

    real_process = cache_module._process

    def dies_on_g3(task):  # part 2 of 2 holds G1 and G3, read in that order
        if task[0].endswith("G3.hea"):
            raise KeyboardInterrupt
        return real_process(task)

    monkeypatch.setattr(cache_module, "_CHECKPOINT_SECONDS", -1.0)  # checkpoint every record
    monkeypatch.setattr(cache_module, "_process", dies_on_g3)
    with pytest.raises(KeyboardInterrupt):
        prepare_cache([messy_dir], tmp_path / "c", shard=(2, 2), progress=False)
    monkeypatch.setattr(cache_module, "_process", real_process)
    report = prepare_cache([messy_dir], tmp_path / "c", shard=(2, 2), progress=False)
    assert (report["unchanged"], report["new"]) == (1, 1)  # G1 kept, G3 read
    assert list(Cache(part_folder(tmp_path / "c", (2, 2))).index["record_id"]) == ["G1", "G3"]
