"""Accounts through the API, and the links and codes the fake providers received."""

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.support.api import graphql
from tests.support.providers import FakeSendGrid, FakeTwilio

REGISTER = """mutation R($input: RegisterPatientInput!) { registerPatient(input: $input) {
  accessToken refreshToken user { id email emailVerified active patient { id phone phoneVerified } } } }"""
LOGIN = """mutation L($email: String!, $password: String!) {
  login(email: $email, password: $password) { accessToken refreshToken } }"""
REFRESH = """mutation F($token: String!) { refreshToken(refreshToken: $token) {
  accessToken refreshToken } }"""
ME = "{ me { id email emailVerified active patient { phone phoneVerified } } }"
VERIFY_EMAIL = (
    "mutation V($token: String!) { verifyEmail(token: $token) { id email emailVerified } }"
)
REQUEST_EMAIL = "mutation { requestEmailVerification }"
REQUEST_PHONE = "mutation { requestPhoneVerification }"
VERIFY_PHONE = "mutation V($code: String!) { verifyPhone(code: $code) { phone phoneVerified } }"
REQUEST_RESET = "mutation R($email: String!) { requestPasswordReset(email: $email) }"
RESET = """mutation R($token: String!, $password: String!) {
  resetPassword(token: $token, newPassword: $password) { accessToken refreshToken user { email } } }"""
CHANGE = """mutation C($current: String!, $new: String!) {
  changePassword(currentPassword: $current, newPassword: $new) { accessToken refreshToken } }"""
UPDATE_PROFILE = """mutation U($input: UpdateProfileInput!) { updateMyProfile(input: $input) {
  name dateOfBirth phone phoneVerified email smsOptIn emailOptIn } }"""

PASSWORD = "a long passphrase"
PHONE = "+14155550123"


def new_patient(email: str = "jane@example.test", **change: Any) -> dict[str, Any]:
    return {"email": email, "password": PASSWORD, "name": "Jane Roe", "phone": PHONE, **change}


async def register(client: httpx.AsyncClient, **change: Any) -> dict[str, Any]:
    body = await graphql(client, REGISTER, {"input": new_patient(**change)})
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["registerPatient"]
    return payload


def links(sendgrid: FakeSendGrid, path: str, to: str) -> list[str]:
    """The links to ``path`` in the e-mails ``to`` received, oldest first."""
    found = []
    for mail in sendgrid.messages:
        if to in mail.to:
            found += re.findall(rf"\S+/{path}\?token=\S+", mail.content["text/plain"])
    return found


def token_of(link: str) -> str:
    [token] = parse_qs(urlsplit(link).query)["token"]
    return token


def codes(twilio: FakeTwilio, to: str) -> list[str]:
    """The code of each verification text ``to`` received: the only run of six digits in it."""
    found = []
    for sms in twilio.messages:
        if sms.to == to and "verification code" in sms.body:
            [code] = re.findall(r"(?<!\d)\d{6}(?!\d)", sms.body)
            found.append(code)
    return found


async def ok(client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None,
             token: str | None = None) -> dict[str, Any]:  # fmt: skip
    body = await graphql(client, query, variables, token=token)
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data
