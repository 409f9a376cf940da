"""The installed package: it loads its op library by itself and reports the C++ reader's errors as PlanError."""

import json
import pathlib
import re

import pytest
import torch

import svdit

REPO = pathlib.Path(__file__).resolve().parents[2]
SAMPLE_PLAN = REPO / "data" / "samples" / "sample_plan.json"


def test_import_registers_the_ops_from_the_packaged_library():
    assert svdit.library_path.parent == pathlib.Path(svdit.__file__).resolve().parent
    for op in ("compile_layer", "sparse_attention", "read_plan", "check_plan"):
        assert hasattr(torch.ops.svdit, op), op
    assert hasattr(torch.classes.svdit, "ProfileSession")  # libsvdit_profile_ops.so, beside the ops library
    loaded = {pathlib.Path(p).name for p in torch.ops.loaded_libraries}
    assert {"libsvdit_torch_ops.so", "libsvdit_profile_ops.so"} <= loaded


def test_version_is_the_projects():
    cmake = (REPO / "CMakeLists.txt").read_text()
    assert svdit.__version__ == re.search(r"project\(svdit VERSION ([0-9.]+)", cmake).group(1)


def test_read_plan_gives_the_validated_plan():
    plan = svdit.read_plan(SAMPLE_PLAN)
    assert plan.model == svdit.ModelShape(4, 6, 64)
    assert plan.layout == svdit.TokenLayout(6, 8, 12, 0, 0) and plan.block_size == 64
    assert plan.pattern_ids(0, 2) is None  # steps 0-1 dense
    assert plan.pattern_ids(5, 2) == (1, 0, 2, 2, 3, 4)
    assert plan.pattern_ids(10, 0) is None  # beyond the schedule: dense


def test_a_malformed_plan_is_refused_with_the_readers_message(tmp_path):
    document = json.loads(SAMPLE_PLAN.read_text())
    document["schedule"][1]["heads"][3][1] = 99  # no such pattern id
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document))
    with pytest.raises(svdit.PlanError, match=r"bad\.json: schedule\[1\]\.heads\[3\]\[1\]: .*99"):
        svdit.read_plan(path)


def test_a_missing_plan_file_is_a_plan_error(tmp_path):
    with pytest.raises(svdit.PlanError, match="missing.json"):
        svdit.read_plan(tmp_path / "missing.json")


def test_check_names_every_mismatching_field_with_both_values():
    plan = svdit.read_plan(SAMPLE_PLAN)
    with pytest.raises(svdit.PlanError) as error:
        plan.check(svdit.ModelShape(4, 8, 64), svdit.TokenLayout(6, 8, 13))
    assert "model.heads: plan has 6, model has 8" in str(error.value)
    assert "layout.width: plan has 12, model has 13" in str(error.value)
