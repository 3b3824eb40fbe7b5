"""Where the links in identity's mails lead when there is no web app.

Identity mails links of the form `<PIVOTAL_IDENTITY_PUBLIC_BASE_URL>/invitations/accept
#token=…` (also `/password/setup`, `/password/reset`). They are meant for the web app, which
takes the token from the fragment (browsers never send it to a server) and calls the API.
Until a web app is deployed there, the default base URL is the gateway itself, and the gateway
answers those paths with a small page that shows the token and the API calls to make with it.
"""

from __future__ import annotations

import json

from pivotal_gateway.routes import direct_route

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Pivotal Flow: {title}</title></head>
<body style="font-family: sans-serif; max-width: 50em; margin: 2em auto">
<h1>{title}</h1>
<p>This link is meant for the Pivotal Flow web app (set
<code>PIVOTAL_IDENTITY_PUBLIC_BASE_URL</code> to its address). Without one, make these calls
to the API; the token below comes from the link (it never left your browser):</p>
<pre id="calls" style="background: #f4f4f4; padding: 1em; white-space: pre-wrap"></pre>
<script>
var token = new URLSearchParams(location.hash.slice(1)).get("token") || "TOKEN-FROM-THE-MAIL";
var calls = {calls};
document.getElementById("calls").textContent = calls.map(function (call) {{
  return "curl -s " + location.origin + call[0] + " -H 'content-type: application/json' \\\\\\n" +
         "  -d '" + JSON.stringify(call[1]).replace("TOKEN", token) + "'";
}}).join("\\n\\n");
</script>
</body></html>
"""
_ACCEPT = [["/v1/invitations:lookup", {"token": "TOKEN"}],
           ["/v1/invitations:accept", {"token": "TOKEN", "password": "a long passphrase",
                                       "givenName": "Grace", "familyName": "Hopper"}]]
_SET_PASSWORD = [["/v1/credentials:completePasswordReset",
                  {"resetToken": "TOKEN", "newPassword": "a long passphrase"}]]
CONTENT_SECURITY_POLICY = ("default-src 'none'; script-src 'unsafe-inline'; "
                           "style-src 'unsafe-inline'")
# path → (title, the API calls the page shows)
MAIL_LINKS = {
    "/invitations/accept": ("accept the invitation", _ACCEPT),
    "/password/setup": ("choose your password", _SET_PASSWORD),
    "/password/reset": ("reset your password", _SET_PASSWORD),
}


def mail_link_routes() -> list[dict]:
    found = []
    for path, (title, calls) in MAIL_LINKS.items():
        page = _PAGE.format(title=title, calls=json.dumps(calls))
        route = direct_route(f"mail_link{path.replace('/', '_')}", path, 200,
                             {"inline_string": page})
        route["match"]["headers"] = [{"name": ":method", "string_match": {"exact": "GET"}}]
        route["response_headers_to_add"] = [
            {"header": {"key": key, "value": value}, "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"}
            for key, value in (("content-type", "text/html; charset=utf-8"),
                               ("referrer-policy", "no-referrer"),
                               ("content-security-policy",
                                CONTENT_SECURITY_POLICY))]
        found.append(route)
    return found
