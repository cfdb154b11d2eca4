"""requests auth objects shared by the platform clients (Basic comes from requests itself)."""

from requests.auth import AuthBase


class BearerAuth(AuthBase):
    """`Authorization: Bearer <token>`."""

    def __init__(self, token: str):
        self.token = token

    def __call__(self, request):
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


class HeaderKeyAuth(AuthBase):
    """An API key in a header of the platform's choosing (`Api-Key: <key>` …)."""

    def __init__(self, header: str, key: str):
        self.header = header
        self.key = key

    def __call__(self, request):
        request.headers[self.header] = self.key
        return request
