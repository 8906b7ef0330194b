#!/usr/bin/env python3
"""A PostgreSQL wire-protocol proxy that counts the statements its clients run: simple queries ('Q')
and extended-protocol executions ('E'). It writes the running count to --count-file after every client
message, so a benchmark can read the count before and after a batch of requests.

    pgcount.py --listen 6543 --upstream 127.0.0.1:5432 --count-file /tmp/count
"""
import argparse
import asyncio
import struct

count = 0


async def pipe_server(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def pipe_client(reader, writer, count_file):
    """Client → server: the startup packet has no type byte; every later message is type + length."""
    global count
    try:
        length = struct.unpack("!I", await reader.readexactly(4))[0]
        body = await reader.readexactly(length - 4)
        writer.write(struct.pack("!I", length) + body)
        code = struct.unpack("!I", body[:4])[0]
        if code == 80877103:  # SSLRequest: the upstream answers 'N' and the real startup follows
            await writer.drain()
            length = struct.unpack("!I", await reader.readexactly(4))[0]
            writer.write(struct.pack("!I", length) + await reader.readexactly(length - 4))
        await writer.drain()
        while True:
            kind = await reader.readexactly(1)
            length = struct.unpack("!I", await reader.readexactly(4))[0]
            body = await reader.readexactly(length - 4)
            if kind in (b"Q", b"E"):
                count += 1
                with open(count_file, "w") as f:
                    f.write(str(count))
            writer.write(kind + struct.pack("!I", length) + body)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--listen", type=int, required=True)
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--count-file", required=True)
    args = parser.parse_args()
    host, port = args.upstream.rsplit(":", 1)
    with open(args.count_file, "w") as f:
        f.write("0")

    async def handle(client_reader, client_writer):
        server_reader, server_writer = await asyncio.open_connection(host, int(port))
        await asyncio.gather(
            pipe_client(client_reader, server_writer, args.count_file),
            pipe_server(server_reader, client_writer),
        )

    server = await asyncio.start_server(handle, "127.0.0.1", args.listen)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
