"""A service written as the seed writes it: its helpers imported from its own `utils.py` and
`logging_utils.py`, each of them the README's one-line module."""
