"""End-user faults (deletion, permission denied) and deterministic error injection."""

from __future__ import annotations

import conductor
import httpx
import pytest
from conductor import Conductor

from qbdsim import ERROR_CATALOG, SimulatorServer


def _online_user(client: Conductor, sim: SimulatorServer, source_id: str) -> str:
    user = client.end_users.create(
        company_name=source_id, email=f"{source_id}@example.com", source_id=source_id
    )
    sim.connect(user.id)
    return user.id


def test_calls_for_a_deleted_end_user_are_404(client: Conductor, sim: SimulatorServer) -> None:
    """After DELETE /end-users/{id}, its QuickBooks calls answer RESOURCE_MISSING naming it."""
    end_user = _online_user(client, sim, "acct_1")

    client.end_users.delete(end_user)

    with pytest.raises(conductor.NotFoundError) as caught:
        client.qbd.customers.list(conductor_end_user_id=end_user)
    error = caught.value.body["error"]
    assert (error["type"], error["code"]) == ("INVALID_REQUEST_ERROR", "RESOURCE_MISSING")
    assert end_user in error["message"]


def test_end_user_deleted_out_of_band_is_gone(client: Conductor, sim: SimulatorServer) -> None:
    """An end-user deleted through the control API is no longer listed or reachable."""
    end_user = _online_user(client, sim, "acct_1")

    sim.delete_end_user(end_user)

    assert client.end_users.list().data == []
    with pytest.raises(conductor.NotFoundError):
        client.qbd.health_check(conductor_end_user_id=end_user)


def test_source_id_is_unique_while_the_end_user_lives(
    client: Conductor, sim: SimulatorServer
) -> None:
    """A second end-user with a live end-user's sourceId is refused."""
    _online_user(client, sim, "acct_1")

    with pytest.raises(conductor.BadRequestError) as caught:
        client.end_users.create(company_name="Again", email="a@example.com", source_id="acct_1")

    assert caught.value.body["error"]["code"] == "DUPLICATE_SOURCE_ID"


def test_replacement_end_user_takes_the_same_source_id(
    client: Conductor, sim: SimulatorServer
) -> None:
    """After deletion, a new end-user with the same sourceId gets a new id and an empty file."""
    old = _online_user(client, sim, "acct_1")
    client.qbd.customers.create(name="Acme", conductor_end_user_id=old)
    client.end_users.delete(old)

    new = _online_user(client, sim, "acct_1")

    assert new != old
    assert [u.source_id for u in client.end_users.list().data] == ["acct_1"]
    assert list(client.qbd.customers.list(conductor_end_user_id=new)) == []


def test_denied_end_user_gets_a_permission_error(
    client: Conductor, sim: SimulatorServer, end_user: str
) -> None:
    """While denied, QuickBooks calls answer 403 PERMISSION_ERROR with a user-facing message."""
    sim.set_permission(end_user, denied=True)

    with pytest.raises(conductor.PermissionDeniedError) as caught:
        client.qbd.customers.create(name="Acme", conductor_end_user_id=end_user)

    error = caught.value.body["error"]
    assert (error["type"], error["code"], error["httpStatusCode"]) == (
        "PERMISSION_ERROR",
        "END_USER_FORBIDDEN",
        403,
    )
    assert error["userFacingMessage"]
    assert sim.objects(end_user, "customers") == []


def test_denial_spares_other_end_users_and_the_end_user_list(
    client: Conductor, sim: SimulatorServer, end_user: str
) -> None:
    """Another end-user's calls and GET /end-users keep working while one is denied."""
    other = _online_user(client, sim, "acct_other")
    sim.set_permission(end_user, denied=True)

    created = client.qbd.customers.create(name="Acme", conductor_end_user_id=other)

    assert created.name == "Acme"
    assert {u.id for u in client.end_users.list().data} >= {other}


def test_restored_permission_lets_calls_through(
    client: Conductor, sim: SimulatorServer, end_user: str
) -> None:
    """Lifting the denial makes the end-user's calls succeed again."""
    sim.set_permission(end_user, denied=True)
    sim.set_permission(end_user, denied=False)

    assert client.qbd.health_check(conductor_end_user_id=end_user).status == "ok"


def test_injected_error_answers_the_next_request_only(
    client: Conductor, sim: SimulatorServer, end_user: str
) -> None:
    """An injection with count 1 answers its envelope once, then requests run normally."""
    sim.inject(status=400, type="INVALID_REQUEST_ERROR", code="MISSING_REQUIRED_PARAMETER")

    with pytest.raises(conductor.BadRequestError) as caught:
        client.qbd.customers.create(name="Acme", conductor_end_user_id=end_user)
    second = client.qbd.customers.create(name="Acme", conductor_end_user_id=end_user)

    error = caught.value.body["error"]
    assert (error["type"], error["code"], error["httpStatusCode"]) == (
        "INVALID_REQUEST_ERROR",
        "MISSING_REQUIRED_PARAMETER",
        400,
    )
    assert "integrationCode" not in error
    assert second.name == "Acme"
    assert [c["name"] for c in sim.objects(end_user, "customers")] == ["Acme"]


def test_injection_carries_the_integration_code(
    client: Conductor, sim: SimulatorServer, end_user: str
) -> None:
    """An injected QuickBooks error carries its integrationCode as a string."""
    sim.inject(
        status=502, type="INTEGRATION_ERROR", code="QBD_REQUEST_ERROR", integration_code="3175"
    )

    with pytest.raises(conductor.InternalServerError) as caught:
        client.qbd.customers.list(conductor_end_user_id=end_user)

    assert caught.value.body["error"]["integrationCode"] == "3175"


def test_injection_targets_one_end_user(
    client: Conductor, sim: SimulatorServer, end_user: str
) -> None:
    """An injection for one end-user leaves another end-user's requests alone."""
    other = _online_user(client, sim, "acct_other")
    sim.inject(
        status=500, type="INTERNAL_ERROR", code="INTERNAL_SERVER_ERROR", end_user_id=end_user
    )

    ok = client.qbd.health_check(conductor_end_user_id=other)

    with pytest.raises(conductor.InternalServerError):
        client.qbd.health_check(conductor_end_user_id=end_user)
    assert ok.status == "ok"


def test_writes_only_injection_lets_reads_through(
    client: Conductor, sim: SimulatorServer, end_user: str
) -> None:
    """A writes-only injection skips reads and answers the next write."""
    sim.inject(
        status=409, type="INTEGRATION_CONNECTION_ERROR", code="X_TEST", count=2, writes_only=True
    )

    client.qbd.customers.list(conductor_end_user_id=end_user)
    failures = 0
    for name in ("A", "B", "C"):
        try:
            client.qbd.customers.create(name=name, conductor_end_user_id=end_user)
        except conductor.ConflictError:
            failures += 1

    assert failures == 2
    assert [c["name"] for c in sim.objects(end_user, "customers")] == ["C"]


def test_invalid_injection_is_a_400(sim: SimulatorServer) -> None:
    """An injection without a valid status is refused by the control API."""
    response = httpx.post(
        f"{sim.control_url}/faults", json={"inject": {"status": 200, "type": "X", "code": "Y"}}
    )

    assert response.status_code == 400


def test_errors_the_simulator_answers_are_catalogued(client: Conductor, end_user: str) -> None:
    """Errors of several kinds each match an ERROR_CATALOG entry exactly."""
    seen = []
    attempts = [
        lambda: client.qbd.invoices.create(
            customer_id="80000099-1", transaction_date="2024-10-01", conductor_end_user_id=end_user
        ),
        lambda: client.qbd.customers.list(cursor="nope", conductor_end_user_id=end_user),
        lambda: client.qbd.customers.list(conductor_end_user_id="end_usr_nobody"),
        lambda: client.with_options(api_key="bad").end_users.list(),
    ]
    for attempt in attempts:
        with pytest.raises(conductor.APIStatusError) as caught:
            attempt()
        error = caught.value.body["error"]
        seen.append(
            (error["httpStatusCode"], error["type"], error["code"], error.get("integrationCode"))
        )

    assert all(entry in ERROR_CATALOG for entry in seen), seen
    assert len(set(seen)) == len(attempts)
