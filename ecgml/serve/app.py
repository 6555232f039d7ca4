"""``ecgml serve``: a local web app around a run's ensemble.

* ``GET /``: a page to upload a recording (a ``.hea`` header with its signal file,
  or a ``.zip`` of records); ``POST /`` shows each record's paper printout
  (:mod:`ecgml.printout`), every class's
  probability and the ensemble's decisions.
* ``POST /api/predict``: the same as JSON, for a multipart form whose files are in
  one or more fields named ``files``; ``?plot=0`` leaves the printouts out.
* ``GET /api/info``: the run, its input and its classes.
* For a beat run (:mod:`ecgml.serve.beats_view`), each record's result is its
  beats and beat counts, with an overview of the record; ``GET /api/strip/TOKEN``
  pages through it, 10 s at a time.

Uploads live in a temporary folder that is removed when the request ends
(:mod:`ecgml.serve.uploads`). A bad upload gets a 4xx and a message: 400 for a
malformed upload, 413 for one too large, 422 for records the models cannot use
(too short, a missing lead).
"""

from __future__ import annotations

import base64
import io
import tempfile
import threading
from pathlib import Path
from typing import Any

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import RequestEntityTooLarge

from ecgml import __version__
from ecgml.data.formats import RECORD_SUFFIXES
from ecgml.data.loading import PreparedRecord
from ecgml.data.quality import assess
from ecgml.data.records import RecordError
from ecgml.data.signal_files import read_signal_file
from ecgml.data.tabular import METADATA
from ecgml.inference.ensemble import Ensemble
from ecgml.inference.explain import METHOD
from ecgml.inference.predictors import Request, predictor_of
from ecgml.inference.records import predict_paths
from ecgml.printout import PrintoutConfig
from ecgml.printout.overlay import draw_attribution_printout
from ecgml.registries import Registry
from ecgml.serve.beats_view import KEEP_RECORDS, StripStore, beat_result, strip
from ecgml.serve.uploads import ARRAY_SUFFIXES, UploadError, stage_uploads

APP_DPI = 100  # the printout shown for each record: an A4 page of 1169 x 827 pixels


def _printout_png(signal, fs: float, lead_names, record_id: str) -> str:
    """The record's paper printout (:mod:`ecgml.printout`), base64 PNG."""
    from ecgml.printout import PrintoutConfig, render_printout

    page = render_printout(signal, fs, lead_names, PrintoutConfig(dpi=APP_DPI), record_id=record_id)
    buffer = io.BytesIO()
    page.save(buffer, format="PNG", compress_level=1)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _quality(prepared: PreparedRecord) -> dict[str, Any]:
    """The record's signal quality (:mod:`ecgml.data.quality`): its label, verdict
    and the problems in words, shown beside the decision."""
    if prepared.signal is None:
        return {}
    header = prepared.header
    quality = assess(prepared.signal, header.fs, header.lead_names, header.units)
    return {
        "quality": quality.label,
        "quality_verdict": quality.verdict,
        "quality_problems": quality.in_words(),
    }


def _explanation(explained, prepared: PreparedRecord, with_plots: bool) -> dict[str, Any]:
    """What the page and the API show of one class's explanation
    (:mod:`ecgml.inference.explain`): lead importances, most important first, and
    the printout with the map drawn over the traces."""
    out: dict[str, Any] = {
        "class": explained.abbreviation,
        "probability": explained.probability,
        "method": METHOD,
        "explains": explained.explains,
    }
    if explained.fs is not None:
        share = dict(zip(explained.lead_names, explained.lead_importance.tolist(), strict=True))
        out["leads"] = [{"lead": lead, "importance": share[lead]} for lead in explained.ranking]
    if with_plots and explained.fs is not None:
        header = prepared.header
        title = (
            f"{header.record_id}: {explained.abbreviation}, probability {explained.probability:.2f}"
        )
        page = draw_attribution_printout(
            prepared.signal,
            header.fs,
            header.lead_names,
            explained.attribution,
            explained.fs,
            explained.lead_names,
            title=title,
            ranking=explained.ranking[:3],
            config=PrintoutConfig(dpi=APP_DPI),
        )
        buffer = io.BytesIO()
        page.save(buffer, format="PNG")
        out["plot_png"] = base64.b64encode(buffer.getvalue()).decode("ascii")
    return out


def _array_record(path: Path, form, leads, samples, pre, missing_leads) -> PreparedRecord:
    """An uploaded ``.npy`` (time by lead, in the model's lead order) or ``.csv`` file
    as a record, at the rate of the form's ``fs`` field.

    Raises:
        UploadError: no rate, or one that is not a positive number.
    """
    text = (form.get("fs") or "").strip()
    try:
        fs = float(text)
    except ValueError:
        fs = 0.0
    if not fs > 0:
        raise UploadError(
            f"{path.name}: an array needs its sampling rate in Hz (field fs), got {text!r}"
        )
    record = read_signal_file(path, path.stem, fs=fs, leads=leads)
    return samples.prepare_record(record, pre, missing_leads=missing_leads)


def _info(ensemble: Ensemble, names: list[str], missing_leads: str, max_upload_mb: float) -> dict:
    """``GET /api/info`` and what the page shows of the run."""
    pre, samples = ensemble.config.preprocess, ensemble.task.samples
    return {
        "ecgml_version": __version__,
        "run": "/".join(Path(ensemble.run).resolve().parts[-2:]),
        "folds": ensemble.folds,
        "task": ensemble.config.task.name,
        "rule": ensemble.target.describe(len(ensemble.folds)),
        "input": {
            "leads": list(pre.leads),
            "fs": pre.fs,
            "window_seconds": pre.window / pre.fs,
            "min_seconds": samples.min_seconds(pre),
            "missing_leads": missing_leads,
        },
        "predicts": samples.predicts,
        # a tabular run's metadata fields (from the form, else the header)
        "metadata": list(ensemble.config.tabular.metadata),
        "notes": bool(ensemble.config.tabular.notes),
        "baseline": ensemble.config.tabular.baseline,
        "max_upload_mb": max_upload_mb,
        "classes": [
            {"code": c, "abbreviation": a, "name": n}
            for c, a, n in zip(ensemble.class_names, ensemble.abbreviations, names, strict=True)
        ],
    }


def _checked_explain(ensemble: Ensemble) -> str:
    """The class the form asks to explain, ``""`` for none.

    Raises:
        UploadError: not one of the run's classes, or a beat run.
    """
    explain = request.values.get("explain", "").strip()
    if explain and not ensemble.task.samples.per_record:
        raise UploadError("explain: a beat run's beats are not explained here")
    if explain and explain not in ensemble.abbreviations:
        raise UploadError(
            f"explain: {explain!r} is not one of this run's classes "
            f"({', '.join(ensemble.abbreviations)})"
        )
    return explain


def _upload_reader(ensemble: Ensemble, missing_leads: str):
    """How one staged upload is read: an array at the form's ``fs``, else by the
    run's predictor, with the companion files uploaded beside it (a beat
    record's ``.atr`` annotations)."""
    pre, samples = ensemble.config.preprocess, ensemble.task.samples
    predictor = predictor_of(ensemble)

    def read(path: Path) -> PreparedRecord:
        try:
            if path.suffix.lower() in ARRAY_SUFFIXES:
                return _array_record(path, request.form, pre.leads, samples, pre, missing_leads)
            given = [e for e in samples.upload_companions if path.with_suffix(f".{e}").is_file()]
            options = Request(missing_leads=missing_leads, annotations=next(iter(given), None))
            return predictor.read(ensemble, path, options)
        except RecordError:
            raise
        except ValueError as exc:  # a bad array, or an option the record does not fit
            raise RecordError(path.stem, str(exc)) from None

    return read


def _record_result(prepared: PreparedRecord, prediction, names: list[str]) -> dict[str, Any]:
    """One record's answer: its rate, length and leads, every class with its name and
    votes, and its signal quality."""
    header = prepared.header
    result = {
        "record": header.record_id,
        "fs": header.fs,
        "seconds": round(header.n_samples / header.fs, 3),
        "leads": list(header.lead_names),
        **prediction.to_dict(),
        **_quality(prepared),
    }
    for entry, name, n_votes in zip(result["classes"], names, prediction.votes, strict=True):
        entry["name"], entry["votes"] = name, int(n_votes)
    return result


def _record_view(ensemble: Ensemble, names: list[str], store, result, with_plots: bool) -> dict:
    """A record run's answer for one record: its classes, printout and explanation."""
    prepared, header = result.prepared, result.prepared.header
    out = _record_result(prepared, result.answer, names)
    if with_plots:
        out["plot_png"] = _printout_png(
            prepared.signal, header.fs, header.lead_names, header.record_id
        )
    if result.explanation is not None:
        out["explanation"] = _explanation(result.explanation[0], prepared, with_plots)
    return out


def _beat_view(ensemble: Ensemble, names: list[str], store, result, with_plots: bool) -> dict:
    """A beat run's answer for one record (:func:`ecgml.serve.beats_view.beat_result`)."""
    return beat_result(result, ensemble, store if with_plots else None)


# each kind of answer's view (``SampleKind.predicts``)
VIEWS = Registry("predicts", {"records": _record_view, "beats": _beat_view})


def create_app(
    run: str | Path,
    *,
    max_upload_mb: float = 20.0,
    missing_leads: str = "error",
    ensemble: Ensemble | None = None,
    reader_options: dict[str, Any] | None = None,
) -> Flask:
    """The web app for one run (module docstring).

    Args:
        run: a trained run folder whose folds have thresholds.
        max_upload_mb: the largest request accepted, in MB (also the cap on
            unpacked zips).
        missing_leads: ``"error"`` or ``"zero"`` (:func:`ecgml.data.samples.prepare_signal`).
        ensemble: an already loaded ensemble of ``run``.
        reader_options: the uploads' own reader options where they differ from
            the run's (:meth:`Ensemble.reading`).

    Raises:
        ValueError: an option the run's kind does not take.
    """
    ensemble = (ensemble or Ensemble.load(run)).reading(reader_options)
    predictor_of(ensemble).check(Request(missing_leads=missing_leads), run)
    max_bytes = int(max_upload_mb * 1e6)
    # One prediction at a time: the Keras models are shared between server threads.
    lock = threading.Lock()
    samples, reader = ensemble.task.samples, ensemble.task.reader
    store = StripStore()
    names = [
        " / ".join(reader.label_name(c) for c in code.split("|")) for code in ensemble.class_names
    ]
    info = _info(ensemble, names, missing_leads, max_upload_mb)
    read, view = _upload_reader(ensemble, missing_leads), VIEWS.named(samples.predicts)

    def analyse(with_plots: bool) -> dict[str, Any]:
        explain = _checked_explain(ensemble)
        uploads = [(f.filename, f.read()) for f in request.files.getlist("files")]
        # the form's metadata takes the place of the reader's (as ecgml predict and
        # training take it, read while the upload is on disk)
        given = {k: request.form.get(k, "").strip() for k in (*METADATA, "notes")}
        wanted = Request(
            missing_leads=missing_leads,
            explain=(explain,) if explain else None,
            metadata={k: v for k, v in given.items() if v},
        )
        with tempfile.TemporaryDirectory(prefix="ecgml-upload-") as tmp:
            headers = stage_uploads(
                uploads,
                Path(tmp),
                max_bytes=max_bytes,
                companions=samples.upload_companions,
                arrays=samples.upload_arrays,
                records=tuple(x for x in samples.input_suffixes if x in RECORD_SUFFIXES),
            )
            try:
                results = list(
                    predict_paths(
                        ensemble, headers, wanted, read=read, lock=lock, chunk=max(1, len(headers))
                    )
                )
            except ValueError as exc:
                raise UploadError(f"metadata: {exc}") from None
            errors = [
                {"record": r.record_id, "error": f"record {r.record_id}: {r.problem}"}
                for r in results
                if r.skipped
            ]
            if len(errors) == len(results):
                raise UploadError("; ".join(e["error"] for e in errors), status=422)
            records = [
                view(ensemble, names, store, r, with_plots) for r in results if not r.skipped
            ]
        return {"run": info["run"], "rule": info["rule"], "records": records, "errors": errors}

    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = max_bytes
    _add_routes(app, analyse, info, store, max_upload_mb)
    return app


def _add_routes(app: Flask, analyse, info: dict, store, max_upload_mb: float) -> None:
    """The page and the API around ``analyse`` (module docstring)."""

    @app.get("/")
    def index():
        return render_template("index.html", info=info)

    @app.post("/")
    def upload():
        try:
            result = analyse(with_plots=True)
        except UploadError as exc:
            return render_template("index.html", info=info, error=str(exc)), exc.status
        return render_template("index.html", info=info, result=result)

    @app.get("/api/info")
    def api_info():
        return jsonify(info)

    @app.post("/api/predict")
    def api_predict():
        try:
            return jsonify(analyse(with_plots=request.args.get("plot", "1") != "0"))
        except UploadError as exc:
            return jsonify({"error": str(exc)}), exc.status

    @app.get("/api/strip/<token>")
    def api_strip(token: str):
        stored = store.get(token) if store is not None else None
        if stored is None:
            message = (
                f"no such strip (the app keeps the last {KEEP_RECORDS} records); "
                "upload the record again"
            )
            return jsonify({"error": message}), 404
        try:
            start = float(request.args.get("start", "0"))
        except ValueError:
            return jsonify({"error": "start must be a number of seconds"}), 400
        return jsonify(strip(stored, start))

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(_exc):
        message = f"upload too large: the limit is {max_upload_mb:g} MB"
        if request.path.startswith("/api/"):
            return jsonify({"error": message}), 413
        return render_template("index.html", info=info, error=message), 413
