"""Every record of ../shared/data/cinc12 read and cached; skipped where the folder is absent."""

from collections import Counter

import numpy as np
import pytest

from ecgml.data.cache import Cache, prepare_cache
from ecgml.data.labels import known_diagnoses
from ecgml.data.records import read_record

pytestmark = pytest.mark.realdata

# Class counts given in ../shared/data/README.md.
CPSC2018 = {"RBBB": 27, "AF": 19, "NSR": 15, "PVC": 13, "PAC": 10, "LBBB": 7, "IAVB": 6}
CINC2021 = {
    "NSR": 46,
    "SB": 30,
    "TAb": 13,
    "AFL": 9,
    "AF": 8,
    "LAD": 8,
    "STach": 8,
    "SA": 7,
    "IAVB": 6,
    "RBBB": 5,
    "PAC": 5,
    "TInv": 4,
    "QAb": 3,
}
ONE_OR_TWO = ("IRBBB", "LQT", "LQRSV", "NSIVCB", "PR", "PVC", "RAD", "LBBB", "VPB", "CRBBB")


@pytest.fixture(scope="module")
def cinc12_cache(tmp_path_factory):
    from tests.conftest import SHARED_DATA

    if not (SHARED_DATA / "cinc12").is_dir():
        pytest.skip(f"real data not found at {SHARED_DATA}")
    out = tmp_path_factory.mktemp("cinc12_cache")
    report = prepare_cache([SHARED_DATA / "cinc12"], out, jobs=2, progress=False)
    return report, Cache(out)


def _counts(cache: Cache, folder: str) -> Counter:
    rows = cache.index["folder"] == folder
    sums = cache.labels[rows.to_numpy()].sum(axis=0)
    return Counter({a: int(n) for a, n in zip(cache.abbreviations, sums, strict=True) if n})


def test_every_record_is_read_and_cached(cinc12_cache):
    report, cache = cinc12_cache
    assert report["found"] == 253
    assert report["skipped"] == []
    assert len(cache) == 253
    assert cache.signals.shape == (253, 5000, 12)
    assert np.isfinite(cache.signals).all()


def test_text_labels_give_the_readme_counts(cinc12_cache):
    _, cache = cinc12_cache
    assert _counts(cache, "cpsc2018") == Counter(CPSC2018)


def test_snomed_labels_give_the_readme_counts(cinc12_cache):
    _, cache = cinc12_cache
    counts = _counts(cache, "cinc2021")
    for name, n in CINC2021.items():
        assert counts[name] == n, name
    for name in ONE_OR_TWO:
        assert 1 <= counts[name] <= 2, name


def test_unscored_codes_are_kept_in_the_index(cinc12_cache):
    _, cache = cinc12_cache
    codes = {c for dx in cache.index["dx"] for c in dx.split(",")}
    assert "429622005" in codes  # STD, unscored, from the cpsc2018 text labels
    assert any(not known_diagnoses()[c].scored for c in codes if c in known_diagnoses())


def test_1000_hz_records_are_resampled_to_500_hz(cinc12_cache):
    _, cache = cinc12_cache
    ptb = cache.index[cache.index["fs"] == 1000.0]
    assert len(ptb) > 0
    assert set(ptb["source"]) == {"PTB"}
    i = ptb.index[0]
    raw = read_record(ptb.at[i, "path"]).signal
    window = cache.windows(i)[0]
    # 10 s at 500 Hz from 10 s at 1000 Hz: every other raw sample, up to filtering
    corr = [np.corrcoef(window[100:-100, k], raw[200:9800:2, k])[0, 1] for k in range(12)]
    assert min(corr) > 0.99
