import numpy as np
import pytest

from ecgml.data.labels import (
    LabelConfig,
    LabelEncoder,
    known_diagnoses,
    normalise_dx,
    scored_diagnoses,
)

RBBB, CRBBB, AF, NSR, STD = "59118001", "713427006", "164889003", "426783006", "429622005"


def test_scored_table_has_the_27_challenge_diagnoses():
    codes = [d.code for d in scored_diagnoses()]
    assert len(codes) == 27
    assert len(set(codes)) == 27
    assert {RBBB, CRBBB, AF, NSR} <= set(codes)


def test_unscored_codes_are_known_but_not_scored():
    known = known_diagnoses()
    assert known[STD].scored is False
    assert known[STD].abbreviation == "STD"
    assert known[AF].scored is True


@pytest.mark.parametrize(
    ("token", "code"),
    [
        ("RBBB", RBBB),
        ("I-AVB", "270492004"),
        ("Normal", NSR),
        (" 164889003 ", AF),
        ("STE", "164931005"),
    ],
)
def test_text_labels_map_to_snomed_codes(token, code):
    assert normalise_dx(token) == code


def test_unknown_text_label_is_returned_unchanged():
    assert normalise_dx("Bogus") == "Bogus"


def test_separate_mode_sets_only_the_given_code():
    enc = LabelEncoder.from_config(LabelConfig(equivalent_mode="separate"))
    row = enc.encode([RBBB, STD])  # STD is unscored: ignored by the encoding
    assert enc.n_classes == 27
    assert row.sum() == 1
    assert row[enc.class_names.index(RBBB)] == 1


def test_mirror_mode_sets_both_members_of_a_pair():
    enc = LabelEncoder.from_config(LabelConfig(equivalent_mode="mirror"))
    row = enc.encode([RBBB])
    assert enc.n_classes == 27
    assert row[enc.class_names.index(RBBB)] == 1
    assert row[enc.class_names.index(CRBBB)] == 1
    assert row.sum() == 2


def test_merge_mode_gives_one_column_per_pair():
    enc = LabelEncoder.from_config(LabelConfig(equivalent_mode="merge"))
    assert enc.n_classes == 24
    merged = f"{CRBBB}|{RBBB}"
    assert merged in enc.class_names
    assert enc.abbreviations[enc.class_names.index(merged)] == "CRBBB|RBBB"
    np.testing.assert_array_equal(enc.encode([RBBB]), enc.encode([CRBBB]))


def test_custom_class_list_and_pairs():
    config = LabelConfig(
        classes=(AF, NSR, RBBB), equivalent_pairs=((AF, NSR),), equivalent_mode="merge"
    )
    enc = LabelEncoder.from_config(config)
    assert enc.class_names == (f"{AF}|{NSR}", RBBB)
    np.testing.assert_array_equal(enc.encode_many([[NSR], [RBBB], []]), [[1, 0], [0, 1], [0, 0]])


def test_invalid_equivalent_mode_is_rejected():
    with pytest.raises(ValueError, match="equivalent_mode"):
        LabelConfig(equivalent_mode="union")
