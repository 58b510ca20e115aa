"""An HTTP server on 127.0.0.1 that answers like an ingress (or a model server behind it) with
scripted answers, recording the requests it gets. Not a cluster: only what the client half sees."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeIngress:
    """An HTTP server on 127.0.0.1 that answers like the ingress would for one model (for the
    client half of the smoke test); it records the requests it gets."""

    def __init__(self, answers: list[tuple[int, dict]]):
        self.answers = list(answers)
        self.requests: list[dict] = []
        ingress = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                ingress.requests.append({"path": self.path, "host": self.headers["Host"], "body": body})
                status, answer = ingress.answers.pop(0) if len(ingress.answers) > 1 else ingress.answers[0]
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
