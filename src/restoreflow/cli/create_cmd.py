"""`restoreflow restore create`: check what can be checked, submit, then return or wait.

Everything that can fail before a flow runs fails here first, in well under a second: the plan and
flags, the name, the storage location and backup, the target cluster (`preflight`), the deployment.
"Submitted" is printed once the flow run exists. Without `--wait` the command returns and the
restore goes on (in the background or on a worker); `restore get/describe/logs` follow it.
"""

from __future__ import annotations

import argparse

from restoreflow.cli import preflight, submit
from restoreflow.cli.common import print_restores
from restoreflow.cli.create_flags import CreateOptions
from restoreflow.cli.create_request import CreateRequest
from restoreflow.cli.interrupt import mark_interrupted
from restoreflow.cli.progress import RestoreProgress, report


def create_restore(args: argparse.Namespace) -> int:
    options = CreateOptions.from_args(args)
    request = CreateRequest(options)
    if args.dry_run:  # a preview, here and now: nothing is submitted or written
        from restoreflow.cli.preview_cmd import dry_run

        return dry_run(request.plan, request.name, args)
    if options.output:
        print_restores([request.restore_object()], options.output)
        return 0
    request.check_name_is_free()
    request.check_backup()
    if not options.deployment:  # a deployment's worker reaches the cluster from where it runs
        transforms = request.plan.spec.transforms
        velero = transforms.velero_namespace if transforms.honor_velero_config_maps else None
        preflight.check_target(request.plan.spec.target, request.target_namespaces(), velero)
    api_url = submit.connect(options.verbose)
    if options.deployment:
        submit.check_deployment(options.deployment, api_url)
    submission = submit.submit(request.name, request.parameters, api_url, options.deployment)
    if not options.wait and not options.deployment:
        submit.run_in_background(submission)
    print(f'Restore request "{request.name}" submitted successfully.')
    if submission.deployment:
        run = f"{request.name} ({submission.flow_run_id})"
        print(f"Flow run {run} created from deployment {submission.deployment}.")
    if not options.wait:
        name = request.name
        print(f"Run `restoreflow restore describe {name}` or `restoreflow restore logs {name}` for details.")
        print(f"Prefect flow run: {submission.ui_url}")
        return 0
    return report(request.storage, request.name, _wait(request, submission), submission.ui_url)


def _wait(request: CreateRequest, submission: submit.Submission) -> str:
    """The restore's final phase, with the live display meanwhile."""
    display = RestoreProgress(request.storage, request.name)
    try:
        if submission.deployment:
            return submit.follow(submission)
        try:
            return submit.run_here(submission)
        except KeyboardInterrupt:
            display.stop()
            mark_interrupted(request)
            raise
    finally:
        display.stop()
