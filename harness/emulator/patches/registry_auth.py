"""MiniStack patch ``registry_auth``: the emulator's container registry answers only the holder of a
token its ECR issued, as Amazon ECR's registry does.

Upstream serves its ECR's registry API (``/v2/...``: ping, catalog, blobs, manifests, uploads; the paths
``app._is_ecr_registry_path`` names, answered by ``ecr.handle_registry_request``) to anyone with no
credential, and its GetAuthorizationToken (``ecr._get_authorization_token``) hands every caller the same
constant password: any local user could pull the stack's images or push images of their own into its
ECR. With the patch, as ECR's user guide has it ("Private registry authentication"):
- GetAuthorizationToken issues a new random password for the user ``AWS`` on each call, valid for 12
  hours; MiniStack's IAM lets the call through only for the stack's root or a principal allowed
  ``ecr:GetAuthorizationToken``;
- a registry request must carry ``Authorization: Basic base64(AWS:<an issued, unexpired password>)``,
  what ``docker login`` sends (``harness.aws.registry_authorization`` makes the header). Anything else is
  answered as ECR answers it: 401 ``Not Authorized`` with ECR's challenge, ``WWW-Authenticate: Basic
  realm="<the registry's URL>",service="ecr.amazonaws.com"``, on which a Docker client sends its
  credential;
- a request a browser shaped (``control_plane.from_browser``) is refused with 403, credential or not.
Not modelled: a token's permissions are its principal's on AWS (a pull needs ``ecr:BatchGetImage``, a
push ``ecr:PutImage``, ...); here a valid token may pull from and push to every repository. An expired
token is refused as an unknown one (ECR answers 403 "Your authorization token has expired").
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import time

from harness.emulator.asgi_replies import header, reply_text
from harness.emulator.patches.control_plane import from_browser

# GetAuthorizationToken (ECR API reference): "The authorization token is valid for 12 hours."
TOKEN_LIFETIME_S = 12 * 3600
USER = "AWS"
# Passwords kept at most (the oldest give way first): each call issues one, and a client may call it often.
_KEPT_TOKENS = 1000
# What ECR's registry sends with a refusal of an unauthenticated request.
_REGISTRY_API_VERSION = (b"docker-distribution-api-version", b"registry/2.0")
_ECR_SERVICE = "ecr.amazonaws.com"


class IssuedTokens:
    """The passwords GetAuthorizationToken has issued, oldest first, with their expiry."""

    def __init__(self, clock=time.time):
        self._clock = clock
        self._expiry: dict[str, float] = {}

    def issue(self) -> tuple[str, float]:
        """A new password and when it expires (epoch seconds)."""
        now = self._clock()
        for expired in [password for password, expiry in self._expiry.items() if expiry <= now]:
            del self._expiry[expired]
        if len(self._expiry) >= _KEPT_TOKENS:
            del self._expiry[next(iter(self._expiry))]
        password = secrets.token_urlsafe(48)
        self._expiry[password] = now + TOKEN_LIFETIME_S
        return password, self._expiry[password]

    def valid(self, password: str) -> bool:
        return self._clock() < self._expiry.get(password, 0.0)


def basic_password(authorization: str) -> str:
    """The password of ``Authorization: Basic base64(AWS:<password>)``, or "" for anything else."""
    scheme, _, credential = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        return ""
    try:
        user, _, password = base64.b64decode(credential.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return ""
    return password if user == USER else ""


def issuing(get_authorization_token, tokens: IssuedTokens):
    """Upstream's GetAuthorizationToken (its answer's shape, proxy endpoint and all) with an issued token."""

    def _get_authorization_token(data):
        status, headers, body = get_authorization_token(data)
        answer = json.loads(body)
        for entry in answer["authorizationData"]:
            password, expires_at = tokens.issue()
            credential = base64.b64encode(f"{USER}:{password}".encode()).decode()
            entry.update(authorizationToken=credential, expiresAt=expires_at)
        return status, headers, json.dumps(answer).encode()

    return _get_authorization_token


def guard(app, is_registry_path, tokens: IssuedTokens):
    """``app`` (an ASGI application) with its registry paths kept to holders of an issued token."""

    async def guarded(scope, receive, send):
        if scope["type"] != "http" or not is_registry_path(scope["path"]):
            return await app(scope, receive, send)
        if from_browser(scope):
            return await reply_text(send, 403, "the local stack's registry refuses browsers\n")
        if not tokens.valid(basic_password(header(scope, b"authorization"))):
            realm = f"{scope.get('scheme', 'http')}://{header(scope, b'host')}/"
            challenge = f'Basic realm="{realm}",service="{_ECR_SERVICE}"'.encode()
            return await reply_text(
                send, 401, "Not Authorized\n", [(b"www-authenticate", challenge), _REGISTRY_API_VERSION]
            )
        return await app(scope, receive, send)

    return guarded


def install() -> None:
    from ministack import app as ministack_app
    from ministack.services import ecr

    # Not forgotten on /_ministack/reset: a token stands for the root's credential, which a reset keeps.
    tokens = IssuedTokens()
    ecr._get_authorization_token = issuing(ecr._get_authorization_token, tokens)
    ministack_app.app = guard(ministack_app.app, ministack_app._is_ecr_registry_path, tokens)
