// The MCP conformance suite's server mode sends no credentials; Pryx's /mcp needs the API
// token. This loopback proxy forwards every request to PRYX_TARGET (http://127.0.0.1:PORT) with
// `Authorization: Bearer $PRYX_TOKEN`, streaming both ways (SSE included). A Host naming the
// proxy itself is rewritten to the gateway's, and so is an Origin naming it (the proxy stands in
// for the gateway's address); any other Host or Origin passes unchanged, so the suite's
// DNS-rebinding scenario still reaches the gateway's own checks. Prints its port.
import http from 'node:http';

const target = new URL(process.env.PRYX_TARGET);
const token = process.env.PRYX_TOKEN;

const server = http.createServer((req, res) => {
  const own = `:${server.address().port}`;
  const headers = { ...req.headers, authorization: `Bearer ${token}` };
  const host = req.headers.host ?? '';
  if (host === `127.0.0.1${own}` || host === `localhost${own}`) {
    headers.host = `${host.split(':')[0]}:${target.port}`;
  }
  const origin = req.headers.origin ?? '';
  if (origin === `http://127.0.0.1${own}` || origin === `http://localhost${own}`) {
    headers.origin = `${origin.slice(0, -own.length)}:${target.port}`;
  }
  const upstream = http.request(
    { host: target.hostname, port: target.port, method: req.method, path: req.url, headers },
    (answer) => {
      res.writeHead(answer.statusCode, answer.headers);
      answer.pipe(res);
    },
  );
  upstream.on('error', (e) => {
    if (!res.headersSent) res.writeHead(502);
    res.end(String(e));
  });
  res.on('close', () => upstream.destroy());
  req.pipe(upstream);
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
