"""Campaign Monitor's API surface and the path prefix of its v3.3 calls."""

API = "api"
V = "/api/v3.3"
