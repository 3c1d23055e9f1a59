#!/bin/sh
# make run: the demo. Starts the demo's HTTP service (two instances, the targets of
# the `shop` target group) and serves config/lb.yaml with ./lb; stops the service
# when lb exits.
cd "$(dirname "$0")/.."
python3 functions/service/server.py --port 8081 &
a=$!
python3 functions/service/server.py --port 8082 &
b=$!
trap 'kill $a $b 2>/dev/null' EXIT INT TERM
# Until both listen (a second at most), so the first page is not a 502.
python3 -c 'import socket, time
for port in (8081, 8082):
    for _ in range(50):
        try:
            socket.create_connection(("127.0.0.1", port), 0.1).close()
            break
        except OSError:
            time.sleep(0.02)'
./lb -c config/lb.yaml "$@"
