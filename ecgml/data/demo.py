"""A synthetic CinC-format demo dataset, deterministic given a seed.

Each record comes from a heart-vector (dipole) model: every wave of every beat
(P, septal Q, R, S, T and, in right bundle branch block, a terminal R') is a
Gaussian in time with a 3-D direction, and the 12 leads are projections of the
summed vector onto the limb-lead (Einthoven/Goldberger) and precordial axes.
Lead relations (III = II - I, aVR = -(I + II)/2, ...) therefore hold exactly,
and the R-wave progression across V1-V6 comes out of the geometry.

NeuroKit2's ECGSYN simulator was considered and does not fit: it scales one
beat shape per lead, so it cannot give the per-lead morphology of a bundle
branch block (rSR' in V1, discordant T waves in LBBB), nor the independent,
irregular RR intervals and fibrillatory baseline of atrial fibrillation.

Classes (SNOMED-CT codes written to ``#Dx``): a rhythm, sinus rhythm (NSR),
sinus bradycardia (SB), sinus tachycardia (STach) or atrial fibrillation (AF,
irregular RR, no P waves, 4-8 Hz f-waves); and for some records a second
label: right or left bundle branch block (RBBB, LBBB, QRS over 120 ms) or
first-degree AV block (IAVB, PR over 200 ms). Every record has noise and
baseline wander; some have mains interference.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from ecgml.data.preprocess import STANDARD_LEADS
from ecgml.data.records import write_record

CODES = {
    "NSR": "426783006",
    "SB": "426177001",
    "STach": "427084000",
    "AF": "164889003",
    "RBBB": "59118001",
    "LBBB": "164909002",
    "IAVB": "270492004",
}
RHYTHMS = (("NSR", 0.40), ("SB", 0.17), ("STach", 0.17), ("AF", 0.26))
CONDUCTION = ((None, 0.48), ("RBBB", 0.15), ("LBBB", 0.12), ("IAVB", 0.25))
HEART_RATE = {"NSR": (60, 100), "SB": (40, 58), "STach": (102, 150), "AF": (70, 140)}

# Axes: x to the patient's left, y inferior, z anterior.
_PRECORDIAL_DEG = (115, 95, 75, 55, 30, 5)  # angle from +x towards +z


def _unit(*v: float) -> np.ndarray:
    a = np.asarray(v, dtype=np.float64)
    return a / np.linalg.norm(a)


def lead_matrix() -> np.ndarray:
    """Projection from the heart vector to the 12 standard leads, shape ``(3, 12)``."""
    lead_i = np.array([1.0, 0.0, 0.0])
    lead_ii = np.array([np.cos(np.pi / 3), np.sin(np.pi / 3), 0.0])
    limb = [
        lead_i,
        lead_ii,
        lead_ii - lead_i,
        -(lead_i + lead_ii) / 2,
        lead_i - lead_ii / 2,
        lead_ii - lead_i / 2,
    ]
    chest = [_unit(np.cos(np.radians(a)), 0.15, np.sin(np.radians(a))) for a in _PRECORDIAL_DEG]
    return np.stack(limb + chest, axis=1)


def _rotation(rng: np.random.Generator, max_deg: float) -> np.ndarray:
    axis = _unit(*rng.normal(size=3))
    angle = np.radians(rng.uniform(-max_deg, max_deg))
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k


def _beat_times(rng: np.random.Generator, rhythm: str, duration: float) -> np.ndarray:
    mean_rr = 60.0 / rng.uniform(*HEART_RATE[rhythm])
    times, t = [], -1.0
    resp_hz, resp_phase = rng.uniform(0.15, 0.35), rng.uniform(0, 2 * np.pi)
    while t < duration + 1.0:
        if rhythm == "AF":  # irregularly irregular: independent intervals
            rr = max(0.3, rng.normal(mean_rr, 0.25 * mean_rr))
        else:  # sinus: slow respiratory modulation and a little jitter
            rr = mean_rr * (1 + 0.04 * np.sin(2 * np.pi * resp_hz * t + resp_phase))
            rr *= 1 + rng.normal(0, 0.01)
        t += rr
        times.append(t)
    return np.asarray(times)


def _waves(rhythm: str, conduction: str | None, rr: float, rng: np.random.Generator) -> list:
    """(offset from R in s, width in s, direction, amplitude in mV) of each wave."""
    pr = rng.uniform(0.24, 0.32) if conduction == "IAVB" else rng.uniform(0.13, 0.18)
    t_offset = 0.40 * np.sqrt(rr) - 0.10  # QT follows heart rate (Bazett)
    waves = []
    if rhythm != "AF":
        waves.append((-pr, 0.022, _unit(0.55, 0.8, 0.2), rng.uniform(0.15, 0.3)))
    if conduction == "RBBB":
        waves += [
            (-0.03, 0.010, _unit(-0.6, 0.1, 0.8), 0.15),
            (0.0, 0.013, _unit(0.8, 0.55, -0.25), rng.uniform(1.0, 1.6)),
            (0.035, 0.020, _unit(-0.6, -0.3, -0.3), 0.45),
            (0.075, 0.020, _unit(-0.5, 0.0, 0.85), rng.uniform(0.5, 0.8)),  # R' in V1
            (t_offset, 0.045, _unit(0.8, 0.5, -0.3), rng.uniform(0.2, 0.35)),
        ]
    elif conduction == "LBBB":
        waves += [
            (-0.01, 0.022, _unit(0.85, 0.3, -0.45), rng.uniform(0.9, 1.3)),
            (0.045, 0.022, _unit(0.85, 0.2, -0.5), rng.uniform(0.8, 1.2)),  # notch
            (t_offset + 0.03, 0.05, _unit(-0.7, -0.3, 0.6), rng.uniform(0.3, 0.5)),
        ]
    else:
        waves += [
            (-0.03, 0.010, _unit(-0.6, 0.1, 0.8), 0.15),
            (0.0, 0.012, _unit(0.8, 0.55, -0.25), rng.uniform(1.0, 1.8)),
            (0.035, 0.012, _unit(-0.4, -0.5, -0.6), 0.4),
            (t_offset, 0.045, _unit(0.7, 0.6, 0.2), rng.uniform(0.25, 0.45)),
        ]
    return waves


def synthesize(
    rng: np.random.Generator,
    rhythm: str,
    conduction: str | None,
    *,
    fs: float = 500.0,
    duration: float = 10.0,
) -> np.ndarray:
    """One 12-lead record, shape ``(round(fs * duration), 12)``, millivolts."""
    t = np.arange(round(fs * duration)) / fs
    beats = _beat_times(rng, rhythm, duration)
    rr = float(np.median(np.diff(beats)))
    rotate = _rotation(rng, 20.0)
    heart = np.zeros((t.size, 3))
    for offset, width, direction, amplitude in _waves(rhythm, conduction, rr, rng):
        amplitudes = amplitude * rng.normal(1.0, 0.05, size=beats.size)
        shape = np.exp(-0.5 * ((t[:, None] - beats[None, :] - offset) / width) ** 2)
        heart += np.outer(shape @ amplitudes, rotate @ direction)
    if rhythm == "AF":  # fibrillatory waves, strongest in V1 and the inferior leads
        f_waves = sum(
            rng.uniform(0.02, 0.05) * np.sin(2 * np.pi * rng.uniform(4, 8) * t + rng.uniform(0, 6))
            for _ in range(3)
        )
        heart += np.outer(f_waves, _unit(-0.2, 0.6, 0.8))
    ecg = heart @ lead_matrix() * rng.uniform(0.7, 1.3)

    n_leads = ecg.shape[1]
    wander_hz = rng.uniform(0.05, 0.5, size=2)
    wander = sum(np.sin(2 * np.pi * f * t + rng.uniform(0, 6)) for f in wander_hz)
    ecg += np.outer(wander, rng.uniform(0.05, 0.3, size=n_leads))
    ecg += rng.normal(0, rng.uniform(0.01, 0.03), size=ecg.shape)
    if rng.random() < 0.3:
        mains = rng.choice([50.0, 60.0])
        ecg += np.outer(np.sin(2 * np.pi * mains * t), rng.uniform(0.005, 0.03, size=n_leads))
    return ecg.astype(np.float32)


def _choose(rng: np.random.Generator, options: tuple) -> str | None:
    names, weights = zip(*options, strict=True)
    return names[rng.choice(len(names), p=np.asarray(weights) / sum(weights))]


def write_demo_dataset(
    out: str | Path,
    *,
    n_records: int = 300,
    seed: int = 0,
    first_id: int = 1,
    progress: bool = True,
) -> list[Path]:
    """Write ``n_records`` synthetic records (``D00001.hea`` + ``.mat``, ...) into ``out``.

    The same ``seed`` writes the same files; record ``k`` does not depend on
    ``n_records``. Record names count from ``first_id``, so that a held-out set
    (another seed) can sit next to a training set without name clashes.

    Returns:
        The header paths, in order.
    """
    if n_records < 1:
        raise ValueError(f"n_records must be at least 1, got {n_records}")
    if not 1 <= first_id <= 99999 - n_records + 1:
        raise ValueError(f"first_id must leave room for {n_records} 5-digit ids, got {first_id}")
    seeds = np.random.SeedSequence(seed).spawn(n_records)
    paths = []
    for k, seq in enumerate(tqdm(seeds, desc="demo-data", unit="rec", disable=not progress)):
        rng = np.random.default_rng(seq)
        rhythm = _choose(rng, RHYTHMS)
        conduction = _choose(rng, CONDUCTION)
        if rhythm == "AF" and conduction == "IAVB":
            conduction = None  # there is no PR interval without P waves
        signal = synthesize(rng, rhythm, conduction)
        dx = [CODES[rhythm]] + ([CODES[conduction]] if conduction else [])
        paths.append(
            write_record(
                out,
                f"D{first_id + k:05d}",
                signal,
                500.0,
                STANDARD_LEADS,
                dx=dx,
                age=int(rng.integers(18, 91)),
                sex=str(rng.choice(["Male", "Female"])),
            )
        )
    return paths
