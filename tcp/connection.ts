/**
 * One device connection as the handlers see it (lines in, reply lines out),
 * with the per-connection limits the listener enforces: line length, idle
 * time, and a graceful end when the server shuts down.
 */
import type { Socket } from "node:net";
import { LineSplitter } from "./lines.ts";

/** What a connection handler gets: the client's address, its lines, and a way to answer. */
export interface DeviceConnection {
  /** Client IP: from the PROXY header in proxy mode, else the socket peer. */
  readonly remoteAddr: string;
  /**
   * Delivers the lines as they arrive, pushed rather than pulled: `sink.line`
   * is called for each line (without "\n" or "\r\n"; blank lines are
   * skipped; the last line counts even without a newline once the client
   * half-closes), with no promise per line, so a connection waiting for its
   * next line holds no per-line objects (at 10,000 devices those survived
   * every young-generation collection and made each one slow). `sink.line`
   * returning false takes no more lines until {@link DeviceConnection.resumeLines}.
   * `sink.end` is called once: without a failure at end of stream, at a line
   * longer than the limit (the listener then sends the error line, after the
   * handler has returned) or when the server shuts down between lines; with
   * one when the connection breaks. Call it once.
   */
  receiveLines(sink: LineSink): void;
  /** After `sink.line` returned false: hands over the lines waiting, then reads on. Not from within `sink.line`. */
  resumeLines(): void;
  /** Writes `line` + "\n"; resolves once handed to the kernel. Replies go out in call order. */
  reply(line: string): Promise<void>;
}

/** Where {@link DeviceConnection.receiveLines} delivers. */
export interface LineSink {
  /** One line, in order; false = no more until resumeLines(). */
  line(text: string): boolean;
  /** No more lines: `failure` undefined when they simply end, else why the connection broke. */
  end(failure?: { error: unknown }): void;
}

// After "line too long", how long to swallow what the client is still sending, so that closing with unread
// bytes does not make the kernel send a reset that destroys the error line before the client reads it.
const MAX_LINGER_MS = 2000;
// Backpressure: reading pauses once this many characters of lines wait for the handler. Pausing on every chunk
// instead restarted the socket's read after each one, a quarter of the event loop's time at 1,000 devices.
const MAX_UNTAKEN_CHARS = 8 * 1024;

/** A connection from accept to close; the listener drives its life, the handler sees {@link DeviceConnection}. */
export class DeviceSocket implements DeviceConnection {
  remoteAddr: string;
  /** Lines handed to the handler. */
  lineCount = 0;
  /** Why the server ended the connection (first reason wins); undefined while the client is in charge. */
  endReason?: string;
  /** The socket error that broke the connection, if one did. */
  ioError?: unknown;
  /** True once the client closed its sending side. */
  eof = false;

  readonly #tcp: Socket;
  #stream?: Socket;
  readonly #splitter: LineSplitter;
  readonly #idleMs: number;
  readonly #ready: string[] = [];
  #next = 0;
  /** Characters of the lines in #ready the handler has not taken yet. */
  #untakenChars = 0;
  #closed = false;
  #tcpClosed = false;
  #flushed = false;
  #linesTaken = false;
  #draining = false;
  #reading = false;
  #writesPending = 0;
  #lastActivity = Date.now();
  #idleTimer?: ReturnType<typeof setTimeout>;
  #wake?: () => void;
  /** receiveLines()' sink, until its end() is called. */
  #sink?: LineSink;
  /** The sink returned false and takes no lines until resumeLines(). */
  #sinkFull = false;
  #pumping = false;

  /** @param tcp the accepted TCP socket: destroying it ends the connection, TLS or not */
  constructor(tcp: Socket, options: { peer: string; maxLineBytes: number; idleTimeoutSeconds: number }) {
    this.#tcp = tcp;
    this.remoteAddr = options.peer;
    this.#splitter = new LineSplitter(options.maxLineBytes);
    this.#idleMs = options.idleTimeoutSeconds * 1000;
    tcp.on("error", (error) => this.#event(() => this.ioError ??= error));
    tcp.on("close", () => this.#event(() => this.#closed = this.#tcpClosed = true));
  }

  /** True once the server began shutting down while the handler ran. */
  get draining(): boolean {
    return this.#draining;
  }

  /** True when the client sent a line longer than the limit. */
  get lineTooLong(): boolean {
    return this.#splitter.overflowed;
  }

  /** The longest line accepted, for the error line. */
  get maxLineBytes(): number {
    return this.#splitter.maxLineBytes;
  }

  /**
   * Hands the connection to the handler once the TLS handshake or PROXY header
   * is done: `stream` is the TLS socket (or the TCP socket in proxy mode),
   * `initial` the stream bytes that arrived with the PROXY header.
   */
  start(stream: Socket, initial: Uint8Array): void {
    this.#stream = stream;
    stream.pause();
    this.#accept(initial);
    stream.on("data", (chunk: Uint8Array) => this.#accept(chunk));
    stream.on("end", () => this.#event(() => this.#endOfStream()));
    stream.on("error", (error) => this.#event(() => this.ioError ??= error));
    stream.on("close", () => this.#event(() => this.#closed = true));
    stream.on("finish", () => this.#event(() => this.#flushed = true));
    this.#lastActivity = Date.now();
    this.#armIdleTimer(this.#idleMs);
  }

  receiveLines(sink: LineSink): void {
    if (this.#linesTaken) throw new Error("DeviceConnection lines can be received only once");
    this.#linesTaken = true;
    this.#sink = sink;
    this.#pump();
  }

  resumeLines(): void {
    this.#sinkFull = false;
    this.#pump();
  }

  reply(line: string): Promise<void> {
    this.#writesPending++;
    return new Promise((resolve, reject) => {
      this.#stream!.write(line + "\n", (error) => {
        this.#writesPending--;
        if (error) {
          this.ioError ??= error;
          return reject(error);
        }
        this.#lastActivity = Date.now();
        resolve();
      });
    });
  }

  /**
   * Server shutdown: before the handler runs, close at once; afterwards end
   * the lines at the next line boundary (now, if the client is between lines),
   * leaving the connection open for the replies still owed.
   */
  drain(): void {
    if (this.#stream === undefined) return this.abort("server shutting down");
    this.#draining = true;
    this.#event(() => {});
  }

  /** Closes the connection now, so that pending reads and writes fail. */
  abort(reason: string): void {
    this.endReason ??= reason;
    this.close();
  }

  /**
   * After the handler returned: sends the "line too long" error if due, ends
   * the stream cleanly (TLS close_notify, then FIN) and waits until closed.
   */
  async finish(): Promise<void> {
    clearTimeout(this.#idleTimer);
    const stream = this.#stream;
    if (stream && !this.#closed) {
      // Bounded: a client that takes no more data must not hold the connection open.
      const linger = setTimeout(() => this.close(), Math.min(this.#idleMs, MAX_LINGER_MS));
      try {
        const tooLong = this.lineTooLong && this.ioError === undefined && this.endReason === undefined;
        if (tooLong) await this.reply(`error: line longer than ${this.maxLineBytes} bytes`);
        stream.end();
        if (tooLong) stream.resume(); // swallow the rest of the long line (the splitter drops it) until the client closes
        while (!this.#closed && !(tooLong ? this.eof : this.#flushed)) await this.#nextEvent();
      } catch {
        // The client went away first: nothing more to tell it.
      } finally {
        clearTimeout(linger);
      }
    }
    this.close();
    while (!this.#tcpClosed) await this.#nextEvent();
  }

  /** Closes the socket; safe to call more than once. */
  close(): void {
    clearTimeout(this.#idleTimer);
    this.#stream?.destroy();
    this.#tcp.destroy();
  }

  #accept(chunk: Uint8Array): void {
    this.#lastActivity = Date.now();
    if (this.#next === this.#ready.length) {
      this.#ready.length = 0;
      this.#next = 0;
    }
    for (const line of this.#splitter.push(chunk)) {
      this.#ready.push(line);
      this.#untakenChars += line.length;
    }
    if (this.#untakenChars >= MAX_UNTAKEN_CHARS) this.#stream!.pause();
    this.#pump();
    this.#wake?.();
  }

  /**
   * Whether the lines are over once every ready line is taken: undefined = not over, `{}` = they end,
   * `{ failure }` = the connection broke.
   */
  #linesOver(): { failure?: { error: unknown } } | undefined {
    if (this.eof || this.#splitter.overflowed) return {};
    if (this.#draining && this.#splitter.bufferedBytes === 0) return {};
    if (this.ioError !== undefined) return { failure: { error: this.ioError } };
    if (this.#closed) {
      return { failure: { error: new Error(`connection closed: ${this.endReason ?? "by the client"}`) } };
    }
    if (this.endReason !== undefined) return { failure: { error: new Error(`connection closed: ${this.endReason}`) } };
    return undefined;
  }

  /**
   * Run on every socket event: hands the sink the ready lines, ends it when the lines are over, or else
   * reads on. Nothing is allocated while waiting.
   */
  #pump(): void {
    const sink = this.#sink;
    if (sink === undefined || this.#sinkFull || this.#pumping) return;
    this.#pumping = true;
    try {
      this.#reading = false;
      while (this.#next < this.#ready.length) {
        this.lineCount++;
        const line = this.#ready[this.#next++];
        this.#untakenChars -= line.length;
        if (!sink.line(line)) {
          this.#sinkFull = true;
          return;
        }
      }
      // Emptied rather than replaced, so a connection waiting for its next line keeps neither the array nor the line.
      this.#ready.length = 0;
      this.#next = 0;
      const over = this.#linesOver();
      if (over) {
        this.#sink = undefined;
        return sink.end(over.failure);
      }
      this.#reading = true;
      this.#lastActivity = Date.now();
      this.#stream!.resume();
    } finally {
      this.#pumping = false;
    }
  }

  #endOfStream(): void {
    this.eof = true;
    const last = this.#splitter.end();
    if (last !== undefined) {
      this.#ready.push(last);
      this.#untakenChars += last.length;
    }
  }

  /** Applies a socket event's effect, then wakes whoever waits for one. */
  #event(effect: () => unknown): void {
    effect();
    this.#pump();
    this.#wake?.();
  }

  #nextEvent(): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = () => {
        this.#wake = undefined;
        resolve();
      };
    });
  }

  /**
   * One timer per connection, re-armed only when it fires (not on every read):
   * the connection is idle when we have been waiting for the client (to send,
   * or to take our replies) for the whole timeout. A busy handler does not count.
   * A silent client gets a clean close (the lines end with a failure, finish() ends the
   * stream); one that does not read our replies is cut off.
   */
  #armIdleTimer(ms: number): void {
    this.#idleTimer = setTimeout(() => {
      const quiet = Date.now() - this.#lastActivity;
      const waiting = this.#reading || this.#writesPending > 0;
      if (waiting && quiet >= this.#idleMs) {
        if (this.#writesPending > 0) return this.abort("idle timeout");
        return this.#event(() => this.endReason ??= "idle timeout");
      }
      this.#armIdleTimer(waiting ? this.#idleMs - quiet : this.#idleMs);
    }, ms);
  }
}
