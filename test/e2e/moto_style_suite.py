"""A test in the style of moto's server-mode suites, run against ebs-sim (test/e2e/moto-style.test.ts).

Usage: python3 moto_style_suite.py <endpoint> <instant|aws>. Under `instant` it uses no waiter,
as a suite written for moto's instant states does; under `aws` it waits as client code for AWS
must. Either way it ends with a restored volume that reads back the bytes of the snapshot's instant.
"""
import json
import os
import sys
import urllib.request

import boto3

endpoint, timing = sys.argv[1], sys.argv[2]
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")


def reset():
    # What moto's suites do before each test: an empty form POST (urllib with data=b"").
    req = urllib.request.Request(f"{endpoint}/moto-api/reset", data=b"", method="POST")
    with urllib.request.urlopen(req) as res:
        assert res.status == 200, res.status


def put(volume_id, offset, data):
    req = urllib.request.Request(f"{endpoint}/data/volumes/{volume_id}?offset={offset}", data=data, method="PUT")
    with urllib.request.urlopen(req) as res:
        assert res.status == 200, res.status


def get(volume_id, offset, length):
    with urllib.request.urlopen(f"{endpoint}/data/volumes/{volume_id}?offset={offset}&length={length}") as res:
        return res.read()


def test_snapshot_holds_its_instant(ec2):
    vol = ec2.create_volume(AvailabilityZone="us-east-1a", Size=1)
    if timing == "instant":
        assert vol["State"] == "available", vol["State"]
    else:
        assert vol["State"] == "creating", vol["State"]
        ec2.get_waiter("volume_available").wait(VolumeIds=[vol["VolumeId"]], WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    before = os.urandom(2 * 512 * 1024 + 3)
    put(vol["VolumeId"], 4096, before)
    snap = ec2.create_snapshot(VolumeId=vol["VolumeId"])
    if timing == "instant":
        assert (snap["State"], snap["Progress"]) == ("completed", "100%"), snap
    else:
        assert snap["State"] == "pending", snap["State"]
    put(vol["VolumeId"], 4096, os.urandom(len(before)))  # after the instant: not in the snapshot
    if timing != "instant":
        ec2.get_waiter("snapshot_completed").wait(SnapshotIds=[snap["SnapshotId"]], WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    restored = ec2.create_volume(AvailabilityZone="us-east-1a", SnapshotId=snap["SnapshotId"])
    if timing != "instant":
        ec2.get_waiter("volume_available").wait(VolumeIds=[restored["VolumeId"]], WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    assert get(restored["VolumeId"], 4096, len(before)) == before
    return {"snapshot": snap["SnapshotId"], "state": snap["State"]}


def test_reset_leaves_nothing(ec2):
    assert ec2.describe_volumes()["Volumes"] == []
    assert ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"] == []
    return {}


results = {}
for test in (test_snapshot_holds_its_instant, test_reset_leaves_nothing):
    reset()
    ec2 = boto3.client("ec2", endpoint_url=endpoint, region_name="us-east-1")
    results[test.__name__] = test(ec2)
print(json.dumps(results))
