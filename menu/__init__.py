"""The account's custom menu: its keys (the closed vocabulary the chat routes on), its versioned
definition file, its validation against WeChat's limits, and pushing it with the staff-only
conditional menu that followers carrying the staff tag see.

Domain functions take a ``session`` (and a WeChat API object where they call WeChat) and never
commit; the CLI owns the unit of work.
"""
