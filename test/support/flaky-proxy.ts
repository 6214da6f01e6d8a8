import http from "node:http";
import type net from "node:net";

// A loopback HTTP proxy in front of the MLflow server that misbehaves on a schedule, so fault
// handling is tested against the real server instead of mocks:
//   "forward"       pass through
//   "fail-503"      answer 503 without forwarding (the server never saw it)
//   "drop"          close the connection without forwarding
//   "drop-response" forward, let the server act, then close instead of answering (lost response)

export type ProxyAction = "forward" | "fail-503" | "drop" | "drop-response";

export interface FlakyProxy {
  uri: string;
  /** Every request seen, with what the proxy did to it. */
  log: Array<{ method: string; url: string; action: ProxyAction }>;
  close(): Promise<void>;
}

export async function startFlakyProxy(target: string, plan: (index: number, request: http.IncomingMessage) => ProxyAction): Promise<FlakyProxy> {
  const targetUrl = new URL(target);
  const log: FlakyProxy["log"] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((request, response) => {
    const action = plan(log.length, request);
    log.push({ method: request.method ?? "", url: request.url ?? "", action });
    if (action === "fail-503") {
      request.resume();
      response.writeHead(503, { "content-type": "text/plain" }).end("injected 503");
      return;
    }
    if (action === "drop") {
      request.socket.destroy();
      return;
    }
    const upstream = http.request(
      { host: targetUrl.hostname, port: targetUrl.port, method: request.method, path: request.url, headers: { ...request.headers, host: targetUrl.host } },
      (upstreamResponse) => {
        if (action === "drop-response") {
          upstreamResponse.resume();
          upstreamResponse.on("end", () => request.socket.destroy());
          return;
        }
        response.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers);
        upstreamResponse.pipe(response);
      },
    );
    upstream.on("error", () => request.socket.destroy());
    request.pipe(upstream);
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    uri: `http://127.0.0.1:${port}`,
    log,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
