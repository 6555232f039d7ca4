"""Lead names as each export format writes them, mapped to the standard twelve, and the
four limb leads that can be derived from I and II.

A 12-lead ECG has two independent limb leads: with Einthoven's and Goldberger's
relations, III = II - I, aVR = -(I + II) / 2, aVL = I - II / 2 and
aVF = II - I / 2. Carts that store only I, II and V1-V6 (GE MUSE's eight leads)
rely on them; :func:`derive_limb_leads` computes them where they are missing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

__all__ = ["DERIVABLE", "derive_limb_leads", "standard_lead", "standard_leads"]

# the leads that I and II give
DERIVABLE = ("III", "aVR", "aVL", "aVF")

# prefixes the formats put before a lead's name: MDC_ECG_LEAD_ (HL7 aECG, DICOM's
# code meanings), LEAD_, ECG_ / EKG_, "Lead "
_PREFIX = re.compile(r"^(mdc_ecg_lead_|lead[_ ]?|ecg[_ ]?|ekg[_ ]?)", re.IGNORECASE)
_ALIASES = {
    # Roman and Arabic limb-lead names; CODE-15 %'s DI, DII, DIII
    "I": "I",
    "1": "I",
    "DI": "I",
    "II": "II",
    "2": "II",
    "DII": "II",
    "III": "III",
    "3": "III",
    "DIII": "III",
    "AVR": "aVR",
    "AVL": "aVL",
    "AVF": "aVF",
    # C1-C6: the chest leads' European names
    **{f"C{k}": f"V{k}" for k in range(1, 7)},
    **{f"V{k}": f"V{k}" for k in range(1, 7)},
}


def standard_lead(name: str) -> str | None:
    """The standard name (``I``, ``aVR``, ``V1`` ...) of a lead as a format writes it
    (``LEAD_I``, ``MDC_ECG_LEAD_AVR``, ``C1``, ``ECG V1``, ``DII``); ``None`` for a
    name that is not one of the twelve."""
    key = _PREFIX.sub("", name.strip()).replace(" ", "").upper()
    return _ALIASES.get(key)


def standard_leads(names: Sequence[str]) -> tuple[str, ...]:
    """Each name's standard name, or the name itself where it is not one of the twelve."""
    return tuple(standard_lead(n) or n.strip() for n in names)


def derive_limb_leads(
    signal: np.ndarray, names: Sequence[str]
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Add whichever of III, aVR, aVL and aVF are missing, from leads I and II.

    Args:
        signal: ``(n_samples, n_leads)``.
        names: standard lead names of its columns.

    Returns:
        The signal and names with the derived leads appended (unchanged where none
        is missing, or where I or II is absent).
    """
    names = tuple(names)
    missing = [lead for lead in DERIVABLE if lead not in names]
    if not missing or "I" not in names or "II" not in names:
        return signal, names
    lead_i, lead_ii = signal[:, names.index("I")], signal[:, names.index("II")]
    derived = {
        "III": lead_ii - lead_i,
        "aVR": -(lead_i + lead_ii) / 2,
        "aVL": lead_i - lead_ii / 2,
        "aVF": lead_ii - lead_i / 2,
    }
    extra = np.stack([derived[lead] for lead in missing], axis=1).astype(signal.dtype)
    return np.concatenate([signal, extra], axis=1), names + tuple(missing)
