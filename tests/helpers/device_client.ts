/**
 * A device as the reference Go client behaves: TLS to the socket, verifying
 * the server certificate, one JSON object + "\n" per packet (json.Encoder),
 * then a read of the reply line.
 */

/** An open device connection. */
export interface DeviceClient {
  /** Writes raw text as is. */
  write(text: string): Promise<void>;
  /** Sends one packet line and returns the reply line. */
  send(packet: unknown): Promise<string>;
  /** The next reply line, or null at EOF. */
  readLine(): Promise<string | null>;
  /** Half-closes the write side (what a device does after its last packet). */
  closeWrite(): Promise<void>;
  close(): void;
  [Symbol.dispose](): void;
}

/** Connects like a CC3220S: TLS to localhost, trusting only `caFile`. */
export async function connectDevice(port: number, caFile: string): Promise<DeviceClient> {
  const conn = await Deno.connectTls({ hostname: "localhost", port, caCerts: [await Deno.readTextFile(caFile)] });
  try {
    // connectTls returns before the handshake; a device verifies the server before sending anything.
    await conn.handshake();
  } catch (error) {
    conn.close();
    throw error;
  }
  return deviceClient(conn);
}

/** Returns a function that reads the next "\n"-terminated line from `conn` (the partial rest at EOF, then null). */
export function lineReader(conn: Deno.Conn): () => Promise<string | null> {
  const decoder = new TextDecoder();
  const buffer = new Uint8Array(64 * 1024);
  let buffered = "";
  return async () => {
    while (!buffered.includes("\n")) {
      const n = await conn.read(buffer);
      if (n === null) {
        if (buffered === "") return null;
        const last = buffered;
        buffered = "";
        return last;
      }
      buffered += decoder.decode(buffer.subarray(0, n), { stream: true });
    }
    const end = buffered.indexOf("\n");
    const line = buffered.slice(0, end);
    buffered = buffered.slice(end + 1);
    return line;
  };
}

/** Writes every byte of `data` (strings as UTF-8), however many writes that takes. */
export async function writeAll(conn: Deno.Conn, data: string | Uint8Array): Promise<void> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  for (let written = 0; written < bytes.length;) written += await conn.write(bytes.subarray(written));
}

/** Wraps any connection (TLS or plain) as a line client. */
export function deviceClient(conn: Deno.Conn | Deno.TlsConn): DeviceClient {
  let closed = false;
  const readLine = lineReader(conn);
  const write = (text: string) => writeAll(conn, text);
  const close = () => {
    if (closed) return;
    closed = true;
    try {
      conn.close();
    } catch {
      // already closed by the server
    }
  };
  return {
    write,
    async send(packet) {
      await write(JSON.stringify(packet) + "\n");
      return (await readLine()) ?? "<EOF>";
    },
    readLine,
    closeWrite: () => conn.closeWrite(),
    close,
    [Symbol.dispose]: close,
  };
}
