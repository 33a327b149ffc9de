"""文明随手拍: photo reports of uncivil street behaviour, their review, duplicates, rewards and notices.

Domain code only: functions take a ``session`` (and the store, storage or a sender where needed)
and never commit. The chat handlers, the command line and the console call them.
"""
