"""How much of the quality checks' and the features' time is numerical work that
fixes their values, and whether 300 records a second on 2 cores fits around it.

    python bench/prepare_floor.py            # every set of bench/prepare.py
    python bench/prepare_floor.py --table

Over the records ``bench/prepare.py`` draws (seed 0), and over those of cinc12's
that are 10 s at 500 Hz (``cinc12-10s``, the case the 300 records a second is
set for), each step is timed by CPU time on its own:

* quality, on the record as read: the band powers (Welch spectra of every lead,
  ``quality._band_shares``), the baseline (a low-pass both ways over every lead,
  ``quality._baseline_ranges``) and the cleaning of the lead the R peaks are
  found on (``rpeaks.clean_leads``);
* features, on the first window: the cleaning of every lead
  (``rpeaks.clean_leads``), the rhythm lead resampled to 2 kHz for the wave
  delineation (``delineation._resample``) and the two wavelet scales its
  search reads (``delineation._scales``).

These are filters, spectra and interpolations over whole leads, the values as
NeuroKit2 defines them, with no Python per beat. Left out: the R-peak
detections, the per-beat searches of the delineation, the median beat and the
checks' bookkeeping. Beside them, the whole quality check and feature
extraction of the same records. 300 records a second on 2 cores is
1000 / 150 = 6.7 ms a record on each core.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from ecgml import __version__
from ecgml.baseline import RHYTHM_LEADS, extract_features
from ecgml.data.quality import _band_shares, _baseline_ranges, assess
from ecgml.data.readers import get_reader
from ecgml.data.records import RecordError
from ecgml.data.samples.windows import preprocess_record
from ecgml.delineation import _RATE, _nk_dwt, _resample, _scales
from ecgml.files import write_json
from ecgml.rpeaks import clean_leads, r_peaks

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import markdown
from prepare import SETS, SHARED, _config

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench/results/prepare_floor.json"
STEPS = (
    "quality: band powers",
    "quality: baseline",
    "quality: R-peak lead cleaned",
    "features: leads cleaned",
    "features: 2 kHz resampling",
    "features: wavelet scales",
)
BUDGET_MS = 1000 / 150  # 300 records a second on 2 cores
BATCH = 10  # records a call, where a set's records are all of one shape
# bench/prepare.py's sets, and the issue's case: cinc12's records of 10 s at 500 Hz
FLOOR_SETS = {**{name: (name, None) for name in SETS}, "cinc12-10s": ("cinc12", (5000, 500.0))}


def _timed(seconds: dict, name: str, step, *args):
    clock = time.process_time()
    out = step(*args)
    seconds[name] = seconds.get(name, 0.0) + time.process_time() - clock
    return out


def _record_steps(seconds: dict, record, window: np.ndarray, fs: float, leads) -> None:
    signal, header = np.nan_to_num(record.signal.astype(np.float64)), record.header
    _timed(seconds, STEPS[0], _band_shares, signal, header.fs)
    if len(signal) >= 3 * header.fs:
        _timed(seconds, STEPS[1], _baseline_ranges, signal, header.fs)
    _timed(seconds, STEPS[2], clean_leads, signal[:, :1], header.fs)
    cleaned = _timed(seconds, STEPS[3], clean_leads, window.astype(np.float64), fs)
    names = [lead.lower() for lead in leads]
    lead = next((names.index(x.lower()) for x in RHYTHM_LEADS if x.lower() in names), 0)
    ecg = _timed(seconds, STEPS[4], _resample, cleaned[:, lead], int(fs))
    rpeaks = r_peaks(cleaned[:, lead], int(fs))
    if len(rpeaks) >= 3:
        dwt = _nk_dwt()
        rr = dwt._dwt_resample_points(rpeaks, int(fs), _RATE)
        last = dwt._dwt_adjust_parameters(rr, _RATE, target="degree") + 3
        if 1 <= last <= 8:
            _timed(seconds, STEPS[5], _scales, ecg, last)
    _timed(seconds, "whole quality check", assess, record.signal, header.fs, header.lead_names)
    _timed(seconds, "whole features", extract_features, window, fs, list(leads))


def _batched_ms(signals: list, windows: list, fs: float, window_fs: float) -> float | None:
    """Milliseconds a record of the steps over all leads (band powers, baseline,
    cleaning) with ``BATCH`` records side by side a call, the same values row by row;
    ``None`` where the records differ in shape."""
    if len({s.shape for s in signals}) != 1 or len({w.shape for w in windows}) != 1:
        return None
    seconds: dict = {}
    for start in range(0, len(signals) - BATCH + 1, BATCH):
        signal = np.concatenate(signals[start : start + BATCH], axis=1)
        window = np.concatenate(windows[start : start + BATCH], axis=1)
        _timed(seconds, "all", _band_shares, signal, fs)
        if len(signal) >= 3 * fs:
            _timed(seconds, "all", _baseline_ranges, signal, fs)
        _timed(seconds, "all", clean_leads, signal[:, :: signals[0].shape[1]], fs)
        _timed(seconds, "all", clean_leads, window, window_fs)
    return round(1000 * seconds["all"] / (len(signals) // BATCH * BATCH), 3)


def floor_times(name: str, n_records: int) -> dict:
    """Milliseconds a record of each step, over ``n_records`` drawn with seed 0 (those
    of them with the set's samples and rate, where it names them)."""
    base, shape = FLOOR_SETS[name]
    config = _config(base)
    reader = get_reader(config.task.reader, config.task.reader_options)
    found = reader.find([SHARED / SETS[base][1]])
    draw = np.random.default_rng(0).permutation(len(found))[:n_records]
    p, seconds, done, warm = config.preprocess, {}, 0, False
    signals, windows, rates = [], [], set()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k in sorted(draw):
            try:
                record = reader.read(found[k].path)
                window = preprocess_record(record, p)[0]
            except (RecordError, ValueError):
                continue
            if shape and (len(record.signal), record.header.fs) != shape:
                continue
            if not warm:  # untimed: the imports are not a record's cost
                _record_steps({}, record, window, p.fs, p.leads)
                warm = True
            _record_steps(seconds, record, window, p.fs, p.leads)
            signals.append(np.nan_to_num(record.signal.astype(np.float64)))
            windows.append(window.astype(np.float64))
            rates.add(record.header.fs)
            done += 1
        if done == 0:
            raise SystemExit(f"no readable record of {name} in {SHARED / SETS[base][1]}")
        batched = _batched_ms(signals, windows, rates.pop(), p.fs) if len(rates) == 1 else None
    ms = {step: round(1000 * t / done, 3) for step, t in seconds.items()}
    core = round(sum(ms.get(step, 0.0) for step in STEPS), 3)
    whole = round(ms["whole quality check"] + ms["whole features"], 3)
    if batched is not None:  # the two per-lead steps of the rhythm lead stay per record
        batched = round(batched + ms.get(STEPS[4], 0.0) + ms.get(STEPS[5], 0.0), 3)
    return {
        "records": done,
        "ms_per_record": ms,
        "core_ms": core,
        "core_ms_batched": batched,
        "whole_ms": whole,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", default=",".join(FLOOR_SETS))
    parser.add_argument("--records", type=int, default=200, help="records drawn per set")
    parser.add_argument("--table", action="store_true")
    args = parser.parse_args()
    unknown = set(args.sets.split(",")) - set(FLOOR_SETS)
    if unknown:
        parser.error(f"unknown set(s) {sorted(unknown)}; known: {', '.join(FLOOR_SETS)}")
    if not args.table:
        rows = json.loads(OUT.read_text())["rows"] if OUT.exists() else []
        for name in args.sets.split(","):
            row = {"set": name, "ecgml": __version__, **floor_times(name, args.records)}
            print(name, json.dumps(row), flush=True)
            rows = [*(r for r in rows if r["set"] != name), row]
            write_json(OUT, {"machine": "2 CPU cores, no GPU", "rows": rows})
    print("\n".join(table(json.loads(OUT.read_text()))))


def table(results: dict) -> list[str]:
    header = ["set", *STEPS, "these steps", f"the same, {BATCH} records a call"]
    header += ["whole quality + features", "budget"]
    rows = [
        [
            f"{r['set']} ({r['records']} rec.)",
            *(r["ms_per_record"].get(step, "-") for step in STEPS),
            r["core_ms"],
            r.get("core_ms_batched") or "-",
            r["whole_ms"],
            round(BUDGET_MS, 1),
        ]
        for r in results["rows"]
    ]
    return markdown(header, rows)


if __name__ == "__main__":
    main()
