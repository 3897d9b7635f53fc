"""Who gets in, on a real `rxassist serve --api-key K1,K2` over loopback: the assistant API wants
`Authorization: Bearer <key>` (401 with an OpenAI error object otherwise) and the Gradio chat UI
wants a login (any user name, a key as password) before it shows or runs anything.

The in-process version of these checks is tests/serving/test_hardening_unit.py; this one goes
through `serve`'s own argument parsing, uvicorn and the mounted Gradio app."""

from __future__ import annotations

import httpx
import openai
import pytest

from tests.conftest import ASSISTANT_API_KEYS

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1500)]

KEY, OLD_KEY = ASSISTANT_API_KEYS
WRONG = "not-the-rxassist-key-0123456789"
CHAT = {"model": "rxassist", "messages": [{"role": "user", "content": "UTI"}]}


def assert_openai_401(r: httpx.Response) -> None:
    assert r.status_code == 401, (r.status_code, r.text)
    assert r.headers["www-authenticate"].lower().startswith("bearer")
    err = r.json()["error"]
    assert err["type"] == "authentication_error" and err["code"] == "invalid_api_key"
    assert "Authorization: Bearer" in err["message"]
    assert KEY not in r.text and OLD_KEY not in r.text


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": f"Bearer {WRONG}"}, {"Authorization": KEY},   # no "Bearer" scheme
    {"Authorization": f"Basic {KEY}"}, {"Authorization": f"Bearer {KEY[:-1]}"},
], ids=["none", "wrong-key", "no-scheme", "basic", "key-prefix"])
def test_api_refuses_without_the_key(rx_server_keyed, headers):
    api = rx_server_keyed.api_url
    assert_openai_401(httpx.get(f"{api}/v1/models", headers=headers, timeout=30))
    assert_openai_401(httpx.post(f"{api}/v1/chat/completions", json=CHAT, headers=headers,
                                 timeout=30))
    # Refused before the body is read or parsed: an invalid body still gets the 401.
    assert_openai_401(httpx.post(f"{api}/v1/chat/completions", content=b"{oops",
                                 headers={**headers, "content-type": "application/json"},
                                 timeout=30))


def test_openai_client_with_a_wrong_key_gets_authentication_error(rx_server_keyed):
    wrong = openai.OpenAI(base_url=f"{rx_server_keyed.api_url}/v1", api_key=WRONG,
                          max_retries=0, timeout=60)
    with pytest.raises(openai.AuthenticationError) as e:
        wrong.chat.completions.create(**CHAT)
    assert e.value.status_code == 401 and e.value.code == "invalid_api_key"


@pytest.mark.parametrize("key", [KEY, OLD_KEY], ids=["key", "rotated-key"])
def test_api_answers_with_either_key(rx_server_keyed, key):
    client = openai.OpenAI(base_url=f"{rx_server_keyed.api_url}/v1", api_key=key,
                           max_retries=0, timeout=300)
    assert "rxassist" in [m.id for m in client.models.list()]
    r = client.chat.completions.create(**CHAT)   # incomplete consultation: asks for the rest
    assert r.model_extra["rxassist"]["status"] == "needs_info"


def test_health_stays_open_for_probes(rx_server_keyed):
    assert httpx.get(f"{rx_server_keyed.api_url}/health", timeout=30).status_code == 200


def test_ui_without_login_shows_only_the_login(rx_server_keyed):
    from gradio_client import Client
    from gradio_client.exceptions import AuthenticationError

    ui = rx_server_keyed.ui_url
    page = httpx.get(ui, timeout=30)
    compact = page.text.replace(" ", "")
    assert page.status_code == 200 and '"auth_required":true' in compact
    assert '"components":[]' in compact and '"dependencies":[]' in compact   # none of the app
    for path in ("config", "gradio_api/info", "gradio_api/openapi.json"):
        r = httpx.get(ui + path, timeout=30)
        assert r.status_code == 401, (path, r.status_code)
    run = httpx.post(ui + "gradio_api/call/send", json={"data": ["UTI", [], "rxassist"]},
                     timeout=30)
    assert run.status_code == 401
    queue = httpx.post(ui + "gradio_api/queue/join", timeout=30,
                       json={"data": ["UTI", [], "rxassist"], "fn_index": 0,
                             "session_hash": "x" * 10})
    assert queue.status_code == 401
    with pytest.raises(AuthenticationError):
        Client(ui, verbose=False)


def test_ui_login_with_a_wrong_key_is_refused(rx_server_keyed):
    from gradio_client import Client

    ui = rx_server_keyed.ui_url
    for password in (WRONG, "", KEY.upper(), KEY + " x"):
        r = httpx.post(ui + "login", data={"username": "dr", "password": password}, timeout=30)
        assert r.status_code in (400, 401, 422), (password, r.status_code)
        assert not r.cookies and "access-token" not in r.headers.get("set-cookie", "")
    with pytest.raises(ValueError, match="login|credentials"):
        Client(ui, auth=("dr", WRONG), verbose=False)
    # The key goes in the password, not the user name.
    r = httpx.post(ui + "login", data={"username": KEY, "password": WRONG}, timeout=30)
    assert r.status_code >= 400


@pytest.mark.parametrize("key", [KEY, OLD_KEY], ids=["key", "rotated-key"])
def test_ui_login_with_the_key_opens_the_chat(rx_server_keyed, key):
    from gradio_client import Client

    ui = rx_server_keyed.ui_url
    with httpx.Client(timeout=60) as browser:   # keeps the session cookie, as a browser would
        r = browser.post(ui + "login", data={"username": "any name", "password": key})
        assert r.status_code == 200 and r.json() == {"success": True}
        config = browser.get(ui + "config")
        assert config.status_code == 200 and config.json()["components"]
    client = Client(ui, auth=("dr", key), verbose=False)
    assert "/send" in client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    out = client.predict("UTI", [], "rxassist", api_name="/send")
    chat = out[1]
    assert "Still needed" in str(chat[-1])   # the chat ran: it asks for the missing fields
