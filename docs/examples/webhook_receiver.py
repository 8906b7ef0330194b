#!/usr/bin/env python3
"""A department system receiving childhub webhooks: verifies each Standard Webhooks signature and prints
the event. Python's standard library only.

    WEBHOOK_SECRET=whsec_... python3 webhook_receiver.py 8099

Then register http://<this host>:8099/ with createWebhook. Each verified event prints one JSON line;
a bad signature is answered 401 and printed as "rejected".
"""
import base64
import hashlib
import hmac
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

SECRET = base64.b64decode(os.environ["WEBHOOK_SECRET"].removeprefix("whsec_"))
TOLERANCE = 5 * 60  # seconds: refuse replays of old deliveries
seen = set()  # webhook-id values already handled: deliveries are at least once


def verified(headers, body: bytes) -> bool:
    msg_id = headers.get("webhook-id", "")
    timestamp = headers.get("webhook-timestamp", "")
    if not msg_id or not timestamp.isdigit() or abs(time.time() - int(timestamp)) > TOLERANCE:
        return False
    signed = f"{msg_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(SECRET, signed, hashlib.sha256).digest()).decode()
    # The header may carry several space-separated signatures (during a secret rotation).
    return any(
        part.startswith("v1,") and hmac.compare_digest(part[3:], expected)
        for part in headers.get("webhook-signature", "").split()
    )


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        if not verified(self.headers, body):
            print("rejected", flush=True)
            self.send_response(401)
            self.end_headers()
            return
        msg_id = self.headers["webhook-id"]
        if msg_id not in seen:  # a redelivery of an event already handled is acknowledged, not redone
            seen.add(msg_id)
            event = json.loads(body)
            print(json.dumps({"verified": True, "id": event["id"], "type": event["type"], "data": event["data"]}), flush=True)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):  # keep stdout for events
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8099
    HTTPServer(("127.0.0.1", port), Handler).serve_forever()
