"""Facility datasets for data admins: upload CSV or GeoJSON with its datum, a dry run with errors by
line, publish, the versions of each kind, roll back. Over ``geodata.datasets``, as ``citybot poi``."""

from __future__ import annotations

import io
from pathlib import Path

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from bot.core import services
from bot.core.database import get_session
from bot.core.geo import Datum
from console import access, localtime
from console.access import requires
from console.refusals import explain
from console.settings import ConsoleSettings
from console.uploads import Uploads
from geodata.datasets import (
    LoadResult,
    LoadStatus,
    RollbackError,
    list_versions,
    load_dataset,
    rollback,
    rollback_target,
)
from geodata.kinds import PoiKind
from geodata.loaders import Rules
from geodata.settings import GeoSettings
from staff.roles import Permission

bp = Blueprint("datasets", __name__, url_prefix="/datasets")

ALLOWED_SUFFIXES = {".csv", ".geojson", ".json"}


def _say(key: str, /, **values: object) -> str:
    """A sentence of this page, from ``console.datasets`` in the catalogue."""
    return services.texts()(f"console.datasets.{key}", **values)


def _uploads() -> Uploads:
    return Uploads(Path(services.settings().instance_path) / "console" / "uploads")


def _rules() -> Rules:
    return Rules.from_settings(services.settings().section(GeoSettings))


def _page(result: LoadResult | None = None, token: str = "", status: int = 200) -> ResponseReturnValue:
    db = get_session()
    versions = list_versions(db)
    by_kind = {kind: [d for d in versions if d.kind == kind.value] for kind in PoiKind}
    targets = {kind: rollback_target(db, kind) for kind in PoiKind if by_kind[kind]}
    return render_template(
        "console/datasets.html",
        kinds=list(PoiKind),
        by_kind=by_kind,
        datums=list(Datum),
        say=_say,
        zone_name=services.texts().zone_name(localtime.zone().key),
        result=result,
        token=token,
        rollback_targets=targets,
        texts=services.texts(),
        explain=explain,
        max_mb=services.settings().section(ConsoleSettings).max_upload_bytes / (1 << 20),
    ), status


@bp.get("/")
@requires(Permission.DATASETS_VIEW)
def index() -> ResponseReturnValue:
    return _page()


@bp.post("/check")
@requires(Permission.DATASETS_PUBLISH)
def check() -> ResponseReturnValue:
    """The dry run: validate every row, write nothing, keep the file for publishing."""
    upload = request.files.get("file")  # capped at console.max_upload_bytes (access.before_request)
    try:
        kind = PoiKind(request.form.get("kind", ""))
        datum = Datum(request.form.get("datum", ""))
    except ValueError:
        flash(_say("choose_kind"), "error")
        return _page(status=400)
    if upload is None or not upload.filename:
        flash(_say("choose_file"), "error")
        return _page(status=400)
    name = Path(upload.filename).name[:255]
    if Path(name).suffix.lower() not in ALLOWED_SUFFIXES:
        flash(_say("wrong_suffix"), "error")
        return _page(status=400)
    data = upload.read()
    db = get_session()
    result = load_dataset(db, kind, _bytes(data, name), datum, dry_run=True, rules=_rules(), source_name=name)
    db.rollback()  # a dry run writes nothing
    me = access.require_staff()
    token = ""
    if result.ok:
        token = _uploads().put(data, staff_id=me.id, name=name, kind=kind.value, datum=datum.value).token
    access.record(
        "dataset.check",
        kind.value,
        kind="dataset",
        file=name,
        datum=datum.value,
        rows=result.row_count,
        errors=result.error_count,
        encoding=None if result.encoding is None else str(result.encoding),
    )
    db.commit()
    return _page(result, token, 200 if result.ok else 422)


def _bytes(data: bytes, name: str) -> io.BytesIO:
    """The upload as a named in-memory file for the loader."""
    stream = io.BytesIO(data)
    stream.name = name
    return stream


@bp.post("/publish")
@requires(Permission.DATASETS_PUBLISH)
def publish() -> ResponseReturnValue:
    me = access.require_staff()
    token = request.form.get("token", "")
    found = _uploads().get(token, me.id)
    if found is None:
        flash(_say("expired"), "error")
        return redirect(url_for(".index"))
    staged, path = found
    kind, datum = PoiKind(staged.meta["kind"]), Datum(staged.meta["datum"])
    db = get_session()
    result = load_dataset(
        db,
        kind,
        path,
        datum,
        dry_run=False,
        rules=_rules(),
        source_name=staged.name,
        loaded_by=me.username,
        confirm_shrink=request.form.get("confirm_shrink") == "1",
    )
    if result.status is LoadStatus.NEEDS_CONFIRMATION:  # the confirmation step: the tick was not given
        db.rollback()
        flash(explain(result.shrink_notice()), "error")
        return _page(result, token, status=409)
    if not result.ok:  # the rules changed since the dry run
        db.rollback()
        flash(_say("not_published"), "error")
        return _page(result, status=422)
    access.record(
        "dataset.load",
        kind.value,
        kind="dataset",
        version=result.version,
        file=staged.name,
        status=str(result.status),
    )
    db.commit()
    _uploads().discard(token)
    said = services.texts()(result.status.label.key)
    flash(
        _say("published", kind=kind.label, status=said, version=result.version, rows=result.row_count),
        "success",
    )
    return redirect(url_for(".index"))


@bp.post("/<kind>/rollback")
@requires(Permission.DATASETS_PUBLISH)
def roll_back(kind: str) -> ResponseReturnValue:
    try:
        poi_kind = PoiKind(kind)
    except ValueError:
        abort(404)
    db = get_session()
    try:
        restored = rollback(db, poi_kind)
    except RollbackError as exc:
        db.rollback()
        flash(explain(exc), "error")
        return redirect(url_for(".index"))
    access.record("dataset.rollback", poi_kind.value, kind="dataset", version=restored.version)
    db.commit()
    flash(
        _say("rolled_back", kind=poi_kind.label, version=restored.version, rows=restored.row_count), "success"
    )
    return redirect(url_for(".index"))
