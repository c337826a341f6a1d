"""What the test fakes (t/fake-*.py) share: a JSON-over-HTTP/1.1 handler
that keeps connections open without Nagle's 40 ms stalls, and a threaded
server bound to 127.0.0.1 only."""
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class JsonHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without this, Nagle's
    # algorithm and the client's delayed ACK add 40 ms to every answer.
    disable_nagle_algorithm = True
    extra_headers = ()

    def log_message(self, *args):
        pass

    def send(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in self.headers_out():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def headers_out(self):
        return self.extra_headers

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""


def serve(port, handler):
    srv = ThreadingHTTPServer(("127.0.0.1", port), handler)
    srv.daemon_threads = True
    srv.serve_forever()
