import http from "node:http";
import type net from "node:net";

// A loopback proxy in front of the real MLflow server that refuses chosen requests the way a
// careless gateway does: a 4xx whose body echoes the request, Authorization header included.
// Everything else is forwarded untouched.

export interface Refusal {
  status: number;
  body: string;
}

export type RefusalPlan = (request: { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }) => Refusal | undefined;

export interface RefusingProxy {
  uri: string;
  refused: number;
  close(): Promise<void>;
}

/** The body a leaky gateway sends back: every header of the request, credentials in clear. */
export function echoHeadersBody(headers: http.IncomingHttpHeaders, errorCode = "INVALID_PARAMETER_VALUE"): string {
  const echoed = Object.entries(headers).map(([key, value]) => `${key}: ${String(value)}`).join("; ");
  return JSON.stringify({ error_code: errorCode, message: `request rejected by the gateway (headers: ${echoed}) Authorization=${headers.authorization ?? ""}` });
}

function forwardedHeaders(headers: http.IncomingHttpHeaders, host: string, length: number): http.OutgoingHttpHeaders {
  const { "transfer-encoding": _chunked, ...rest } = headers;
  return { ...rest, host, "content-length": String(length) };
}

export async function startRefusingProxy(target: string, plan: RefusalPlan): Promise<RefusingProxy> {
  const targetUrl = new URL(target);
  const sockets = new Set<net.Socket>();
  const state = { refused: 0 };
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks);
      const refusal = plan({ method: request.method ?? "", url: request.url ?? "", headers: request.headers, body: body.toString("utf8") });
      if (refusal) {
        state.refused++;
        response.writeHead(refusal.status, { "content-type": "application/json" }).end(refusal.body);
        return;
      }
      const upstream = http.request(
        { host: targetUrl.hostname, port: targetUrl.port, method: request.method, path: request.url, headers: forwardedHeaders(request.headers, targetUrl.host, body.length) },
        (upstreamResponse) => {
          response.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers);
          upstreamResponse.pipe(response);
        },
      );
      upstream.on("error", () => request.socket.destroy());
      upstream.end(body);
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    uri: `http://127.0.0.1:${port}`,
    get refused() {
      return state.refused;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
