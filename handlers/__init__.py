"""Chat handlers, one module per feature, each with its ``router``. The features list
(bot/features.py) hands the routers to the chat engine; its order is the order in which stateless
routes are tried (see bot.chat.routing for the full dispatch order)."""
