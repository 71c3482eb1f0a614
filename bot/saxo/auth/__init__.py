"""Authentication for the Saxo client: where the bearer token comes from.

provider.py    TokenProvider (the two questions SaxoHttp asks) and ManualToken (a fixed token)
pkce.py        PKCE verifier, S256 challenge and login `state`
tokens.py      TokenSet: one token response with absolute expiry times
token_file.py  TokenFile: SAXO_TOKEN_FILE, atomic and 0600
endpoint.py    OAuthClient: `/authorize` and `POST /token`
refreshing.py  OAuthTokens: the refreshing provider for SAXO_AUTH_MODE=oauth
"""

from bot.saxo.auth.endpoint import OAuthClient
from bot.saxo.auth.pkce import code_challenge, new_code_verifier, new_state
from bot.saxo.auth.provider import ManualToken, TokenProvider
from bot.saxo.auth.refreshing import LOGIN_ADVICE, OAuthTokens
from bot.saxo.auth.token_file import TokenFile, TokenFileError
from bot.saxo.auth.tokens import TokenSet

__all__ = [
    "LOGIN_ADVICE",
    "ManualToken",
    "OAuthClient",
    "OAuthTokens",
    "TokenFile",
    "TokenFileError",
    "TokenProvider",
    "TokenSet",
    "code_challenge",
    "new_code_verifier",
    "new_state",
]
