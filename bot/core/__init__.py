"""The kernel: settings, database, store, jobs, texts, clock, rate limits, residents, services.

It names no feature; every layer above may import it.
"""
