"""Company-file states, end-user headers and API keys, as the SDK's exception classes see them."""

from __future__ import annotations

import conductor
import pytest
from conductor import Conductor

from qbdsim import SimulatorServer

from .conftest import API_KEY

UNREACHABLE = [
    ("offline", "0x80040408"),
    ("wrong_company_file", "0x8004040A"),
    ("multiple_company_files", "0x8004040A"),
    ("dialog_open", "0x80040414"),
    ("user_signed_in_elsewhere", "0x80040410"),
    ("permissions_reset", "0x8004041A"),
]


@pytest.mark.parametrize(("state", "hresult"), UNREACHABLE)
def test_unreachable_company_is_a_connection_error(
    state: str, hresult: str, client: Conductor, end_user: str, sim: SimulatorServer
) -> None:
    """Each unreachable state is a 502 QBD_CONNECTION_ERROR with its HRESULT and advice."""
    sim.set_state(end_user, state)  # type: ignore[arg-type]

    with pytest.raises(conductor.InternalServerError) as caught:
        client.qbd.customers.list(conductor_end_user_id=end_user)

    error = caught.value.body["error"]
    assert caught.value.status_code == 502
    assert (error["type"], error["code"]) == (
        "INTEGRATION_CONNECTION_ERROR",
        "QBD_CONNECTION_ERROR",
    )
    assert error["integrationCode"] == hresult
    assert error["message"].startswith(f"QBD Connection Error ({hresult}): ")
    assert "To fix this" in error["userFacingMessage"]
    assert error["requestId"] == caught.value.response.headers["request-id"]


def test_new_end_user_is_not_set_up(client: Conductor) -> None:
    """A new end user's requests get 409 INTEGRATION_CONNECTION_NOT_SET_UP until setup is done."""
    user = client.end_users.create(company_name="Acme", email="a@acme.example", source_id="acme")

    with pytest.raises(conductor.ConflictError) as caught:
        client.qbd.health_check(conductor_end_user_id=user.id)

    error = caught.value.body["error"]
    assert error["code"] == "INTEGRATION_CONNECTION_NOT_SET_UP"
    assert error["httpStatusCode"] == 409
    assert "integrationCode" not in error


def test_health_check_fails_while_a_dialog_is_open(
    client: Conductor, end_user: str, sim: SimulatorServer
) -> None:
    """The health check reports a blocking dialog like any other request."""
    sim.set_state(end_user, "dialog_open")

    with pytest.raises(conductor.InternalServerError) as caught:
        client.qbd.health_check(conductor_end_user_id=end_user)

    assert caught.value.body["error"]["integrationCode"] == "0x80040414"


def test_company_recovers_when_back_online(
    client: Conductor, end_user: str, sim: SimulatorServer
) -> None:
    """Setting the state back to online makes requests succeed again."""
    sim.set_state(end_user, "offline")
    sim.set_state(end_user, "online")

    assert client.qbd.health_check(conductor_end_user_id=end_user).status == "ok"


def test_unknown_end_user_is_not_found(client: Conductor) -> None:
    """A Conductor-End-User-Id nobody created is a 404."""
    with pytest.raises(conductor.NotFoundError) as caught:
        client.qbd.customers.list(conductor_end_user_id="end_usr_nobody")

    assert caught.value.body["error"]["code"] == "RESOURCE_MISSING"


def test_missing_end_user_header_is_a_bad_request(client: Conductor) -> None:
    """A QuickBooks request without Conductor-End-User-Id is a 400."""
    with pytest.raises(conductor.BadRequestError):
        client.get(
            "/quickbooks-desktop/health-check",
            cast_to=object,
        )


def test_malformed_key_is_an_authentication_error(sim: SimulatorServer, end_user: str) -> None:
    """A key that is not sk_... is rejected with 401 AUTHENTICATION_ERROR."""
    with (
        Conductor(api_key="not-a-key", base_url=sim.base_url, max_retries=0) as bad,
        pytest.raises(conductor.AuthenticationError) as caught,
    ):
        bad.qbd.health_check(conductor_end_user_id=end_user)

    assert caught.value.body["error"]["type"] == "AUTHENTICATION_ERROR"


def test_revoked_key_is_rejected_until_restored(
    client: Conductor, end_user: str, sim: SimulatorServer
) -> None:
    """A key revoked through the control API fails; restoring it makes it work again."""
    sim.revoke_key(API_KEY)

    with pytest.raises(conductor.AuthenticationError):
        client.qbd.health_check(conductor_end_user_id=end_user)
    sim.restore_key(API_KEY)

    assert client.qbd.health_check(conductor_end_user_id=end_user).status == "ok"


def test_errors_do_not_send_should_retry_by_default(
    client: Conductor, end_user: str, sim: SimulatorServer
) -> None:
    """Error responses carry no x-should-retry header unless the faults ask for one."""
    sim.set_state(end_user, "offline")

    with pytest.raises(conductor.InternalServerError) as caught:
        client.qbd.health_check(conductor_end_user_id=end_user)

    assert "x-should-retry" not in caught.value.response.headers


def _connection(client: Conductor, end_user: str) -> dict[str, str | None]:
    """The end-user's QuickBooks Desktop connection as the end-user list shows it."""
    user = next(u for u in client.end_users.list().data if u.id == end_user)
    [connection] = user.integration_connections
    return {
        "created_at": connection.created_at,
        "last_request_at": connection.last_request_at,
        "last_successful_request_at": connection.last_successful_request_at,
    }


def test_a_new_end_user_has_no_connection_until_set_up(
    client: Conductor, sim: SimulatorServer
) -> None:
    """The end-user list shows a QuickBooks Desktop connection only once setup is done."""
    user = client.end_users.create(company_name="Acme", email="a@acme.example", source_id="acme")
    before = client.end_users.retrieve(user.id).integration_connections

    sim.connect(user.id)

    assert before == []
    assert _connection(client, user.id)["created_at"]


def test_a_failed_request_sets_only_last_request_at(
    client: Conductor, end_user: str, sim: SimulatorServer
) -> None:
    """A request QuickBooks cannot answer sets lastRequestAt, not lastSuccessfulRequestAt."""
    sim.set_state(end_user, "offline")

    with pytest.raises(conductor.InternalServerError):
        client.qbd.health_check(conductor_end_user_id=end_user)

    connection = _connection(client, end_user)
    assert connection["last_request_at"] is not None
    assert connection["last_successful_request_at"] is None


def test_a_successful_request_sets_both_request_times(
    client: Conductor, end_user: str, sim: SimulatorServer
) -> None:
    """A request answered end to end sets lastRequestAt and lastSuccessfulRequestAt."""
    sim.set_state(end_user, "offline")
    with pytest.raises(conductor.InternalServerError):
        client.qbd.health_check(conductor_end_user_id=end_user)
    sim.set_state(end_user, "online")

    client.qbd.health_check(conductor_end_user_id=end_user)

    connection = _connection(client, end_user)
    assert connection["last_successful_request_at"] is not None
    assert connection["last_successful_request_at"] == connection["last_request_at"]
