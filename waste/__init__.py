"""垃圾分类: which of the four bins an item goes in, with guidance, from a loadable table.

Domain code only (functions take a ``session``); the chat (``分类 电池``), the mini-program API
(``GET /api/v1/sorting?q=``) and ``citybot sorting`` call it.
"""
