"""Unit tests of harness/, a folder per harness package as harness/ has them (tests of the project as a
whole: the template, the locks, the docs, CI, the layering, sit in tests/unit/ itself)."""
