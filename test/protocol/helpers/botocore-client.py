"""Drives a real boto3 EC2 client without a network, for test/protocol/*.test.ts.

Reads a JSON list of jobs on stdin and writes a JSON list of results on stdout. Each job:
  {"action": "CreateVolume", "params": {...}, "response": {"status": 200, "headers": {...}, "body": "<xml>"},
   "region": "us-east-1", "sessionToken": null}
The client runs its whole pipeline (validation, idempotency token, serializer, SigV4 signer);
a `before-send` hook captures the signed request and answers with the canned response, which
botocore's own EC2 parser then parses. Dates cross the JSON boundary as {"$date": "<ISO 8601>"}.
Other job kinds: {"kind": "presign", "action", "params", "region", "expiresIn"} → a presigned GET URL;
{"kind": "sign", "method", "url", "headers", "body", "service", "region", "sessionToken"} → the request
as botocore's SigV4Auth signs it.
"""
import datetime
import json
import sys

import boto3
from botocore import xform_name
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, AWSResponse
from botocore.credentials import Credentials
from botocore.config import Config
from botocore.exceptions import ClientError

ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
ENDPOINT = "http://127.0.0.1:4599"


def from_json(value):
    if isinstance(value, dict):
        if set(value) == {"$date"}:
            return datetime.datetime.fromisoformat(value["$date"].replace("Z", "+00:00"))
        return {k: from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_json(v) for v in value]
    return value


def to_json(value):
    if isinstance(value, datetime.datetime):
        utc = value.astimezone(datetime.timezone.utc)
        return {"$date": utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"}
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_json(v) for v in value]
    return value


class CannedBody:
    def __init__(self, data):
        self._data = data

    def stream(self, **_kwargs):
        yield self._data


_clients = {}


def make_client(job):
    """One client per (region, token): creating a boto3 client costs ~50 ms."""
    key = (job.get("region", "us-east-1"), job.get("sessionToken"))
    if key not in _clients:
        client = boto3.session.Session().client(
            "ec2",
            region_name=key[0],
            endpoint_url=ENDPOINT,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            aws_session_token=key[1],
            config=Config(retries={"total_max_attempts": 1}),
        )
        state = {}

        def before_send(request, **_kwargs):
            body = request.body
            state["captured"] = dict(
                method=request.method,
                url=request.url,
                headers={k: (v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()},
                body=body.decode() if isinstance(body, bytes) else (body or ""),
            )
            canned = state["canned"]
            return AWSResponse(request.url, canned["status"], canned.get("headers", {}),
                               CannedBody(canned["body"].encode()))

        client.meta.events.register("before-send.ec2", before_send)
        _clients[key] = (client, state)
    return _clients[key]


def sign(job):
    """Signs an arbitrary request with botocore's SigV4Auth (header auth, current time)."""
    creds = Credentials(ACCESS_KEY, SECRET_KEY, job.get("sessionToken"))
    request = AWSRequest(method=job["method"], url=job["url"], data=job.get("body", ""), headers=job.get("headers", {}))
    SigV4Auth(creds, job["service"], job.get("region", "us-east-1")).add_auth(request)
    return {"request": {"method": request.method, "url": request.url, "headers": dict(request.headers.items()),
                        "body": job.get("body", "")}}


def run(job):
    if job.get("kind") == "sign":
        return sign(job)
    client, state = make_client(job)
    if job.get("kind") == "presign":
        url = client.generate_presigned_url(
            xform(job["action"]), Params=from_json(job["params"]),
            ExpiresIn=job.get("expiresIn", 900), HttpMethod="GET",
        )
        return {"url": url}
    state["canned"] = job["response"]
    state["captured"] = {}
    out = {}
    try:
        result = getattr(client, xform(job["action"]))(**from_json(job.get("params", {})))
        meta = result.pop("ResponseMetadata", {})
        out["result"] = to_json(result)
        out["requestId"] = meta.get("RequestId")
    except ClientError as e:
        out["error"] = {
            "Code": e.response["Error"].get("Code"),
            "Message": e.response["Error"].get("Message"),
            "RequestId": e.response.get("ResponseMetadata", {}).get("RequestId"),
            "HTTPStatusCode": e.response.get("ResponseMetadata", {}).get("HTTPStatusCode"),
        }
    out["request"] = state["captured"]
    return out


def xform(action):
    return xform_name(action)


def main():
    jobs = json.load(sys.stdin)
    results = []
    for job in jobs:
        try:
            results.append(run(job))
        except Exception as e:  # report, do not hide: the test prints it
            results.append({"exception": f"{type(e).__name__}: {e}"})
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
