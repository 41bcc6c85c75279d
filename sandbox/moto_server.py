"""moto's server with the sandbox's shim for TransactWriteItems (sandbox.moto_dynamodb):
`python -m sandbox.moto_server -p PORT`, as `python -m moto.server` takes."""

from __future__ import annotations

from moto.server import main

from sandbox.moto_dynamodb import install

if __name__ == "__main__":
    install()
    main()
