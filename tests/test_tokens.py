"""Access and refresh tokens, and the keys that sign them: pure unit tests, no servers."""

import base64
import dataclasses
import hashlib
import hmac
import json
import stat
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, OKPKey, RSAKey
from joserfc.jws import JWSRegistry

from db.enums import Role
from services.auth.keys import (
    TokenKeys,
    generate_signing_key,
    load_token_keys,
    public_part,
)
from services.auth.tokens import (
    ACCESS_TOKEN_LIFETIME,
    REFRESH_TOKEN_LIFETIME,
    AccessClaims,
    RefreshClaims,
    TokenService,
)
from services.errors import ErrorCode, Unauthenticated
from services.settings import ConfigError, Settings, load_settings

ISSUER = "medappt"
AUDIENCE = "medappt-api"
INVALID_ACCESS = "Invalid or expired access token."
INVALID_REFRESH = "Invalid or expired refresh token."

NOW = datetime(2030, 5, 17, 9, 30, 12, 654321, tzinfo=UTC)
NOW_SECONDS = datetime(2030, 5, 17, 9, 30, 12, tzinfo=UTC)
USER_ID = uuid.UUID("0d7c6c8e-3f0b-4f3e-9a51-6a4f1d2b9c01")
FAMILY_ID = uuid.UUID("5b1e2f3a-9c8d-4e7f-8a6b-1c2d3e4f5a6b")
PATIENT_ID = uuid.UUID("9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d")
DOCTOR_ID = uuid.UUID("1f2e3d4c-5b6a-4978-8685-746352413021")
TOKEN_ID = uuid.UUID("c0ffee00-1234-4abc-8def-0123456789ab")


# --- helpers -----------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64_json(value: object) -> str:
    return _b64(json.dumps(value, separators=(",", ":")).encode())


def _decode_segment(segment: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def _keys_of(signing: OKPKey, *older: OKPKey) -> TokenKeys:
    return TokenKeys(signing=signing, verification=KeySet([public_part(signing), *older]))


def _access_claims(**changes: object) -> dict[str, object]:
    """The payload of a valid access token issued at NOW."""
    claims: dict[str, object] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": str(USER_ID),
        "iat": int(NOW_SECONDS.timestamp()),
        "exp": int((NOW_SECONDS + ACCESS_TOKEN_LIFETIME).timestamp()),
        "typ": "access",
        "jti": "0123456789abcdef0123456789abcdef",
        "role": "PATIENT",
        "sid": str(FAMILY_ID),
        "pid": str(PATIENT_ID),
    }
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


def _sign(claims: dict[str, object], key: OKPKey, header: Mapping[str, object]) -> str:
    """A token signed by ``key`` exactly as given, outside TokenService."""
    registry = JWSRegistry(algorithms=["Ed25519"])
    return jwt.encode(dict(header), claims, key, registry=registry)


def _hs256(claims: dict[str, object], secret: bytes, kid: str) -> str:
    """Built by hand so that no library refuses to make it."""
    signing_input = f"{_b64_json({'alg': 'HS256', 'typ': 'JWT', 'kid': kid})}.{_b64_json(claims)}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def _settings(tmp_path: Path, **changes: Any) -> Settings:
    return dataclasses.replace(load_settings({}), data_dir=tmp_path / "data", **changes)


def _jwk_json(key: OKPKey, *, private: bool = True, **changes: object) -> str:
    data: dict[str, object] = dict(key.as_dict(private=private))
    data.update(changes)
    return json.dumps({name: value for name, value in data.items() if value is not None})


@pytest.fixture
def signing_key() -> OKPKey:
    return generate_signing_key()


@pytest.fixture
def service(signing_key: OKPKey) -> TokenService:
    return TokenService(_keys_of(signing_key), ISSUER, AUDIENCE)


@pytest.fixture
def access_token(service: TokenService) -> str:
    token, _ = service.issue_access(
        user_id=USER_ID, role=Role.PATIENT, family_id=FAMILY_ID, patient_id=PATIENT_ID, now=NOW
    )
    return token


@pytest.fixture
def refresh_token(service: TokenService) -> str:
    token, _ = service.issue_refresh(
        user_id=USER_ID, token_id=TOKEN_ID, family_id=FAMILY_ID, now=NOW
    )
    return token


def _refused_access(service: TokenService, token: str, now: datetime = NOW) -> None:
    with pytest.raises(Unauthenticated) as raised:
        service.verify_access(token, now=now)
    assert raised.value.message == INVALID_ACCESS
    assert raised.value.code is ErrorCode.UNAUTHENTICATED
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__


def _refused_refresh(service: TokenService, token: str, now: datetime = NOW) -> None:
    with pytest.raises(Unauthenticated) as raised:
        service.verify_refresh(token, now=now)
    assert raised.value.message == INVALID_REFRESH
    assert raised.value.__cause__ is None


# --- keys --------------------------------------------------------------------------------------


def test_generated_key_is_private_ed25519_with_its_thumbprint_as_kid() -> None:
    key = generate_signing_key()

    assert key.is_private
    assert key.curve_name == "Ed25519"
    assert key.kid == key.thumbprint()
    assert key.as_dict()["kty"] == "OKP"
    assert "d" not in public_part(key).as_dict()
    assert public_part(key).kid == key.kid
    assert generate_signing_key().kid != key.kid


# --- round trips -------------------------------------------------------------------------------


def test_access_token_round_trips_to_the_exact_claims(
    service: TokenService, signing_key: OKPKey
) -> None:
    token, issued = service.issue_access(
        user_id=USER_ID, role=Role.PATIENT, family_id=FAMILY_ID, patient_id=PATIENT_ID, now=NOW
    )

    assert issued == AccessClaims(
        user_id=USER_ID,
        role=Role.PATIENT,
        jti=issued.jti,
        family_id=FAMILY_ID,
        patient_id=PATIENT_ID,
        doctor_id=None,
        issued_at=NOW_SECONDS,
        expires_at=NOW_SECONDS + timedelta(minutes=15),
    )
    assert len(issued.jti) == 32
    assert int(issued.jti, 16) >= 0
    assert service.verify_access(token, now=NOW) == issued
    assert service.verify_access(token, now=NOW + timedelta(minutes=14, seconds=59)) == issued

    header_segment, payload_segment, _ = token.split(".")
    assert _decode_segment(header_segment) == {
        "typ": "JWT",
        "alg": "Ed25519",
        "kid": signing_key.kid,
    }
    assert _decode_segment(payload_segment) == {
        "iss": "medappt",
        "aud": "medappt-api",
        "sub": "0d7c6c8e-3f0b-4f3e-9a51-6a4f1d2b9c01",
        "iat": 1905240612,
        "exp": 1905241512,
        "typ": "access",
        "jti": issued.jti,
        "role": "PATIENT",
        "sid": "5b1e2f3a-9c8d-4e7f-8a6b-1c2d3e4f5a6b",
        "pid": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
    }


def test_doctor_access_token_carries_the_doctor_id(service: TokenService) -> None:
    token, issued = service.issue_access(
        user_id=USER_ID, role=Role.DOCTOR, family_id=FAMILY_ID, doctor_id=DOCTOR_ID, now=NOW
    )

    verified = service.verify_access(token, now=NOW)

    assert verified == issued
    assert (verified.role, verified.patient_id, verified.doctor_id) == (
        Role.DOCTOR,
        None,
        DOCTOR_ID,
    )


def test_each_access_token_has_its_own_jti(service: TokenService) -> None:
    first, _ = service.issue_access(user_id=USER_ID, role=Role.ADMIN, family_id=FAMILY_ID)
    second, _ = service.issue_access(user_id=USER_ID, role=Role.ADMIN, family_id=FAMILY_ID)

    assert service.verify_access(first).jti != service.verify_access(second).jti


def test_tokens_issued_without_now_verify_without_now(service: TokenService) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    token, issued = service.issue_access(user_id=USER_ID, role=Role.ADMIN, family_id=FAMILY_ID)

    assert service.verify_access(token) == issued
    assert before <= issued.issued_at <= datetime.now(UTC)
    assert issued.expires_at - issued.issued_at == ACCESS_TOKEN_LIFETIME


def test_refresh_token_round_trips_to_the_exact_claims(
    service: TokenService, signing_key: OKPKey
) -> None:
    token, issued = service.issue_refresh(
        user_id=USER_ID, token_id=TOKEN_ID, family_id=FAMILY_ID, now=NOW
    )

    assert issued == RefreshClaims(
        user_id=USER_ID,
        token_id=TOKEN_ID,
        family_id=FAMILY_ID,
        issued_at=NOW_SECONDS,
        expires_at=NOW_SECONDS + timedelta(days=7),
    )
    assert service.verify_refresh(token, now=NOW + timedelta(days=6, hours=23)) == issued
    header_segment, payload_segment, _ = token.split(".")
    assert _decode_segment(header_segment)["kid"] == signing_key.kid
    assert _decode_segment(payload_segment) == {
        "iss": "medappt",
        "aud": "medappt-api",
        "sub": "0d7c6c8e-3f0b-4f3e-9a51-6a4f1d2b9c01",
        "iat": 1905240612,
        "exp": 1905845412,
        "typ": "refresh",
        "jti": "c0ffee00-1234-4abc-8def-0123456789ab",
        "sid": "5b1e2f3a-9c8d-4e7f-8a6b-1c2d3e4f5a6b",
    }


def test_lifetimes() -> None:
    assert timedelta(minutes=15) == ACCESS_TOKEN_LIFETIME
    assert timedelta(days=7) == REFRESH_TOKEN_LIFETIME


def test_a_naive_now_is_a_programming_error(service: TokenService, access_token: str) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        service.issue_access(
            user_id=USER_ID, role=Role.ADMIN, family_id=FAMILY_ID, now=datetime(2030, 1, 1)
        )
    with pytest.raises(ValueError, match="timezone-aware"):
        service.verify_access(access_token, now=datetime(2030, 1, 1))


# --- refusals ----------------------------------------------------------------------------------


def test_alg_none_is_refused(service: TokenService, signing_key: OKPKey) -> None:
    header = {"alg": "none", "typ": "JWT", "kid": signing_key.kid}
    _refused_access(service, f"{_b64_json(header)}.{_b64_json(_access_claims())}.")
    _refused_access(service, f"{_b64_json({'alg': 'none'})}.{_b64_json(_access_claims())}.")


@pytest.mark.parametrize("secret_form", ["raw", "jwk-x", "pem"])
def test_hs256_signed_with_the_public_key_as_secret_is_refused(
    service: TokenService, signing_key: OKPKey, secret_form: str
) -> None:
    public = signing_key.public_key
    secret = {
        "raw": public.public_bytes_raw(),
        "jwk-x": str(signing_key.as_dict()["x"]).encode(),
        "pem": public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo),
    }[secret_form]
    assert signing_key.kid is not None

    _refused_access(service, _hs256(_access_claims(), secret, signing_key.kid))


def test_a_payload_edited_after_signing_is_refused(
    service: TokenService, access_token: str
) -> None:
    header_segment, payload_segment, signature = access_token.split(".")
    payload = _decode_segment(payload_segment)
    payload["role"] = "ADMIN"

    _refused_access(service, f"{header_segment}.{_b64_json(payload)}.{signature}")


def test_a_header_edited_after_signing_is_refused(service: TokenService, access_token: str) -> None:
    header_segment, payload_segment, signature = access_token.split(".")
    header = _decode_segment(header_segment)
    header["typ"] = "at+jwt"

    _refused_access(service, f"{_b64_json(header)}.{payload_segment}.{signature}")


def test_a_wrong_signature_is_refused(service: TokenService, access_token: str) -> None:
    header_segment, payload_segment, _ = access_token.split(".")
    _refused_access(service, f"{header_segment}.{payload_segment}.{_b64(bytes(64))}")
    _refused_access(service, f"{header_segment}.{payload_segment}.")


def test_wrong_audience_is_refused(service: TokenService, signing_key: OKPKey) -> None:
    other = TokenService(_keys_of(signing_key), ISSUER, "another-api")
    token, _ = other.issue_access(user_id=USER_ID, role=Role.ADMIN, family_id=FAMILY_ID, now=NOW)
    refresh, _ = other.issue_refresh(
        user_id=USER_ID, token_id=TOKEN_ID, family_id=FAMILY_ID, now=NOW
    )

    _refused_access(service, token)
    _refused_refresh(service, refresh)


def test_an_audience_list_is_refused(service: TokenService, signing_key: OKPKey) -> None:
    token = _sign(
        _access_claims(aud=[AUDIENCE]), signing_key, {"alg": "Ed25519", "kid": signing_key.kid}
    )
    _refused_access(service, token)


def test_wrong_issuer_is_refused(service: TokenService, signing_key: OKPKey) -> None:
    other = TokenService(_keys_of(signing_key), "someone-else", AUDIENCE)
    token, _ = other.issue_access(user_id=USER_ID, role=Role.ADMIN, family_id=FAMILY_ID, now=NOW)
    refresh, _ = other.issue_refresh(
        user_id=USER_ID, token_id=TOKEN_ID, family_id=FAMILY_ID, now=NOW
    )

    _refused_access(service, token)
    _refused_refresh(service, refresh)


def test_expired_access_token_is_refused(service: TokenService, access_token: str) -> None:
    expires_at = NOW_SECONDS + ACCESS_TOKEN_LIFETIME
    service.verify_access(access_token, now=expires_at - timedelta(microseconds=1))

    _refused_access(service, access_token, now=expires_at)
    _refused_access(service, access_token, now=expires_at + timedelta(days=1))


def test_expired_refresh_token_is_refused(service: TokenService, refresh_token: str) -> None:
    expires_at = NOW_SECONDS + REFRESH_TOKEN_LIFETIME
    service.verify_refresh(refresh_token, now=expires_at - timedelta(seconds=1))

    _refused_refresh(service, refresh_token, now=expires_at)


def test_a_token_issued_in_the_future_is_refused(service: TokenService, access_token: str) -> None:
    _refused_access(service, access_token, now=NOW_SECONDS - timedelta(seconds=1))


def test_refresh_token_is_not_an_access_token(service: TokenService, refresh_token: str) -> None:
    _refused_access(service, refresh_token)


def test_access_token_is_not_a_refresh_token(service: TokenService, access_token: str) -> None:
    _refused_refresh(service, access_token)


def test_unknown_kid_is_refused(service: TokenService) -> None:
    stranger = TokenService(_keys_of(generate_signing_key()), ISSUER, AUDIENCE)
    token, _ = stranger.issue_access(user_id=USER_ID, role=Role.ADMIN, family_id=FAMILY_ID, now=NOW)
    refresh, _ = stranger.issue_refresh(
        user_id=USER_ID, token_id=TOKEN_ID, family_id=FAMILY_ID, now=NOW
    )

    _refused_access(service, token)
    _refused_refresh(service, refresh)


def test_a_known_kid_on_a_token_signed_by_another_key_is_refused(
    service: TokenService, signing_key: OKPKey
) -> None:
    impostor = generate_signing_key()
    token = _sign(_access_claims(), impostor, {"alg": "Ed25519", "kid": signing_key.kid})

    _refused_access(service, token)


def test_a_token_without_kid_is_refused(service: TokenService, signing_key: OKPKey) -> None:
    # Correctly signed by the only accepted key: still refused, the kid is required.
    token = _sign(_access_claims(), signing_key, {"alg": "Ed25519"})
    assert "kid" not in _decode_segment(token.split(".")[0])

    _refused_access(service, token)


@pytest.mark.parametrize(
    "changes",
    [
        {"sub": None},
        {"sub": "not-a-uuid"},
        {"sub": str(USER_ID).replace("-", "")},
        {"sub": 7},
        {"exp": None},
        {"exp": "1905241512"},
        {"exp": 1905241512.5},
        {"iat": None},
        {"iat": True},
        {"jti": None},
        {"jti": ""},
        {"jti": "../../etc"},
        {"typ": None},
        {"typ": ["access"]},
        {"typ": "Access"},
        {"iss": None},
        {"aud": None},
        {"role": None},
        {"role": "SUPERUSER"},
        {"role": ["ADMIN"]},
        {"sid": None},
        {"sid": "family"},
        {"pid": "patient"},
        {"did": 12},
        {"exp": int((NOW_SECONDS + timedelta(days=1)).timestamp())},  # longer than 15 minutes
        {"exp": int(NOW_SECONDS.timestamp())},  # expires when issued
    ],
)
def test_a_malformed_claim_is_refused(
    service: TokenService, signing_key: OKPKey, changes: dict[str, object]
) -> None:
    header = {"alg": "Ed25519", "kid": signing_key.kid}
    # The same claims, well formed, are accepted: what fails is the change.
    service.verify_access(_sign(_access_claims(), signing_key, header), now=NOW)

    _refused_access(service, _sign(_access_claims(**changes), signing_key, header))


@pytest.mark.parametrize(
    "garbage",
    [
        "garbage",
        "Bearer token",
        "a.b.c",
        "...",
        "eyJhbGciOiJFZDI1NTE5In0",
        "eyJhbGciOiJFZDI1NTE5In0.e30.",
        "e30.e30.e30",
        "W10.W10.W10",
        "bnVsbA.bnVsbA.",
        "\x00\x01\x02",
        "é.é.é",
        "x" * 10_000,
    ],
)
def test_garbage_is_refused(service: TokenService, garbage: str) -> None:
    _refused_access(service, garbage)
    _refused_refresh(service, garbage)


def test_an_empty_string_is_refused(service: TokenService) -> None:
    _refused_access(service, "")
    _refused_refresh(service, "")


def test_a_token_with_extra_whitespace_or_segments_is_refused(
    service: TokenService, access_token: str
) -> None:
    _refused_access(service, f" {access_token}")
    _refused_access(service, f"{access_token}\n")
    _refused_access(service, f"{access_token}.{access_token}")


# --- rotation ----------------------------------------------------------------------------------


def test_a_token_signed_by_an_older_listed_key_verifies_until_the_key_is_removed(
    tmp_path: Path,
) -> None:
    old_key = generate_signing_key()
    new_key = generate_signing_key()
    old_service = TokenService(_keys_of(old_key), ISSUER, AUDIENCE)
    old_access, old_claims = old_service.issue_access(
        user_id=USER_ID, role=Role.PATIENT, family_id=FAMILY_ID, patient_id=PATIENT_ID, now=NOW
    )
    old_refresh, old_refresh_claims = old_service.issue_refresh(
        user_id=USER_ID, token_id=TOKEN_ID, family_id=FAMILY_ID, now=NOW
    )
    jwks = json.dumps({"keys": [public_part(old_key).as_dict()]})

    rotated = _settings(tmp_path, jwt_private_key=_jwk_json(new_key), jwt_public_keys=jwks)
    service = TokenService.from_settings(rotated)

    assert service.verify_access(old_access, now=NOW) == old_claims
    assert service.verify_refresh(old_refresh, now=NOW) == old_refresh_claims
    new_token, new_claims = service.issue_access(
        user_id=USER_ID, role=Role.ADMIN, family_id=FAMILY_ID, now=NOW
    )
    assert _decode_segment(new_token.split(".")[0])["kid"] == new_key.kid
    assert service.verify_access(new_token, now=NOW) == new_claims
    _refused_access(old_service, new_token)

    retired = TokenService.from_settings(dataclasses.replace(rotated, jwt_public_keys=None))
    _refused_access(retired, old_access)
    _refused_refresh(retired, old_refresh)
    assert retired.verify_access(new_token, now=NOW) == new_claims


def test_verification_keys_are_public_and_listing_the_current_key_again_is_harmless(
    tmp_path: Path,
) -> None:
    current = generate_signing_key()
    old = generate_signing_key()
    jwks = json.dumps({"keys": [public_part(old).as_dict(), public_part(current).as_dict()]})

    keys = load_token_keys(
        _settings(tmp_path, jwt_private_key=_jwk_json(current), jwt_public_keys=jwks)
    )

    assert keys.signing == current
    assert [key.kid for key in keys.verification] == [current.kid, old.kid]
    assert not any(key.is_private for key in keys.verification)
    assert all("d" not in key for key in keys.verification.as_dict()["keys"])


# --- load_token_keys ---------------------------------------------------------------------------


def test_dev_key_is_created_once_with_mode_0600_and_reused(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    path = tmp_path / "data" / "jwt-signing-key.json"
    assert not path.parent.exists()

    first = load_token_keys(settings)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == first.signing.as_dict(private=True)
    assert first.signing.is_private
    assert first.signing.kid == first.signing.thumbprint()
    assert [entry.name for entry in path.parent.iterdir()] == ["jwt-signing-key.json"]
    content = path.read_bytes()

    second = load_token_keys(settings)

    assert second.signing == first.signing
    assert path.read_bytes() == content
    # A restart keeps sessions valid.
    token, claims = TokenService(first, ISSUER, AUDIENCE).issue_access(
        user_id=USER_ID, role=Role.ADMIN, family_id=FAMILY_ID, now=NOW
    )
    assert TokenService(second, ISSUER, AUDIENCE).verify_access(token, now=NOW) == claims


def test_a_corrupt_dev_key_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "data" / "jwt-signing-key.json"
    path.parent.mkdir()
    path.write_text("{not json")

    with pytest.raises(ConfigError) as raised:
        load_token_keys(_settings(tmp_path))

    assert str(raised.value) == f"{path} is not valid JSON"


def test_prod_without_a_private_key_is_a_config_error(tmp_path: Path) -> None:
    settings = _settings(tmp_path, env="prod", jwt_private_key=None)

    with pytest.raises(ConfigError) as raised:
        load_token_keys(settings)

    assert str(raised.value) == "MEDAPPT_JWT_PRIVATE_KEY is not set"
    assert not (tmp_path / "data").exists()


def test_prod_with_a_private_key_uses_it_and_writes_nothing(tmp_path: Path) -> None:
    key = generate_signing_key()

    keys = load_token_keys(_settings(tmp_path, env="prod", jwt_private_key=_jwk_json(key)))

    assert keys.signing == key
    assert [entry.kid for entry in keys.verification] == [key.kid]
    assert not (tmp_path / "data").exists()


def test_a_private_key_without_use_or_alg_is_accepted(tmp_path: Path) -> None:
    key = generate_signing_key()
    text = _jwk_json(key, use=None, alg=None, key_ops=["sign"])

    keys = load_token_keys(_settings(tmp_path, jwt_private_key=text))
    service = TokenService(keys, ISSUER, AUDIENCE)

    token, claims = service.issue_access(
        user_id=USER_ID, role=Role.ADMIN, family_id=FAMILY_ID, now=NOW
    )
    assert service.verify_access(token, now=NOW) == claims


_KEY = generate_signing_key()
_OTHER_KEY = generate_signing_key()
_X25519 = OKPKey.generate_key("X25519", auto_kid=True)
_RSA = RSAKey.generate_key(2048, auto_kid=True)
_EC = ECKey.generate_key("P-256", auto_kid=True)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("not json", "MEDAPPT_JWT_PRIVATE_KEY is not valid JSON"),
        ("[]", "MEDAPPT_JWT_PRIVATE_KEY must be a JSON object (a private JWK)"),
        (
            json.dumps(_RSA.as_dict(private=True)),
            'MEDAPPT_JWT_PRIVATE_KEY must be an Ed25519 key with "kty": "OKP", not \'RSA\'',
        ),
        (
            json.dumps(_X25519.as_dict(private=True)),
            'MEDAPPT_JWT_PRIVATE_KEY must be an Ed25519 key with "crv": "Ed25519", not \'X25519\'',
        ),
        (
            _jwk_json(_KEY, private=False),
            'MEDAPPT_JWT_PRIVATE_KEY must be a private key (it has no "d")',
        ),
        (
            _jwk_json(_KEY, kid=None),
            'MEDAPPT_JWT_PRIVATE_KEY must have a "kid" (a non-empty string)',
        ),
        (_jwk_json(_KEY, kid=""), 'MEDAPPT_JWT_PRIVATE_KEY must have a "kid" (a non-empty string)'),
        (_jwk_json(_KEY, d="abc"), "MEDAPPT_JWT_PRIVATE_KEY is not a valid Ed25519 JWK"),
        (_jwk_json(_KEY, d="a+b/c="), "MEDAPPT_JWT_PRIVATE_KEY is not a valid Ed25519 JWK"),
        (_jwk_json(_KEY, d=42), 'MEDAPPT_JWT_PRIVATE_KEY has a "d" that is not a string'),
        (_jwk_json(_KEY, x=None), 'MEDAPPT_JWT_PRIVATE_KEY must have an "x" (the public key)'),
        (
            _jwk_json(_KEY, x=_OTHER_KEY.as_dict()["x"]),
            'MEDAPPT_JWT_PRIVATE_KEY has an "x" that is not the public key of its "d"',
        ),
        (
            _jwk_json(_KEY, alg="EdDSA"),
            'MEDAPPT_JWT_PRIVATE_KEY has "alg" \'EdDSA\'; it must be "Ed25519" or absent',
        ),
        (
            _jwk_json(_KEY, use="enc"),
            'MEDAPPT_JWT_PRIVATE_KEY has "use" \'enc\'; it must be "sig" or absent',
        ),
        (
            _jwk_json(_KEY, key_ops=["verify"]),
            'MEDAPPT_JWT_PRIVATE_KEY has "key_ops" without "sign"',
        ),
    ],
)
def test_an_unusable_private_key_is_a_one_line_config_error(
    tmp_path: Path, value: str, message: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        load_token_keys(_settings(tmp_path, jwt_private_key=value))

    assert str(raised.value) == message
    assert "\n" not in str(raised.value)
    assert str(_KEY.as_dict(private=True)["d"]) not in str(raised.value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("not json", "MEDAPPT_JWT_PUBLIC_KEYS is not valid JSON"),
        (
            json.dumps([_OTHER_KEY.as_dict()]),
            'MEDAPPT_JWT_PUBLIC_KEYS must be a JWKS: a JSON object {"keys": [...]}',
        ),
        (
            json.dumps({"keys": [_OTHER_KEY.as_dict(private=True)]}),
            'MEDAPPT_JWT_PUBLIC_KEYS keys[0] is a private key (it has "d"); list only public keys',
        ),
        (
            json.dumps({"keys": [public_part(_OTHER_KEY).as_dict(), _RSA.as_dict(private=True)]}),
            'MEDAPPT_JWT_PUBLIC_KEYS keys[1] is a private key (it has "d"); list only public keys',
        ),
        (
            json.dumps({"keys": ["key"]}),
            "MEDAPPT_JWT_PUBLIC_KEYS keys[0] must be a JSON object (a public JWK)",
        ),
        (
            json.dumps({"keys": [_EC.as_dict()]}),
            'MEDAPPT_JWT_PUBLIC_KEYS keys[0] must be an Ed25519 key with "kty": "OKP", not \'EC\'',
        ),
        (
            json.dumps({"keys": [{**public_part(_OTHER_KEY).as_dict(), "kid": None}]}),
            'MEDAPPT_JWT_PUBLIC_KEYS keys[0] must have a "kid" (a non-empty string)',
        ),
        (
            json.dumps({"keys": [{**public_part(_OTHER_KEY).as_dict(), "x": "short"}]}),
            "MEDAPPT_JWT_PUBLIC_KEYS keys[0] is not a valid Ed25519 JWK",
        ),
        (
            json.dumps({"keys": [{**public_part(_OTHER_KEY).as_dict(), "kid": _KEY.kid}]}),
            f"MEDAPPT_JWT_PUBLIC_KEYS has two different keys with kid {_KEY.kid!r}",
        ),
    ],
)
def test_unusable_public_keys_are_a_one_line_config_error(
    tmp_path: Path, value: str, message: str
) -> None:
    settings = _settings(tmp_path, jwt_private_key=_jwk_json(_KEY), jwt_public_keys=value)

    with pytest.raises(ConfigError) as raised:
        load_token_keys(settings)

    assert str(raised.value) == message
    assert "\n" not in str(raised.value)


# --- verified tokens are remembered ------------------------------------------------------------


def _count_signature_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records each token joserfc is asked to decode (its signature check)."""
    decoded: list[str] = []
    decode = jwt.decode

    def counting(value: str, *args: Any, **kwargs: Any) -> Any:
        decoded.append(value)
        return decode(value, *args, **kwargs)

    monkeypatch.setattr("services.auth.tokens.jwt.decode", counting)
    return decoded


def test_an_access_token_is_checked_once_and_its_times_every_time(
    service: TokenService, access_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    decoded = _count_signature_checks(monkeypatch)
    first = service.verify_access(access_token, now=NOW)
    assert service.verify_access(access_token, now=NOW + timedelta(minutes=14, seconds=59)) == first
    assert decoded == [access_token]
    # Remembered, yet refused once expired, and before it was issued.
    _refused_access(service, access_token, now=NOW_SECONDS + ACCESS_TOKEN_LIFETIME)
    _refused_access(service, access_token, now=NOW_SECONDS - timedelta(seconds=1))
    assert service.verify_access(access_token, now=NOW_SECONDS) == first
    assert decoded == [access_token]


def test_a_refused_access_token_is_not_remembered(
    service: TokenService, access_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    header, payload, _ = access_token.split(".")
    forged = ".".join([header, payload, _b64(b"\x00" * 64)])
    decoded = _count_signature_checks(monkeypatch)
    _refused_access(service, forged)
    _refused_access(service, forged)
    assert decoded == [forged, forged]
    assert service.verify_access(access_token, now=NOW).user_id == USER_ID
    assert decoded == [forged, forged, access_token]
