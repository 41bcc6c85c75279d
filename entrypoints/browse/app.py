"""The browse page: a Flask application over one stack's archive, for 127.0.0.1 only.

What it shows comes from the catalog rows (tracker or catalog file) and one listing of the
archive (storage classes), read when the command starts; restore states are asked of S3
(a HeadObject each) for what is on screen. Whatever costs money (a restore, a download out
of AWS) is done only on a POST that carries the amount the person was shown, and that
amount is checked against the same quote again.

A page on any other site can make a browser POST to 127.0.0.1: every POST must carry this
server's own token (in its forms), and a request naming another Host (DNS rebinding) is
refused. Nothing is served to the network: the server binds 127.0.0.1.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, abort, jsonify, render_template, request
from werkzeug.wrappers import Response as BaseResponse

from domain.catalog import CatalogRow
from domain.errors import DomainError
from domain.restore import (
    ObjectState,
    RestoreError,
    RestorePrices,
    Tier,
)
from domain.selection import Selection
from entrypoints.browse.jobs import FetchJobs
from entrypoints.browse.library import (
    Filter,
    Item,
    Library,
    PageError,
    archive_growth,
    months,
    page_of,
    state_label,
    totals,
    whole,
)
from entrypoints.browse.restores import PendingQuote, restore_pages
from entrypoints.operations import human_duration, human_size
from entrypoints.restore import object_states

if TYPE_CHECKING:
    from adapters.aws.alarms import FiringAlarm
    from adapters.aws.archive import S3Archive
    from adapters.aws.thumbnails import S3ThumbnailReader
    from domain.model import RunReport

STATES_AT_ONCE = 120
"""Items whose states one /api/states call asks S3 for (a screen holds 60)."""


@dataclass
class Browse:
    """What the page works with; the command line builds it once."""

    stack: str
    region: str
    bucket: str
    provider: str
    library: Library
    archive: S3Archive
    thumbnails: S3ThumbnailReader
    prices: RestorePrices
    runs: list[RunReport]
    selection: Selection
    monthly_usd: float | None = None
    alarms: list[FiringAlarm] = field(default_factory=list)
    """The stack's alarms firing, as last read."""
    drill: str = "no restore drill has finished yet"
    refresh: Callable[[], tuple[list[RunReport], list[FiringAlarm], str]] | None = None
    """Reads the runs, the firing alarms and the drill again (each time the dashboard is
    shown)."""
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    quotes: dict[str, PendingQuote] = field(default_factory=dict)
    jobs: FetchJobs = field(default_factory=FetchJobs)
    hosts: set[str] = field(default_factory=set)
    """Host headers accepted (127.0.0.1:port and localhost:port), set when bound."""

    def states(self, rows: list[CatalogRow]) -> list[ObjectState]:
        """Each row's object state, in order (as `cloudsync restore` asks for them)."""
        return object_states(self.archive, rows)


def create_app(browse: Browse) -> Flask:
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 8 * 1024 * 1024
    app.jinja_env.globals.update(
        human_size=human_size, human_duration=human_duration, browse=browse, Tier=Tier
    )

    @app.before_request
    def guard() -> None:
        if browse.hosts and request.host not in browse.hosts:
            abort(403, "this page answers only on 127.0.0.1")
        if request.method == "POST":
            sent = request.form.get("token", "")
            if not hmac.compare_digest(sent.encode(), browse.token.encode()):
                abort(403, "this form did not come from this page (its token is missing)")

    @app.after_request
    def harden(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; img-src 'self'; style-src 'self'; script-src 'self'; "
            "connect-src 'self'; form-action 'self'; frame-ancestors 'none'"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    @app.errorhandler(PageError)
    def bad_filter(error: PageError) -> tuple[str, int]:
        return render_template("error.html", message=str(error)), 400

    @app.errorhandler(RestoreError)
    def not_possible(error: RestoreError) -> tuple[str, int]:
        return render_template("error.html", message=str(error)), 400

    @app.errorhandler(DomainError)
    def refused(error: DomainError) -> tuple[str, int]:
        return render_template("error.html", message=str(error)), 502

    _archive_pages(app, browse)
    restore_pages(app, browse)
    return app


def _archive_pages(app: Flask, browse: Browse) -> None:
    """The grid, an item, the thumbnails, the states, the dashboard."""

    @app.get("/")
    def grid() -> str:
        chosen = Filter.from_query(request.args)
        found = browse.library.select(chosen)
        shown, pages = page_of(found, whole(request.args.get("page"), 1))
        number = min(max(1, whole(request.args.get("page"), 1)), pages)
        return render_template(
            "grid.html",
            chosen=chosen,
            query=chosen.as_query(),
            months=months(shown),
            page=number,
            pages=pages,
            totals=totals(found, browse.library.classes, browse.prices),
            left_out=_left_out(browse),
        )

    @app.get("/thumbnail/<media_id>")
    def thumbnail(media_id: str) -> BaseResponse:
        item = browse.library.by_id.get(media_id)
        if item is None or item.thumbnail_key is None:
            abort(404)
        data = browse.thumbnails.read(item.thumbnail_key)
        if data is None:
            abort(404)
        response = Response(data, mimetype="image/jpeg")
        response.headers["Cache-Control"] = "private, max-age=86400"
        return response

    @app.get("/api/states")
    def api_states() -> BaseResponse:
        wanted = [
            browse.library.by_id[m] for m in request.args.getlist("m") if m in browse.library.by_id
        ]
        items = wanted[:STATES_AT_ONCE]
        rows = [row for item in items for row in item.objects]
        states = dict(zip([r.key for r in rows], browse.states(rows), strict=True))
        return jsonify({item.media_id: _item_state(item, states) for item in items})

    @app.get("/item/<media_id>")
    def item(media_id: str) -> str:
        found = browse.library.by_id.get(media_id)
        if found is None:
            abort(404)
        states = browse.states(list(found.objects))
        return render_template(
            "item.html", item=found, objects=list(zip(found.objects, states, strict=True)),
            state_label=state_label,
        )  # fmt: skip

    @app.get("/dashboard")
    def dashboard() -> str:
        if browse.refresh is not None:
            browse.runs, browse.alarms, browse.drill = browse.refresh()
        now = datetime.now(UTC)
        return render_template(
            "dashboard.html", runs=browse.runs, now=now,
            growth=archive_growth(browse.library.items), left_out=_left_out(browse),
            attention=[r for r in browse.runs[:1] if r.status not in ("SUCCEEDED", "RUNNING")
                       or r.failures],
        )  # fmt: skip


def _item_state(item: Item, states: dict[str, ObjectState]) -> dict[str, Any]:
    found = [states[row.key] for row in item.objects]
    labels = sorted({state_label(s) for s in found})
    return {
        "storage_class": ",".join(sorted({s.storage_class for s in found})),
        "state": labels[0] if len(labels) == 1 else "; ".join(labels),
        "ready": all(s.can_read for s in found),
    }


def _left_out(browse: Browse) -> dict[str, Any]:
    from entrypoints.operations import selection_report  # noqa: PLC0415

    latest = next((r for r in browse.runs if r.skipped is not None), None)
    return selection_report(browse.selection, latest)
