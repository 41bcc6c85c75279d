"""`cloudsync browse`: load the archive's items, then serve the page on 127.0.0.1 until
Ctrl-C."""

from __future__ import annotations

import json
import logging
import socket
import sys
import threading
import time
import webbrowser
from typing import TYPE_CHECKING

from werkzeug.serving import make_server

from domain.keys import archive_prefix
from domain.restore import Selection as RestoreSelection
from entrypoints.browse.app import Browse, create_app
from entrypoints.browse.library import Library, items_of
from entrypoints.cost import Usage, estimate, load_prices, restore_prices
from entrypoints.exits import Exit, UserError
from entrypoints.operations import drill_line
from entrypoints.restore import Request, load_rows

if TYPE_CHECKING:
    from adapters.aws.alarms import FiringAlarm
    from domain.model import RunReport
    from entrypoints.cli import Output
    from entrypoints.container import Operator

RUNS_SHOWN = 10


def load(op: Operator, provider: str, catalog: str | None, out: Output) -> Browse:
    """Everything the page shows that is read once: the items, the storage classes, the
    last runs, the month's estimate."""
    started = time.monotonic()
    target = op.resolved()
    rows = load_rows(Request(provider, catalog, RestoreSelection()), op)
    archive = op.archive()
    archive.check()
    listed = op.archive_reader().listing(archive_prefix(provider))
    library = Library(items_of(rows), {key: o.storage_class for key, o in listed.items()})

    def refresh() -> tuple[list[RunReport], list[FiringAlarm], str]:
        return (
            op.reports().recent(target.state_machine, RUNS_SHOWN),
            op.alarms().firing(target.alarm_names),
            drill_line(op.drills().load(provider)),
        )

    runs, alarms, drill = refresh()
    prices = load_prices()
    size = sum(item.size_bytes for item in library.items)
    monthly = None
    if library.items:
        monthly = estimate(Usage(size / 2**30, len(library.items)), prices).ongoing
    if not out.quiet:
        print(
            f"{len(library.items)} items ({len(rows)} objects) of s3://{target.bucket} read in "
            f"{time.monotonic() - started:.1f} s",
            file=sys.stderr,
        )
    return Browse(
        stack=target.stack.name, region=target.region or "", bucket=target.bucket,
        provider=provider, library=library, archive=archive, thumbnails=op.thumbnails(),
        prices=restore_prices(prices), runs=runs, selection=target.stack.settings.selection,
        monthly_usd=monthly, alarms=alarms, drill=drill, refresh=refresh,
    )  # fmt: skip


def serve(browse: Browse, port: int, *, open_browser: bool, out: Output) -> int:
    if not out.verbose:  # a line per request only with -v
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = create_app(browse)
    listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:  # bound here, so that a port in use is our error, not the server library's exit
        listening.bind(("127.0.0.1", port))
        listening.listen(128)
    except OSError as error:
        listening.close()
        raise UserError(
            f"cannot serve on 127.0.0.1:{port}: {error.strerror}; pass another --port, or "
            "--port 0 for any free one"
        ) from None
    server = make_server("127.0.0.1", port, app, threaded=True, fd=listening.fileno())
    bound = server.socket.getsockname()[1]
    browse.hosts = {f"127.0.0.1:{bound}", f"localhost:{bound}"}
    url = f"http://127.0.0.1:{bound}/"
    if out.json:  # one line, read before the server is done: not pretty-printed
        document = {"url": url, "items": len(browse.library.items), "bucket": browse.bucket}
        print(json.dumps(document), flush=True)
    else:
        print(f"browse s3://{browse.bucket} at {url} (Ctrl-C stops)", flush=True)
    sys.stdout.flush()
    if open_browser:
        threading.Timer(0.3, webbrowser.open, args=(url,)).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        return Exit.INTERRUPTED
    finally:
        browse.jobs.stop_all()  # downloads under way end at their next chunk, no part left
        server.server_close()
        listening.close()
    return Exit.DONE
