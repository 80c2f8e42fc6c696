"""The Ed25519 keys that sign access and refresh tokens, and the public keys that verify them.

One private key signs. The public keys accepted are its own public part plus any older
ones listed in ``MEDAPPT_JWT_PUBLIC_KEYS``, so the signing key can be rotated while
tokens signed by the previous one are still alive. Each key is chosen by its ``kid``.

In development, without ``MEDAPPT_JWT_PRIVATE_KEY``, a key is generated once into the
data directory so that sessions survive restarts; production refuses to start without one.
"""

import binascii
import contextlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import Key, KeyParameters, KeySet, OKPKey
from joserfc.util import to_bytes, urlsafe_b64decode

from services.settings import ConfigError, Settings

ALGORITHM = "Ed25519"
"""The JWS ``alg`` of every token: EdDSA over Ed25519, by its RFC 9864 name."""

DEV_KEY_FILENAME = "jwt-signing-key.json"

_PRIVATE_KEY_SETTING = "MEDAPPT_JWT_PRIVATE_KEY"
_PUBLIC_KEYS_SETTING = "MEDAPPT_JWT_PUBLIC_KEYS"
# Members that hold secret material in any JWK type (RFC 7518 section 6, RFC 8037).
_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")


@dataclass(frozen=True)
class TokenKeys:
    """The key that signs new tokens and the public keys that verify tokens."""

    signing: OKPKey
    verification: KeySet


def generate_signing_key() -> OKPKey:
    """A new private Ed25519 key whose ``kid`` is its RFC 7638 thumbprint."""
    return OKPKey.generate_key(
        "Ed25519", parameters={"use": "sig", "alg": ALGORITHM}, auto_kid=True
    )


def load_token_keys(settings: Settings) -> TokenKeys:
    """The signing key and accepted public keys the settings name.

    :raise ConfigError: a key is missing or unusable; the one-line message names the setting.
    """
    if settings.jwt_private_key:
        signing = _parse_signing_key(_load_json(settings.jwt_private_key, _PRIVATE_KEY_SETTING))
    elif settings.is_prod:
        raise ConfigError(f"{_PRIVATE_KEY_SETTING} is not set")
    else:
        signing = _dev_signing_key(settings.data_dir / DEV_KEY_FILENAME)

    verification: list[Key] = [public_part(signing)]
    if settings.jwt_public_keys:
        for older in _parse_public_keys(settings.jwt_public_keys):
            if not _add_verification_key(verification, older):
                raise ConfigError(
                    f"{_PUBLIC_KEYS_SETTING} has two different keys with kid {older.kid!r}"
                )
    return TokenKeys(signing=signing, verification=KeySet(verification))


def public_part(key: OKPKey) -> OKPKey:
    """The public key of ``key``, keeping its ``kid`` (and ``use``/``alg`` if set)."""
    parameters: KeyParameters = {}
    if key.kid:
        parameters["kid"] = key.kid
    if key.alg:
        parameters["alg"] = key.alg
    use = key.get("use")
    if isinstance(use, str):
        parameters["use"] = use
    return OKPKey.import_key(key.public_key, parameters)


def _add_verification_key(keys: list[Key], key: OKPKey) -> bool:
    """Add ``key`` unless already there; False if its kid names a different key."""
    for existing in keys:
        if existing.kid == key.kid:
            return _raw_public_bytes(existing) == _raw_public_bytes(key)
    keys.append(key)
    return True


def _raw_public_bytes(key: Key) -> bytes:
    assert isinstance(key, OKPKey)
    return key.public_key.public_bytes_raw()


# --- parsing -----------------------------------------------------------------------------------


def _load_json(text: str, source: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        raise ConfigError(f"{source} is not valid JSON") from None


def _parse_signing_key(data: object, source: str = _PRIVATE_KEY_SETTING) -> OKPKey:
    member = _check_ed25519_jwk(data, source, "a private JWK")
    if "d" not in member:
        raise ConfigError(f'{source} must be a private key (it has no "d")')
    key = _import(member, source)
    if _raw_public_bytes(key) != _decode_member(member["x"], source):
        raise ConfigError(f'{source} has an "x" that is not the public key of its "d"')
    _check_operations(member, source, "sign")
    return key


def _parse_public_keys(text: str) -> list[OKPKey]:
    data = _load_json(text, _PUBLIC_KEYS_SETTING)
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
        raise ConfigError(f'{_PUBLIC_KEYS_SETTING} must be a JWKS: a JSON object {{"keys": [...]}}')
    keys = []
    for index, item in enumerate(data["keys"]):
        source = f"{_PUBLIC_KEYS_SETTING} keys[{index}]"
        if isinstance(item, dict):
            private = [name for name in _PRIVATE_MEMBERS if name in item]
            if private:
                raise ConfigError(
                    f'{source} is a private key (it has "{private[0]}"); list only public keys'
                )
        member = _check_ed25519_jwk(item, source, "a public JWK")
        _check_operations(member, source, "verify")
        keys.append(_import(member, source))
    return keys


def _check_ed25519_jwk(data: object, source: str, what: str) -> dict[str, Any]:
    """The JWK as a dict if it claims to be an Ed25519 key with a kid."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source} must be a JSON object ({what})")
    kty = data.get("kty")
    if kty != "OKP":
        raise ConfigError(f'{source} must be an Ed25519 key with "kty": "OKP", not {kty!r}')
    crv = data.get("crv")
    if crv != "Ed25519":
        raise ConfigError(f'{source} must be an Ed25519 key with "crv": "Ed25519", not {crv!r}')
    kid = data.get("kid")
    if not isinstance(kid, str) or not kid:
        raise ConfigError(f'{source} must have a "kid" (a non-empty string)')
    for name in ("x", "d"):
        if name in data and not isinstance(data[name], str):
            raise ConfigError(f'{source} has a "{name}" that is not a string')
    if not isinstance(data.get("x"), str):
        raise ConfigError(f'{source} must have an "x" (the public key)')
    return data


def _check_operations(member: dict[str, Any], source: str, operation: str) -> None:
    """``use``, ``alg`` and ``key_ops`` are optional; when present they must allow signatures."""
    alg = member.get("alg")
    if alg is not None and alg != ALGORITHM:
        raise ConfigError(f'{source} has "alg" {alg!r}; it must be "{ALGORITHM}" or absent')
    use = member.get("use")
    if use is not None and use != "sig":
        raise ConfigError(f'{source} has "use" {use!r}; it must be "sig" or absent')
    key_ops = member.get("key_ops")
    if key_ops is not None and (not isinstance(key_ops, list) or operation not in key_ops):
        raise ConfigError(f'{source} has "key_ops" without "{operation}"')


def _decode_member(value: str, source: str) -> bytes:
    try:
        return urlsafe_b64decode(to_bytes(value))
    except (binascii.Error, ValueError):
        raise ConfigError(f"{source} is not a valid Ed25519 JWK") from None


def _import(member: dict[str, Any], source: str) -> OKPKey:
    try:
        return OKPKey.import_key(member)
    except (JoseError, ValueError, TypeError):
        raise ConfigError(f"{source} is not a valid Ed25519 JWK") from None


# --- the development key file ------------------------------------------------------------------


def _dev_signing_key(path: Path) -> OKPKey:
    """The key in ``path``, generated and written there (mode 0600) the first time."""
    if not path.exists():
        created = _create_key_file(path)
        if created is not None:
            return created
        # Another process created it first: use theirs.
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path} cannot be read: {error}") from None
    return _parse_signing_key(_load_json(text, str(path)), str(path))


def _create_key_file(path: Path) -> OKPKey | None:
    """Write a new key atomically; None if the file appeared meanwhile."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = generate_signing_key()
        content = json.dumps(key.as_dict(private=True), indent=2) + "\n"
        # mkstemp creates the file with mode 0600 in the same directory, so the link is atomic.
        fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                file.write(content)
                file.flush()
                os.fsync(file.fileno())
            try:
                # Unlike a rename, a link never replaces a key another process wrote.
                os.link(temporary, path)
            except FileExistsError:
                return None
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
    except OSError as error:
        raise ConfigError(f"{path} cannot be written ({error.strerror or error})") from None
    return key
