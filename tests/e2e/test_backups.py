"""Backups on a real API server: the CronJobs, BackupHealthy from their Jobs, and the
TccLogBackup lifecycle.

KWOK runs no container: a Job's pod "completes" at once, or fails with the message in
its `kwok.tcclog.com/fail` annotation (tests/cluster/kwok-stages.yaml). What is real here
is everything around the backup: admission of the Job pods (Pod Security restricted),
the Job and CronJob controllers, the operator's status and Events. The backup commands
themselves run for real against PostgreSQL, pgBackRest and S3 in tests/integration/backup.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from .conftest import Cluster
from .operator import OperatorProcess
from .test_operator import GROUP, VERSION, condition, create, get, minimal, wait_ready
from .wait import wait_for

BACKUP = {"schedule": "0 3 * * *",
          "s3": {"bucket": "tcc-backups", "endpoint": "https://s3.example:9000",
                 "credentialsSecretRef": {"name": "s3-creds"}}}
CRONJOBS = {"demo-backup-full", "demo-backup-diff", "demo-backup-logical", "demo-backup-verify"}


@pytest.fixture(autouse=True)
def _simulated_job_pods(cluster: Cluster) -> None:
    if cluster.backend != "local":
        pytest.skip("needs KWOK's simulated Job pods (a real backup needs a real S3)")


def with_backups(api: client.ApiClient, namespace: str) -> dict[str, Any]:
    client.CoreV1Api(api).create_namespaced_secret(namespace, client.V1Secret(
        metadata=client.V1ObjectMeta(name="s3-creds"),
        string_data={"AWS_ACCESS_KEY_ID": "e2e", "AWS_SECRET_ACCESS_KEY": "e2e-secret"}))
    create(api, minimal(namespace, backup=BACKUP))
    return wait_ready(api, namespace)


def backup_condition(api: client.ApiClient, namespace: str) -> dict[str, Any]:
    return condition(get(api, namespace), "BackupHealthy") or {}


def scheduled_job(api: client.ApiClient, namespace: str, name: str, *,
                  fail: str | None = None) -> None:
    """A Job as the CronJob controller would start it (template, labels, controller
    reference), optionally failing. `kubectl create job --from=cronjob/...` does the same."""
    cronjob = client.BatchV1Api(api).read_namespaced_cron_job("demo-backup-full", namespace)
    template = client.ApiClient().sanitize_for_serialization(cronjob.spec.job_template)
    spec = copy.deepcopy(template["spec"])
    if fail is not None:
        spec["backoffLimit"] = 0
        spec["template"].setdefault("metadata", {}).setdefault("annotations", {})[
            "kwok.tcclog.com/fail"] = fail
    client.BatchV1Api(api).create_namespaced_job(namespace, {
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": name, "labels": template["metadata"]["labels"],
                     "ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob",
                                          "name": cronjob.metadata.name,
                                          "uid": cronjob.metadata.uid, "controller": True}]},
        "spec": spec})


def events(cluster: Cluster, namespace: str, reason: str) -> list[str]:
    out = cluster.kubectl("get", "events", "-n", namespace, "--field-selector",
                          f"reason={reason}", "-o", "json").stdout
    return [e["message"] for e in json.loads(out)["items"]]


def test_cronjobs_and_backup_health_follow_the_scheduled_jobs(
        cluster: Cluster, api: client.ApiClient, operator: OperatorProcess,
        namespace: str) -> None:
    obj = with_backups(api, namespace)
    cronjobs = {c.metadata.name: c for c in
                client.BatchV1Api(api).list_namespaced_cron_job(namespace).items}
    assert set(cronjobs) == CRONJOBS
    assert cronjobs["demo-backup-full"].spec.schedule == "0 3 * * *"
    assert all(c.spec.concurrency_policy == "Forbid" for c in cronjobs.values())
    unknown = condition(obj, "BackupHealthy")
    assert unknown is not None and (unknown["status"], unknown["reason"]) == (
        "Unknown", "NoBackupYet")

    # A scheduled run succeeds (kubectl's own way of starting one now).
    cluster.kubectl("create", "job", "-n", namespace, "--from=cronjob/demo-backup-full",
                    "full-now")
    wait_for(lambda: backup_condition(api, namespace).get("status") == "True", timeout=60,
             what="BackupHealthy=True")
    first_success = get(api, namespace)["status"]["lastSuccessfulBackup"]

    # The next run fails: the condition says so, with the reason, and an Event is posted;
    # the failure never counts as a backup, and the app stays Ready.
    scheduled_job(api, namespace, "full-broken",
                  fail="ERROR: [039]: S3 endpoint s3.example:9000 unreachable")
    wait_for(lambda: backup_condition(api, namespace).get("status") == "False", timeout=60,
             what="BackupHealthy=False")
    failed = get(api, namespace)
    broken = condition(failed, "BackupHealthy") or {}
    assert broken["reason"] == "BackupFailed"
    assert "demo-backup-full" in broken["message"] and "full-broken" in broken["message"]
    assert failed["status"]["lastSuccessfulBackup"] == first_success
    assert failed["status"]["components"]["backup"]["summary"] == "failed"
    assert (condition(failed, "Ready") or {}).get("status") == "True"
    wait_for(lambda: events(cluster, namespace, "BackupFailed"), timeout=30,
             what="BackupFailed event")

    # A later successful run of the same CronJob recovers it.
    cluster.kubectl("create", "job", "-n", namespace, "--from=cronjob/demo-backup-full",
                    "full-again")
    wait_for(lambda: backup_condition(api, namespace).get("status") == "True", timeout=60,
             what="BackupHealthy=True again")
    wait_for(lambda: events(cluster, namespace, "BackupRecovered"), timeout=30,
             what="BackupRecovered event")


def backup_request(namespace: str, name: str, tcclog: str = "demo",
                   method: str = "full") -> dict[str, Any]:
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "TccLogBackup",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"tcclogRef": {"name": tcclog}, "method": method}}


def get_request(api: client.ApiClient, namespace: str, name: str) -> dict[str, Any]:
    return client.CustomObjectsApi(api).get_namespaced_custom_object(  # type: ignore[no-any-return]
        GROUP, VERSION, namespace, "tcclogbackups", name)


def wait_phase(api: client.ApiClient, namespace: str, name: str, phase: str) -> dict[str, Any]:
    return wait_for(lambda: (lambda obj: obj if (obj.get("status") or {}).get("phase") == phase
                             else None)(get_request(api, namespace, name)),
                    timeout=60, what=f"TccLogBackup {name} {phase}")


def test_tcclogbackup_runs_one_job_and_reports_it(
        cluster: Cluster, api: client.ApiClient, operator: OperatorProcess,
        namespace: str) -> None:
    with_backups(api, namespace)
    custom = client.CustomObjectsApi(api)
    custom.create_namespaced_custom_object(GROUP, VERSION, namespace, "tcclogbackups",
                                           backup_request(namespace, "before-upgrade"))
    done = wait_phase(api, namespace, "before-upgrade", "Succeeded")
    status = done["status"]
    assert status["jobName"] == "tcclogbackup-before-upgrade"
    assert status["startTime"] and status["completionTime"]
    job = client.BatchV1Api(api).read_namespaced_job("tcclogbackup-before-upgrade", namespace)
    owner = job.metadata.owner_references[0]
    assert (owner.kind, owner.name, owner.controller) == ("TccLogBackup", "before-upgrade", True)
    pod_spec = job.spec.template.spec
    assert pod_spec.containers[0].security_context.run_as_non_root is True
    table = cluster.kubectl("get", "tccbackup", "-n", namespace).stdout
    assert "before-upgrade" in table and "Succeeded" in table and "full" in table
    assert events(cluster, namespace, "BackupSucceeded")
    # On-demand successes count as backups of the TccLog.
    wait_for(lambda: get(api, namespace)["status"].get("lastSuccessfulBackup"), timeout=30,
             what="lastSuccessfulBackup from the on-demand backup")

    # The request is immutable; a new backup is a new object.
    with pytest.raises(ApiException) as refused:
        custom.patch_namespaced_custom_object(GROUP, VERSION, namespace, "tcclogbackups",
                                              "before-upgrade", {"spec": {"method": "diff"}})
    assert "spec is immutable: create a new TccLogBackup instead" in refused.value.body

    # Deleting the request deletes its Job (garbage collection).
    custom.delete_namespaced_custom_object(GROUP, VERSION, namespace, "tcclogbackups",
                                           "before-upgrade")
    wait_for(lambda: not client.BatchV1Api(api).list_namespaced_job(
        namespace, label_selector="tcclog.com/backup-request=before-upgrade").items,
        timeout=60, what="the Job garbage-collected")


def test_tcclogbackup_of_a_tcclog_without_backups_fails_with_a_reason(
        api: client.ApiClient, operator: OperatorProcess, namespace: str) -> None:
    create(api, minimal(namespace))
    custom = client.CustomObjectsApi(api)
    custom.create_namespaced_custom_object(GROUP, VERSION, namespace, "tcclogbackups",
                                           backup_request(namespace, "nothing-to-do"))
    custom.create_namespaced_custom_object(GROUP, VERSION, namespace, "tcclogbackups",
                                           backup_request(namespace, "typo", tcclog="dmeo"))
    failed = wait_phase(api, namespace, "nothing-to-do", "Failed")
    assert "has no backup configured: set spec.backup" in failed["status"]["message"]
    missing = wait_phase(api, namespace, "typo", "Failed")
    assert "TccLog dmeo not found" in missing["status"]["message"]
    assert not client.BatchV1Api(api).list_namespaced_job(namespace).items
