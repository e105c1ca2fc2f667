"""Mends read from what failed in the image: each output, its one settings line, or none."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from shipyard.adopt import mend
from tests.unit.conftest import write_tree

COLLECT_FACTORY = """\
==================================== ERRORS ====================================
_____________________ ERROR collecting tests/test_shop.py ______________________
ImportError while importing test module '/app/tests/test_shop.py'.
tests/test_shop.py:1: in <module>
    import factory
E   ModuleNotFoundError: No module named 'factory'
=========================== short test summary info ============================
ERROR tests/test_shop.py
1 error in 0.21s
"""
PYDANTIC = """\
pydantic_core._pydantic_core.ValidationError: 3 validation errors for Settings
first_superuser
  value is not a valid email address: An email address must have an @-sign. \
[type=value_error, input_value='', input_type=str]
max_items
  Input should be a valid integer, unable to parse string as an integer \
[type=int_parsing, input_value='', input_type=str]
project_name
  Field required [type=missing, input_value={}, input_type=dict]
"""
INT_OF_EMPTY = """\
importing shop: Traceback (most recent call last):
  File "/app/shop/__init__.py", line 9, in <module>
    app.config["ITEMS_PER_PAGE"] = int(os.environ["ITEMS_PER_PAGE"])
ValueError: invalid literal for int() with base 10: ''
"""


def test_a_test_module_no_requirement_installs_becomes_its_distribution(tmp_path: Path) -> None:
    found = mend.diagnose(tmp_path, "collect", COLLECT_FACTORY, {"extra-test-packages": ["x"]})
    assert found == mend.Mend(
        "extra-test-packages", ["x", "factory-boy"], "the tests import factory, not installed"
    )


def test_the_projects_own_module_is_not_a_package_to_install(tmp_path: Path) -> None:
    write_tree(tmp_path, {"factory/__init__.py": ""})
    assert mend.diagnose(tmp_path, "collect", COLLECT_FACTORY, {}) is None


def test_pytest_itself_and_a_plugin_an_option_needs(tmp_path: Path) -> None:
    output = 'exec: "pytest": executable file not found in $PATH'
    assert mend.diagnose(tmp_path, "collect", output, {}) == mend.Mend(
        "extra-test-packages", ["pytest"], "pytest is not installed in the test image"
    )
    output = "pytest: error: unrecognized arguments: --cov=shop --cov-report=xml"
    found = mend.diagnose(tmp_path, "collect", output, {"extra-test-packages": ["pytest"]})
    assert found is not None
    assert found.value == ["pytest", "pytest-cov"]


def test_a_package_already_added_is_not_added_again(tmp_path: Path) -> None:
    settings = {"extra-test-packages": ["factory-boy"]}
    assert mend.diagnose(tmp_path, "collect", COLLECT_FACTORY, settings) is None


def test_the_app_missing_a_module_is_a_runtime_package(tmp_path: Path) -> None:
    output = "ModuleNotFoundError: No module named 'yaml'"
    assert mend.diagnose(tmp_path, "app", output, {"extra-packages": ["gunicorn"]}) == mend.Mend(
        "extra-packages", ["gunicorn", "pyyaml"], "the app imports yaml, not installed"
    )


def test_psycopgs_binary_build_is_pinned_to_the_projects_psycopg(tmp_path: Path) -> None:
    """An unpinned psycopg-binary (3.3.9 beside psycopg 3.2.1) broke every connection."""
    (tmp_path / "requirements.txt").write_text("Flask==3.0.3\npsycopg[pool]==3.2.1\n")
    output = "ImportError: no pq wrapper available.\nNo module named 'psycopg_binary'"
    assert mend.diagnose(tmp_path, "app", output, {"extra-packages": []}) == mend.Mend(
        "extra-packages", ["psycopg-binary==3.2.1"], "the app imports psycopg_binary, not installed"
    )
    settings = {"extra-packages": ["psycopg-binary==3.2.1"]}
    assert mend.diagnose(tmp_path, "app", output, settings) is None  # added once


def test_pydantic_fields_get_a_value_of_the_type_their_error_names(tmp_path: Path) -> None:
    env = {"FIRST_SUPERUSER": "", "MAX_ITEMS": "", "APP_PROJECT_NAME": ""}
    found = mend.diagnose(tmp_path, "prepare", PYDANTIC, {"env": env})
    assert found == mend.Mend(
        "env",
        "admin@example.com",
        "FIRST_SUPERUSER: value is not a valid email address: An email address must have "
        "an @-sign.",
        variable="FIRST_SUPERUSER",
    )
    env["FIRST_SUPERUSER"] = "admin@example.com"
    found = mend.diagnose(tmp_path, "prepare", PYDANTIC, {"env": env})
    assert found is not None
    assert (found.variable, found.value) == ("MAX_ITEMS", "1")
    env["MAX_ITEMS"] = "1"
    found = mend.diagnose(tmp_path, "prepare", PYDANTIC, {"env": env})
    assert found is not None
    assert (found.variable, found.value) == ("APP_PROJECT_NAME", "example")


def test_a_secret_is_never_given_an_example(tmp_path: Path) -> None:
    output = "KeyError: 'API_TOKEN'"
    assert mend.diagnose(tmp_path, "app", output, {"secrets": ["API_TOKEN"]}) is None
    assert mend.diagnose(tmp_path, "app", output, {}) == mend.Mend(
        "env", "example", "the code requires API_TOKEN", variable="API_TOKEN"
    )


def test_a_key_error_in_the_prepare_jobs_log_is_mended(tmp_path: Path) -> None:
    """flasky: the migrate job's log, indented in the health failure's details."""
    output = (
        "migrate: exited (1)\n  last 40 log lines:\n"
        '    File "/app/config.py", line 45, in ProductionConfig\n'
        "      SERVER_NAME = os.environ['SERVER_NAME']\n"
        "    KeyError: 'SERVER_NAME'\n"
    )
    assert mend.diagnose(tmp_path, "prepare", output, {}) == mend.Mend(
        "env", "example", "the code requires SERVER_NAME", variable="SERVER_NAME"
    )


def test_an_empty_number_is_the_variable_named_nearest_the_error(tmp_path: Path) -> None:
    env = {"GREETING": "", "ITEMS_PER_PAGE": ""}
    assert mend.diagnose(tmp_path, "app", INT_OF_EMPTY, {"env": env}) == mend.Mend(
        "env", "1", "ITEMS_PER_PAGE is empty and the code needs a number", variable="ITEMS_PER_PAGE"
    )


def test_django_environ_names_its_variable(tmp_path: Path) -> None:
    output = "django.core.exceptions.ImproperlyConfigured: Set the ADMIN_URL environment variable"
    found = mend.diagnose(tmp_path, "prepare", output, {"env": {}})
    assert found is not None
    assert (found.variable, found.value) == ("ADMIN_URL", "http://localhost")


def test_the_app_found_by_importing_wins(tmp_path: Path) -> None:
    output = "importing shop.cli: ...\nshipyard-app: shop:app\n"
    assert mend.diagnose(tmp_path, "app", output, {}) == mend.Mend(
        "app", "shop:app", "found by importing the code in the test image"
    )


@pytest.mark.parametrize(
    "output",
    [
        "RuntimeError: the GPU is not there",
        "ValueError: invalid literal for int() with base 10: 'x'",
        "no app object in shop",
    ],
)
def test_what_says_no_fix_is_not_guessed(tmp_path: Path, output: str) -> None:
    assert mend.diagnose(tmp_path, "app", output, {"env": {"A": ""}}) is None


def test_apply_replaces_the_recorded_line_and_keeps_the_rest(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        '[project]\nname = "shop"\n\n[tool.shipyard]\nproject = "shop"\n'
        '[tool.shipyard.init]\napp = ""  # no app object found\nport = 8000  # default\n'
        '[tool.shipyard.init.env]\nGREETING = "hi"\nITEMS_PER_PAGE = ""\n'
        "[tool.other]\napp = 1\n"
    )
    where = mend.apply(tmp_path, mend.Mend("app", "shop:app", "found by importing"))
    assert where == "[tool.shipyard.init] in pyproject.toml"
    mend.apply(tmp_path, mend.Mend("env", "1", "a number", variable="ITEMS_PER_PAGE"))
    mend.apply(tmp_path, mend.Mend("env", "x@y.z", "an e-mail", variable="ADMIN_EMAIL"))
    data = tomllib.loads(pyproject.read_text())
    assert data["tool"]["shipyard"]["init"] == {
        "app": "shop:app",
        "port": 8000,
        "env": {"ADMIN_EMAIL": "x@y.z", "GREETING": "hi", "ITEMS_PER_PAGE": "1"},
    }
    assert data["tool"]["other"] == {"app": 1}
    assert 'app = "shop:app"  # mended by shipyard init: found by importing\n' in (
        pyproject.read_text()
    )


def test_apply_makes_the_table_a_settings_file_lacks(tmp_path: Path) -> None:
    (tmp_path / "shipyard.toml").write_text('project = "shop"\n')
    where = mend.apply(tmp_path, mend.Mend("env", "1", "why", variable="N"))
    assert where == "[init.env] in shipyard.toml"
    assert tomllib.loads((tmp_path / "shipyard.toml").read_text()) == {
        "project": "shop",
        "init": {"env": {"N": "1"}},
    }


def test_example_values_by_name_and_error() -> None:
    assert mend.example_value("SMTP_PORT") == "8000"
    assert mend.example_value("REDIS_HOST") == "localhost"
    assert mend.example_value("SENTRY_URL") == "http://localhost"
    assert mend.example_value("DEBUG") == "false"
    assert mend.example_value("KEY", "string_too_short", "at least 12 characters") == "x" * 12
    assert mend.example_value("WEIRD", "json_invalid") is None


def test_an_env_mend_fills_the_env_files_made_from_the_old_contract(tmp_path: Path) -> None:
    """env/.env.test was made before the mend: the empty value is filled, a set one stays."""
    write_tree(
        tmp_path,
        {
            "shipyard.toml": 'project = "shop"\n[init.env]\nN = ""\n',
            "env/.env.test": "# made from the contract\nN=\nOTHER=x\n",
            "env/.env.dev": "N=7\n",
            "env/.env.prod": "OTHER=y",
            "env/.env.example": "N=\n",
        },
    )
    mend.apply(tmp_path, mend.Mend("env", "1", "a number", variable="N"))
    assert (tmp_path / "env/.env.test").read_text() == "# made from the contract\nN=1\nOTHER=x\n"
    assert (tmp_path / "env/.env.dev").read_text() == "N=7\n"
    assert (tmp_path / "env/.env.prod").read_text() == "OTHER=y\nN=1\n"
    assert (tmp_path / "env/.env.example").read_text() == "N=\n"  # init regenerates it
