"""Entry points: the composition root, the Lambda handlers and the command line."""
