"""The browse page's restore pages: quote, request, status and fetch. What costs money
(a restore, a download out of AWS) happens only on a POST carrying the amount the person
was shown, checked against the same quote again."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Flask, abort, jsonify, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from domain.catalog import CatalogRow
from domain.restore import ObjectState, Quote, State, Tier, check_days, quote
from domain.units import GB
from entrypoints.browse.library import Filter, Item, PageError, state_label, whole

if TYPE_CHECKING:
    from entrypoints.browse.app import Browse


@dataclass
class PendingQuote:
    keys: tuple[str, ...]
    tier: Tier
    days: int
    quote: Quote

    @property
    def amount(self) -> str:
        return f"{self.quote.restore_usd + self.quote.copy_usd:.4f}"


def restore_pages(app: Flask, browse: Browse) -> None:
    """Quote, request, status and fetch: what costs money, each on a confirmed POST."""

    @app.post("/restore/quote")
    def restore_quote() -> str:
        items = _chosen_items(browse)
        tier = _tier(request.form.get("tier", "bulk"))
        days = check_days(whole(request.form.get("days"), 7))
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
            raise PageError("that quote is not known here (the page was restarted): quote again")
        if request.form.get("amount") != pending.amount:
            raise PageError(
                f"the confirmed amount is not the quoted ${pending.amount}: quote again"
            )
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
        out_usd = sum(r.size_bytes or 0 for r in ready) / GB * browse.prices.transfer_out_gb
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
        amount = sum(r.size_bytes or 0 for r in ready) / GB * browse.prices.transfer_out_gb
        if request.form.get("amount") != f"{amount:.4f}":
            raise PageError(f"the confirmed amount is not the download's ${amount:.4f}: look again")
        folder = (request.form.get("folder") or "").strip()
        if not folder:
            raise PageError("name a folder to fetch into")
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


def _tier(text: str) -> Tier:
    try:
        return Tier(text)
    except ValueError:
        raise PageError(f"tier must be bulk or standard, not {text!r}") from None


def _chosen_items(browse: Browse) -> list[Item]:
    """The items a quote is for: those ticked, or with `all`, every one the filter shows."""
    if request.form.get("all") == "1":
        found = browse.library.select(Filter.from_query(request.form))
    else:
        ids = request.form.getlist("m")
        found = [browse.library.by_id[m] for m in ids if m in browse.library.by_id]
    if not found:
        raise PageError("nothing is selected: tick some items, or choose all that match")
    return found


def _rows_of_keys(browse: Browse, keys: tuple[str, ...]) -> list[CatalogRow]:
    wanted = set(keys)
    return [row for item in browse.library.items for row in item.objects if row.key in wanted]


def _counts(states: list[ObjectState]) -> dict[str, int]:
    return {kind.value: n for kind in State if (n := sum(s.state is kind for s in states))}
