// Starts nginx from Debian's packages (scripts/ensure-nginx.sh installs it)
// on a free loopback port, serving a directory with byte ranges, and stops
// it. The access log is readable so tests can count what the hydrator asked
// for (e.g. zero requests on a re-run).
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./function-server.ts";
import { ensureTool, spawnUntilReady, stopChild, type RunningServer } from "./s3-server.ts";

export interface Nginx {
  url: string;
  port: number;
  /** With `tls`: the same files over HTTPS, on another port. */
  httpsUrl?: string;
  /** The directory served at `/`. */
  root: string;
  /**
   * Access log lines: "<method> <uri> <status> <range header or -> <OK|->", the last field "OK" only when
   * the response was sent in full (a request whose client was killed is logged too, late and without OK).
   */
  requests(): Promise<string[]>;
  stop(): Promise<void>;
}

export interface NginxOptions {
  /** Keep an access log (default true); a benchmark turns it off. */
  accessLog?: boolean;
  /**
   * Served at /slow/ (same files), throttled, e.g. "192k". nginx's limit_rate is per request and sends the first
   * second's worth at once, so only what a response holds beyond the rate is paced: a 256 KiB range at 192k takes
   * ~1/3 s, at 512k it is not paced at all.
   */
  slowRate?: string;
  /** More directives for the server block (a test's own locations: an echoing error page, a redirect). */
  serverConfig?: string;
  /** Also serve over HTTPS with this certificate and key (PEM files). */
  tls?: { certFile: string; keyFile: string };
}

export async function startNginx(root: string, opts: NginxOptions = {}): Promise<Nginx> {
  const bin = ensureTool("ensure-nginx.sh");
  const prefix = await mkdtemp(join(tmpdir(), "fmc-nginx-"));
  await mkdir(join(prefix, "logs"));
  const port = await freePort();
  const tlsPort = opts.tls ? await freePort() : undefined;
  const tlsConf = opts.tls ? `listen 127.0.0.1:${tlsPort} ssl;\n    ssl_certificate ${opts.tls.certFile};\n    ssl_certificate_key ${opts.tls.keyFile};` : "";
  const conf = `
# Runs as the invoking user where it can; as root, workers stay root so they can read the test's temp dirs.
user root;
worker_processes 1;
daemon off;
pid ${prefix}/nginx.pid;
error_log stderr warn;
events { worker_connections 256; }
http {
  default_type application/octet-stream;
  sendfile on;
  tcp_nopush on;
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  log_format t '$request_method $uri $status $http_range $request_completion';
  ${opts.accessLog === false ? "access_log off;" : `access_log ${prefix}/logs/access.log t;`}
  server {
    listen 127.0.0.1:${port};
    ${tlsConf}
    root ${root};
    location / { }
    location /slow/ {
      alias ${root}/;
      limit_rate ${opts.slowRate ?? "256k"};
    }
    ${opts.serverConfig ?? ""}
  }
}
`;
  await writeFile(join(prefix, "nginx.conf"), conf);
  const url = `http://127.0.0.1:${port}`;
  let server: RunningServer;
  try {
    server = await spawnUntilReady("nginx", bin, ["-p", prefix, "-c", join(prefix, "nginx.conf")], {}, async () => {
      const r = await fetch(`${url}/`, { method: "HEAD" }).catch(() => undefined);
      return r !== undefined;
    });
  } catch (err) {
    await rm(prefix, { recursive: true, force: true });
    throw err;
  }
  return {
    url,
    port,
    ...(tlsPort !== undefined ? { httpsUrl: `https://127.0.0.1:${tlsPort}` } : {}),
    root,
    async requests() {
      const text = await readFile(join(prefix, "logs", "access.log"), "utf8").catch(() => "");
      // The readiness probe's HEAD / is not the hydrator's.
      return text.split("\n").filter((l) => l !== "" && l !== "HEAD / 200 -" && !l.startsWith("HEAD / "));
    },
    async stop() {
      await stopChild(server);
      await rm(prefix, { recursive: true, force: true });
    },
  };
}
