"""The order workflow's payment task: authorize or void with the payment provider (the simulator)."""
