"""The compiled policies the Lambdas read stay in step with the YAML they come from."""

from __future__ import annotations

from chalicelib.rules import compiled
from chalicelib.rules.policy import default_policy
from chalicelib.rules.policy_compile import compile_policy, shipped_documents


def test_shipped_compiled_files_are_current():
    # Regenerate with: python -m chalicelib.rules.policy_compile
    for name, text in shipped_documents().items():
        assert (compiled.COMPILED_DIR / f"{name}.json").read_text(encoding="utf-8") == text, name


def test_the_runtime_view_agrees_with_the_model():
    model = default_policy()
    runtime = compiled.from_document(compile_policy(model))
    assert [rule.id for rule in runtime.rules] == [rule.id for rule in model.rules]
    for ours, theirs in zip(runtime.rules, model.rules, strict=True):
        assert ours.quote == model.quote(theirs)
        assert ours.mode == theirs.mode
        for offence in range(1, 5):
            assert [a.type for a in ours.actions_for(offence)] == [a.type for a in theirs.actions_for(offence)]


def test_the_request_path_does_not_import_pydantic():
    import subprocess
    import sys

    code = "import sys, app; print('pydantic' in sys.modules, 'chalicelib.rules.policy' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False"]
