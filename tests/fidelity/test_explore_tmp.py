import json
from restoreflow.backup import BackupBuilder, sample_application
from restoreflow.backup.sample import sample_backup
from restoreflow.restore import run_restore
from tests.engine.helpers import make_plan, BACKUP
from restoreflow.backup import BackupStorage

def test_explore(sandbox, tmp_path):
    loc = tmp_path / "bsl"; loc.mkdir()
    rec = sample_backup(str(loc), name=BACKUP)
    from restoreflow.plan.model import Source
    plan = make_plan(sandbox, str(loc), include_cluster_resources=True)
    res = run_restore(plan, restore_name="r1")
    print(res.phase, json.dumps(res.results, indent=1))
    print(json.dumps(res.resource_list, indent=1))
    st = BackupStorage.open(str(loc))
    print(st.restores.logs("r1"))
    for kind, name in [("services","web"),("pods","web-0")]:
        pass
    for r in ["services","persistentvolumeclaims","persistentvolumes","pods","serviceaccounts","secrets"]:
        for o in sandbox.cluster.list_all(r) if hasattr(sandbox,'cluster') and hasattr(sandbox.cluster,'list_all') else []:
            print(json.dumps(o)[:500])
    assert 0
