"""The one-host compose file: only the proxy is published, it authenticates the UI and the
metrics endpoint, every long-running service has a health check."""

from __future__ import annotations

import re

from video_pipeline_tests.deploy.layout import CADDYFILE, app_services, compose

DATA_SERVICES = {"postgres", "minio", "broker"}


def test_only_the_proxy_publishes_ports() -> None:
    services = compose()["services"]
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"proxy"}
    assert not [name for name, s in services.items() if s.get("network_mode") == "host"]
    assert not [name for name, s in services.items() if s.get("expose")]


def test_data_services_sit_on_an_internal_network_the_proxy_cannot_reach() -> None:
    services = compose()["services"]
    networks = compose()["networks"]
    assert networks["data"]["internal"] is True
    for name in DATA_SERVICES:
        assert services[name]["networks"] == ["data"], name
    assert services["proxy"]["networks"] == ["edge"]
    behind_proxy = {name for name, s in services.items() if "edge" in s.get("networks", [])}
    assert behind_proxy == {"proxy", "webserver", "metrics"}


def caddy_site_blocks() -> list[str]:
    """The innermost `handle` blocks of the Caddyfile, comments removed."""
    text = "\n".join(line.split("#")[0] for line in CADDYFILE.read_text().splitlines())
    blocks, depth, start = [], 0, 0
    for match in re.finditer(r"handle(?:\s+@\w+)?\s*\{|\{|\}", text):
        token = match.group(0)
        if token.startswith("handle"):
            if depth == 1:
                start = match.start()
            depth += 1
        elif token == "{":
            depth += 1
        else:
            depth -= 1
            if depth == 1 and start:
                blocks.append(text[start : match.end()])
                start = 0
    return blocks


def test_the_proxy_authenticates_every_route_to_ui_and_metrics() -> None:
    services = app_services()
    ui_port = services["webserver"]["command"][services["webserver"]["command"].index("-p") + 1]
    metrics_command = services["metrics"]["command"]
    metrics_port = metrics_command[metrics_command.index("--port") + 1]
    upstreams = {}
    for block in caddy_site_blocks():
        target = re.search(r"reverse_proxy\s+(\S+)", block)
        assert target is not None, block
        assert re.search(r"basic_auth\s*\{\s*\{\$\w+\}\s+\{\$\w+\}\s*\}", block), (
            f"a route without authentication: {block}"
        )
        upstreams[target.group(1)] = block
    assert set(upstreams) == {f"webserver:{ui_port}", f"metrics:{metrics_port}"}
    assert "@metrics" in upstreams[f"metrics:{metrics_port}"]
    # Nothing is proxied outside those authenticated blocks.
    assert CADDYFILE.read_text().count("reverse_proxy") == len(upstreams)
    proxy_env = compose()["services"]["proxy"]["environment"]
    for name in ("UI_USER", "UI_PASSWORD_HASH", "METRICS_USER", "METRICS_PASSWORD_HASH"):
        assert proxy_env[name].startswith(f"${{{name}:?"), f"{name} must be required"


def test_long_running_services_have_health_checks_and_wait_for_healthy_ones() -> None:
    services = compose()["services"]
    one_shot = {name for name, s in services.items() if s.get("restart") == "no"}
    assert one_shot == {"migrate"}
    for name, service in services.items():
        if name in one_shot:
            continue
        test = service.get("healthcheck", {}).get("test")
        assert test and test[0] in ("CMD", "CMD-SHELL") and len(test) > 1, name
        for needed, condition in service.get("depends_on", {}).items():
            wanted = "service_completed_successfully" if needed in one_shot else "service_healthy"
            assert condition == {"condition": wanted}, f"{name} -> {needed}"


def test_every_app_service_runs_the_same_image_with_the_same_settings() -> None:
    services = app_services()
    assert {"webserver", "daemon", "codeserver", "metrics", "migrate"} <= set(services)
    assert {"worker-content", "worker-render"} <= set(services)
    assert len({s["image"] for s in services.values()}) == 1
    base = services["codeserver"]["environment"]
    for name, service in services.items():
        assert base.items() <= service["environment"].items(), name


def test_celery_workers_serve_one_queue_each_and_start_with_their_profile() -> None:
    services = compose()["services"]
    queues = {
        name: s["command"][s["command"].index("--queue") + 1]
        for name, s in services.items()
        if "worker" in s.get("command", [])
    }
    assert queues == {"worker-content": "content", "worker-render": "render"}
    for name in [*queues, "broker"]:
        assert services[name]["profiles"] == ["celery"]
