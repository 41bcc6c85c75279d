"""moto's server with the sandbox's shims, for TransactWriteItems (sandbox.moto_dynamodb)
and restores (sandbox.moto_restore): `python -m sandbox.moto_server -p PORT`, as
`python -m moto.server` takes."""

from __future__ import annotations

from moto.server import main

from sandbox.moto_dynamodb import install
from sandbox.moto_restore import install as install_restores

if __name__ == "__main__":
    install()
    install_restores()
    main()
