"""Which items an action applies to: its AppliesTo resolved against the served resources."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from restoreflow.actions.base import AppliesTo
from restoreflow.kube.selectors import EVERYTHING, Selector, parse_selector
from restoreflow.plan.matching import IncludesExcludes


def identity(resource: str) -> str:
    return resource


@dataclass(frozen=True)
class ResolvedAppliesTo:
    """An action's AppliesTo with resources resolved to `resource.group` and the selector parsed."""

    resources: IncludesExcludes
    namespaces: IncludesExcludes
    selector: Selector = EVERYTHING

    @classmethod
    def resolve(cls, applies_to: AppliesTo, canonical: Callable[[str], str] = identity) -> ResolvedAppliesTo:
        """`canonical` maps a user's name ("po", "deployments") to its group-resource through discovery;
        names it cannot resolve should be returned verbatim. Raises SelectorError on a bad selector."""

        def names(items: Iterable[str]) -> tuple[str, ...]:
            return tuple(i if i == "*" else canonical(i) for i in items)

        return cls(
            IncludesExcludes.of(names(applies_to.included_resources), names(applies_to.excluded_resources)),
            IncludesExcludes.of(applies_to.included_namespaces, applies_to.excluded_namespaces),
            parse_selector(applies_to.label_selector) if applies_to.label_selector else EVERYTHING,
        )

    def should_use(self, group_resource: str, namespace: str, labels: Mapping[str, str] | None) -> bool:
        """Velero's ShouldUse: `namespace` is the item's TARGET namespace ("" if cluster-scoped);
        an action restricted to namespaces never sees cluster-scoped items; labels are the current ones."""
        if not self.resources.should_include(group_resource):
            return False
        if namespace and not self.namespaces.should_include(namespace):
            return False
        if not namespace and not self.namespaces.include_everything():
            return False
        return self.selector.matches(labels)


def action_applies(
    applies_to: AppliesTo,
    group_resource: str,
    namespace: str,
    labels: Mapping[str, str] | None,
    canonical: Callable[[str], str] = identity,
) -> bool:
    """One-shot form of `ResolvedAppliesTo.resolve(...).should_use(...)`."""
    return ResolvedAppliesTo.resolve(applies_to, canonical).should_use(group_resource, namespace, labels)
