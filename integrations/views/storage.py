"""Wizard storage that keeps each step's data encrypted in the session.

formtools keeps the raw POST data of every step until the wizard ends; the credentials step
holds API keys, which must not sit in plain text in the session table.
"""

from __future__ import annotations

import base64
import hashlib

import orjson
from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.utils.datastructures import MultiValueDict
from formtools.wizard.storage.session import SessionStorage


def _fernet() -> Fernet:
    digest = hashlib.sha256(b"sharpsend-wizard:" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


class EncryptedSessionStorage(SessionStorage):
    def set_step_data(self, step, cleaned_data):
        if isinstance(cleaned_data, MultiValueDict):
            cleaned_data = dict(cleaned_data.lists())
        token = _fernet().encrypt(orjson.dumps(cleaned_data)).decode()
        self.data[self.step_data_key][step] = token

    def get_step_data(self, step):
        token = self.data[self.step_data_key].get(step)
        if token is None:
            return None
        try:
            values = orjson.loads(_fernet().decrypt(token.encode()))
        except (InvalidToken, AttributeError, orjson.JSONDecodeError):
            return None  # a session from before a key change: the step is asked again
        return MultiValueDict(values)


def encrypt(text: str) -> str:
    """A secret kept in the session (PKCE verifier, a token in transit), encrypted."""
    return _fernet().encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode()
