"""``ecgml render``: PNGs per record, incremental, bad records skipped."""

import json

import numpy as np
from PIL import Image

from ecgml.cli.main import main
from ecgml.printout import PrintoutConfig
from ecgml.serve.printouts import MANIFEST, render_records


def test_render_draws_each_record_once_and_skips_bad_ones(tmp_path, write_wfdb):
    write_wfdb("R1")
    write_wfdb("R2", leads=("MLII",), signal=np.zeros((3000, 1)))
    (tmp_path / "data" / "BROKEN.hea").write_text("BROKEN 12 500\n")  # no signal lines
    out = tmp_path / "png"
    report = render_records([tmp_path / "data"], out, jobs=2, progress=False)
    assert report["drawn"] == 2 and report["unchanged"] == 0
    assert [s["record_id"] for s in report["skipped"]] == ["BROKEN"]
    with Image.open(out / "R1.png") as image:
        assert image.size == (1169, 827)  # A4 at 100 DPI
    again = render_records([tmp_path / "data"], out, progress=False)
    assert again["drawn"] == 0 and again["unchanged"] == 2
    write_wfdb("R1", signal=np.zeros((5000, 12)))  # a changed record is drawn again
    changed = render_records([tmp_path / "data"], out, progress=False)
    assert changed["drawn"] == 1 and changed["unchanged"] == 1
    other = render_records([tmp_path / "data"], out, PrintoutConfig(dpi=50), progress=False)
    assert other["drawn"] == 2  # other settings: everything again
    assert json.loads((out / MANIFEST).read_text())["settings"]["dpi"] == 50
    with Image.open(out / "R2.png") as image:
        assert image.size == (585, 413)


def test_render_command(tmp_path, write_wfdb, capsys):
    write_wfdb("R1")
    code = main(
        [
            "render",
            str(tmp_path / "data"),
            "--out",
            str(tmp_path / "png"),
            "--dpi",
            "80",
            "--paper",
            "letter",
            "--variation",
            "--no-progress",
        ]
    )
    assert code == 0
    assert "1 drawn" in capsys.readouterr().out
    settings = json.loads((tmp_path / "png" / MANIFEST).read_text())["settings"]
    assert settings | {"seed": 0} == {
        "dpi": 80.0,
        "paper": "letter",
        "grid": "red",
        "variation": True,
        "seed": 0,
    }
    assert main(["render", str(tmp_path / "nowhere"), "--out", str(tmp_path / "x")]) == 2
