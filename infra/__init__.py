"""The Pulumi program of cloud-sync (run by `pulumi up` through __main__.py)."""
