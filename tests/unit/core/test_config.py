from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.core.config import env_var, load_stack, project_slug
from shipyard.core.errors import ConfigError


def test_conventions_discover_environments_and_paths(project: Path) -> None:
    """With no settings, the layout itself describes the stack."""
    stack = load_stack()
    assert stack.root == project
    assert stack.project == "demo-app"
    assert stack.environments == ("ci", "dev", "prod", "test")
    assert stack.compose_dir == project / "compose"
    assert stack.env_dir == project / "env"
    assert stack.compose_files("dev") == (
        project / "compose/docker-compose.yml",
        project / "compose/docker-compose.dev.yml",
    )
    assert stack.timeout == 180.0
    assert stack.ca_bundle is None


def test_root_is_found_from_a_subfolder(project: Path) -> None:
    """Running from deep inside the project finds the same root."""
    sub = project / "compose"
    assert load_stack(sub).root == project


@pytest.mark.parametrize("settings", ["[tool.shipyard]\ntimeout = 60\n", None])
def test_a_service_pyproject_below_the_root_is_not_the_root(
    project: Path, settings: str | None
) -> None:
    """From app/src, app/pyproject.toml (the service's own) does not make app/ the project."""
    if settings is None:
        (project / "pyproject.toml").unlink(missing_ok=True)
        (project / "shipyard.toml").write_text("timeout = 60\n")
    else:
        (project / "pyproject.toml").write_text('[project]\nname = "demo-app"\n' + settings)
    (project / "app/src").mkdir(parents=True)
    (project / "app/pyproject.toml").write_text('[project]\nname = "service"\n')
    stack = load_stack(project / "app/src")
    assert (stack.root, stack.timeout) == (project, 60.0)


def test_without_settings_the_compose_folder_marks_the_root(project: Path) -> None:
    """No [tool.shipyard] anywhere: the folder with compose/docker-compose.yml wins."""
    (project / "app/src").mkdir(parents=True)
    (project / "app/pyproject.toml").write_text('[project]\nname = "service"\n')
    assert load_stack(project / "app/src").root == project


@pytest.mark.parametrize(
    ("key", "fix"),
    [
        ("image", "give each built service 'image: name:tag' in compose/"),
        ("dockerfile", "set 'build: {dockerfile: ...}' on the services in compose/"),
        ("context", "set 'build: {context: ...}' on the services in compose/"),
        (
            "targets",
            "set 'build: {target: ...}' per environment in compose/docker-compose.<env>.yml",
        ),
    ],
)
def test_settings_of_the_one_image_model_point_at_compose(
    project: Path, key: str, fix: str
) -> None:
    """image/dockerfile/context/targets moved to Compose: the error says where they live now."""
    with (project / "pyproject.toml").open("a") as f:
        f.write(f'{key} = "x"\n' if key != "targets" else '[tool.shipyard.targets]\nx = "y"\n')
    with pytest.raises(ConfigError) as caught:
        load_stack()
    assert caught.value.message == f"[tool.shipyard] {key}: images are declared in Compose now"
    assert caught.value.tip == f"{fix}, then remove the key from [tool.shipyard]"


def test_pyproject_beats_convention(project: Path) -> None:
    """A [tool.shipyard] value replaces the convention and says where it came from."""
    with (project / "pyproject.toml").open("a") as f:
        f.write('project = "Other Name"\ntimeout = 30\n')
    stack = load_stack()
    assert stack.project == "other-name"
    assert stack.timeout == 30.0
    assert stack.sources["timeout"] == "pyproject.toml"


def test_environment_variable_beats_pyproject(project: Path) -> None:
    """SHIPYARD_TIMEOUT wins over [tool.shipyard] timeout."""
    with (project / "pyproject.toml").open("a") as f:
        f.write("timeout = 30\n")
    stack = load_stack(environ={"SHIPYARD_TIMEOUT": "45"})
    assert stack.timeout == 45.0
    assert stack.sources["timeout"] == "SHIPYARD_TIMEOUT"


def test_flag_beats_environment_variable(project: Path) -> None:
    """A command-line flag wins over the environment variable."""
    stack = load_stack(flags={"timeout": "5"}, environ={"SHIPYARD_TIMEOUT": "45"})
    assert stack.timeout == 5.0
    assert stack.sources["timeout"] == "flag"


def test_absent_flag_and_empty_variable_fall_through(project: Path) -> None:
    """A flag not given (None) or an empty variable does not count as a value."""
    with (project / "pyproject.toml").open("a") as f:
        f.write("timeout = 30\n")
    stack = load_stack(flags={"timeout": None}, environ={"SHIPYARD_TIMEOUT": ""})
    assert stack.timeout == 30.0


def test_ca_bundle_from_the_users_environment(project: Path) -> None:
    """SSL_CERT_FILE, PIP_CERT or REQUESTS_CA_BUNDLE name the CA bundle, in that order."""
    stack = load_stack(environ={"PIP_CERT": "/pip.pem", "REQUESTS_CA_BUNDLE": "/req.pem"})
    assert stack.ca_bundle == Path("/pip.pem")
    assert stack.sources["ca-bundle"] == "PIP_CERT"


def test_explicit_ca_bundle_beats_the_users_environment(project: Path) -> None:
    """SHIPYARD_CA_BUNDLE wins over SSL_CERT_FILE."""
    stack = load_stack(environ={"SSL_CERT_FILE": "/a.pem", "SHIPYARD_CA_BUNDLE": "/b.pem"})
    assert stack.ca_bundle == Path("/b.pem")


def test_unknown_environment_names_the_known_ones(project: Path) -> None:
    """A typo in an environment name lists what exists and how to add one."""
    with pytest.raises(ConfigError) as caught:
        load_stack().check_env("stagign")
    assert (
        caught.value.message
        == "unknown environment 'stagign' (this stack has: ci, dev, prod, test)"
    )
    assert caught.value.tip == "use one of those, or add compose/docker-compose.stagign.yml"


def test_unknown_pyproject_key(project: Path) -> None:
    """A misspelt [tool.shipyard] key is an error, not silently ignored."""
    with (project / "pyproject.toml").open("a") as f:
        f.write('imagee = "x"\n')
    with pytest.raises(ConfigError, match=r"unknown key\(s\) in \[tool.shipyard\]: imagee"):
        load_stack()


def test_bad_timeout(project: Path) -> None:
    """A timeout that is not a number names its source."""
    with pytest.raises(ConfigError, match=r"not 'soon' \(from SHIPYARD_TIMEOUT\)"):
        load_stack(environ={"SHIPYARD_TIMEOUT": "soon"})


def test_swarm_endpoint_mode_is_vip_or_dnsrr(project: Path) -> None:
    """The default is Swarm's own; a typo names its source and both choices."""
    assert load_stack().endpoint_mode == "vip"
    assert load_stack(environ={"SHIPYARD_SWARM_ENDPOINT_MODE": "dnsrr"}).endpoint_mode == "dnsrr"
    with pytest.raises(ConfigError) as raised:
        load_stack(environ={"SHIPYARD_SWARM_ENDPOINT_MODE": "dns"})
    assert raised.value.message == (
        "swarm-endpoint-mode is 'dns' (SHIPYARD_SWARM_ENDPOINT_MODE): not a Swarm endpoint mode"
    )


def test_missing_compose_folder(tmp_path: Path) -> None:
    """Outside a project the error says where it looked and what to do."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname='x'\n")
    with pytest.raises(ConfigError) as caught:
        load_stack(tmp_path)
    assert caught.value.message == f"no compose/docker-compose.yml under {tmp_path}"


def test_invalid_toml(project: Path) -> None:
    """A broken pyproject.toml is reported as such."""
    (project / "pyproject.toml").write_text("[tool.shipyard\n")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_stack()


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Demo App", "demo-app"),
        ("my_service", "my_service"),
        ("--Odd!!name--", "odd-name"),
        ("!!", "app"),
    ],
)
def test_project_slug(name: str, slug: str) -> None:
    """Project names become valid Compose project names."""
    assert project_slug(name) == slug


def test_env_var_names() -> None:
    """Keys map to SHIPYARD_ variables."""
    assert env_var("compose-dir") == "SHIPYARD_COMPOSE_DIR"


@pytest.mark.parametrize("timeout", ["-5", "0", "nan"])
def test_a_timeout_must_be_positive(tmp_path: Path, timeout: str) -> None:
    """`--timeout -5` is refused, not waited for."""
    (tmp_path / "compose").mkdir()
    (tmp_path / "compose/docker-compose.yml").write_text("services: {}\n")
    with pytest.raises(
        ConfigError,
        match=rf"timeout must be a positive number of seconds, not '{timeout}' \(from flag\)",
    ):
        load_stack(tmp_path, flags={"timeout": timeout})


def test_near_misses_get_a_did_you_mean(tmp_path: Path) -> None:
    """A typo in an environment or a settings key names what was probably meant."""
    (tmp_path / "compose").mkdir()
    for name in ("docker-compose.yml", "docker-compose.staging.yml", "docker-compose.dev.yml"):
        (tmp_path / "compose" / name).write_text("services: {}\n")
    stack = load_stack(tmp_path)
    with pytest.raises(
        ConfigError,
        match=r"unknown environment 'stagin' \(did you mean 'staging'\?\) \(this stack has: dev, staging\)",
    ):
        stack.check_env("stagin")
    (tmp_path / "pyproject.toml").write_text("[tool.shipyard]\ntimout = 3\n")
    with pytest.raises(
        ConfigError,
        match=r"unknown key\(s\) in \[tool.shipyard\]: timout \(did you mean 'timeout'\?\)",
    ):
        load_stack(tmp_path)
