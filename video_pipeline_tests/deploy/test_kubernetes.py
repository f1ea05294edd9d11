"""The Kubernetes shape: values for the official Dagster chart, oauth2-proxy in front of the
ingress, and the plain manifests of the metrics endpoint and the workers."""

from __future__ import annotations

from typing import Any

from video_pipeline_tests.deploy.layout import (
    HELM_VALUES,
    OAUTH2_PROXY_VALUES,
    PLATFORM_MANIFESTS,
    load_manifests,
    load_yaml,
    pod_containers,
)


def values() -> dict[str, Any]:
    data: dict[str, Any] = load_yaml(HELM_VALUES)
    return data


def manifests(kind: str) -> list[dict[str, Any]]:
    return [m for m in load_manifests(PLATFORM_MANIFESTS) if m["kind"] == kind]


def test_the_chart_runs_our_image_everywhere_with_the_k8s_run_launcher() -> None:
    chart = values()
    images = {
        (image["repository"], str(image["tag"]))
        for image in [
            chart["dagsterWebserver"]["image"],
            chart["dagsterDaemon"]["image"],
            *(d["image"] for d in chart["dagster-user-deployments"]["deployments"]),
        ]
    }
    images |= {
        tuple(container["image"].rsplit(":", 1))
        for deployment in manifests("Deployment")
        for container in pod_containers(deployment)
    }
    assert len(images) == 1, images
    assert chart["runLauncher"]["type"] == "K8sRunLauncher"
    assert chart["dagster-user-deployments"]["enabled"] is True
    deployment = chart["dagster-user-deployments"]["deployments"][0]
    assert deployment["dagsterApiGrpcArgs"] == ["-m", "video_pipeline.definitions"]
    assert deployment["includeConfigInLaunchedRuns"] == {"enabled": True}


def test_nothing_of_the_chart_is_exposed_but_through_the_authenticated_ingress() -> None:
    chart = values()
    assert chart["dagsterWebserver"]["service"]["type"] == "ClusterIP"
    for bundled in ("postgresql", "rabbitmq", "redis", "flower"):
        assert chart[bundled]["enabled"] is False, bundled
    assert chart["generatePostgresqlPasswordSecret"] is False
    assert chart["dagsterWebserver"]["enableReadOnly"] is False
    ingress = chart["ingress"]
    assert ingress["enabled"] is True
    annotations = ingress["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/auth-url"].endswith("/oauth2/auth")
    assert "/oauth2/start" in annotations["nginx.ingress.kubernetes.io/auth-signin"]
    assert ingress["dagsterWebserver"]["tls"]["enabled"] is True


def test_metrics_are_routed_through_the_same_authenticated_ingress() -> None:
    paths = values()["ingress"]["dagsterWebserver"]["precedingPaths"]
    assert [p["path"] for p in paths] == ["/metrics"]
    (service,) = manifests("Service")
    assert paths[0]["serviceName"] == service["metadata"]["name"]
    assert paths[0]["servicePort"] == service["spec"]["ports"][0]["port"]
    (metrics,) = [m for m in manifests("Deployment") if "metrics" in m["metadata"]["name"]]
    (container,) = pod_containers(metrics)
    assert container["command"][container["command"].index("--port") + 1] == str(
        service["spec"]["ports"][0]["port"]
    )


def test_oauth2_proxy_serves_its_sign_in_on_the_ingress_host() -> None:
    proxy = load_yaml(OAUTH2_PROXY_VALUES)
    host = values()["ingress"]["dagsterWebserver"]["host"]
    assert proxy["ingress"]["enabled"] is True
    assert proxy["ingress"]["path"] == "/oauth2"
    assert proxy["ingress"]["hosts"] == [host]
    assert proxy["service"]["type"] == "ClusterIP"
    assert proxy["config"]["existingSecret"]
    assert 'upstreams = [ "static://202" ]' in proxy["config"]["configFile"]


def test_platform_manifests_publish_nothing_and_size_render_workers_apart() -> None:
    for service in manifests("Service"):
        assert service["spec"]["type"] == "ClusterIP"
    for deployment in manifests("Deployment"):
        pod = deployment["spec"]["template"]["spec"]
        assert not pod.get("hostNetwork"), deployment["metadata"]["name"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        for container in pod["containers"]:
            assert not [p for p in container.get("ports", []) if "hostPort" in p]
    workers = {
        d["metadata"]["name"]: pod_containers(d)[0]
        for d in manifests("Deployment")
        if "worker" in d["metadata"]["name"]
    }
    queues = {name: c["command"][c["command"].index("--queue") + 1] for name, c in workers.items()}
    assert sorted(queues.values()) == ["content", "render"]
    requests = {queues[name]: c["resources"]["requests"] for name, c in workers.items()}
    assert requests["render"]["cpu"] == "2" and requests["render"]["memory"] == "2Gi"
    assert requests["content"] != requests["render"]
    policies = {p["metadata"]["name"]: p for p in manifests("NetworkPolicy")}
    assert policies["video-pipeline-workers"]["spec"]["ingress"] == []
