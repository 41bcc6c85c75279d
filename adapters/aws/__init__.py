"""AWS adapters (boto3 clients are injected, never created at import)."""
