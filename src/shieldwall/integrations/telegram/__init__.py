"""The Telegram group guard: a bot group admins add to their group. It screens each photo
and image document posted with Shieldwall's lookup API, deletes the blocked ones with a
calm notice, queues `review` verdicts with the chat and message ids, and removes the
earlier copies that later confirm decisions find (docs/telegram.md).

It talks to Telegram (the Bot API over HTTPS) and to Shieldwall (its HTTP API, with a
screener key) only: no database, no part of the service runs here.
"""
