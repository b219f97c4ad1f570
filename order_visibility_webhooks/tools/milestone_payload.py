# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Validation of inbound milestone bodies, standard library only.

The rules are those of ``docs/webhooks/schemas/inbound.milestone.json``
(a test checks that both accept and refuse the same samples). Errors are
short English reasons for the sender, never translated: the sender is a
machine, and its log is read by whoever integrates it.
"""

import base64
import binascii
import json
import re
from datetime import UTC, datetime

MILESTONE_CODES = ("picked_up", "in_transit", "delayed", "delivered", "failed_delivery")
# What the route reads at most, whatever Content-Length or a chunked body say.
MAX_BODY_BYTES = 1024 * 1024
MAX_PROOF_BYTES = 512 * 1024
# base64 of MAX_PROOF_BYTES bytes
MAX_PROOF_CHARS = 4 * ((MAX_PROOF_BYTES + 2) // 3)
PROOF_MIMETYPES = ("application/pdf", "image/jpeg", "image/png")
DATE_TIME_RE = re.compile(
    r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$",
    re.ASCII,
)
ORDER_NAME_MAX = 64
# Ids are PostgreSQL integers; dates outside these years are nobody's delivery.
ORDER_ID_MAX = 2**31 - 1
YEAR_MIN, YEAR_MAX = 2000, 2099
# No text may carry control characters (but tab and line breaks) or lone
# surrogates: PostgreSQL refuses NUL, and neither belongs in a carrier's text.
FORBIDDEN_CHARACTERS_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
TEXT_LIMITS = {"carrier": 64, "tracking_ref": 128, "note": 1000}
PROOF_TEXT_LIMITS = {"signed_by": 128, "filename": 128}
DATA_KEYS = frozenset(
    {"order", "order_id", "milestone", "occurred_at", "eta", "carrier", "tracking_ref", "note", "proof"}
)
PROOF_KEYS = frozenset({"signed_by", "filename", "mimetype", "content"})


class MalformedBody(ValueError):
    """The body is not one strict UTF-8 JSON document; the message says why (not translated)."""


class InvalidPayload(ValueError):
    """The body breaks the schema; the message says where and why (not translated)."""


def quoted(name, limit=32):
    """A name the sender chose, shortened and quoted for an answer or a log line."""
    return json.dumps(name[:limit] + ("..." if len(name) > limit else ""))


def _object_without_duplicate_keys(pairs):
    result = {}
    for key, value in pairs:
        if key in result:
            # Two values for one key: parsers disagree on which one counts.
            raise MalformedBody(f"the key {quoted(key)} appears twice in one object")
        result[key] = value
    return result


def _refuse_constant(name):
    raise MalformedBody(f"{name} is not JSON")


def parse_json_body(raw):
    """The JSON document of the raw bytes ``raw``, strictly: UTF-8 (RFC 8259),
    no duplicate keys, no NaN or Infinity, nesting within Python's recursion
    limit. Raises MalformedBody."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedBody("the body is not UTF-8") from None
    try:
        return json.loads(text, object_pairs_hook=_object_without_duplicate_keys, parse_constant=_refuse_constant)
    except MalformedBody:
        raise
    except RecursionError:
        raise MalformedBody("the body is nested too deeply") from None
    except ValueError:
        raise MalformedBody("the body is not JSON") from None


def parse_date_time(value, where):
    """A naive UTC datetime from an RFC 3339 date-time string (years 2000 to 2099)."""
    if not isinstance(value, str) or not DATE_TIME_RE.fullmatch(value):
        raise InvalidPayload(f"{where}: expected an RFC 3339 date-time such as 2026-01-31T14:05:00Z")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC).replace(tzinfo=None)
    except (ValueError, OverflowError) as exc:
        raise InvalidPayload(f"{where}: not a valid date-time") from exc
    if not YEAR_MIN <= parsed.year <= YEAR_MAX:
        raise InvalidPayload(f"{where}: expected a date-time between {YEAR_MIN} and {YEAR_MAX}")
    return parsed


def _check_characters(value, where):
    if FORBIDDEN_CHARACTERS_RE.search(value):
        raise InvalidPayload(f"{where}: control characters are not allowed")
    return value


def _text(data, key, limit, where):
    if key not in data:
        return None
    value = data[key]
    if not isinstance(value, str) or len(value) > limit:
        raise InvalidPayload(f"{where}.{key}: expected a string of at most {limit} characters")
    return _check_characters(value, f"{where}.{key}")


def _proof(proof):
    if not isinstance(proof, dict):
        raise InvalidPayload("data.proof: expected an object")
    unknown = set(proof) - PROOF_KEYS
    if unknown:
        raise InvalidPayload(f"data.proof: unknown field {quoted(sorted(unknown)[0])}")
    result = {key: _text(proof, key, limit, "data.proof") for key, limit in PROOF_TEXT_LIMITS.items()}
    if result["signed_by"] is not None and not result["signed_by"].strip():
        raise InvalidPayload("data.proof.signed_by: must not be empty")
    content = proof.get("content")
    if content is None:
        if "mimetype" in proof or "filename" in proof:
            raise InvalidPayload("data.proof: filename and mimetype come with content")
        if result["signed_by"] is None:
            raise InvalidPayload("data.proof: expected signed_by or content")
        return result
    if not isinstance(content, str) or not content or len(content) > MAX_PROOF_CHARS:
        raise InvalidPayload(f"data.proof.content: expected base64 of at most {MAX_PROOF_BYTES} bytes")
    try:
        raw = base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidPayload("data.proof.content: not base64") from exc
    if proof.get("mimetype") not in PROOF_MIMETYPES:
        raise InvalidPayload(f"data.proof.mimetype: expected one of {', '.join(PROOF_MIMETYPES)}")
    if result["filename"] is None or not result["filename"].strip():
        raise InvalidPayload("data.proof.filename: required with content")
    result.update(mimetype=proof["mimetype"], content=content, raw=raw, size=len(raw))
    return result


def validate_milestone_body(body):
    """Check a decoded JSON body; returns the milestone as a dict.

    Keys: milestone, order (name or None), order_id (int or None),
    occurred_at, eta (naive UTC datetimes or None), carrier, tracking_ref,
    note, proof (dict or None). Raises InvalidPayload.
    """
    if not isinstance(body, dict):
        raise InvalidPayload("body: expected a JSON object")
    unknown = set(body) - {"type", "timestamp", "data"}
    if unknown:
        raise InvalidPayload(f"body: unknown field {quoted(sorted(unknown)[0])}")
    for key in ("type", "timestamp", "data"):
        if key not in body:
            raise InvalidPayload(f"body: missing field {key}")
    event_type = body["type"]
    allowed_types = ("milestone", *(f"milestone.{code}" for code in MILESTONE_CODES))
    if event_type not in allowed_types:
        raise InvalidPayload("type: expected milestone or milestone.<code>")
    parse_date_time(body["timestamp"], "timestamp")
    data = body["data"]
    if not isinstance(data, dict):
        raise InvalidPayload("data: expected an object")
    unknown = set(data) - DATA_KEYS
    if unknown:
        raise InvalidPayload(f"data: unknown field {quoted(sorted(unknown)[0])}")
    milestone = data.get("milestone")
    if milestone not in MILESTONE_CODES:
        raise InvalidPayload(f"data.milestone: expected one of {', '.join(MILESTONE_CODES)}")
    if event_type not in ("milestone", f"milestone.{milestone}"):
        raise InvalidPayload("type: does not match data.milestone")
    has_name, has_id = "order" in data, "order_id" in data
    if has_name == has_id:
        raise InvalidPayload("data: expected exactly one of order, order_id")
    order_name = order_id = None
    if has_name:
        order_name = data["order"]
        if not isinstance(order_name, str) or not order_name.strip() or len(order_name) > ORDER_NAME_MAX:
            raise InvalidPayload(f"data.order: expected an order reference of at most {ORDER_NAME_MAX} characters")
        _check_characters(order_name, "data.order")
    else:
        order_id = data["order_id"]
        if not isinstance(order_id, int) or isinstance(order_id, bool) or not 1 <= order_id <= ORDER_ID_MAX:
            raise InvalidPayload(f"data.order_id: expected an integer from 1 to {ORDER_ID_MAX}")
    if "occurred_at" not in data:
        raise InvalidPayload("data: missing field occurred_at")
    occurred_at = parse_date_time(data["occurred_at"], "data.occurred_at")
    eta = None
    if "eta" in data:
        eta = parse_date_time(data["eta"], "data.eta")
    elif milestone == "delayed":
        raise InvalidPayload("data.eta: required for a delayed milestone")
    texts = {key: _text(data, key, limit, "data") for key, limit in TEXT_LIMITS.items()}
    proof = None
    if "proof" in data:
        if milestone != "delivered":
            raise InvalidPayload("data.proof: only a delivered milestone carries a proof of delivery")
        proof = _proof(data["proof"])
    return {
        "milestone": milestone,
        "order": order_name.strip() if order_name else None,
        "order_id": order_id,
        "occurred_at": occurred_at,
        "eta": eta,
        "proof": proof,
        **texts,
    }
