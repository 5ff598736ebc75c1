"""`velero.io/crd-preserve-fields`: apiextensions.k8s.io/v1 forbids `preserveUnknownFields: true`.

It becomes false, and every version that has a schema gets
`x-kubernetes-preserve-unknown-fields: true` instead, which keeps the old meaning.
"""

from __future__ import annotations

from restoreflow.actions.base import ActionInput, ActionResult, AppliesTo
from restoreflow.kube.fields import nested, nested_dict, nested_list


class CRDPreserveFieldsAction:
    name = "velero.io/crd-preserve-fields"

    def applies_to(self) -> AppliesTo:
        return AppliesTo(included_resources=("customresourcedefinitions.apiextensions.k8s.io",))

    def execute(self, action_input: ActionInput) -> ActionResult:
        crd = action_input.item
        spec = nested_dict(crd, "spec")
        if (
            crd.get("apiVersion") != "apiextensions.k8s.io/v1"
            or spec.get("preserveUnknownFields") is not True
        ):
            return ActionResult(item=crd)
        del spec["preserveUnknownFields"]  # false is the zero value: omitted
        for version in nested_list(spec, "versions"):
            schema = nested(version, "schema", "openAPIV3Schema")
            if isinstance(schema, dict):
                schema["x-kubernetes-preserve-unknown-fields"] = True
        return ActionResult(item=crd)
