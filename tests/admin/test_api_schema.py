"""schemathesis against /api/v1/openapi.json: for every operation, generated requests — valid ones and
deliberately invalid ones — find no server error, and every response matches what the document says
(status codes, content types, schemas; auth enforced).

schemathesis's own pytest fixture loader does not run on this pytest, so the test walks the operations
itself and drives each one's Hypothesis strategy. Hypothesis keeps its files in the test's tmp_path
(not a ``.hypothesis`` folder in the work tree) and no example database.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.configuration import set_hypothesis_home_dir
from schemathesis import GenerationMode

EXAMPLES = 30


@pytest.fixture
def hypothesis_home(tmp_path):
    set_hypothesis_home_dir(tmp_path / "hypothesis")
    yield
    set_hypothesis_home_dir(None)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_conforms_to_its_openapi_and_never_fails(world, app, hypothesis_home, mode):
    # the token goes through schemathesis's auth config, so negative cases may still drop or spoil it
    config = schemathesis.Config.from_dict({"auth": {"openapi": {"bearer": {"bearer": world.tokens["admin"]}}}})
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=config)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} == {
        "/api/v1/classes", "/api/v1/classes/{code}/days/{date}", "/api/v1/classes/{code}/summary",
        "/api/v1/classes/{code}/rollcalls", "/api/v1/rollcalls/{id}", "/api/v1/classes/{code}/inspections",
        "/api/v1/classes/{code}/homework", "/api/v1/classes/{code}/qa", "/api/v1/classes/{code}/certificates",
        "/api/v1/reports/daily",
        "/api/v1/ledger/verify",
    }  # schemathesis leaves out the document's own path
    calls = []
    for operation in operations:
        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def run(case):
            response = case.call_and_validate()
            calls.append((operation.path, response.status_code))

        run()
    assert all(status < 500 for _, status in calls)
    assert len(calls) >= len(operations)
    if mode == GenerationMode.POSITIVE:  # the token reached the API: valid requests were answered
        assert {path for path, status in calls if status == 200} >= {"/api/v1/classes", "/api/v1/ledger/verify"}
