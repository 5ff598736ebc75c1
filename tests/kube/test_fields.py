"""Field paths over plain-dict objects: reading never fails, pruning follows Go's omitempty."""

from __future__ import annotations

from restoreflow.kube.fields import nested, nested_dict, nested_list, object_labels, remove_annotations

POD = {
    "metadata": {"labels": {"app": "web"}, "annotations": {"a": "1"}},
    "spec": {"containers": [{"name": "c"}]},
}


def test_reading_a_path_that_is_missing_or_not_a_mapping_gives_nothing() -> None:
    assert nested(POD, "spec", "containers") == [{"name": "c"}]
    assert nested(POD, "spec", "nodeName") is None
    assert nested(POD, "spec", "containers", "name") is None
    assert nested_dict(POD, "status") == {}
    assert nested_list(POD, "metadata", "labels") == []
    assert object_labels(POD) == {"app": "web"}


def test_removing_the_last_annotation_omits_the_map() -> None:
    pod = {"metadata": {"annotations": {"a": "1"}}}
    remove_annotations(pod, ["a", "missing"])
    assert pod == {"metadata": {}}
