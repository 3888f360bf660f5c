"""AWS details that client code written for AWS trips on, through boto3 (test/e2e/boto3-aws-details.test.ts).

Usage: python3 boto3_aws_details.py <endpoint>. Prints what it saw as JSON; the test checks it.
"""
import json
import sys

import boto3
import botocore.exceptions

endpoint = sys.argv[1]
session = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1")
ec2 = session.client("ec2", endpoint_url=endpoint)
res = session.resource("ec2", endpoint_url=endpoint)
out = {}


def code(call):
    try:
        call()
        return "ok"
    except botocore.exceptions.ClientError as e:
        return [e.response["Error"]["Code"], e.response["Error"]["Message"]]


# Legacy 8-hex-digit ids are well-formed: unknown ones are NotFound, not Malformed.
out["legacy"] = {
    "volume": code(lambda: ec2.describe_volumes(VolumeIds=["vol-abcd1234"])),
    "snapshot": code(lambda: ec2.describe_snapshots(SnapshotIds=["snap-abcd1234"])),
    "instance": code(lambda: ec2.describe_instances(InstanceIds=["i-abcd1234"])),
    "malformed": code(lambda: ec2.describe_volumes(VolumeIds=["vol-abcd123"])),
}

# Untagged volumes and instances omit tagSet (boto3: tags is None); snapshots keep an empty one.
vol = ec2.create_volume(AvailabilityZone="us-east-1a", Size=1)
tagged = ec2.create_volume(AvailabilityZone="us-east-1a", Size=1, TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": "team", "Value": "storage"}]}])
snap = ec2.create_snapshot(VolumeId=vol["VolumeId"])
inst = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1)["Instances"][0]
out["tags"] = {
    "createVolumeHasTags": "Tags" in vol,
    "volume": res.Volume(vol["VolumeId"]).tags,
    "taggedVolume": res.Volume(tagged["VolumeId"]).tags,
    "snapshot": res.Snapshot(snap["SnapshotId"]).tags,
    "snapshotDescribeHasTags": "Tags" in ec2.describe_snapshots(SnapshotIds=[snap["SnapshotId"]])["Snapshots"][0],
    "instance": res.Instance(inst["InstanceId"]).tags,
}

# tag-value is accepted on DescribeVolumes and DescribeSnapshots; names EC2 rejects still are.
ec2.create_tags(Resources=[snap["SnapshotId"]], Tags=[{"Key": "team", "Value": "storage"}])
out["tagValue"] = {
    "volumes": [v["VolumeId"] for v in ec2.describe_volumes(Filters=[{"Name": "tag-value", "Values": ["stor*"]}])["Volumes"]],
    "snapshots": [s["SnapshotId"] for s in ec2.describe_snapshots(OwnerIds=["self"], Filters=[{"Name": "tag-value", "Values": ["storage"]}])["Snapshots"]],
    "bogus": code(lambda: ec2.describe_volumes(Filters=[{"Name": "tag-values", "Values": ["x"]}])),
}
out["ids"] = {"volume": vol["VolumeId"], "taggedVolume": tagged["VolumeId"], "snapshot": snap["SnapshotId"]}

# EC2's own wording for a missing parameter, naming it as the wire does.
out["missing"] = {
    "createTags": code(lambda: ec2.create_tags(Resources=[], Tags=[{"Key": "k", "Value": "v"}])),
    "attachVolume": code(lambda: ec2.attach_volume(VolumeId=vol["VolumeId"], InstanceId="", Device="/dev/sdf")),
    # Checked by the service, not the model: still the names the Query API sends.
    "createVolume": code(lambda: ec2.create_volume(Size=1)),
    "iops": code(lambda: ec2.create_volume(AvailabilityZone="us-east-1a", Size=10, VolumeType="io1")),
    "mappingDevice": code(lambda: ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1, BlockDeviceMappings=[{"Ebs": {"VolumeSize": 8}}])),
    "operationType": code(lambda: ec2.modify_snapshot_attribute(SnapshotId=snap["SnapshotId"], Attribute="createVolumePermission", UserIds=["111122223333"])),
    "sourceRegion": code(lambda: ec2.copy_snapshot(SourceRegion="nowhere", SourceSnapshotId=snap["SnapshotId"])),
}
print(json.dumps(out))
