"""moto's server with the sandbox's shims: TransactWriteItems (sandbox.moto_dynamodb),
restores (sandbox.moto_restore), speed (sandbox.moto_speed) and executions as AWS shows
them (sandbox.moto_executions).
`python -m sandbox.moto_server -p PORT`, as `python -m moto.server` takes."""

from __future__ import annotations

from moto.server import main

from sandbox.moto_dynamodb import install
from sandbox.moto_executions import install as install_names
from sandbox.moto_restore import install as install_restores
from sandbox.moto_speed import install as install_routing

if __name__ == "__main__":
    install()
    install_restores()
    install_routing()
    install_names()
    main()
