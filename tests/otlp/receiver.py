"""An OTLP/HTTP receiver for the export tests, built on the official `opentelemetry-proto`.

Listens on a free loopback port (printed as the first stdout line), accepts POST /v1/traces,
/v1/metrics and /v1/logs with protobuf bodies, decodes each with the matching
Export*ServiceRequest, and appends one JSON line per request to the file named by argv[1]:
{"path", "headers", "raw" (base64 of the body), "decoded" (MessageToDict), "error"}.
A body that does not decode is answered 400 and recorded with its error.
"""

import base64
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from google.protobuf.json_format import MessageToDict
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

KINDS = {
    "/v1/traces": (ExportTraceServiceRequest, ExportTraceServiceResponse),
    "/v1/metrics": (ExportMetricsServiceRequest, ExportMetricsServiceResponse),
    "/v1/logs": (ExportLogsServiceRequest, ExportLogsServiceResponse),
}

OUT = open(sys.argv[1], "a", encoding="utf-8")
LOCK = threading.Lock()


def record(entry):
    with LOCK:
        OUT.write(json.dumps(entry) + "\n")
        OUT.flush()


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        entry = {
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "raw": base64.b64encode(body).decode(),
            "decoded": None,
            "error": None,
        }
        kind = KINDS.get(self.path)
        if kind is None:
            entry["error"] = "unknown path"
            record(entry)
            self.send_response(404)
            self.end_headers()
            return
        request, response = kind
        try:
            message = request()
            message.ParseFromString(body)
            entry["decoded"] = MessageToDict(message)
        except Exception as e:  # noqa: BLE001 - any decode failure is the finding
            entry["error"] = f"{type(e).__name__}: {e}"
            record(entry)
            self.send_response(400)
            self.end_headers()
            return
        record(entry)
        answer = response().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
