#!/usr/bin/env python3
"""A web server that answers every request by running one program as a CGI
script (RFC 3875), one process per request, as a shared host's Apache with
mod_cgi does: the request's headers as HTTP_* variables (Authorization
included, as with Apache's CGIPassAuth On), the body on standard input, the
script's Status header as the answer's status. For the tests of checkoutd's
plain CGI mode (t/e2e/test_cgi.c); loopback only.

  t/cgi-gateway.py --port N --program PATH [--config FILE]

GET /_cgi/count answers how many times the program ran.
"""
import argparse
import os
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

ARGS = None
RUNS = 0
LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def answer(self, status, headers, body):
        self.send_response_only(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def run_cgi(self):
        global RUNS
        url = urlsplit(self.path)
        if url.path == "/_cgi/count":
            with LOCK:
                n = RUNS
            self.answer(200, [("Content-Type", "text/plain")],
                        str(n).encode())
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        env = {
            "GATEWAY_INTERFACE": "CGI/1.1",
            "SERVER_PROTOCOL": self.request_version,
            "SERVER_SOFTWARE": "cgi-gateway",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": str(ARGS.port),
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "",
            "PATH_INFO": url.path,
            "QUERY_STRING": url.query,
            "REQUEST_URI": self.path,
            "REMOTE_ADDR": self.client_address[0],
            "PATH": "/usr/bin:/bin",
        }
        if ARGS.config:
            env["CHECKOUTD_CONFIG"] = ARGS.config
        if "Content-Type" in self.headers:
            env["CONTENT_TYPE"] = self.headers["Content-Type"]
        if length > 0:
            env["CONTENT_LENGTH"] = str(length)
        for name, value in self.headers.items():
            key = "HTTP_" + name.upper().replace("-", "_")
            if key in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                continue
            env[key] = value
        with LOCK:
            RUNS += 1
        p = subprocess.run([ARGS.program], input=body, env=env, cwd="/",
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=60)
        if p.stderr:
            with open(ARGS.log, "ab") as log:
                log.write(p.stderr)
        out = p.stdout
        sep = out.find(b"\r\n\r\n")
        skip = 4
        if sep < 0:
            sep = out.find(b"\n\n")
            skip = 2
        if p.returncode != 0 and sep < 0:
            self.answer(502, [("Content-Type", "text/plain")],
                        b"the CGI program failed\n")
            return
        status = 200
        headers = []
        for line in out[:sep].decode("latin-1").splitlines():
            name, _, value = line.partition(":")
            value = value.strip()
            if name.lower() == "status":
                status = int(value.split()[0])
            elif name.lower() != "content-length":
                headers.append((name, value))
        self.answer(status, headers, out[sep + skip:])

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = run_cgi


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--program", required=True)
    ap.add_argument("--config")
    ap.add_argument("--log", default="/dev/null")
    ARGS = ap.parse_args()
    ThreadingHTTPServer(("127.0.0.1", ARGS.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
