"""What the tests share: use these rather than a private copy.

- services.make_services(home, database, **settings): services over a fresh SQLite home
  (no shieldwall.toml, no SHIELDWALL_* variables); wait_until_ready(client) for the index.
- factories: random_pdq, pdq_entry, content_entry, make_bank, api_key, tokens_by_role,
  report_fields (with REPORT_PDQ, REPORT_SHA) and jpeg: valid things with plain defaults.
- clock.FakeClock: the one fake clock (call it for UTC time, .monotonic() for seconds,
  .advance(seconds) to move both).
- polling.eventually(predicate, timeout, interval): the one way to wait for another thread
  or process; it fails with a message instead of hanging.
- server.ServerProcess and cli.Cli: the real `shieldwall serve` and command line.
- mail.local_smtp(): a local SMTP server and its inbox.
- images, edits, deep_images: benign generated images (never people).
- fuzzing, fuzz_*: the deterministic parser fuzzer and its seeds.
- banks: SQL fault injection (OnStatement) and row counts for the storage tests.
- skip_policy: a run fails when a test is skipped for a reason not allowed.
"""
