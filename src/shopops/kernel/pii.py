"""Personal data protection: AES-GCM encryption at rest, keyed lookup hashes, masking."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_NONCE_BYTES = 12
_VERSION = b"\x01"


class PiiCipher:
    """Encrypts personal fields with AES-256-GCM and derives deterministic lookup hashes.

    Two independent keys are derived from the configured secret so that the
    lookup hash reveals nothing about the encryption key.
    """

    def __init__(self, secret: str) -> None:
        if len(secret) < 16:
            raise ValueError("PII secret must be at least 16 characters")
        master = secret.encode()
        self._aead = AESGCM(hmac.new(master, b"shopops.pii.encrypt", hashlib.sha256).digest())
        self._lookup_key = hmac.new(master, b"shopops.pii.lookup", hashlib.sha256).digest()

    def encrypt(self, plaintext: str | None) -> bytes | None:
        if plaintext is None:
            return None
        return self.encrypt_bytes(plaintext.encode())

    def decrypt(self, token: bytes | None) -> str | None:
        if token is None:
            return None
        return self.decrypt_bytes(token).decode()

    def encrypt_bytes(self, data: bytes) -> bytes:
        """Seal arbitrary bytes (e.g. a stored response body that may hold personal data)."""
        nonce = os.urandom(_NONCE_BYTES)
        return _VERSION + nonce + self._aead.encrypt(nonce, data, None)

    def decrypt_bytes(self, token: bytes) -> bytes:
        if token[:1] != _VERSION:
            raise ValueError("unknown PII ciphertext version")
        nonce, body = token[1 : 1 + _NONCE_BYTES], token[1 + _NONCE_BYTES :]
        return self._aead.decrypt(nonce, body, None)

    def lookup_hash(self, value: str | None) -> str | None:
        """Deterministic keyed hash for equality lookups (e-mail, phone)."""
        if value is None or value == "":
            return None
        digest = hmac.digest(self._lookup_key, value.encode(), "sha256")
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def normalize_email(email: str) -> str:
    return email.strip().lower()


def normalize_phone(phone: str) -> str:
    digits = "".join(ch for ch in phone if ch.isdigit())
    return ("+" + digits) if phone.strip().startswith("+") else digits


def mask_email(email: str | None) -> str | None:
    if not email:
        return email
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else f"{local[:1]}***"


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    if len(phone) <= 7:
        return phone[:1] + "*" * (len(phone) - 1)
    # The stars always stand for at least four hidden characters: "138****5678" for
    # eleven digits, but "****5678" (not "123****5678", which hid one) for eight.
    head = min(3, len(phone) - 8)
    return phone[:head] + "****" + phone[-4:]


def mask_name(name: str | None) -> str | None:
    if not name:
        return name
    return " ".join(part[:1] + "*" * max(len(part) - 1, 1) for part in name.split())


def mask_text(value: str | None) -> str | None:
    if not value:
        return value
    return value[:2] + "***"
