"""The command line, one module per feature: each defines a click group over the domain's functions.

The root group (``bot/cli``) adds them from the features list; they share :mod:`cli.env`.
"""
