#!/usr/bin/env python3
"""grpc-health-server.py PORT — a minimal grpc.health.v1.Health/Check server over h2c (HTTP/2
with prior knowledge) for the kubelet's grpc probes, with no gRPC library: it answers every
request stream with HEADERS (:status 200, content-type application/grpc), one DATA message
HealthCheckResponse{status} and trailers (grpc-status). The requested service decides:
  ""           SERVING (1)
  "down"       NOT_SERVING (2)
  anything else: grpc-status 5 (NOT_FOUND), as grpc-go's health server.
Listens on 127.0.0.1 only; one thread per connection."""
import socket
import struct
import sys
import threading


def frame(ftype, flags, stream, payload):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", stream) + payload


def literal(name, value):
    # HPACK literal header field without indexing, new name, no Huffman coding
    n, v = name.encode(), value.encode()
    assert len(n) < 127 and len(v) < 127
    return b"\x00" + bytes([len(n)]) + n + bytes([len(v)]) + v


def recv_exact(conn, n):
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return buf


def service_of(body):
    # gRPC message: flag, length, then HealthCheckRequest{1: service}
    if len(body) < 5:
        return ""
    msg = body[5:5 + struct.unpack(">I", body[1:5])[0]]
    if len(msg) >= 2 and msg[0] == 0x0A:
        return msg[2:2 + msg[1]].decode(errors="replace")
    return ""


def respond(conn, stream, service):
    headers = b"\x88" + literal("content-type", "application/grpc")  # 0x88: :status 200
    conn.sendall(frame(1, 0x4, stream, headers))
    if service in ("", "down"):
        status = 1 if service == "" else 2
        conn.sendall(frame(0, 0, stream, b"\x00" + struct.pack(">I", 2) + bytes([0x08, status])))
        trailers = literal("grpc-status", "0")
    else:
        trailers = literal("grpc-status", "5") + literal("grpc-message", "unknown service")
    conn.sendall(frame(1, 0x5, stream, trailers))


def serve(conn):
    try:
        if recv_exact(conn, 24) != b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n":
            return
        conn.sendall(frame(4, 0, 0, b""))  # our (empty) SETTINGS
        bodies = {}
        while True:
            hdr = recv_exact(conn, 9)
            length = struct.unpack(">I", b"\x00" + hdr[:3])[0]
            ftype, flags, stream = hdr[3], hdr[4], struct.unpack(">I", hdr[5:9])[0] & 0x7FFFFFFF
            payload = recv_exact(conn, length) if length else b""
            if ftype == 4 and not flags & 1:
                conn.sendall(frame(4, 1, 0, b""))  # SETTINGS ACK
            elif ftype == 6 and not flags & 1:
                conn.sendall(frame(6, 1, 0, payload))  # PING ACK
            elif ftype == 7:
                return  # GOAWAY
            elif ftype == 1:
                bodies.setdefault(stream, b"")
                if flags & 1:
                    respond(conn, stream, "")
            elif ftype == 0:
                data = payload
                if flags & 0x8:  # PADDED
                    data = payload[1:len(payload) - payload[0]]
                bodies[stream] = bodies.get(stream, b"") + data
                if flags & 1:
                    respond(conn, stream, service_of(bodies.pop(stream)))
    except (EOFError, OSError):
        pass
    finally:
        conn.close()


def main():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", int(sys.argv[1])))
    s.listen(16)
    while True:
        conn, _ = s.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
