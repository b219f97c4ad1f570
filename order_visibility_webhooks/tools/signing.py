# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Standard Webhooks signing (https://www.standardwebhooks.com), standard library only.

A secret is ``whsec_`` followed by the base64 of 24 to 64 random bytes. A
message is signed as ``v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">``;
while a secret rotates, the ``webhook-signature`` header carries several
signatures separated by spaces and a receiver accepts any one of them.
"""

import base64
import binascii
import hashlib
import hmac
import re
import secrets

SECRET_PREFIX = "whsec_"
MIN_KEY_BYTES = 24
MAX_KEY_BYTES = 64
TIMESTAMP_TOLERANCE = 5 * 60  # seconds, either way
# What a receiver accepts in the three headers, checked before anything else:
# an id of printable ASCII, unix seconds in ASCII digits (str.isdigit() also
# accepts '²' or '٣', which int() then refuses or reads), a bounded header
# of signatures.
MESSAGE_ID_RE = re.compile(r"[\x20-\x7e]{1,255}")
TIMESTAMP_RE = re.compile(r"[0-9]{1,10}")
MAX_SIGNATURE_HEADER_LENGTH = 1024


class InvalidSecret(ValueError):
    """The value is not a ``whsec_<base64>`` secret; the message says why (not translated)."""


def generate_secret():
    """A new secret: ``whsec_`` and the base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_key(secret):
    """The HMAC key (bytes) of ``secret``; raises InvalidSecret when it is malformed."""
    if not isinstance(secret, str) or not secret.startswith(SECRET_PREFIX):
        raise InvalidSecret("the secret must start with whsec_")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidSecret("the part after whsec_ is not base64") from exc
    if not MIN_KEY_BYTES <= len(key) <= MAX_KEY_BYTES:
        raise InvalidSecret(f"the key must be {MIN_KEY_BYTES} to {MAX_KEY_BYTES} bytes long")
    return key


def sign(secret, msg_id, timestamp, body):
    """``v1,<signature>`` of ``body`` (bytes) for one secret."""
    signed = f"{msg_id}.{int(timestamp)}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(secrets_, msg_id, timestamp, body):
    """The ``webhook-signature`` header value: one signature per secret, space separated."""
    return " ".join(sign(secret, msg_id, timestamp, body) for secret in secrets_)


def verify(secrets_, msg_id, timestamp, body, header):
    """Whether ``header`` carries a valid v1 signature of ``body`` by one of ``secrets_``.

    Constant-time comparison; the timestamp window is the caller's to check
    (see ``timestamp_is_fresh``) so that it can answer with its own reason.
    """
    offered = [part[3:] for part in (header or "").split() if part.startswith("v1,") and part.isascii()]
    if not offered:
        return False
    for secret in secrets_:
        expected = sign(secret, msg_id, timestamp, body)[3:]
        if any(hmac.compare_digest(expected.encode(), candidate.encode()) for candidate in offered):
            return True
    return False


def timestamp_is_fresh(timestamp, now, tolerance=TIMESTAMP_TOLERANCE):
    """Whether the unix ``timestamp`` lies within ``tolerance`` seconds of ``now``, either way."""
    return abs(int(now) - int(timestamp)) <= tolerance
