"""Static checks of deploy/: the Dockerfile, docker-compose.yml and the Kubernetes manifests.

No container engine or cluster runs on the test machines, so these tests parse the files
and check what matters (non-root, health checks, probes, resources, secrets kept out of
the ConfigMap, KRaft Kafka, two replicas) instead of building or applying them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
K8S = DEPLOY / "k8s"
_SECRET_KEYS = {"CONDUCTOR_SECRET_KEY", "QBD_SYNC_DATABASE_URL", "QBD_SYNC_WEBHOOK_SECRET",
                "QBD_SYNC_ADMIN_TOKEN"}  # fmt: skip


def _manifests() -> dict[str, dict[str, Any]]:
    docs = [doc for path in sorted(K8S.glob("*.yaml"))
            for doc in yaml.safe_load_all(path.read_text()) if doc]  # fmt: skip
    return {doc["kind"]: doc for doc in docs}


def _compose() -> dict[str, Any]:
    compose: dict[str, Any] = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    return compose


def _container(name: str = "qbd-sync") -> dict[str, Any]:
    pod = _manifests()["Deployment"]["spec"]["template"]["spec"]
    return next(c for c in pod["containers"] if c["name"] == name)


def test_every_manifest_parses_with_kind_and_name() -> None:
    """Each YAML document under deploy/k8s has apiVersion, kind and metadata.name."""
    kinds = _manifests()

    assert {"Deployment", "Service", "ConfigMap", "Secret", "PodDisruptionBudget"} <= set(kinds)
    for kind, doc in kinds.items():
        assert doc["apiVersion"], kind
        assert kind == "Kustomization" or doc["metadata"]["name"] == "qbd-sync"


def test_probes_hit_healthz_and_readyz_on_the_http_port() -> None:
    """Liveness probes /healthz and readiness /readyz, on the named port 8080."""
    container = _container()
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}

    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert ports == {"http": 8080}
    assert _manifests()["ConfigMap"]["data"]["QBD_SYNC_HTTP_PORT"] == "8080"


def test_containers_have_requests_and_limits() -> None:
    """Every container (and init container) sets CPU and memory requests and limits."""
    pod = _manifests()["Deployment"]["spec"]["template"]["spec"]

    for container in [*pod["containers"], *pod.get("initContainers", [])]:
        for bound in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(container["resources"][bound]), container["name"]


def test_pods_run_as_non_root_without_privileges() -> None:
    """runAsNonRoot with a numeric uid, no privilege escalation, all capabilities dropped."""
    pod = _manifests()["Deployment"]["spec"]["template"]["spec"]
    container = _container()

    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]


def test_secrets_are_in_the_secret_not_the_configmap() -> None:
    """CONDUCTOR_SECRET_KEY and the other credentials are Secret keys, never ConfigMap data."""
    kinds = _manifests()
    env_from = _container()["envFrom"]

    assert set(kinds["Secret"]["stringData"]) >= _SECRET_KEYS
    assert not _SECRET_KEYS & set(kinds["ConfigMap"]["data"])
    assert {"secretRef": {"name": "qbd-sync"}} in env_from
    assert {"configMapRef": {"name": "qbd-sync"}} in env_from


def test_disruption_budget_and_replicas_keep_one_pod_up() -> None:
    """Two replicas, a PDB allowing one down, selecting the Deployment's pods."""
    kinds = _manifests()
    deployment, pdb = kinds["Deployment"], kinds["PodDisruptionBudget"]

    assert deployment["spec"]["replicas"] >= 2
    assert pdb["spec"]["maxUnavailable"] == 1
    assert pdb["spec"]["selector"] == deployment["spec"]["selector"]
    assert kinds["Service"]["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]


def test_compose_runs_kafka_in_kraft_mode() -> None:
    """Apache Kafka's image as broker and controller, with no ZooKeeper service."""
    services = _compose()["services"]
    kafka = services["kafka"]

    assert kafka["image"].startswith("apache/kafka:")
    assert kafka["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert "KAFKA_CONTROLLER_QUORUM_VOTERS" in kafka["environment"]
    assert not any("zookeeper" in name for name in services)


def test_compose_runs_two_processors_after_migrate_with_the_simulator() -> None:
    """Two qbd-sync replicas start after a one-shot migrate, against the simulator."""
    services = _compose()["services"]
    processor = services["qbd-sync"]

    assert processor["deploy"]["replicas"] == 2
    assert processor["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert services["migrate"]["command"] == ["migrate"]
    assert services["simulator"]["command"][:3] == ["simulator", "--host", "0.0.0.0"]
    assert {"--auto-connect", "--seed-demo"} <= set(services["simulator"]["command"])
    assert processor["environment"]["QBD_SYNC_CONDUCTOR_BASE_URL"] == "http://simulator:8000/v1"
    assert {"postgres", "kafka", "topics"} <= set(services)


@pytest.fixture
def dockerfile() -> str:
    return (DEPLOY / "Dockerfile").read_text()


def test_dockerfile_runs_as_a_non_root_user(dockerfile: str) -> None:
    """The last USER is a non-zero uid (or a name other than root)."""
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.MULTILINE)

    assert users
    assert users[-1].split(":")[0] not in {"0", "root"}


def test_dockerfile_has_healthcheck_and_listens_on_all_interfaces(dockerfile: str) -> None:
    """HEALTHCHECK calls /healthz; QBD_SYNC_HTTP_HOST=0.0.0.0; pinned by constraints.txt."""
    assert re.search(r"^HEALTHCHECK .*\n?.*/healthz", dockerfile, re.MULTILINE)
    assert "QBD_SYNC_HTTP_HOST=0.0.0.0" in dockerfile
    assert "FROM python:3.11-slim" in dockerfile
    assert "-c constraints.txt" in dockerfile
