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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, abort, jsonify, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from domain.catalog import CatalogRow
from domain.errors import DomainError
from domain.restore import (
    ObjectState,
    Quote,
    RestoreError,
    RestorePrices,
    State,
    Tier,
    check_days,
    quote,
)
from domain.selection import Selection
from entrypoints.browse.jobs import FetchJobs
from entrypoints.browse.library import (
    Filter,
    FilterError,
    Item,
    Library,
    archive_growth,
    months,
    page_of,
    state_label,
    totals,
)
from entrypoints.operations import human_duration, human_size

if TYPE_CHECKING:
    from adapters.aws.alarms import FiringAlarm
    from adapters.aws.archive import S3Archive
    from adapters.aws.thumbnails import S3ThumbnailReader
    from domain.model import RunReport

HEAD_WORKERS = 16
STATES_AT_ONCE = 120
"""Items whose states one /api/states call asks S3 for (a screen holds 60)."""


@dataclass
class PendingQuote:
    keys: tuple[str, ...]
    tier: Tier
    days: int
    quote: Quote

    @property
    def amount(self) -> str:
        return f"{self.quote.restore_usd + self.quote.copy_usd:.4f}"


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
    refresh: Callable[[], tuple[list[RunReport], list[FiringAlarm]]] | None = None
    """Reads the runs and the firing alarms again (each time the dashboard is shown)."""
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    quotes: dict[str, PendingQuote] = field(default_factory=dict)
    jobs: FetchJobs = field(default_factory=FetchJobs)
    hosts: set[str] = field(default_factory=set)
    """Host headers accepted (127.0.0.1:port and localhost:port), set when bound."""

    def states(self, rows: list[CatalogRow]) -> list[ObjectState]:
        """Each row's object state, in order (HeadObject, 16 at a time)."""
        with ThreadPoolExecutor(HEAD_WORKERS, thread_name_prefix="browse") as pool:
            found = list(pool.map(self.archive.state, [r.key for r in rows]))
        return [
            state or ObjectState(row.key, "-", State.MISSING)
            for row, state in zip(rows, found, strict=True)
        ]


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

    @app.errorhandler(FilterError)
    def bad_filter(error: FilterError) -> tuple[str, int]:
        return render_template("error.html", message=str(error)), 400

    @app.errorhandler(RestoreError)
    def not_possible(error: RestoreError) -> tuple[str, int]:
        return render_template("error.html", message=str(error)), 400

    @app.errorhandler(DomainError)
    def refused(error: DomainError) -> tuple[str, int]:
        return render_template("error.html", message=str(error)), 502

    _archive_pages(app, browse)
    _restore_pages(app, browse)
    return app


def _archive_pages(app: Flask, browse: Browse) -> None:
    """The grid, an item, the thumbnails, the states, the dashboard."""

    @app.get("/")
    def grid() -> str:
        chosen = Filter.from_query(request.args)
        found = browse.library.select(chosen)
        shown, pages = page_of(found, _whole(request.args.get("page"), 1))
        number = min(max(1, _whole(request.args.get("page"), 1)), pages)
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
            browse.runs, browse.alarms = browse.refresh()
        now = datetime.now(UTC)
        return render_template(
            "dashboard.html", runs=browse.runs, now=now,
            growth=archive_growth(browse.library.items), left_out=_left_out(browse),
            attention=[r for r in browse.runs[:1] if r.status not in ("SUCCEEDED", "RUNNING")
                       or r.failures],
        )  # fmt: skip


def _restore_pages(app: Flask, browse: Browse) -> None:
    """Quote, request, status and fetch: what costs money, each on a confirmed POST."""

    @app.post("/restore/quote")
    def restore_quote() -> str:
        items = _chosen_items(browse)
        tier = _tier(request.form.get("tier", "bulk"))
        days = check_days(_whole(request.form.get("days"), 7))
        rows = [row for it in items for row in it.objects]
        states = browse.states(rows)
        found = quote(rows, states, tier, days, browse.prices)
        quote_id = secrets.token_hex(8)
        browse.quotes[quote_id] = PendingQuote(tuple(r.key for r in rows), tier, days, found)
        return render_template(
            "quote.html", items=items, quote=found, pending=browse.quotes[quote_id],
            quote_id=quote_id, counts=_counts(states),
        )  # fmt: skip

    @app.post("/restore/request")
    def restore_request() -> BaseResponse:
        pending = browse.quotes.get(request.form.get("quote", ""))
        if pending is None:
            abort(400, "that quote is not known here (the page was restarted): quote again")
        if request.form.get("amount") != pending.amount:
            abort(400, f"the confirmed amount is not the quoted ${pending.amount}: quote again")
        rows = _rows_of_keys(browse, pending.keys)
        for row, state in zip(rows, browse.states(rows), strict=True):
            if state.state is State.NOT_REQUESTED:
                browse.archive.request(row.key, pending.tier, pending.days)
        ids = sorted({row.media_id for row in rows})
        return redirect(url_for("restore_status", m=ids, requested=len(rows)))

    @app.get("/restore/status")
    def restore_status() -> str:
        ids = [m for m in request.args.getlist("m") if m in browse.library.by_id]
        rows = [row for m in ids for row in browse.library.by_id[m].objects]
        states = browse.states(rows)
        ready = [r for r, s in zip(rows, states, strict=True) if s.can_read]
        out_usd = sum(r.size_bytes or 0 for r in ready) / 2**30 * browse.prices.transfer_out_gb
        return render_template(
            "status.html", ids=ids, objects=list(zip(rows, states, strict=True)),
            ready=ready, out_amount=f"{out_usd:.4f}", state_label=state_label,
            counts=_counts(states), requested=request.args.get("requested"),
        )  # fmt: skip

    @app.post("/fetch")
    def fetch() -> BaseResponse:
        ids = [m for m in request.form.getlist("m") if m in browse.library.by_id]
        rows = [row for m in ids for row in browse.library.by_id[m].objects]
        ready = [r for r, s in zip(rows, browse.states(rows), strict=True) if s.can_read]
        amount = sum(r.size_bytes or 0 for r in ready) / 2**30 * browse.prices.transfer_out_gb
        if request.form.get("amount") != f"{amount:.4f}":
            abort(400, f"the confirmed amount is not the download's ${amount:.4f}: look again")
        folder = (request.form.get("folder") or "").strip()
        if not folder:
            abort(400, "name a folder to fetch into")
        job = browse.jobs.start(browse.archive, browse.provider, ready, Path(folder).expanduser())
        return redirect(url_for("fetch_progress", job_id=job))

    @app.get("/fetch/<job_id>")
    def fetch_progress(job_id: str) -> str:
        job = browse.jobs.get(job_id)
        if job is None:
            abort(404)
        return render_template("fetch.html", job=job.as_dict(), job_id=job_id)

    @app.get("/api/fetch/<job_id>")
    def api_fetch(job_id: str) -> BaseResponse:
        job = browse.jobs.get(job_id)
        if job is None:
            abort(404)
        return jsonify(job.as_dict())


def _whole(text: str | None, default: int) -> int:
    try:
        return int(text) if text else default
    except ValueError:
        raise FilterError(f"expected a whole number, not {text!r}") from None


def _tier(text: str) -> Tier:
    try:
        return Tier(text)
    except ValueError:
        raise FilterError(f"tier must be bulk or standard, not {text!r}") from None


def _chosen_items(browse: Browse) -> list[Item]:
    """The items a quote is for: those ticked, or with `all`, every one the filter shows."""
    if request.form.get("all") == "1":
        found = browse.library.select(Filter.from_query(request.form))
    else:
        ids = request.form.getlist("m")
        found = [browse.library.by_id[m] for m in ids if m in browse.library.by_id]
    if not found:
        raise FilterError("nothing is selected: tick some items, or choose all that match")
    return found


def _rows_of_keys(browse: Browse, keys: tuple[str, ...]) -> list[CatalogRow]:
    wanted = set(keys)
    return [row for item in browse.library.items for row in item.objects if row.key in wanted]


def _item_state(item: Item, states: dict[str, ObjectState]) -> dict[str, Any]:
    found = [states[row.key] for row in item.objects]
    labels = sorted({state_label(s) for s in found})
    return {
        "storage_class": ",".join(sorted({s.storage_class for s in found})),
        "state": labels[0] if len(labels) == 1 else "; ".join(labels),
        "ready": all(s.can_read for s in found),
    }


def _counts(states: list[ObjectState]) -> dict[str, int]:
    return {kind.value: n for kind in State if (n := sum(s.state is kind for s in states))}


def _left_out(browse: Browse) -> dict[str, Any]:
    from entrypoints.operations import selection_report  # noqa: PLC0415

    latest = next((r for r in browse.runs if r.skipped is not None), None)
    return selection_report(browse.selection, latest)
