"""SMS through the Twilio Messages API."""

import httpx

from workers.channels.base import Delivery, PermanentSendError
from workers.channels.transport import failure, json_object, send

PROVIDER = "Twilio"


class TwilioSms:
    def __init__(
        self,
        client: httpx.AsyncClient,
        account_sid: str,
        auth_token: str,
        from_number: str,
        base_url: str,
    ) -> None:
        self._client = client
        self._auth = httpx.BasicAuth(account_sid, auth_token)
        self._from = from_number
        self._url = f"{base_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"

    async def send(self, *, to: str, subject: str, body: str) -> Delivery:
        # An SMS has no subject line.
        request = self._client.build_request(
            "POST", self._url, data={"To": to, "From": self._from, "Body": body}
        )
        response = await send(self._client, PROVIDER, request, auth=self._auth)
        if not response.is_success:
            raise failure(PROVIDER, response, _error_detail(response))
        sid = json_object(response).get("sid")
        if not isinstance(sid, str) or not sid:
            # Twilio accepted the message; sending again would text the patient twice.
            raise PermanentSendError(f"{PROVIDER} responded {response.status_code} without a sid")
        return Delivery(provider_message_id=sid)


def _error_detail(response: httpx.Response) -> str | None:
    # Twilio errors look like {"code": 21211, "message": "The 'To' number ... is not valid"}.
    error = json_object(response)
    code, message = error.get("code"), error.get("message")
    if code is None:
        return str(message) if message else None
    return f"error {code}: {message}" if message else f"error {code}"
