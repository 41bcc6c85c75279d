"""Adapters: one module per outside system, each satisfying a port of domain.ports."""
