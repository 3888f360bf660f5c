"""The issue's story with boto3, driven by test/e2e/boto3-story.test.ts.

Usage: python3 boto3_story.py <endpoint> <seed>. Exits 0 when the restored bytes are the ones
written before the snapshot; prints what it checked as JSON on stdout.
"""
import json
import random
import sys
import urllib.request

import boto3

endpoint, seed = sys.argv[1], int(sys.argv[2])
rng = random.Random(seed)
before = rng.randbytes(1024 * 1024 + 77)
after = rng.randbytes(len(before))
offset = 3 * 1024 * 1024 + 1

ec2 = boto3.client("ec2", endpoint_url=endpoint, region_name="eu-west-1",
                   aws_access_key_id="test", aws_secret_access_key="test")


def put(volume_id, data):
    req = urllib.request.Request(f"{endpoint}/data/volumes/{volume_id}?offset={offset}", data=data, method="PUT")
    with urllib.request.urlopen(req) as res:
        assert res.status == 200, res.status


def get(volume_id, length):
    with urllib.request.urlopen(f"{endpoint}/data/volumes/{volume_id}?offset={offset}&length={length}") as res:
        return res.read()


vol = ec2.create_volume(AvailabilityZone="eu-west-1b", Size=1, VolumeType="gp3")
assert vol["State"] == "creating" and vol["AvailabilityZone"] == "eu-west-1b", vol
ec2.get_waiter("volume_available").wait(VolumeIds=[vol["VolumeId"]], WaiterConfig={"Delay": 1, "MaxAttempts": 30})
put(vol["VolumeId"], before)

snap = ec2.create_snapshot(VolumeId=vol["VolumeId"], Description="boto3 story",
                           TagSpecifications=[{"ResourceType": "snapshot", "Tags": [{"Key": "by", "Value": "boto3"}]}])
assert snap["ResponseMetadata"]["RequestId"], snap
put(vol["VolumeId"], after)

ec2.get_waiter("snapshot_completed").wait(SnapshotIds=[snap["SnapshotId"]], WaiterConfig={"Delay": 1, "MaxAttempts": 60})
restored = ec2.create_volume(AvailabilityZone="eu-west-1a", SnapshotId=snap["SnapshotId"])
ec2.get_waiter("volume_available").wait(VolumeIds=[restored["VolumeId"]], WaiterConfig={"Delay": 1, "MaxAttempts": 30})
back = get(restored["VolumeId"], len(before))
assert back == before, "restored bytes differ from the bytes written before the snapshot"

try:
    ec2.describe_snapshots(SnapshotIds=["snap-0123456789abcdef0"])
    raise AssertionError("expected InvalidSnapshot.NotFound")
except ec2.exceptions.ClientError as e:
    error = e.response["Error"]
    assert error["Code"] == "InvalidSnapshot.NotFound", error
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 400

print(json.dumps({
    "volume": vol["VolumeId"], "snapshot": snap["SnapshotId"], "restored": restored["VolumeId"],
    "snapshotState": ec2.describe_snapshots(SnapshotIds=[snap["SnapshotId"]])["Snapshots"][0]["State"],
    "tags": snap["Tags"], "bytes": len(back),
}))
