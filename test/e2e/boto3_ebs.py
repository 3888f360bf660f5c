"""The EBS direct APIs with boto3's `ebs` client, driven by test/e2e/boto3-ebs.test.ts.

Usage: python3 boto3_ebs.py <endpoint> <seed>. Writes a snapshot block by block (one block
twice, to be deduplicated), waits for EC2's snapshot_completed, then lists, diffs and fetches
it; checks each checksum as a client should. Prints what it saw as JSON on stdout.
"""
import base64
import hashlib
import json
import random
import sys

import boto3
from botocore.exceptions import ClientError

endpoint, seed = sys.argv[1], int(sys.argv[2])
rng = random.Random(seed)
BLOCK = 512 * 1024
session = dict(endpoint_url=endpoint, region_name="eu-west-1", aws_access_key_id="test", aws_secret_access_key="test")
ebs = boto3.client("ebs", **session)
ec2 = boto3.client("ec2", **session)


def b64sha(data):
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def put(snapshot_id, index, data):
    return ebs.put_snapshot_block(SnapshotId=snapshot_id, BlockIndex=index, BlockData=data, DataLength=len(data),
                                  Checksum=b64sha(data), ChecksumAlgorithm="SHA256")


blocks = {i: rng.randbytes(BLOCK) for i in (0, 1, 40)}
blocks[41] = blocks[1]  # the same content twice
parent = ebs.start_snapshot(VolumeSize=1, Tags=[{"Key": "by", "Value": "boto3"}], ClientToken=f"boto3-{seed}")
for index, data in blocks.items():
    assert put(parent["SnapshotId"], index, data)["Checksum"] == b64sha(data)
try:
    ebs.put_snapshot_block(SnapshotId=parent["SnapshotId"], BlockIndex=5000, BlockData=blocks[0], DataLength=BLOCK,
                           Checksum=b64sha(blocks[0]), ChecksumAlgorithm="SHA256")
    raise AssertionError("an index past the volume was accepted")
except ClientError as e:
    refused = {"code": e.response["Error"]["Code"], "reason": e.response.get("Reason")}
done = ebs.complete_snapshot(SnapshotId=parent["SnapshotId"], ChangedBlocksCount=len(blocks))
ec2.get_waiter("snapshot_completed").wait(SnapshotIds=[parent["SnapshotId"]], WaiterConfig={"Delay": 1, "MaxAttempts": 60})

# A child that rewrites block 40.
child = ebs.start_snapshot(VolumeSize=1, ParentSnapshotId=parent["SnapshotId"])
new40 = rng.randbytes(BLOCK)
put(child["SnapshotId"], 40, new40)
ebs.complete_snapshot(SnapshotId=child["SnapshotId"], ChangedBlocksCount=1)
ec2.get_waiter("snapshot_completed").wait(SnapshotIds=[child["SnapshotId"]], WaiterConfig={"Delay": 1, "MaxAttempts": 60})

listed = ebs.list_snapshot_blocks(SnapshotId=child["SnapshotId"])
fetched_ok = True
for b in listed["Blocks"]:
    got = ebs.get_snapshot_block(SnapshotId=child["SnapshotId"], BlockIndex=b["BlockIndex"], BlockToken=b["BlockToken"])
    data = got["BlockData"].read()
    want = new40 if b["BlockIndex"] == 40 else blocks[b["BlockIndex"]]
    fetched_ok = fetched_ok and data == want and got["Checksum"] == b64sha(data) and got["DataLength"] == len(data)
changed = ebs.list_changed_blocks(FirstSnapshotId=parent["SnapshotId"], SecondSnapshotId=child["SnapshotId"])
described = ec2.describe_snapshots(SnapshotIds=[parent["SnapshotId"]])["Snapshots"][0]

print(json.dumps({
    "started": {k: parent[k] for k in ("Status", "VolumeSize", "BlockSize", "Tags")},
    "completeStatus": done["Status"],
    "refused": refused,
    "described": {k: described[k] for k in ("State", "Progress", "VolumeSize")},
    "listed": [b["BlockIndex"] for b in listed["Blocks"]],
    "fetchedOk": fetched_ok,
    "changed": [[b["BlockIndex"], "FirstBlockToken" in b, "SecondBlockToken" in b] for b in changed["ChangedBlocks"]],
}))
