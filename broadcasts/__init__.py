"""城管发布: broadcast drafts, graded review, content screening, publishing, quota.

Domain functions take a ``session`` (and a WeChat API object where they call WeChat) and never
commit; the chat handlers, the console and the CLI own the unit of work.
"""
