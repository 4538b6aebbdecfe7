/**
 * `haproxy.cfg` for `deno task deploy-config`: HAProxy ends TLS for device
 * firmware that only offers AES256-SHA and forwards each device socket that
 * runs in proxy mode to fieldgate with a PROXY v2 header.
 */
import type { Config, TcpListenerConfig } from "../config.ts";
import { GENERATED_NOTICE, upstreamAddress } from "./deploy_common.ts";

/** What HAProxy needs beyond fieldgate's configuration. */
export interface HaproxyOptions {
  /** Certificate chain (leaf first) and key in one PEM file, as HAProxy wants them. */
  pemFile: string;
  /** The ports devices dial, per socket (their firmware's, not fieldgate's internal ones). */
  publicPorts: { meter: number; confo: number };
}

const HEADER = `# HAProxy in front of fieldgate's device sockets, for CC3220S firmware whose TLS
# offers only TLS_RSA_WITH_AES_256_CBC_SHA (OpenSSL name AES256-SHA: static RSA
# key exchange), which rustls, and so fieldgate's own TLS, refuses. Use this or
# deploy/stunnel.conf, not both. HAProxy also spreads devices over several
# fieldgate instances: add one \`server\` line per instance.
#
# HAProxy ends TLS and forwards plain TCP to fieldgate, opening each connection
# with a binary PROXY protocol v2 header that carries the device's address:
# fieldgate logs and stores that address and applies its per-IP cap to it.
#
# Install (Debian): apt-get install haproxy; copy this file to
# /etc/haproxy/haproxy.cfg; HAProxy wants the RSA certificate chain (leaf first:
# the devices accept RSA only) and its key in one file:
#   cat fullchain.pem privkey.pem > /etc/haproxy/fieldgate.pem; chmod 600 /etc/haproxy/fieldgate.pem
# then systemctl restart haproxy. Renewed certificate: rebuild that file and
# systemctl reload haproxy (connected devices stay on the old process until they leave).
`;

const GLOBAL = `
global
    log /dev/log local0
    chroot /var/lib/haproxy
    user haproxy
    group haproxy
    # Forward-secret suites for firmware that has them, AES256-SHA for the firmware that has nothing else.
    ssl-default-bind-ciphers ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:AES256-SHA
    ssl-default-bind-options ssl-min-ver TLSv1.2 no-tls-tickets

defaults
    mode tcp
    log global
    option tcplog
    timeout connect 5s
    # Silent devices are dropped here too (fieldgate's tcp.idleTimeoutSeconds applies behind it).
    timeout client 5m
    timeout server 5m
`;

/** The fieldgate settings this file was generated for, so a reader can check their own. */
function fieldgateSide(sockets: [string, TcpListenerConfig][]): string {
  const proxied = sockets.filter(([, listener]) => listener.enabled && listener.mode === "proxy");
  if (proxied.length === 0) return "#\n# No device socket of this configuration is in proxy mode.\n";
  return "#\n# fieldgate side (fieldgate.toml): the device sockets in proxy mode, reachable\n" +
    "# only by HAProxy, since anyone reaching them could claim any address:\n" +
    proxied.map(([name, { hostname, port }]) =>
      `#   [${name}]\n#   mode = "proxy"\n#   hostname = "${hostname}"\n#   port = ${port}\n`
    ).join("");
}

/** Renders haproxy.cfg for the device sockets of `config`. */
export function renderHaproxy(config: Config, options: HaproxyOptions): string {
  const sockets: [name: "meter" | "confo", listener: TcpListenerConfig][] = [
    ["meter", config.meter],
    ["confo", config.confo],
  ];
  const sections = sockets.map(([name, listener]) => {
    const publicPort = options.publicPorts[name];
    if (!listener.enabled) return `\n# ${name}: ${name}.enabled = false, nothing to forward.\n`;
    if (listener.mode === "tls") {
      return `\n# ${name}: ${name}.mode = "tls": TLS ends in fieldgate itself and devices connect to it directly on\n` +
        `# port ${listener.port}. Set ${name}.mode = "proxy" (and a localhost ${name}.hostname) to put HAProxy in front.\n`;
    }
    return `
frontend ${name}
    bind :${publicPort} ssl crt ${options.pemFile}
    default_backend fieldgate_${name}

backend fieldgate_${name}
    server fieldgate1 ${upstreamAddress(`${name}.hostname`, listener.hostname, listener.port)} send-proxy-v2
`;
  });
  return `${GENERATED_NOTICE}\n${HEADER}${fieldgateSide(sockets)}${GLOBAL}${sections.join("")}`;
}
