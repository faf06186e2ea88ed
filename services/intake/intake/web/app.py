"""The meldformulier's HTTP server (aiohttp): GET renders a form, POST parses it, calls the same use
case as gRPC and answers with the confirmation or the form with the error next to its field.

The form is the region's own channel: it calls this intake's handlers, which serve exactly this
intake's tenant, so no tenant is ever read from the request. Each render carries a fresh form key
(the idempotency key: a double submit returns the first contact) signed together with a
SameSite=Strict cookie (CSRF); a key the server did not sign is refused, so a visitor cannot
replay another caller's idempotency key."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import uuid
from collections.abc import Awaitable, Callable

from aiohttp import web
from vtkit.audit import AuditLog
from vtkit.tenants import Tenant

from intake.domain.errors import ConflictError, ValidationError
from intake.handlers import IntakeHandlers
from intake.store import ContactRecord
from intake.web import pages
from intake.web.forms import FORM_LEVEL, FormData, advies_from_form, field_error, filled_blocks, melding_from_form

log = logging.getLogger(__name__)

COOKIE = "vt_formulier"
KEY_PREFIX = "web:"  # idempotency keys of the form never collide with a case system's keys
EXPIRED = "Het formulier is verlopen of kwam niet van deze website. Controleer uw gegevens en verstuur het opnieuw."
Renderer = Callable[[FormData, pages.Errors, str, str], str]


class Meldformulier:
    def __init__(self, handlers: IntakeHandlers, tenant: Tenant, secret: bytes | None = None,
                 audit: AuditLog | None = None):
        self.handlers = handlers
        self.org = tenant.name
        self.tenant = tenant.id
        self._secret = secret or secrets.token_bytes(32)
        self.audit = audit  # the same NEN 7513 log as the gRPC path

    def app(self) -> web.Application:
        app = web.Application(client_max_size=256 * 1024)
        app.add_routes([web.get("/", self.index), web.get("/melding", self.melding_form),
                        web.post("/melding", self.melding_submit), web.get("/advies", self.advies_form),
                        web.post("/advies", self.advies_submit)])
        return app

    # -- CSRF / form key ---------------------------------------------------------------------------------

    def _sign(self, cookie: str, form_key: str) -> str:
        return hmac.new(self._secret, f"{cookie}|{form_key}".encode(), hashlib.sha256).hexdigest()

    def _signed_key_of(self, request: web.Request, form: FormData) -> str | None:
        cookie = request.cookies.get(COOKIE, "")
        form_key, token = form.text("formulier"), form.text("csrf")
        if not (cookie and form_key and token) or not hmac.compare_digest(token, self._sign(cookie, form_key)):
            return None
        return form_key

    # -- responses ---------------------------------------------------------------------------------------

    def _html(self, request: web.Request, title: str, body: Callable[[str], str], status: int = 200) -> web.Response:
        """A page with security headers; `body` gets the CSRF cookie value to sign new form keys with."""
        cookie = request.cookies.get(COOKIE) or secrets.token_hex(16)
        nonce = secrets.token_urlsafe(16)
        response = web.Response(text=pages.page(title, self.org, body(cookie), nonce), status=status,
                                content_type="text/html", charset="utf-8")
        response.headers.update({
            "Content-Security-Policy": f"default-src 'none'; style-src 'nonce-{nonce}'; form-action 'self'; "
                                       "frame-ancestors 'none'; base-uri 'none'",
            "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store"})  # a re-rendered form holds personal data
        response.set_cookie(COOKIE, cookie, httponly=True, samesite="Strict", path="/")
        return response

    def _form_page(self, request: web.Request, title: str, render: Renderer, form: FormData,
                   errors: pages.Errors, status: int = 200) -> web.Response:
        def body(cookie: str) -> str:
            form_key = str(uuid.uuid4())
            return render(form, errors, form_key, self._sign(cookie, form_key))

        return self._html(request, ("Fout: " if errors else "") + title, body, status)

    # -- routes ------------------------------------------------------------------------------------------

    async def index(self, request: web.Request) -> web.Response:
        return self._html(request, "Melden of advies vragen", lambda _: pages.index_body(self.org))

    async def melding_form(self, request: web.Request) -> web.Response:
        return self._form_page(request, "Een melding doen", pages.melding_body, FormData([]), {})

    async def advies_form(self, request: web.Request) -> web.Response:
        return self._form_page(request, "Advies vragen", pages.advies_body, FormData([]), {})

    async def melding_submit(self, request: web.Request) -> web.Response:
        async def accept(key: str, form: FormData) -> tuple[ContactRecord, tuple[int, ...]]:
            blocks = filled_blocks(form)
            try:
                return await self.handlers.submit_melding(key, melding_from_form(form).melding), blocks
            except ValidationError as exc:
                raise _FormError(*field_error(exc, blocks)) from None

        return await self._submit(request, "Een melding doen", pages.melding_body, "melding", accept)

    async def advies_submit(self, request: web.Request) -> web.Response:
        async def accept(key: str, form: FormData) -> tuple[ContactRecord, tuple[int, ...]]:
            try:
                return await self.handlers.register_advies(key, advies_from_form(form)), ()
            except ValidationError as exc:
                raise _FormError(*field_error(exc)) from None

        return await self._submit(request, "Advies vragen", pages.advies_body, "adviesvraag", accept)

    async def _submit(self, request: web.Request, title: str, render: Renderer, what: str,
                      accept: Callable[[str, FormData], Awaitable[tuple[ContactRecord, tuple[int, ...]]]]) -> web.Response:
        posted = await request.post()
        form = FormData([(k, v) for k, v in posted.items() if isinstance(v, str)])
        form_key = self._signed_key_of(request, form)
        if form_key is None:
            return self._form_page(request, title, render, form, {FORM_LEVEL: EXPIRED}, status=403)
        try:
            record, _ = await accept(KEY_PREFIX + form_key, form)
        except _FormError as exc:
            return self._form_page(request, title, render, form, {exc.field: exc.message}, status=422)
        except ConflictError:
            return self._form_page(request, title, render, form, {FORM_LEVEL: EXPIRED}, status=409)
        if self.audit is not None:
            # Written (and fsynced) before the confirmation leaves, as on the gRPC path. The visitor is not
            # authenticated and the melder's identity stays protected (domain.md 7): no name in the log.
            await self.audit.record(action="create", what=f"meldformulier {what}",
                                    subject={"contact_id": record.contact_id}, tenant=self.tenant, role="melder",
                                    user="anonymous web visitor", on_behalf_of="not stated", purpose="intake",
                                    outcome="success", peer=f"http:{request.remote or ''}")
        log.info("form accepted", extra={"contact_id": record.contact_id, "kind": record.kind.name.lower()})
        return self._html(request, f"Uw {what} is ontvangen",
                          lambda _: pages.confirmation_body(what, record.reference, record.same_day))


class _FormError(Exception):
    def __init__(self, field: str, message: str):
        super().__init__(field, message)
        self.field = field
        self.message = message


class WebServer:
    """Serves the meldformulier on host:port (port 0 = a free one; see `address` once started)."""

    def __init__(self, form: Meldformulier, host: str, port: int):
        self._runner = web.AppRunner(form.app(), access_log=None)  # no request lines (paths only, but no need)
        self._host, self._port = host, port
        self.address = ""

    async def start(self) -> None:
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.address = f"{host}:{port}"

    async def stop(self) -> None:
        await self._runner.cleanup()
