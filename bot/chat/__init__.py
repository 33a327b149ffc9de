"""The chat engine: webhook, inbox, journal, routing, conversation, replies, outbox, recovery.

It receives its routers from the composition root and never imports a feature.
"""
