"""`cloudsync browse`: a page over the archive, served on 127.0.0.1 (see app.py)."""
