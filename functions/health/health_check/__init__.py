"""GET /health: the API's liveness and the function version serving it."""
