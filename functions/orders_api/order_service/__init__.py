"""The orders API: HTTP handler (app), what it does (logic), where orders live (data)."""
