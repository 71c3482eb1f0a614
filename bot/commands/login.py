"""`python main.py login [--no-browser]`: the OAuth authorization-code flow with PKCE, writing SAXO_TOKEN_FILE.

1. PKCE verifier/challenge (S256) and a random `state`; print the `/authorize` URL of SAXO_AUTH_BASE_URL.
2. Default: listen once on 127.0.0.1 at the port and path of SAXO_REDIRECT_URI, open a browser when there is one,
   and wait for Saxo's redirect (requests without this attempt's `state`, or to other paths, are ignored until the
   timeout). `--no-browser` (or a redirect URI we cannot listen on): the user pastes the URL
   the browser was sent to.
3. Check `state`, exchange the code at `/token`, write the token file (0600) and print where and until when
   (never the tokens). SAXO_ENV=local logs in against the embedded simulator instead of Saxo.
"""

from __future__ import annotations

import hmac
import html
import os
import sys
import threading
import webbrowser
from collections.abc import Callable
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from loguru import logger

from bot.clock import SystemClock, utc_iso
from bot.config import Settings
from bot.errors import AuthError, ConfigError
from bot.log import register_secret
from bot.saxo.auth import OAuthClient, TokenFile, TokenSet, code_challenge, new_code_verifier, new_state

LOGIN_TIMEOUT = 300.0  # seconds to wait for the browser's redirect
LOCAL_APP_KEY = "saxo-bot-local"
_LOOPBACK = ("127.0.0.1", "localhost")


def run_login(
    settings: Settings,
    *,
    no_browser: bool,
    open_browser: Callable[[str], Any] = webbrowser.open,
    input_fn: Callable[[str], str] = input,
    timeout: float = LOGIN_TIMEOUT,
) -> int:
    """Log in and write the token file. Returns 0; raises ConfigError (exit 2) or AuthError (exit 3)."""
    if settings.saxo_env == "local":
        from bot.sim import SimConfig, SimServer

        sim = SimServer(SimConfig()).start()
        try:
            print(
                f"SAXO_ENV=local: logging in against the embedded Saxo SIMULATOR at {sim.auth_base_url} (not Saxo); "
                "its tokens work only with this simulator, which stops when login ends."
            )
            client = OAuthClient(
                sim.auth_base_url, settings.saxo_app_key or LOCAL_APP_KEY, None, settings.saxo_redirect_uri
            )
            # Throwaway simulator tokens must never replace real SIM/LIVE tokens in SAXO_TOKEN_FILE.
            return _login(
                client,
                local_token_path(settings.saxo_token_file),
                settings,
                no_browser,
                open_browser,
                input_fn,
                timeout,
            )
        finally:
            sim.stop()
    if not settings.saxo_app_key:
        raise ConfigError("SAXO_APP_KEY", "required for python main.py login (the AppKey of your Saxo app)")
    secret = settings.saxo_app_secret.get_secret_value() if settings.saxo_app_secret else None
    where = "Saxo LIVE (real money)" if settings.saxo_env == "live" else "Saxo SIM"
    kind = "confidential app (AppKey + AppSecret)" if secret else "public app (PKCE, no AppSecret)"
    print(f"Logging in to {where} at {settings.saxo_auth_base_url} as {kind} {settings.saxo_app_key}.")
    client = OAuthClient(settings.saxo_auth_base_url or "", settings.saxo_app_key, secret, settings.saxo_redirect_uri)
    try:
        return _login(client, settings.saxo_token_file, settings, no_browser, open_browser, input_fn, timeout)
    finally:
        client.close()


def local_token_path(path: Path) -> Path:
    """Where SAXO_ENV=local keeps its simulator tokens: `token.json` -> `token.local.json`."""
    return path.with_name(f"{path.stem}.local{path.suffix or '.json'}")


def _login(
    client: OAuthClient,
    token_path: Path,
    settings: Settings,
    no_browser: bool,
    open_browser: Callable[[str], Any],
    input_fn: Callable[[str], str],
    timeout: float,
) -> int:
    verifier, state = new_code_verifier(), new_state()
    register_secret(verifier)
    url = client.authorize_url(state, code_challenge(verifier))
    listener = None if no_browser else _listener_for(client.redirect_uri, state)
    if listener is None:
        params = _paste_redirect(url, client.redirect_uri, input_fn)
    else:
        with listener:
            wait = f"waiting up to {timeout:.0f} s for the redirect"
            print(f"Open this URL in a browser and log in ({wait}):\n\n  {url}\n", flush=True)
            _open(url, open_browser)
            params = listener.wait(timeout)
    code = _check_redirect(params, state)
    obtained_at = SystemClock().now()
    response = client.exchange_code(code, verifier)
    tokens = TokenSet.from_response(response, obtained_at)
    tokens.register()
    TokenFile(token_path).save(response, obtained_at, code_verifier=None if client.confidential else verifier)
    logger.info("oauth login complete; token file {} written", token_path)
    print(_summary(token_path, tokens, settings))
    return 0


# ---- getting the redirect ---------------------------------------------------------------------------------


def _listener_for(redirect_uri: str, state: str) -> _CallbackListener | None:
    """A one-shot listener at the redirect URI, or None (with the reason printed) when we cannot listen there."""
    parts = urlsplit(redirect_uri)
    if parts.scheme != "http" or parts.hostname not in _LOOPBACK:
        print(f"SAXO_REDIRECT_URI {redirect_uri} is not http://127.0.0.1 or http://localhost: paste the redirect.")
        return None
    port = parts.port or 80
    try:
        return _CallbackListener(port, parts.path or "/", state)
    except OSError as exc:
        print(f"Cannot listen on 127.0.0.1:{port} ({exc.strerror or exc}): paste the redirect instead.")
        return None


def _open(url: str, open_browser: Callable[[str], Any]) -> None:
    if open_browser is webbrowser.open and not _has_display():
        print("No graphical browser here: open the URL in a browser on this machine (or use --no-browser).", flush=True)
        return
    try:
        opened = open_browser(url)
    except (webbrowser.Error, OSError) as exc:
        logger.debug("could not open a browser: {}", exc)
        opened = False
    if opened is False:
        print("Could not open a browser: open the URL yourself.", flush=True)


def _has_display() -> bool:
    """A terminal-only Linux box would get a text browser (lynx, w3m) in this terminal: better not."""
    if not sys.platform.startswith("linux"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _paste_redirect(url: str, redirect_uri: str, input_fn: Callable[[str], str]) -> dict[str, str]:
    print(
        f"Open this URL in a browser and log in:\n\n  {url}\n\n"
        f"Your browser is then sent to {redirect_uri}?code=...; it may show an error page, that is fine.\n"
        "Copy the full address from the browser's address bar and paste it here.",
        flush=True,
    )
    try:
        pasted = input_fn("Redirect URL: ").strip()
    except EOFError:
        pasted = ""
    if not pasted:
        raise AuthError("no redirect URL was pasted: run python main.py login again")
    query = urlsplit(pasted).query or pasted.lstrip("?")
    return {key: values[-1] for key, values in parse_qs(query).items()}


def _check_redirect(params: dict[str, str], state: str) -> str:
    """The authorization code, after checking `state` and Saxo's `error`."""
    if params.get("error"):
        detail = params["error"] + (f": {params['error_description']}" if params.get("error_description") else "")
        raise AuthError(f"Saxo did not authorize the login ({detail[:200]}): run python main.py login again")
    if params.get("state") != state:
        raise AuthError(
            "state mismatch: the redirect does not belong to this login attempt; nothing was written. "
            "Run python main.py login again"
        )
    code = params.get("code")
    if not code:
        raise AuthError("the redirect carries no authorization code: run python main.py login again")
    register_secret(code)
    return code


class _Server(ThreadingHTTPServer):
    """Threads, so an idle connection a browser opens ahead of time cannot hold up the redirect."""

    daemon_threads = True
    block_on_close = False


class _CallbackListener:
    """One HTTP server on 127.0.0.1 that takes exactly one redirect to `path`, answers it, and stops.

    Only a redirect carrying this attempt's `state` counts; anything else (other paths such as /favicon.ico,
    no code, a foreign `state`) is answered and ignored, so a stray request can neither log in nor abort.
    """

    def __init__(self, port: int, path: str, state: str) -> None:
        self.path = path
        self._state = state
        self.ignored = 0  # redirects with a foreign state, answered and ignored
        self._done = threading.Event()
        self._params: dict[str, str] = {}
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", port), self._handler_class())
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="oauth-callback", daemon=True
        )

    def __enter__(self) -> _CallbackListener:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def owns(self, state: str | None) -> bool:
        """True when `state` is this login attempt's (compared in constant time)."""
        return state is not None and hmac.compare_digest(state.encode(), self._state.encode())

    def wait(self, timeout: float) -> dict[str, str]:
        """The query parameters of the redirect with this attempt's `state` (the caller checks them again)."""
        if not self._done.wait(timeout):
            foreign = f"; {self.ignored} redirect(s) with another login's state were ignored" if self.ignored else ""
            raise AuthError(
                f"no redirect arrived within {timeout:.0f} s{foreign}: run python main.py login again "
                "(or python main.py login --no-browser to paste the redirect URL)"
            )
        return self._params

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        listener = self

        class Handler(BaseHTTPRequestHandler):
            timeout = 10  # seconds an idle connection may stay open

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                params = {key: values[-1] for key, values in parse_qs(parts.query).items()}
                if parts.path != listener.path:
                    self._page(404, "Not the login callback.")
                    return
                if "code" not in params and "error" not in params:
                    self._page(400, "This address waits for Saxo's login redirect (no code in it).")
                    return
                if not listener.owns(params.get("state")):
                    # Not this attempt's redirect (a stale tab, a forged link): it may neither log in nor
                    # abort the login. Keep waiting for the right one until the timeout.
                    with listener._lock:
                        listener.ignored += 1
                    logger.warning("ignored a login redirect carrying another attempt's state; still waiting")
                    self._page(400, "This redirect does not belong to the login in progress (state mismatch).")
                    return
                with listener._lock:
                    first = not listener._done.is_set()
                    if first:
                        listener._params = params
                if not first:
                    self._page(409, "A login redirect was already received. Return to the terminal.")
                elif params.get("error"):
                    self._page(200, f"Login failed ({params['error']}). Return to the terminal.")
                else:
                    self._page(200, "Login complete, you can close this tab.")
                if first:
                    listener._done.set()

            def _page(self, status: int, text: str) -> None:
                body = (
                    "<!doctype html><html><head><meta charset='utf-8'><title>saxo-bot login</title></head>"
                    f"<body><p>{html.escape(text)}</p></body></html>"
                ).encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()

            def log_message(self, format: str, *args: Any) -> None:  # the request line holds the code: never log it
                pass

        return Handler


# ---- the result -------------------------------------------------------------------------------------------


def _summary(path: Path, tokens: TokenSet, settings: Settings) -> str:
    now = SystemClock().now()

    def until(moment: datetime | None) -> str:
        if moment is None:
            return "an unknown time"
        minutes = (moment - now).total_seconds() / 60
        return f"{utc_iso(moment)} (in {minutes:.0f} min)" if minutes > 0 else f"{utc_iso(moment)} (already expired)"

    lines = [
        f"Login complete. Token file written: {path} (mode 0600).",
        f"  access token valid until  {until(tokens.expires_at)}",
        f"  refresh token valid until {until(tokens.refresh_expires_at)}",
    ]
    if settings.saxo_env == "local":
        lines.append("These simulator tokens are only a demonstration: SAXO_ENV=local needs no login.")
    else:
        lines.append(
            "With SAXO_AUTH_MODE=oauth the bot refreshes them itself while it runs; if it was stopped for longer "
            "than the refresh token lives, run python main.py login again."
        )
        if settings.saxo_auth_mode != "oauth":
            lines.append("Set SAXO_AUTH_MODE=oauth to use these tokens (SAXO_AUTH_MODE is manual now).")
    return "\n".join(lines)
