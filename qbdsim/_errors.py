"""The Conductor error envelope and every QuickBooks failure the simulator can produce.

::

    SimError                      one error response: status, envelope fields, extra headers
    ├── built by request_error()      QuickBooks rejected the request (type INTEGRATION_ERROR)
    ├── built by connection_error()   QuickBooks is unreachable (type INTEGRATION_CONNECTION_ERROR)
    ├── built by permission_error()   the end-user may not use QuickBooks now (PERMISSION_ERROR)
    └── built by invalid_request(), not_found(), authentication_error(), fault_error()

The catalogue :data:`COMPANY_STATES` maps each company-file state of the control API to the
error Conductor returns while the file is in that state. The HRESULTs and QuickBooks texts are
the QuickBooks SDK's own (see CONDUCTOR_API.md section 4); the user-facing texts are ours,
written to tell the end user what to do.

:data:`ERROR_CATALOG` lists every (status, type, code, integrationCode) the simulator itself
answers with, so property tests can draw from it; the builders below refuse codes outside it.
Errors injected through ``/_sim/faults`` (``inject``) are whatever the test asks for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

__all__ = [
    "COMPANY_STATES",
    "ERROR_CATALOG",
    "INVALID_REQUEST_CODES",
    "ONLINE",
    "QBD_REQUEST_CODES",
    "ConnectionFailure",
    "SimError",
    "authentication_error",
    "connection_error",
    "fault_error",
    "invalid_request",
    "not_found",
    "permission_error",
    "request_error",
]

ONLINE: Final = "online"

_RETRY_LATER: Final = "An internal server error occurred. Please try again later."


@dataclass(slots=True)
class SimError(Exception):
    """An error response in Conductor's envelope."""

    status: int
    type: str
    code: str
    message: str
    user_facing_message: str
    integration_code: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    injected: bool = False  # asked for through the control API, not produced by a rule

    def envelope(self, request_id: str) -> dict[str, Any]:
        """Return the JSON body: ``{"error": {...}}`` with ``integrationCode`` only when set."""
        error: dict[str, Any] = {
            "message": self.message,
            "userFacingMessage": self.user_facing_message,
            "type": self.type,
            "code": self.code,
            "httpStatusCode": self.status,
            "requestId": request_id,
        }
        if self.integration_code is not None:
            error["integrationCode"] = self.integration_code
        return {"error": error}


@dataclass(frozen=True, slots=True)
class ConnectionFailure:
    """What Conductor answers while a company file is in one unreachable state."""

    status: int
    code: str
    hresult: str | None
    qb_text: str
    user_facing_message: str


_CONNECTION: Final = "INTEGRATION_CONNECTION_ERROR"

COMPANY_STATES: Final[dict[str, ConnectionFailure | None]] = {
    ONLINE: None,
    # The computer is off or asleep, or the Web Connector is closed: nothing can start QuickBooks.
    "offline": ConnectionFailure(
        502,
        "QBD_CONNECTION_ERROR",
        "0x80040408",
        "Could not start QuickBooks.",
        "We could not connect to QuickBooks Desktop because the computer running it is offline "
        "or QuickBooks Web Connector is not running. To fix this, turn on the computer, open "
        "QuickBooks Web Connector, and make sure our app is checked for automatic updates. "
        "Then try again.",
    ),
    "wrong_company_file": ConnectionFailure(
        502,
        "QBD_CONNECTION_ERROR",
        "0x8004040A",
        "QuickBooks company data file is already open and it is different from the one requested.",
        "We could not connect to QuickBooks Desktop because a different company file is open. "
        "To fix this, close the open company file in QuickBooks Desktop and open the company "
        "file you connected to our app. Then try again.",
    ),
    # The Web Connector runs against one file per connection; a second open file shows up as
    # the same HRESULT as a wrong file, only the advice differs.
    "multiple_company_files": ConnectionFailure(
        502,
        "QBD_CONNECTION_ERROR",
        "0x8004040A",
        "QuickBooks company data file is already open and it is different from the one requested.",
        "We could not connect to QuickBooks Desktop because more than one company file is open "
        "on this computer. To fix this, close every QuickBooks Desktop window except the one "
        "showing the company file you connected to our app. Then try again.",
    ),
    "dialog_open": ConnectionFailure(
        502,
        "QBD_CONNECTION_ERROR",
        "0x80040414",
        "A modal dialog box is showing in the QuickBooks user interface. Your application "
        "cannot access QuickBooks until the user dismisses the dialog box.",
        "We could not connect to QuickBooks Desktop because a window or message is open in "
        "QuickBooks Desktop. To fix this, go to QuickBooks Desktop, close any open windows or "
        "messages (for example a backup reminder or an update prompt), and leave QuickBooks on "
        "its home screen. Then try again.",
    ),
    "user_signed_in_elsewhere": ConnectionFailure(
        502,
        "QBD_CONNECTION_ERROR",
        "0x80040410",
        "The QuickBooks company data file is currently open in a mode other than the one "
        "specified by your application.",
        "We could not connect to QuickBooks Desktop because the same QuickBooks user is signed "
        "in on another computer, or the company file is open in single-user mode elsewhere. To "
        "fix this, sign that user out of QuickBooks Desktop on the other computer (or switch "
        "the file to multi-user mode). Then try again.",
    ),
    "permissions_reset": ConnectionFailure(
        502,
        "QBD_CONNECTION_ERROR",
        "0x8004041A",
        "This application does not have permission to access this QuickBooks company data "
        "file. The QuickBooks administrator can grant access permission through the Integrated "
        "Application preferences.",
        "We could not connect to QuickBooks Desktop because our app's access was reset, which "
        "happens after a QuickBooks update or a company file restore. To fix this, open "
        "QuickBooks Desktop, log in as Admin, go to 'Edit > Preferences > Integrated "
        "Applications', click 'Company Preferences', select our app, click 'Properties...', "
        "check 'Allow this application to read and modify this company file' and 'Allow this "
        "application to log in automatically', then click 'OK'. Then try again.",
    ),
    "not_set_up": ConnectionFailure(
        409,
        "INTEGRATION_CONNECTION_NOT_SET_UP",
        None,
        "The end-user has not completed the QuickBooks Desktop connection setup.",
        "Your QuickBooks Desktop connection is not set up yet. To fix this, open the setup link "
        "we sent you, install QuickBooks Web Connector, and add our app to it by following the "
        "steps on screen. Then try again.",
    ),
}


def connection_error(state: str) -> SimError:
    """Return the error Conductor answers while a company file is in ``state``."""
    failure = COMPANY_STATES[state]
    if failure is None:
        raise ValueError(f"state {state!r} is not a failure")
    if failure.hresult is None:
        message = f"The end-user's QuickBooks Desktop connection is not set up: {failure.qb_text}"
    else:
        message = f"QBD Connection Error ({failure.hresult}): {failure.qb_text}"
    return SimError(
        failure.status,
        _CONNECTION,
        failure.code,
        message,
        failure.user_facing_message,
        failure.hresult,
    )


def request_error(integration_code: str, qb_text: str, status: int = 502) -> SimError:
    """Return a QuickBooks rejection (``QBD_REQUEST_ERROR``) with its qbXML status code."""
    if integration_code not in QBD_REQUEST_CODES:
        raise ValueError(f"{integration_code!r} is not in QBD_REQUEST_CODES")
    return SimError(
        status,
        "INTEGRATION_ERROR",
        "QBD_REQUEST_ERROR",
        f"QBD Request Error ({integration_code}): {qb_text}",
        "QuickBooks Desktop could not save this change: "
        f"{qb_text} Please correct it in QuickBooks Desktop or contact support.",
        integration_code,
    )


def invalid_request(message: str, code: str = "INVALID_REQUEST", status: int = 400) -> SimError:
    """Return a request Conductor rejects before it reaches QuickBooks."""
    if code not in INVALID_REQUEST_CODES:
        raise ValueError(f"{code!r} is not in INVALID_REQUEST_CODES")
    return SimError(status, "INVALID_REQUEST_ERROR", code, message, _RETRY_LATER)


def not_found(message: str) -> SimError:
    """Return a 404 for an unknown route, end-user, or object."""
    return SimError(404, "INVALID_REQUEST_ERROR", "RESOURCE_MISSING", message, _RETRY_LATER)


def authentication_error(message: str) -> SimError:
    """Return the 401 for a missing, malformed or revoked secret key."""
    return SimError(401, "AUTHENTICATION_ERROR", "API_KEY_INVALID", message, _RETRY_LATER)


def fault_error(status: int, retry_after_s: float | None = None) -> SimError:
    """Return an injected transient failure with status ``status`` (429 carries Retry-After)."""
    if status == 429:
        seconds = 1.0 if retry_after_s is None else retry_after_s
        return SimError(
            429,
            "INVALID_REQUEST_ERROR",
            "TOO_MANY_REQUESTS",
            "Too many requests. Please slow down and retry after the Retry-After interval.",
            _RETRY_LATER,
            headers={"retry-after": f"{seconds:g}"},
        )
    if status == 504:
        return SimError(
            504,
            _CONNECTION,
            "QBD_REQUEST_TIMEOUT",
            "QuickBooks Desktop did not respond to the request in time.",
            "QuickBooks Desktop took too long to respond. Please try again later.",
        )
    if status == 502:
        return SimError(
            502,
            _CONNECTION,
            "QBD_CONNECTION_ERROR",
            "QBD Connection Error (0x8004041C): An internal QuickBooks error occurred while "
            "trying to access the QuickBooks company data file.",
            "QuickBooks Desktop hit an internal error. Please try again later.",
            "0x8004041C",
        )
    return SimError(status, "INTERNAL_ERROR", "INTERNAL_SERVER_ERROR", _RETRY_LATER, _RETRY_LATER)


def permission_error(end_user_id: str) -> SimError:
    """Return the 403 for an end-user whose QuickBooks access is denied (control API)."""
    return SimError(
        403,
        "PERMISSION_ERROR",
        "END_USER_FORBIDDEN",
        f"The end-user {end_user_id!r} is not permitted to make QuickBooks Desktop requests "
        "with this API key.",
        "We are not allowed to reach your QuickBooks Desktop company file right now. Please ask "
        "your administrator to restore this app's access, then try again.",
    )


def injected_error(
    status: int,
    type: str,
    code: str,
    integration_code: str | None,
    message: str | None = None,
    user_facing_message: str | None = None,
    *,
    retry_after_s: float | None = None,
) -> SimError:
    """Return an error a test injected through the control API."""
    text = message or f"Injected error {code} (status {status})."
    headers = {} if retry_after_s is None else {"retry-after": f"{retry_after_s:g}"}
    return SimError(
        status,
        type,
        code,
        text,
        user_facing_message or _RETRY_LATER,
        integration_code,
        injected=True,
        headers=headers,
    )


# qbXML status codes QuickBooks answers with here: 3070 string too long, 3100 name in use,
# 3120 object not found, 3140 invalid reference, 3170 error modifying (closing date, colon on
# rename), 3180 error saving (amounts exceed a balance, closing date, colon), 3200 stale
# edit sequence; "500" (HTTP 404) is a list filter naming an id that does not exist.
QBD_REQUEST_CODES: Final = ("3070", "3100", "3120", "3140", "3170", "3180", "3200", "500")
INVALID_REQUEST_CODES: Final = (
    "INVALID_REQUEST",
    "MISSING_REQUIRED_PARAMETER",
    "MISSING_END_USER_ID",
    "INVALID_CURSOR",
    "DUPLICATE_SOURCE_ID",
    "INVALID_PUBLISHABLE_KEY",
)


def _catalog() -> tuple[tuple[int, str, str, str | None], ...]:
    entries: list[tuple[int, str, str, str | None]] = []
    for failure in COMPANY_STATES.values():
        if failure is not None:
            entries.append((failure.status, _CONNECTION, failure.code, failure.hresult))
    for code in QBD_REQUEST_CODES:
        entries.append(
            (404 if code == "500" else 502, "INTEGRATION_ERROR", "QBD_REQUEST_ERROR", code)
        )
    entries += [(400, "INVALID_REQUEST_ERROR", code, None) for code in INVALID_REQUEST_CODES]
    entries += [
        (404, "INVALID_REQUEST_ERROR", "RESOURCE_MISSING", None),
        (401, "AUTHENTICATION_ERROR", "API_KEY_INVALID", None),
        (403, "PERMISSION_ERROR", "END_USER_FORBIDDEN", None),
    ]
    # Injected transient faults (POST /_sim/faults with `status`); other statuses than 500 and
    # 503 answer INTERNAL_ERROR / INTERNAL_SERVER_ERROR with that status.
    for status in (429, 500, 502, 503, 504):
        error = fault_error(status)
        entries.append((error.status, error.type, error.code, error.integration_code))
    return tuple(dict.fromkeys(entries))


ERROR_CATALOG: Final = _catalog()
