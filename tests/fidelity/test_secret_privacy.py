"""Secret values never reach the restore's results, resource list, log or status document."""

from __future__ import annotations

import json

from restoreflow.backup import BackupStorage
from restoreflow.restore import run_restore
from tests.engine.helpers import kube_object, make_plan, namespace, write_backup

VALUE = "c3VwZXItc2VjcmV0LXZhbHVl"  # base64 of a password
BROKEN = "not%base64%hunter2"


def test_secret_values_stay_out_of_every_record(sandbox, tmp_path):
    good = kube_object("v1", "Secret", "db", "shop", type="Opaque", data={"password": VALUE})
    broken = kube_object("v1", "Secret", "broken", "shop", type="Opaque", data={"password": BROKEN})
    changed = kube_object("v1", "Secret", "api", "shop", type="Opaque", data={"token": VALUE})
    location, _ = write_backup(tmp_path, [namespace("shop"), good, broken, changed])
    sandbox.load([namespace("shop"), kube_object("v1", "Secret", "api", "shop", data={"token": "b3RoZXI="})])

    result = run_restore(make_plan(sandbox, location), restore_name="private")

    records = BackupStorage.open(location).restores
    texts = [
        json.dumps(result.results),
        json.dumps(result.resource_list),
        json.dumps(result.status),
        records.logs("private"),
        json.dumps(records.results("private")),
    ]
    listed = result.resource_list["v1/Secret"]
    assert "shop/api(failed)" in listed and "shop/db(created)" in listed
    for text in texts:
        assert VALUE not in text and "hunter2" not in text
