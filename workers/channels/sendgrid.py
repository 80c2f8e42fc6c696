"""E-mail through the SendGrid v3 mail/send API."""

import httpx

from workers.channels.base import Delivery, PermanentSendError
from workers.channels.transport import failure, json_object, send

PROVIDER = "SendGrid"


class SendGridEmail:
    def __init__(
        self, client: httpx.AsyncClient, api_key: str, from_email: str, base_url: str
    ) -> None:
        self._client = client
        self._headers = {"Authorization": f"Bearer {api_key}"}
        self._from = from_email
        self._url = f"{base_url.rstrip('/')}/v3/mail/send"

    async def send(self, *, to: str, subject: str, body: str) -> Delivery:
        payload = {
            "personalizations": [{"to": [{"email": to}]}],
            "from": {"email": self._from},
            "subject": subject,
            "content": [{"type": "text/plain", "value": body}],
        }
        request = self._client.build_request("POST", self._url, json=payload, headers=self._headers)
        response = await send(self._client, PROVIDER, request)
        if not response.is_success:
            raise failure(PROVIDER, response, _error_detail(response))
        message_id = response.headers.get("X-Message-Id")
        if not message_id:
            # SendGrid accepted the message; sending again would e-mail the patient twice.
            raise PermanentSendError(
                f"{PROVIDER} responded {response.status_code} without X-Message-Id"
            )
        return Delivery(provider_message_id=message_id)


def _error_detail(response: httpx.Response) -> str | None:
    # SendGrid errors look like {"errors": [{"message": "...", "field": "subject"}]}.
    errors = json_object(response).get("errors")
    if not isinstance(errors, list):
        return None
    messages = [
        f"{error['field']}: {error['message']}" if error.get("field") else str(error["message"])
        for error in errors
        if isinstance(error, dict) and error.get("message")
    ]
    return "; ".join(messages) or None
