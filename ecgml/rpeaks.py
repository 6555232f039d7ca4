"""Each lead cleaned, and the R peaks found, as NeuroKit2 does it, faster.

The quality checks (:mod:`ecgml.data.quality`) and the forest's hand-crafted
features (:mod:`ecgml.baseline`) both clean leads with NeuroKit2's ``ecg_clean``
and find R peaks with its default detector. Here the cleaning runs over every
lead at once with one filter design per rate, and the detector is called
without the per-sample pandas frame ``ecg_peaks`` builds around it: the same
numbers (``tests/test_baseline.py`` holds the cleaning to NeuroKit2's bit for
bit) at a fraction of the time (``bench/prepare.py``). The waves are delineated
the same way in :mod:`ecgml.delineation`.
"""

from __future__ import annotations

import functools

import numpy as np


def r_peaks(cleaned: np.ndarray, fs: float) -> np.ndarray:
    """The R peaks of one cleaned lead by NeuroKit2's detector (its ``ecg_peaks``
    default), without the per-sample frame ``ecg_peaks`` also builds."""
    import neurokit2 as nk

    found = nk.ecg_findpeaks(cleaned, sampling_rate=fs, method="neurokit")["ECG_R_Peaks"]
    return np.asarray(found, dtype=np.int64)


@functools.lru_cache(maxsize=32)
def _highpass(fs: float) -> np.ndarray:
    from scipy import signal as sps

    return sps.butter(5, 0.5, btype="highpass", output="sos", fs=fs)


def clean_leads(signal: np.ndarray, fs: float) -> np.ndarray:
    """Every lead of ``(n_samples, n_leads)`` as NeuroKit2's ``ecg_clean`` (its default
    method) cleans it: a 5th-order Butterworth high-pass at 0.5 Hz forward and
    backward, then a moving average one mains period (50 Hz) long, forward and
    backward. The same two filters run over all leads at once here, with one filter
    design per rate kept for the next record; ``tests/test_baseline.py`` holds the
    result to NeuroKit2's bit for bit. A lead with missing samples goes to
    NeuroKit2, which fills them."""
    import neurokit2 as nk
    from scipy import signal as sps

    if not np.isfinite(signal).all():
        return np.column_stack(
            [nk.ecg_clean(signal[:, k], sampling_rate=fs) for k in range(signal.shape[1])]
        )
    x = sps.sosfiltfilt(_highpass(fs), np.ascontiguousarray(signal.T), axis=-1)
    kernel = np.ones(int(fs / 50) if fs >= 100 else 2)
    cleaned = sps.filtfilt(kernel, [len(kernel)], x, method="pad", axis=-1)
    return np.ascontiguousarray(cleaned.T)
