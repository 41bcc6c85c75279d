"""Thin Lambda handlers: parse the event, call a use case, return a small result."""
