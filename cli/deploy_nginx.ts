/**
 * nginx site for `deno task deploy-config` (seed 002's makenginxconfig): nginx
 * ends HTTPS on 443 and forwards to fieldgate's plain-HTTP listener on
 * localhost, with fieldgate's body limits, tus uploads streamed through
 * unbuffered, the live feed unbuffered, and ACME challenges on port 80.
 */
import { join, resolve } from "node:path";
import type { Config } from "../config.ts";
import { DeployConfigError, GENERATED_NOTICE, upstreamAddress } from "./deploy_common.ts";

/** What nginx needs beyond fieldgate's configuration. */
export interface NginxOptions {
  /** `server_name` (`_` = any). */
  serverName: string;
}

/** Renders an nginx site (an `/etc/nginx/sites-available/` file) for `config`. */
export function renderNginx(config: Config, options: NginxOptions): string {
  if (!config.http.enabled) {
    throw new DeployConfigError("nginx forwards to fieldgate's plain-HTTP listener: set http.enabled = true");
  }
  const upstream = upstreamAddress("http.hostname", config.http.hostname, config.http.port);
  const certFile = resolve(config.tls.certFile || join(config.dataDir, "certs", "dev-cert.pem"));
  const keyFile = resolve(config.tls.keyFile || join(config.dataDir, "certs", "dev-key.pem"));
  const devCertificate = config.tls.certFile === ""
    ? "    # tls.certFile is empty: this is fieldgate's self-signed dev certificate. Set tls.certFile for production.\n"
    : "";
  return `${GENERATED_NOTICE}
#
# nginx ends HTTPS and forwards to fieldgate's plain-HTTP listener (http.hostname, http.port), which must stay
# on localhost. Install (Debian): apt-get install nginx; copy this file to /etc/nginx/sites-available/fieldgate,
# ln -s it into /etc/nginx/sites-enabled/, remove the default site, nginx -t && systemctl reload nginx.
# fieldgate then sees every client as nginx's address: its per-IP login backoff counts all clients together.
# Device sockets (meter, confo) are raw TLS, not HTTP: use deploy/haproxy.cfg or fieldgate's own TLS for them.

upstream fieldgate {
    server ${upstream};
    keepalive 32;
}

server {
    listen 80;
    listen [::]:80;
    server_name ${options.serverName};
    # ACME HTTP-01 challenges are answered by fieldgate; everything else moves to HTTPS.
    location /.well-known/acme-challenge/ {
        proxy_pass http://fieldgate;
        proxy_set_header Host $host;
    }
    location / {
        return 301 https://$host$request_uri;
    }
}

server {
    listen 443 ssl http2;
    listen [::]:443 ssl http2;
    server_name ${options.serverName};
${devCertificate}    ssl_certificate ${certFile};
    ssl_certificate_key ${keyFile};
    ssl_protocols TLSv1.2 TLSv1.3;

    # ott.maxBodyBytes: larger OTT transmissions (and anything else) get 413 here, as fieldgate would answer.
    client_max_body_size ${config.ott.maxBodyBytes};
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host $host;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto $scheme;

    location / {
        proxy_pass http://fieldgate;
    }

    # tus uploads: bodies stream straight to fieldgate, which checks tus.maxSizeBytes (${config.tus.maxSizeBytes})
    # and project limits itself, fsyncs, and resumes interrupted uploads; buffering here would hold whole chunks.
    location /files/ {
        client_max_body_size 0;
        proxy_request_buffering off;
        proxy_buffering off;
        proxy_read_timeout ${Math.max(60, config.tus.idleTimeoutSeconds * 2)}s;
        proxy_send_timeout ${Math.max(60, config.tus.idleTimeoutSeconds * 2)}s;
        proxy_pass http://fieldgate;
    }

    # The live meter feed is server-sent events: pass each event on at once and keep the stream open.
    location /api/meters/live {
        proxy_buffering off;
        proxy_read_timeout 1h;
        proxy_pass http://fieldgate;
    }
}
`;
}
