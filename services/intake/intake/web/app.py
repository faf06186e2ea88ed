"""The meldformulier's HTTP server (aiohttp): GET renders a page, POST parses the form, calls the same use
case as gRPC and answers with the confirmation or the form with every problem next to its field.

The form is the region's own channel: it calls this intake's handlers, which serve exactly this
intake's tenant, so no tenant is ever read from the request. Each new form carries a fresh form key (the
idempotency key), signed together with a SameSite=Strict cookie (CSRF); a key the server did not sign is
refused, so a visitor cannot replay another caller's idempotency key. The key stays the same while one
form is re-rendered (errors, a person added or removed), and a key that already made a contact answers
that contact's confirmation: Back and send again never makes a second melding."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import math
import secrets
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from vtkit import metrics
from vtkit.audit import AuditLog
from vtkit.tenants import Tenant

from intake.domain.errors import ConflictError, ValidationError
from intake.handlers import IntakeHandlers
from intake.store import ContactRecord
from intake.web import pages
from intake.web.edge import CappedTCPSite, EdgeLimits, request_guard
from intake.web.forms import (
    ADVIES_ORDER,
    FORM_LEVEL,
    MELDER_TYPES,
    FormData,
    advies_from_form,
    advies_problems,
    field_errors,
    filled_blocks,
    melder_type_of,
    melding_field_order,
    melding_from_form,
    melding_problems,
    person_count,
    reachable,
    sent_fields,
    with_person_added,
    with_person_removed,
)
from intake.web.friction import Proof, ProofOfWork
from intake.web.limits import FormLimits, TokenBuckets

log = logging.getLogger(__name__)

COOKIE = "vt_formulier"
# The forms this browser sent in this session: "<form key>.<fingerprint>" (at most SENT_KEPT, space-separated).
# The fingerprint is an HMAC (per-process secret) of the browser cookie, the key and who the form is from and
# about, so the cookie holds no personal data and cannot be forged.
SENT_COOKIE = "vt_verstuurd"
SENT_KEPT = 5
KEY_PREFIX = "web:"  # idempotency keys of the form never collide with a case system's keys
# A text over its limit (32 KB for the narrative) comes back on the form to be shortened; only a post larger
# than this is refused before it is read (a Dutch 413 page).
MAX_POST_BYTES = 2 * 1024 * 1024
EXPIRED = "Het formulier is verlopen of kwam niet van deze website. Controleer uw gegevens en verstuur het opnieuw."
CHOOSE = {"melding": "Kies of u meldt als professional of als omstander.",
          "advies": "Kies of u advies vraagt als professional of als omstander."}
TOO_MANY = ("Er zijn vanaf deze verbinding of bij Veilig Thuis in korte tijd veel formulieren verstuurd. Wat u "
            "invulde staat er nog: verstuur het over {minutes} minuten opnieuw, of bel gratis 0800-2000 (dag en nacht). "
            "Bij acuut gevaar: bel 112.")
NOT_OURS = ("Dit formulier is al eens verstuurd, of kwam niet van deze website. Wat u invulde staat er nog: "
            "controleer het en verstuur het opnieuw.")
FAILED = ("Er ging bij ons iets mis: uw {what} is misschien niet verstuurd. Wat u invulde staat er nog; verstuur "
          "het opnieuw. Twee keer versturen maakt geen tweede {what}.")


class _Kind:
    """What differs between the melding and the advies form."""

    def __init__(self, name: str, title: str, what: str, method: str, choose_legend: str):
        self.name, self.title, self.what, self.method, self.choose_legend = name, title, what, method, choose_legend


MELDING = _Kind("melding", "Een melding doen", "melding", "SubmitMelding", "U meldt als")
ADVIES = _Kind("advies", "Advies vragen", "adviesvraag", "RegisterAdvies", "U vraagt advies als")

ERROR_PAGES: dict[int, tuple[str, list[str]]] = {
    404: ("Deze pagina bestaat niet", ["Het adres dat u opvroeg, bestaat niet op deze website. Misschien is er een "
                                       "tikfout gemaakt, of is de pagina verplaatst."]),
    405: ("Dit kan niet op deze pagina", ["Deze pagina kan dit verzoek niet verwerken. Begin opnieuw via het begin."]),
    413: ("Wat u verstuurde is te groot", [
        f"Wat u verstuurde is groter dan {MAX_POST_BYTES // (1024 * 1024)} MB; zoveel neemt dit formulier niet aan. "
        "Uw formulier is niet verstuurd.",
        "Ga met de knop Terug van uw browser terug naar het formulier, maak uw tekst korter en verstuur het opnieuw."]),
    408: ("Het versturen duurde te lang", [
        "Uw formulier kwam niet binnen de tijd helemaal bij ons aan en is niet verstuurd. Misschien is uw "
        "verbinding traag of onderbroken.",
        "Ga met de knop Terug van uw browser terug naar het formulier en verstuur het opnieuw, of bel gratis "
        "0800-2000 (dag en nacht)."]),
    415: ("Dit kan niet op deze pagina", ["Deze pagina kan dit verzoek niet verwerken. Begin opnieuw via het begin."]),
    500: ("Er ging bij ons iets mis", ["Er ging iets mis aan onze kant. Wat u misschien verstuurde, is niet "
                                       "verwerkt. Probeer het over een paar minuten opnieuw."]),
    503: ("Het is erg druk op deze website", [
        "Op dit moment worden er heel veel formulieren tegelijk verstuurd. Wat u misschien verstuurde, is niet "
        "verwerkt.",
        "Ga met de knop Terug van uw browser terug naar het formulier en verstuur het over een minuut opnieuw, of "
        "bel gratis 0800-2000 (dag en nacht)."]),
}
# Answers after which the connection is closed: the request body may still be arriving (or never will).
CLOSE_AFTER = (408, 413, 415)


class Meldformulier:
    def __init__(self, handlers: IntakeHandlers, tenant: Tenant, secret: bytes | None = None,
                 audit: AuditLog | None = None, limits: FormLimits | None = None,
                 friction: ProofOfWork | None = None, edge: EdgeLimits | None = None):
        self.handlers = handlers
        # Default: 10 submissions per client address per 10 minutes, 120 per region per 10 minutes; without a
        # solved proof of work (no JavaScript) 5 per address and 40 per region (intake.web.friction).
        self.limits = limits or FormLimits(TokenBuckets(10, 600), TokenBuckets(120, 600),
                                           TokenBuckets(5, 600), TokenBuckets(40, 600))
        self.org = tenant.name
        self.tenant = tenant.id
        self._secret = secret or secrets.token_bytes(32)
        self.friction = friction or ProofOfWork(self._secret)
        self.edge = edge or EdgeLimits()
        self.audit = audit  # the same NEN 7513 log as the gRPC path

    def app(self) -> web.Application:
        # _dutch_errors outermost: the edge's refusals (408, 413, 415, 503) become Dutch pages too.
        app = web.Application(client_max_size=MAX_POST_BYTES,
                              middlewares=[self._dutch_errors, request_guard(self.edge, self.tenant)])
        app.add_routes([web.get("/", self.index), web.get("/privacy", self.privacy),
                        web.get("/melding", self.melding_form), web.post("/melding", self.melding_submit),
                        web.get("/advies", self.advies_form), web.post("/advies", self.advies_submit)])
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

    # -- Back and send again --------------------------------------------------------------------------------
    # A browser that re-fetches the form on Back (no-store) gets a new form key. Sent again, the same form
    # (same melder type, melder and persons; for an advies the same question) answers the first confirmation.

    def _fingerprint(self, request: web.Request, kind: _Kind, form_key: str, form: FormData) -> str:
        content = json.dumps([kind.name, *(" ".join(form.text(name).lower().split()) for name in sent_fields(form, kind.name))])
        signed = f"{request.cookies.get(COOKIE, '')}|{form_key}|{content}"
        return hmac.new(self._secret, signed.encode(), hashlib.sha256).hexdigest()[:32]

    def _sent_before(self, request: web.Request, kind: _Kind, form: FormData) -> str | None:
        """The form key with which this browser already sent this same form, if it did."""
        for entry in request.cookies.get(SENT_COOKIE, "").split():
            form_key, _, fingerprint = entry.partition(".")
            if form_key and hmac.compare_digest(fingerprint, self._fingerprint(request, kind, form_key, form)):
                return form_key
        return None

    def _remember_sent(self, request: web.Request, response: web.Response, kind: _Kind, form_key: str,
                       form: FormData) -> None:
        entry = f"{form_key}.{self._fingerprint(request, kind, form_key, form)}"
        kept = [e for e in request.cookies.get(SENT_COOKIE, "").split() if not e.startswith(form_key + ".")]
        response.set_cookie(SENT_COOKIE, " ".join([*kept[-(SENT_KEPT - 1):], entry]), httponly=True,
                            samesite="Strict", path="/")

    # -- responses ---------------------------------------------------------------------------------------

    def _page(self, request: web.Request, template: str, title: str, status: int = 200,
              context: Callable[[str], dict[str, Any]] = lambda _: {}) -> web.Response:
        """A page with security headers; `context` gets the CSRF cookie value to sign form keys with."""
        cookie = request.cookies.get(COOKIE) or secrets.token_hex(16)
        nonce = secrets.token_urlsafe(16)
        html = pages.render(template, title=title, org=self.org, nonce=nonce, **context(cookie))
        response = web.Response(text=html, status=status, content_type="text/html", charset="utf-8")
        response.headers.update({
            "Content-Security-Policy": f"default-src 'none'; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; "
                                       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
            # A form page holds personal data: never kept by the browser or a proxy.
            "Cache-Control": "no-store", "Pragma": "no-cache"})
        response.set_cookie(COOKIE, cookie, httponly=True, samesite="Strict", path="/")
        return response

    def _choose_page(self, request: web.Request, kind: _Kind, error: bool, status: int = 200) -> web.Response:
        errors = {"als": CHOOSE[kind.name]} if error else {}
        return self._page(request, "kies.html", ("Fout: " if error else "") + kind.title, status, lambda _: pages.form_context(
            FormData([]), errors, kind=kind.name, heading=kind.title, legend=kind.choose_legend, types=MELDER_TYPES))

    def _form_page(self, request: web.Request, kind: _Kind, form: FormData, errors: pages.Errors, status: int = 200,
                   form_key: str | None = None, notice: str = "", focus: str = "") -> web.Response:
        melder_type = melder_type_of(form)
        if not melder_type:
            return self._choose_page(request, kind, error=True, status=status if status != 200 else 422)

        def context(cookie: str) -> dict[str, Any]:
            key = form_key or str(uuid.uuid4())
            return pages.form_context(form, errors, key, self._sign(cookie, key), melder_type=melder_type,
                                      professional=melder_type == "professional", persons=person_count(form),
                                      notice=notice, focus=focus, challenge=self.friction.issue())

        return self._page(request, f"{kind.name}.html", ("Fout: " if errors else "") + kind.title, status, context)

    def _confirmation(self, request: web.Request, kind: _Kind, record: ContactRecord, form: FormData) -> web.Response:
        return self._page(request, "bevestiging.html", f"Uw {kind.what} is ontvangen", context=lambda _: {
            "what": kind.what, "kind": kind.name, "reference": record.reference, "same_day": record.same_day,
            "reachable": reachable(form)})

    def _error_page(self, request: web.Request, status: int) -> web.Response:
        heading, paragraphs = ERROR_PAGES[status]
        return self._page(request, "fout.html", heading, status,
                          lambda _: {"heading": heading, "paragraphs": paragraphs})

    @web.middleware
    async def _dutch_errors(self, request: web.Request,
                            handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        """Every error a visitor can meet is a Dutch page with the phone numbers and the quick exit."""
        try:
            return await handler(request)
        except web.HTTPException as exc:
            if exc.status in ERROR_PAGES:
                page = self._error_page(request, exc.status)
                if "Retry-After" in exc.headers:
                    page.headers["Retry-After"] = exc.headers["Retry-After"]
                if exc.status in CLOSE_AFTER:
                    page.force_close()
                return page
            raise
        except Exception:
            log.exception("meldformulier page failed", extra={"path": request.path})
            return self._error_page(request, 500)

    # -- routes ------------------------------------------------------------------------------------------

    async def index(self, request: web.Request) -> web.Response:
        return self._page(request, "index.html", "Melden of advies vragen")

    async def privacy(self, request: web.Request) -> web.Response:
        return self._page(request, "privacy.html", "Privacy")

    async def melding_form(self, request: web.Request) -> web.Response:
        return self._start(request, MELDING)

    async def advies_form(self, request: web.Request) -> web.Response:
        return self._start(request, ADVIES)

    def _start(self, request: web.Request, kind: _Kind) -> web.Response:
        """Step 1 asks the melder type (a GET form, so no script is needed); step 2 is the form for that type."""
        als = request.query.get("als")
        if als is None:
            return self._choose_page(request, kind, error=False)
        form = FormData([("melder_type", als)])
        if not melder_type_of(form):
            return self._choose_page(request, kind, error=True)
        return self._form_page(request, kind, form, {})

    async def melding_submit(self, request: web.Request) -> web.Response:
        form = await _posted(request)
        form_key = self._signed_key_of(request, form)
        action = form.text("actie")
        if form_key is not None and action == "toevoegen":  # re-render with one more person block, nothing sent
            form = with_person_added(form)
            count = person_count(form)
            return self._form_page(request, MELDING, form, {}, form_key=form_key, focus=f"p{count}_rol",
                                   notice=f"Betrokkene {count} is toegevoegd.")
        if form_key is not None and action.startswith("verwijder-") and action[10:].isdigit():
            block = int(action[10:])
            return self._form_page(request, MELDING, with_person_removed(form, block), {}, form_key=form_key,
                                   notice=f"Betrokkene {block} is verwijderd.")

        async def accept(key: str) -> ContactRecord | dict[str, str]:
            parsed = melding_from_form(form)
            problems = melding_problems(parsed)
            if problems:
                return field_errors(problems, melding_field_order(person_count(form)), parsed.blocks, form)
            try:
                return await self.handlers.submit_melding(key, parsed.melding)
            except ValidationError as exc:
                return field_errors([exc], melding_field_order(person_count(form)), filled_blocks(form), form)

        return await self._submit(request, MELDING, form, form_key, accept)

    async def advies_submit(self, request: web.Request) -> web.Response:
        form = await _posted(request)

        async def accept(key: str) -> ContactRecord | dict[str, str]:
            advies = advies_from_form(form)
            problems = advies_problems(advies)
            if problems:
                return field_errors(problems, ADVIES_ORDER, form=form)
            try:
                return await self.handlers.register_advies(key, advies)
            except ValidationError as exc:
                return field_errors([exc], ADVIES_ORDER, form=form)

        return await self._submit(request, ADVIES, form, self._signed_key_of(request, form), accept)

    async def _submit(self, request: web.Request, kind: _Kind, form: FormData, form_key: str | None,
                      accept: Callable[[str], Awaitable[ContactRecord | dict[str, str]]]) -> web.Response:
        if not melder_type_of(form):
            return self._choose_page(request, kind, error=True, status=422)
        if form_key is None:
            return self._form_page(request, kind, form, {FORM_LEVEL: EXPIRED}, status=403)
        earlier = await asyncio.to_thread(self.handlers.store.find_by_idempotency_key, KEY_PREFIX + form_key)
        if earlier is None and (resent := self._sent_before(request, kind, form)) is not None:
            form_key = resent  # the same form sent again from a re-fetched page (Back)
            earlier = await asyncio.to_thread(self.handlers.store.find_by_idempotency_key, KEY_PREFIX + form_key)
        key = KEY_PREFIX + form_key
        if earlier is not None:  # sent before (Back, then send again): the same confirmation, nothing new
            method, record = earlier
            if method != kind.method:
                return self._form_page(request, kind, form, {FORM_LEVEL: EXPIRED}, status=409)
            return self._confirmation(request, kind, record, form)
        proof = self.friction.check(form.text("uitdaging"), form.text("bewijs"), form_key)
        if proof in (Proof.FORGED, Proof.REPLAYED):
            # Counted, not audited: no organisation is known, and a record per refusal would let an anonymous
            # flood write (and fsync) the audit log at will.
            metrics.FORM_REFUSALS.labels(self.tenant, f"challenge_{proof.value}").inc()
            log.warning("form submission refused: proof of work", extra={"proof": proof.value})
            return self._form_page(request, kind, form, {FORM_LEVEL: NOT_OURS}, status=403, form_key=form_key)
        refused = self.limits.refused(request.remote or "", proven=proof == Proof.SOLVED)
        if refused is not None:
            which, wait = refused
            minutes = max(1, math.ceil(wait / 60))
            metrics.FORM_REFUSALS.labels(self.tenant, f"rate_{which}").inc()
            log.warning("form submission refused: too many", extra={"limit": which, "retry_after_seconds": round(wait)})
            response = self._form_page(request, kind, form, {FORM_LEVEL: TOO_MANY.format(minutes=minutes)},
                                       status=429, form_key=form_key)
            response.headers["Retry-After"] = str(math.ceil(wait))
            return response
        try:
            outcome = await accept(key)
        except ConflictError:
            return self._form_page(request, kind, form, {FORM_LEVEL: EXPIRED}, status=409)
        except Exception:
            log.exception("meldformulier submission failed", extra={"kind": kind.name})
            return self._form_page(request, kind, form, {FORM_LEVEL: FAILED.format(what=kind.what)}, status=500,
                                   form_key=form_key)
        if isinstance(outcome, dict):
            return self._form_page(request, kind, form, outcome, status=422, form_key=form_key)
        record = outcome
        if self.audit is not None:
            # Written (and fsynced) before the confirmation leaves, as on the gRPC path. The visitor is not
            # authenticated and the melder's identity stays protected (docs/domain.md section 7): no name in the log.
            await self.audit.record(action="create", what=f"meldformulier {kind.what}",
                                    subject={"contact_id": record.contact_id}, tenant=self.tenant, role="melder",
                                    user="anonymous web visitor", on_behalf_of="not stated", purpose="intake",
                                    outcome="success", peer=f"http:{request.remote or ''}")
        log.info("form accepted", extra={"contact_id": record.contact_id, "kind": record.kind.name.lower()})
        response = self._confirmation(request, kind, record, form)
        self._remember_sent(request, response, kind, form_key, form)
        return response


async def _posted(request: web.Request) -> FormData:
    posted = await request.post()
    return FormData([(k, v) for k, v in posted.items() if isinstance(v, str)])


# After an answer sent before the whole body arrived (408, 413), aiohttp keeps reading what still comes for this
# long (default 10 s), so that a client still sending sees the answer; a slow sender would hold its connection.
LINGER_SECONDS = 2.0


class WebServer:
    """Serves the meldformulier on host:port (port 0 = a free one; see `address` once started), within the
    edge limits of intake.web.edge (connection cap, timeouts, request slots)."""

    def __init__(self, form: Meldformulier, host: str, port: int):
        # keepalive_timeout is also the header timeout: aiohttp closes a connection whose request has not fully
        # arrived within it (intake.web.edge). No access log (request lines hold paths only, but no need).
        self._runner = web.AppRunner(form.app(), access_log=None, keepalive_timeout=form.edge.idle_timeout,
                                     lingering_time=LINGER_SECONDS)
        self._form = form
        self._host, self._port = host, port
        self.address = ""

    async def start(self) -> None:
        await self._runner.setup()
        site = CappedTCPSite(self._runner, self._host, self._port, self._form.edge, self._form.tenant)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.address = f"{host}:{port}"

    async def stop(self) -> None:
        await self._runner.cleanup()
